#define _GNU_SOURCE
#include "berth.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/personality.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

const uint64_t berth_clone_newns = CLONE_NEWNS;
const uint64_t berth_clone_newuts = CLONE_NEWUTS;
const uint64_t berth_clone_newipc = CLONE_NEWIPC;
const uint64_t berth_clone_newuser = CLONE_NEWUSER;
const uint64_t berth_clone_newpid = CLONE_NEWPID;
const uint64_t berth_clone_newnet = CLONE_NEWNET;
const uint64_t berth_clone_newcgroup = CLONE_NEWCGROUP;
const uint64_t berth_clone_newtime = CLONE_NEWTIME;

const uint64_t berth_resolve_in_root = RESOLVE_IN_ROOT;
const uint64_t berth_resolve_no_magiclinks = RESOLVE_NO_MAGICLINKS;
const uint64_t berth_resolve_no_symlinks = RESOLVE_NO_SYMLINKS;
const uint64_t berth_resolve_no_xdev = RESOLVE_NO_XDEV;
const uint64_t berth_resolve_beneath = RESOLVE_BENEATH;

const uint64_t berth_mount_attr_rdonly = MOUNT_ATTR_RDONLY;
const uint64_t berth_mount_attr_nosuid = MOUNT_ATTR_NOSUID;
const uint64_t berth_mount_attr_nodev = MOUNT_ATTR_NODEV;
const uint64_t berth_mount_attr_noexec = MOUNT_ATTR_NOEXEC;
const uint64_t berth_mount_attr_atime_mask = MOUNT_ATTR__ATIME;
const uint64_t berth_mount_attr_relatime = MOUNT_ATTR_RELATIME;
const uint64_t berth_mount_attr_noatime = MOUNT_ATTR_NOATIME;
const uint64_t berth_mount_attr_strictatime = MOUNT_ATTR_STRICTATIME;
const uint64_t berth_mount_attr_nodiratime = MOUNT_ATTR_NODIRATIME;

const int berth_o_path = O_PATH;
const int berth_at_recursive = AT_RECURSIVE;
const int berth_at_empty_path = AT_EMPTY_PATH;

pid_t berth_clone3(uint64_t flags, int cgroup_fd) {
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = flags;
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid >= 0 || errno != ENOSYS) return (pid_t)pid;
    /* clone(2) cannot express CLONE_NEWTIME (it overlaps CSIGNAL) or CLONE_INTO_CGROUP. */
    if ((flags & CLONE_NEWTIME) || cgroup_fd >= 0) {
        errno = ENOSYS;
        return -1;
    }
    /* Without a new stack, clone(2) behaves like fork: the argument order of the other
     * (zero) arguments differs between architectures, which does not matter here. */
    return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
}

int berth_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int berth_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t attr_set,
                        uint64_t attr_clr, uint64_t propagation) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = attr_set;
    attr.attr_clr = attr_clr;
    attr.propagation = propagation;
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr));
}

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

int berth_open_tree_clone(const char *path, int recursive) {
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, flags);
}

int berth_mount_set_idmap(int tree_fd, int userns_fd, int recursive) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)userns_fd;
    return (int)syscall(SYS_mount_setattr, tree_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr));
}

int berth_move_mount_onto(int tree_fd, int target_fd) {
    return (int)syscall(SYS_move_mount, tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

int berth_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int berth_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Without close_range (before 5.9) or CLOSE_RANGE_CLOEXEC (before 5.11): the same by
 * walking /proc/self/fd, so that no descriptor ever reaches a container unnoticed. */
static int for_each_open_descriptor(unsigned int first, unsigned int last, int cloexec) {
    int directory = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) return -1;
    DIR *listing = fdopendir(directory);
    if (listing == NULL) {
        close(directory);
        return -1;
    }
    int found[1024];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL && count < 1024) {
        char *end;
        long fd = strtol(entry->d_name, &end, 10);
        if (*end != 0 || entry->d_name[0] == '.' || fd == directory) continue;
        if ((unsigned long)fd >= first && (unsigned long)fd <= last) found[count++] = (int)fd;
    }
    closedir(listing);
    for (int index = 0; index < count; index++) {
        if (cloexec) fcntl(found[index], F_SETFD, FD_CLOEXEC);
        else close(found[index]);
    }
    return 0;
}

int berth_close_range_cloexec(unsigned int first) {
    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
    return for_each_open_descriptor(first, ~0U, 1);
}

int berth_close_range(unsigned int first, unsigned int last) {
    if (syscall(SYS_close_range, first, last, 0) == 0) return 0;
    return for_each_open_descriptor(first, last, 0);
}

int berth_execveat(int fd, char *const argv[], char *const envp[]) {
    return (int)syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
}

int berth_set_dumpable(int value) { return prctl(PR_SET_DUMPABLE, value, 0, 0, 0); }
int berth_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
int berth_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int berth_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int berth_set_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

