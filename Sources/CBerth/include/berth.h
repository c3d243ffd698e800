/*
 * CBerth: the thin C layer under Berth's runtime. It holds what Swift cannot express or
 * import from Glibc: raw syscalls without glibc wrappers (clone3, pivot_root, openat2,
 * mount_setattr, pidfd_open), variadic calls (prctl), macros (makedev, WIFEXITED) and the
 * constants the Glibc module does not export (CLONE_*, RESOLVE_*, MOUNT_ATTR_*).
 */
#ifndef BERTH_H
#define BERTH_H

#include <stdint.h>
#include <sys/types.h>

/* Namespace flags, exported because Glibc does not import the CLONE_* macros. */
extern const uint64_t berth_clone_newns;
extern const uint64_t berth_clone_newuts;
extern const uint64_t berth_clone_newipc;
extern const uint64_t berth_clone_newuser;
extern const uint64_t berth_clone_newpid;
extern const uint64_t berth_clone_newnet;
extern const uint64_t berth_clone_newcgroup;
extern const uint64_t berth_clone_newtime;

/* openat2 resolve flags. */
extern const uint64_t berth_resolve_in_root;
extern const uint64_t berth_resolve_no_magiclinks;
extern const uint64_t berth_resolve_no_symlinks;
extern const uint64_t berth_resolve_no_xdev;
extern const uint64_t berth_resolve_beneath;

/* mount_setattr attributes. */
extern const uint64_t berth_mount_attr_rdonly;
extern const uint64_t berth_mount_attr_nosuid;
extern const uint64_t berth_mount_attr_nodev;
extern const uint64_t berth_mount_attr_noexec;
extern const uint64_t berth_mount_attr_atime_mask;
extern const uint64_t berth_mount_attr_relatime;
extern const uint64_t berth_mount_attr_noatime;
extern const uint64_t berth_mount_attr_strictatime;
extern const uint64_t berth_mount_attr_nodiratime;

extern const int berth_o_path;
extern const int berth_at_recursive;
extern const int berth_at_empty_path;

/*
 * clone3 without a new stack: fork semantics (the child continues on a copy of the
 * caller's stack), plus namespace flags. Falls back to clone(2) on ENOSYS. Returns the
 * child's pid in the parent, 0 in the child, -1 with errno on failure. cgroup_fd >= 0 adds
 * CLONE_INTO_CGROUP (cgroup v2).
 */
pid_t berth_clone3(uint64_t flags, int cgroup_fd);

int berth_pivot_root(const char *new_root, const char *put_old);
int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int berth_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t attr_set,
                        uint64_t attr_clr, uint64_t propagation);
/*
 * Idmapped mounts: a detached copy of the mount tree at `path` (open_tree with
 * OPEN_TREE_CLONE, recursive when asked), given the id mapping of the user namespace
 * `userns_fd` (mount_setattr MOUNT_ATTR_IDMAP), later attached onto the directory or file
 * `target_fd` (move_mount, both by descriptor).
 */
int berth_open_tree_clone(const char *path, int recursive);
int berth_mount_set_idmap(int tree_fd, int userns_fd, int recursive);
int berth_move_mount_onto(int tree_fd, int target_fd);

/* 1 when `fd` is on procfs (fstatfs f_type PROC_SUPER_MAGIC), 0 when not, -1 on error. */
int berth_is_procfs(int fd);

int berth_pidfd_open(pid_t pid);
int berth_pidfd_send_signal(int pidfd, int sig);
int berth_close_range_cloexec(unsigned int first);
int berth_close_range(unsigned int first, unsigned int last);
int berth_execveat(int fd, char *const argv[], char *const envp[]);

/* GNU extensions the Glibc module hides (it is imported without _GNU_SOURCE). */
int berth_setns(int fd, int nstype);
int berth_unshare(int flags);
int berth_setresuid(uid_t uid);
int berth_setresgid(gid_t gid);
int berth_pipe2_cloexec(int fds[2]);

