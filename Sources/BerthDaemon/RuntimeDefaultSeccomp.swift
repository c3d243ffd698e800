import BerthJSON

/// The seccomp profile berthd gives a container whose CRI security context asks for
/// `RuntimeDefault`, built to have the effect of containerd's built-in default profile
/// (`contrib/seccomp/seccomp_default.go`, itself kept in step with moby's
/// `profiles/seccomp/default.json`) on x86_64.
///
/// It is an allowlist: a syscall no rule names fails with EPERM (the default action is an
/// errno, not a kill, so a program that meets a refused call can report it). On top of the
/// unconditional list come calls allowed only for some arguments (`socket` for every address
/// family but AF_ALG and AF_VSOCK, `personality` for the five personas containers use) and
/// groups that each capability unlocks: what the kernel already refuses without the
/// capability, so allowing it costs nothing when the capability is held. Without
/// CAP_SYS_ADMIN, `clone` is allowed only when it creates no namespace and `clone3`, whose
/// flags sit behind a pointer seccomp cannot read, answers ENOSYS so libc falls back to
/// `clone`.
///
/// The facts come from containerd's `seccomp_default.go` together with the pull requests
/// that changed it up to May 2026: #7163 (the pkey calls), #7167 and #9684 (the CAP_SYS_NICE
/// group, the calls of kernels 5.17 to 6.7), #8752 (`name_to_handle_at` for everyone), #9320
/// (io_uring removed), #11839 (the calls of kernels 6.8 to 6.13) and #13327 (AF_ALG
/// blocked); moby's `default.json` carries the same rules. When the filter is built, names
/// the host's libseccomp does not know are skipped, as runc does, so the newest calls do no
/// harm on older hosts.
///
/// One deliberate difference: containerd allows `ptrace`, `process_vm_readv` and
/// `process_vm_writev` only when the running kernel is 4.8 or later, because before 4.8 a
/// tracer could step its tracee around the filter. berthd allows them without asking: 4.8
/// dates from 2016 and no kernel that old is maintained any more.
enum RuntimeDefaultSeccomp {
    /// The OCI `linux.seccomp` object for a container holding `capabilities` (names like
    /// "CAP_SYS_ADMIN", the bounding set containerd consults).
    static func profile(capabilities: Set<String>) -> JSONValue {
        var rules: [JSONValue] = [allow(unconditionalSyscalls)]
        // Three rules rather than one: conditions on the same argument inside one rule must
        // all hold, so "not 38 and not 40" cannot be said there, while separate rules for
        // one syscall are alternatives. socketcall stays allowed, as in containerd, so a
        // 32-bit program can still reach these families through it.
        rules.append(allow(["socket"], when: argument(0, is: "SCMP_CMP_LT", addressFamilyAlgorithm)))
        rules.append(allow(["socket"], when: argument(0, is: "SCMP_CMP_EQ", addressFamilyAlgorithm + 1)))
        rules.append(allow(["socket"], when: argument(0, is: "SCMP_CMP_GT", addressFamilyVirtualSocket)))
        for persona in allowedPersonalities {
            rules.append(allow(["personality"], when: argument(0, is: "SCMP_CMP_EQ", persona)))
        }
        rules.append(allow(tracingSyscalls))
        rules.append(allow(architectureSyscalls))
        // In containerd's order, so the same capabilities always give the same document.
        for group in capabilityGroups where capabilities.contains(group.capability) {
            rules.append(allow(group.syscalls))
        }
        if !capabilities.contains("CAP_SYS_ADMIN") {
            let createsNoNamespace = argument(0, is: "SCMP_CMP_MASKED_EQ", cloneNewNamespaceFlags, equalsAfterMask: 0)
            rules.append(allow(["clone"], when: createsNoNamespace))
            rules.append(["names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": .int(errnoNoSuchSyscall)])
        }
        return [
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": .int(errnoNotPermitted),
            // libseccomp kills a process whose call arrives through an ABI the filter does
            // not list, so without the i386 and x32 entries such binaries would die at once.
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": .array(rules),
        ]
    }

    // MARK: - Rule construction

    /// A rule allowing `names`, with `conditions` that must all hold when there are any.
    private static func allow(_ names: [String], when conditions: JSONValue...) -> JSONValue {
        let nameList: JSONValue = .array(names.map { .string($0) })
        if conditions.isEmpty { return ["names": nameList, "action": "SCMP_ACT_ALLOW"] }
        return ["names": nameList, "action": "SCMP_ACT_ALLOW", "args": .array(conditions)]
    }

    /// A condition on syscall argument `index`. For SCMP_CMP_MASKED_EQ `value` is the mask
    /// and `equalsAfterMask` what the masked argument must equal; other operators ignore it.
    private static func argument(
        _ index: Int, is operation: String, _ value: UInt64, equalsAfterMask: UInt64 = 0
    ) -> JSONValue {
        ["index": .int(index), "value": .int(value), "valueTwo": .int(equalsAfterMask), "op": .string(operation)]
    }

    // MARK: - Constants from the Linux UAPI headers (x86_64 values)

    /// EPERM: what a syscall outside the allowlist returns.
    private static let errnoNotPermitted = 1
    /// ENOSYS: what `clone3` returns without CAP_SYS_ADMIN, the answer glibc and musl take
    /// as "use clone instead" (moby #42681); EPERM would be passed up as a failure.
    private static let errnoNoSuchSyscall = 38

