// Process spawning for the tests without Foundation's Process, whose waitUntilExit spins a
// run loop and can hang forever when many tests wait on many children at once.
#define _GNU_SOURCE
#include "test_process.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t berth_test_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                       int input, int output, int error_output, int *error) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    // The test runner blocks signals in its threads; a child must not inherit that.
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_adddup2(&actions, input, 0);
    posix_spawn_file_actions_adddup2(&actions, output, 1);
    posix_spawn_file_actions_adddup2(&actions, error_output, 2);
    // Other tests' pipes and files must not stay open in this child (a reader would wait
    // for an end of file that never comes).
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (cwd != NULL) posix_spawn_file_actions_addchdir_np(&actions, cwd);
    pid_t pid = -1;
    int result = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (result != 0) {
        *error = result;
        return -1;
    }
    return pid;
}

int berth_test_wait(pid_t pid, int timeout_ms, int *status) {
    int descriptor = (int)syscall(SYS_pidfd_open, pid, 0);
    if (descriptor >= 0) {
        struct pollfd entry = {.fd = descriptor, .events = POLLIN};
        int ready;
        do {
            ready = poll(&entry, 1, timeout_ms);
        } while (ready < 0 && errno == EINTR);
        close(descriptor);
        if (ready == 0) return 0;
    } else if (errno != ESRCH) {
        // Without pidfds: poll waitpid every 5 ms.
        for (int waited = 0; timeout_ms < 0 || waited < timeout_ms; waited += 5) {
            pid_t done = waitpid(pid, status, WNOHANG);
            if (done == pid) return 1;
            if (done < 0) return -1;
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 5000000};
            nanosleep(&pause, NULL);
        }
        return 0;
    }
    pid_t done;
    do {
        done = waitpid(pid, status, WNOHANG);
    } while (done < 0 && errno == EINTR);
    if (done == pid) return 1;
    return done == 0 ? 0 : -1;
}
