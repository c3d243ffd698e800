#ifndef BERTH_TEST_PROCESS_H
#define BERTH_TEST_PROCESS_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL-terminated), `cwd` (or NULL), and the given
/// descriptors as 0, 1 and 2; every other descriptor is closed in the child, the signal
/// mask is empty and every signal has its default action. Returns the pid, or -1 with the
/// error number in `*error`.
pid_t berth_test_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                       int input, int output, int error_output, int *error);

/// Waits up to `timeout_ms` milliseconds (-1: forever) for `pid` to exit and reaps it.
/// Returns 1 with the wait status in `*status`, 0 when it is still running, -1 on error.
int berth_test_wait(pid_t pid, int timeout_ms, int *status);

#endif