dev_t berth_makedev(unsigned int major_number, unsigned int minor_number) {
    return makedev(major_number, minor_number);
}
unsigned int berth_major(dev_t dev) { return major(dev); }
unsigned int berth_minor(dev_t dev) { return minor(dev); }

int berth_wifexited(int status) { return WIFEXITED(status); }
int berth_wexitstatus(int status) { return WEXITSTATUS(status); }
int berth_wifsignaled(int status) { return WIFSIGNALED(status); }
int berth_wtermsig(int status) { return WTERMSIG(status); }

int berth_trampoline_memfd(void) {
    if (berth_trampoline_image_size == 0) {
        errno = ENOEXEC;
        return -1;
    }
    int fd = (int)syscall(SYS_memfd_create, "berth-trampoline",
                          MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = (int)syscall(SYS_memfd_create, "berth-trampoline", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    const unsigned char *at = berth_trampoline_image;
    unsigned long left = berth_trampoline_image_size;
    while (left > 0) {
        ssize_t written = write(fd, at, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        at += written;
        left -= (unsigned long)written;
    }
    if (fchmod(fd, 0555) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif
int berth_join_session_keyring(const char *name) {
    return (int)syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
}

int berth_set_rlimit(int pid, int resource, uint64_t soft, uint64_t hard, uint64_t *current_hard) {
    struct rlimit limit = {.rlim_cur = soft, .rlim_max = hard};
    if (prlimit(pid, resource, &limit, NULL) == 0) return 0;
    int saved = errno;
    struct rlimit current;
    if (prlimit(pid, resource, NULL, &current) == 0) *current_hard = current.rlim_max;
    errno = saved;
    return -1;
}

int berth_setns(int fd, int nstype) { return setns(fd, nstype); }
int berth_unshare(int flags) { return unshare(flags); }
int berth_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
int berth_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }
int berth_pipe2_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int berth_eventfd(void) { return eventfd(0, EFD_CLOEXEC); }

int berth_bpf_load_device_program(const void *instructions, unsigned int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)instructions;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache-2.0";
    if (log && log_size > 0) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

int berth_bpf_attach_device_program(int program_fd, int cgroup_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)program_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
}

int berth_capbset_drop(int capability) { return prctl(PR_CAPBSET_DROP, capability, 0, 0, 0); }

int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;
    data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = (uint32_t)inheritable;
    data[1].inheritable = (uint32_t)(inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

int berth_cap_ambient_raise(int capability) {
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0);
}

int berth_cap_ambient_clear_all(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); }

int berth_set_keepcaps(int value) { return prctl(PR_SET_KEEPCAPS, value, 0, 0, 0); }

int berth_cap_last(void) {
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return CAP_LAST_CAP;
    char buffer[16] = {0};
    ssize_t count = read(fd, buffer, sizeof(buffer) - 1);
    close(fd);
    if (count <= 0) return CAP_LAST_CAP;
    int value = 0;
    for (ssize_t i = 0; i < count && buffer[i] >= '0' && buffer[i] <= '9'; i++) value = value * 10 + (buffer[i] - '0');
    return value;
}

int berth_personality(unsigned long persona) { return personality(persona) == -1 ? -1 : 0; }

struct berth_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

int berth_sched_setattr(uint32_t policy, int32_t nice, uint32_t priority, uint64_t flags,
                        uint64_t runtime, uint64_t deadline, uint64_t period) {
    struct berth_sched_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.sched_policy = policy;
    attr.sched_flags = flags;
    attr.sched_nice = nice;
    attr.sched_priority = priority;
    attr.sched_runtime = runtime;
    attr.sched_deadline = deadline;
    attr.sched_period = period;
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
}

int berth_ioprio_set(int ioprio_class, int level) {
    /* IOPRIO_WHO_PROCESS = 1; the value is class << 13 | level. */
    return (int)syscall(SYS_ioprio_set, 1, 0, (ioprio_class << 13) | level);
}

int berth_set_affinity(int pid, const char *list) {
    cpu_set_t set;
    CPU_ZERO(&set);
    const char *at = list;
    while (*at) {
        char *end;
        long first = strtol(at, &end, 10);
        if (end == at || first < 0 || first >= CPU_SETSIZE) { errno = EINVAL; return -1; }
        long last = first;
        at = end;
        if (*at == '-') {
            at++;
            last = strtol(at, &end, 10);
            if (end == at || last < first || last >= CPU_SETSIZE) { errno = EINVAL; return -1; }
            at = end;
        }
        for (long cpu = first; cpu <= last; cpu++) CPU_SET((int)cpu, &set);
        if (*at == ',') at++;
        else if (*at) { errno = EINVAL; return -1; }
    }
    return sched_setaffinity(pid, sizeof(set), &set);
}

int berth_signalfd(const void *mask) { return signalfd(-1, (const sigset_t *)mask, SFD_CLOEXEC); }

int berth_is_procfs(int fd) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return -1;
    return info.f_type == 0x9fa0 ? 1 : 0;
}
