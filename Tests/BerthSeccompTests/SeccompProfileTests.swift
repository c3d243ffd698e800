import BerthJSON
import BerthSeccomp
import Testing

@Suite("seccomp profiles")
struct SeccompProfileTests {
    @Test("a profile with rules, arguments and architectures builds without being loaded")
    func builds() throws {
        let text = """
            {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
             "syscalls": [{"names": ["read", "write", "no_such_syscall_anywhere"], "action": "SCMP_ACT_ALLOW"},
                          {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]}
            """
        let profile = try JSONValueDecoder.decode(SeccompProfile.self, from: Array(text.utf8))
        try SeccompFilter.load(profile, install: false)
    }

    @Test("an unknown operator names the rule")
    func unknownOperator() throws {
        let text = """
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_SOMETIMES"}]}]}
            """
        let profile = try JSONValueDecoder.decode(SeccompProfile.self, from: Array(text.utf8))
        do {
            try SeccompFilter.load(profile, install: false)
            Issue.record("accepted")
        } catch {
            #expect(error.message == "linux.seccomp.syscalls[0]: unknown operator SCMP_CMP_SOMETIMES")
        }
    }
}
