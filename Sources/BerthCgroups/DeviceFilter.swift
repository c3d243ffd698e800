import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// The device allow/deny list on cgroup v2, which has no devices controller: an eBPF
/// program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup.
///
/// The program checks the rules from the last to the first and returns the verdict of the
/// first that matches, which is v1's "the last matching rule wins"; when none matches,
/// access is allowed, as in a v1 cgroup without rules.
public enum DeviceFilter {
    /// One eBPF instruction.
    struct Instruction {
        var code: UInt8
        var registers: UInt8  // dst in the low nibble, src in the high one
        var offset: Int16
        var immediate: Int32

        init(_ code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0) {
            self.code = code
            self.registers = dst | (src << 4)
            self.offset = offset
            self.immediate = immediate
        }

        var bytes: [UInt8] {
            var result = [code, registers]
            withUnsafeBytes(of: offset.littleEndian) { result.append(contentsOf: $0) }
            withUnsafeBytes(of: immediate.littleEndian) { result.append(contentsOf: $0) }
            return result
        }
    }

    // Opcodes (eBPF, 64-bit ALU).
    static let loadWord: UInt8 = 0x61  // dst = *(u32 *)(src + off)
    static let andImmediate: UInt8 = 0x57
    static let shiftRightImmediate: UInt8 = 0x77
    static let moveImmediate: UInt8 = 0xb7
    static let moveRegister: UInt8 = 0xbf
    static let jumpNotEqualImmediate: UInt8 = 0x55
    static let jumpEqualImmediate: UInt8 = 0x15
    static let exit: UInt8 = 0x95

    /// The program for `rules` followed by `allowed` (lines like "c 1:3 rwm").
    static func program(_ rules: [LinuxResources.DeviceRule], allowed: [String]) -> [Instruction] {
        let all = rules + allowed.compactMap(parse)
        // Registers: r2 type, r3 access, r4 major, r5 minor (from struct bpf_cgroup_dev_ctx:
        // u32 access_type = access << 16 | type, u32 major, u32 minor); r1 is scratch after.
        var code: [Instruction] = [
            Instruction(loadWord, dst: 2, src: 1, offset: 0), Instruction(andImmediate, dst: 2, immediate: 0xFFFF),
            Instruction(loadWord, dst: 3, src: 1, offset: 0), Instruction(shiftRightImmediate, dst: 3, immediate: 16),
            Instruction(loadWord, dst: 4, src: 1, offset: 4), Instruction(loadWord, dst: 5, src: 1, offset: 8),
        ]
        for rule in all.reversed() {
            var block: [Instruction] = []
            // Jumps to the next block get their offset once the block's length is known.
            var jumps: [Int] = []
            let type = rule.type ?? "a"
            if type == "c" || type == "b" || type == "u" {
                jumps.append(block.count)
                block.append(Instruction(jumpNotEqualImmediate, dst: 2, immediate: type == "b" ? 1 : 2))
            }
            let access = accessMask(rule.access ?? "rwm")
            if access != 7 {
                block.append(Instruction(moveRegister, dst: 1, src: 3))
                // allow: every requested bit must be in the rule; deny: any requested bit.
                block.append(Instruction(andImmediate, dst: 1, immediate: rule.allow ? Int32(~access & 7) : Int32(access)))
                jumps.append(block.count)
                block.append(Instruction(rule.allow ? jumpNotEqualImmediate : jumpEqualImmediate, dst: 1, immediate: 0))
            }
            if type != "a", let major = rule.major, major >= 0 {
                jumps.append(block.count)
                block.append(Instruction(jumpNotEqualImmediate, dst: 4, immediate: Int32(truncatingIfNeeded: major)))
            }
            if type != "a", let minor = rule.minor, minor >= 0 {
                jumps.append(block.count)
                block.append(Instruction(jumpNotEqualImmediate, dst: 5, immediate: Int32(truncatingIfNeeded: minor)))
            }
            block.append(Instruction(moveImmediate, dst: 0, immediate: rule.allow ? 1 : 0))
            block.append(Instruction(exit))
            for index in jumps { block[index].offset = Int16(block.count - index - 1) }
            code += block
            // A rule without conditions matches everything: what would follow is
            // unreachable, which the verifier refuses.
            if jumps.isEmpty { return code }
        }
        code.append(Instruction(moveImmediate, dst: 0, immediate: 1))
        code.append(Instruction(exit))
        return code
    }

    static func accessMask(_ access: String) -> UInt32 {
        var mask: UInt32 = 0
        if access.contains("m") { mask |= 1 }
        if access.contains("r") { mask |= 2 }
        if access.contains("w") { mask |= 4 }
        return mask
    }

    /// "c 1:3 rwm" as a rule ("*" for any major or minor).
    static func parse(_ line: String) -> LinuxResources.DeviceRule? {
        let parts = line.split(separator: " ")
        guard parts.count == 3 else { return nil }
        let numbers = parts[1].split(separator: ":")
        guard numbers.count == 2 else { return nil }
        return LinuxResources.DeviceRule(allow: true, type: String(parts[0]), major: Int64(numbers[0]), minor: Int64(numbers[1]), access: String(parts[2]))
    }

    /// Loads the program for `rules` and attaches it to the cgroup v2 directory.
    public static func attach(_ rules: [LinuxResources.DeviceRule], allowed: [String], to directory: String) throws(CgroupError) {
        let bytes = program(rules, allowed: allowed).flatMap(\.bytes)
        var log = [CChar](repeating: 0, count: 4096)
        let programFd = bytes.withUnsafeBytes { raw in
            berth_bpf_load_device_program(raw.baseAddress, UInt32(bytes.count / 8), &log, UInt32(log.count))
        }
        if programFd < 0 {
            let reason = SystemError.describe(errno: errno)
            let verifier = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CgroupError("linux.resources.devices: load the cgroup v2 device program: \(reason)\(verifier.isEmpty ? "" : " (verifier: \(verifier))")")
        }
        defer { close(programFd) }
        let cgroupFd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if cgroupFd < 0 { throw CgroupError("linux.resources.devices: open \(directory): \(SystemError.describe(errno: errno))") }
        defer { close(cgroupFd) }
        if berth_bpf_attach_device_program(programFd, cgroupFd) != 0 {
            throw CgroupError("linux.resources.devices: attach the device program to \(directory): \(SystemError.describe(errno: errno))")
        }
    }
}