    /// AF_ALG, the kernel crypto API as sockets: no container needs it, and it is the way
    /// into CVE-2026-31431.
    private static let addressFamilyAlgorithm: UInt64 = 38
    /// AF_VSOCK: blocked so pods cannot reach the host or VMs over virtio sockets
    /// (containerd #7442).
    private static let addressFamilyVirtualSocket: UInt64 = 40

    /// The namespace flags `clone` may not carry without CAP_SYS_ADMIN, together 0x7E020000
    /// as in containerd. CLONE_NEWTIME (0x80) is not among them there either.
    private static let cloneNewNamespaceFlags: UInt64 =
        0x0002_0000  // CLONE_NEWNS
        | 0x0200_0000  // CLONE_NEWCGROUP
        | 0x0400_0000  // CLONE_NEWUTS
        | 0x0800_0000  // CLONE_NEWIPC
        | 0x1000_0000  // CLONE_NEWUSER
        | 0x2000_0000  // CLONE_NEWPID
        | 0x4000_0000  // CLONE_NEWNET

    /// The `personality` arguments allowed: PER_LINUX, PER_LINUX32 (what `linux32` sets),
    /// UNAME26 and PER_LINUX32 | UNAME26 (old software that wants a 2.6 version string), and
    /// 0xffffffff, which only reads the current persona. The rest, such as
    /// ADDR_NO_RANDOMIZE, would switch off protections.
    private static let allowedPersonalities: [UInt64] = [0x0, 0x8, 0x2_0000, 0x2_0008, 0xFFFF_FFFF]

    // MARK: - Syscall lists

    /// Allowed for every container, whatever its capabilities.
    private static let unconditionalSyscalls: [String] = [
        "_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
        "cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
        "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
        "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
        "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd",
        "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
        "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2",
        "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
        "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
        "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64",
        "futex_wait", "futex_waitv", "futex_wake", "futimesat", "get_robust_list", "get_thread_area",
        "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32",
        "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
        "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
        "getresuid", "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt",
        "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch",
        "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
        "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "ioprio_get",
        "ioprio_set", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
        "listmount", "listxattr", "listxattrat", "llistxattr", "lremovexattr", "lseek", "lsetxattr",
        "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "lstat", "lstat64", "madvise",
        "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
        "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
        "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
        "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd",
        "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
        "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
        "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
        "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
        "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
        "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
        "removexattrat", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
        "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
        "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
        "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity", "sched_getattr",
        "sched_getparam", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
        "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
        "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_thread_area",
        "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
        "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
        "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
        "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl",
        "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
        "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
        "statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo",
        "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
        "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
        "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
        "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime",
        "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
        "write", "writev",
    ]

    /// Allowed for every container; containerd asks for kernel 4.8 or later first (see the
    /// type's comment). CAP_SYS_PTRACE's group adds the other calls that reach into another
    /// process.
    private static let tracingSyscalls: [String] = ["process_vm_readv", "process_vm_writev", "ptrace"]

    /// x86_64's own calls: `arch_prctl` sets the FS and GS bases that thread-local storage
    /// lives in, and `modify_ldt` serves Wine and other code that sets up its own segments.
    private static let architectureSyscalls: [String] = ["arch_prctl", "modify_ldt"]

    /// Syscalls one capability unlocks.
    private struct CapabilityGroup: Sendable {
        let capability: String
        let syscalls: [String]
    }

    /// Each group in containerd's order. CAP_SYS_ADMIN covers `bpf`, `perf_event_open` and
    /// `syslog` as well, because the kernel accepts it in place of CAP_BPF, CAP_PERFMON and
    /// CAP_SYSLOG.
    private static let capabilityGroups: [CapabilityGroup] = [
        CapabilityGroup(capability: "CAP_DAC_READ_SEARCH", syscalls: ["open_by_handle_at"]),
        CapabilityGroup(
            capability: "CAP_SYS_ADMIN",
            syscalls: [
                "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                "umount2", "unshare",
            ]
        ),
        CapabilityGroup(capability: "CAP_SYS_BOOT", syscalls: ["reboot"]),
        CapabilityGroup(capability: "CAP_SYS_CHROOT", syscalls: ["chroot"]),
        CapabilityGroup(capability: "CAP_SYS_MODULE", syscalls: ["delete_module", "finit_module", "init_module"]),
        CapabilityGroup(capability: "CAP_SYS_PACCT", syscalls: ["acct"]),
        CapabilityGroup(
            capability: "CAP_SYS_PTRACE",
            syscalls: ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]
        ),
        CapabilityGroup(capability: "CAP_SYS_RAWIO", syscalls: ["ioperm", "iopl"]),
        CapabilityGroup(
            capability: "CAP_SYS_TIME",
            syscalls: ["clock_settime", "clock_settime64", "settimeofday", "stime"]
        ),
        CapabilityGroup(capability: "CAP_SYS_TTY_CONFIG", syscalls: ["vhangup"]),
        CapabilityGroup(
            capability: "CAP_SYS_NICE",
            syscalls: ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]
        ),
        CapabilityGroup(capability: "CAP_SYSLOG", syscalls: ["syslog"]),
        CapabilityGroup(capability: "CAP_BPF", syscalls: ["bpf"]),
        CapabilityGroup(capability: "CAP_PERFMON", syscalls: ["perf_event_open"]),
    ]
}