int berth_set_dumpable(int value);
int berth_set_child_subreaper(void);
int berth_set_pdeathsig(int sig);
int berth_set_no_new_privs(void);
int berth_set_name(const char *name);

dev_t berth_makedev(unsigned int major, unsigned int minor);
unsigned int berth_major(dev_t dev);
unsigned int berth_minor(dev_t dev);

int berth_wifexited(int status);
int berth_wexitstatus(int status);
int berth_wifsignaled(int status);
int berth_wtermsig(int status);

/*
 * cgroup v2 device control: load a BPF_PROG_TYPE_CGROUP_DEVICE program (`count` 8-byte
 * instructions) and attach it to the cgroup directory `cgroup_fd` (BPF_F_ALLOW_MULTI).
 * The verifier's log goes to `log` on failure.
 */
int berth_bpf_load_device_program(const void *instructions, unsigned int count, char *log, unsigned int log_size);
int berth_bpf_attach_device_program(int program_fd, int cgroup_fd);

/*
 * Capabilities: drop one from the bounding set; set effective, permitted and inheritable
 * (64-bit masks, capset version 3); raise one ambient capability; keep capabilities across
 * setuid (PR_SET_KEEPCAPS).
 */
int berth_capbset_drop(int capability);
int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int berth_cap_ambient_raise(int capability);
int berth_cap_ambient_clear_all(void);
int berth_set_keepcaps(int value);
int berth_cap_last(void);

/* Process attributes: personality, scheduler (sched_setattr), I/O priority, CPU affinity
 * from a list like "0-2,5". */
int berth_personality(unsigned long persona);
int berth_sched_setattr(uint32_t policy, int32_t nice, uint32_t priority, uint64_t flags,
                        uint64_t runtime, uint64_t deadline, uint64_t period);
int berth_ioprio_set(int ioprio_class, int level);
int berth_set_affinity(int pid, const char *list);

/* A close-on-exec signalfd for the signals in `mask` (which the caller has blocked); each
 * read gives one 128-byte record whose first 4 bytes are the signal number. */
int berth_signalfd(const void *mask);

/* A close-on-exec eventfd (for cgroup v1 OOM notifications). */
int berth_eventfd(void);

/* prlimit for process `pid` (0: this one); on failure *current_hard holds the hard limit
 * in force. */
int berth_set_rlimit(int pid, int resource, uint64_t soft, uint64_t hard, uint64_t *current_hard);

/* The exec trampoline (tools/trampoline), as a sealed, close-on-exec memfd. */
extern const unsigned char berth_trampoline_image[];
extern const unsigned long berth_trampoline_image_size;
int berth_trampoline_memfd(void);

/* Session keyring: a new anonymous keyring for the container unless --no-new-keyring. */
int berth_join_session_keyring(const char *name);

/*
 * Descriptor passing over a unix socket (SCM_RIGHTS): one descriptor with `length` bytes
 * of data. berth_receive_descriptor returns the byte count (0 at end-of-file) and stores
 * the descriptor, close-on-exec, in *fd (-1 when the message carried none).
 */
int berth_send_descriptor(int socket, int fd, const void *data, size_t length);
ssize_t berth_receive_descriptor(int socket, void *buffer, size_t length, int *fd);

/*
 * Terminals. berth_open_pty opens /dev/ptmx of the calling process's mount namespace,
 * unlocks it and opens its peer with TIOCGPTPEER (no path lookup in /dev/pts);
 * both close-on-exec. Window sizes are rows and columns.
 */
int berth_open_pty(int *master, int *peer);
int berth_set_controlling_terminal(int fd);
int berth_set_window_size(int fd, unsigned short rows, unsigned short columns);
int berth_get_window_size(int fd, unsigned short *rows, unsigned short *columns);
/* Raw mode for the caller's terminal, and back; the saved state is kept in C. */
int berth_terminal_make_raw(int fd);
int berth_terminal_restore(int fd);

#endif
