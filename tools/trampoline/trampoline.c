/*
 * The exec trampoline: the last program berth executes before the container's own.
 *
 * berth copies this tiny static binary into a sealed memfd and executes it in place of the
 * user program; it then executes the user program. While the container's first program
 * starts, /proc/self/exe therefore points at the sealed memfd, never at the berth binary on
 * the host, so a container program that is a "#!/proc/self/exe" script, or an ELF whose
 * interpreter is /proc/self/exe, gets this trampoline (which refuses to run) and cannot open
 * the berth binary for writing (the class of runc's CVE-2019-5736).
 *
 * Contract: argv[0] is the marker "\001berth-trampoline", argv[1] the absolute path of the
 * program, argv[2..] its argv. Anything else (for example the kernel's argv for a "#!"
 * interpreter) exits with 126. Built without libc: see build.sh.
 */
typedef unsigned long size_t;

#if defined(__x86_64__)
#define SYS_write 1
#define SYS_execve 59
#define SYS_exit_group 231
static long sys3(long n, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call trampoline_main\n hlt\n");
#elif defined(__aarch64__)
#define SYS_write 64
#define SYS_execve 221
#define SYS_exit_group 94
static long sys3(long n, long a, long b, long c) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x0, sp\n bl trampoline_main\n brk #0\n");
#else
#error "unsupported architecture"
#endif

static size_t length(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static void say(const char *s) { sys3(SYS_write, 2, (long)s, (long)length(s)); }

static void say_number(long value) {
    char buffer[24];
    int at = 23;
    buffer[at] = 0;
    if (value == 0) buffer[--at] = '0';
    while (value > 0 && at > 0) {
        buffer[--at] = (char)('0' + value % 10);
        value /= 10;
    }
    say(buffer + at);
}

static const char marker[] = "\001berth-trampoline";

static int is_marker(const char *s) {
    for (size_t i = 0; i < sizeof(marker); i++)
        if (s[i] != marker[i]) return 0;
    return 1;
}

__attribute__((used, noreturn)) void trampoline_main(long *stack) {
    long argc = stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    if (argc < 3 || !is_marker(argv[0])) {
        say("berth: refusing to run the exec trampoline outside berth (a \"#!/proc/self/exe\" program?)\n");
        sys3(SYS_exit_group, 126, 0, 0);
    }
    long result = sys3(SYS_execve, (long)argv[1], (long)(argv + 2), (long)envp);
    say("berth: exec ");
    say(argv[1]);
    say(" failed: errno ");
    say_number(-result);
    say("\n");
    sys3(SYS_exit_group, 127, 0, 0);
    for (;;) {}
}
