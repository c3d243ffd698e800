/*
 * berth-pause: the infra process of a berthd pod. It holds the pod's namespaces (net,
 * ipc, uts, and pid when the pod shares one) for the pod's containers to join, reaps the
 * orphans that land on it as pid 1, and exits cleanly on SIGTERM or SIGINT. Built into
 * Berth as a tiny static program, so no image pull or image GC can break pod creation.
 *
 * Built with gcc, not SwiftPM: SwiftPM links every executable through the Swift driver,
 * which adds the Swift runtime (6.7 MB stripped); gcc -static -Os -s gives about 680 KB.
 *   gcc -static -Os -s -o berth-pause tools/pause/pause.c     (the Makefile's build does it)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void stop(int number) {
    (void)number;
    stopping = 1;
}

static void reap(int number) {
    (void)number;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("berth-pause 0.1.0\n");
        return 0;
    }
    if (getpid() != 1) {
        fprintf(stderr, "berth-pause: warning: not running as pid 1\n");
    }
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = stop;
    if (sigaction(SIGINT, &action, NULL) < 0 || sigaction(SIGTERM, &action, NULL) < 0) {
        return 1;
    }
    action.sa_handler = reap;
    action.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &action, NULL) < 0) {
        return 2;
    }
    /* SIGTERM and SIGINT blocked except inside sigsuspend: one that arrives between the
     * check and the wait is not lost. */
    sigset_t blocked, waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);
    while (!stopping) {
        sigsuspend(&waiting);
    }
    return 0;
}
