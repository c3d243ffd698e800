#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int berth_open_pty(int *master, int *peer) {
    int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    int unlock = 0;
    if (ioctl(fd, TIOCSPTLCK, &unlock) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int other = ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (other < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *master = fd;
    *peer = other;
    return 0;
}

int berth_set_controlling_terminal(int fd) { return ioctl(fd, TIOCSCTTY, 0); }

int berth_set_window_size(int fd, unsigned short rows, unsigned short columns) {
    struct winsize size = {.ws_row = rows, .ws_col = columns};
    return ioctl(fd, TIOCSWINSZ, &size);
}

int berth_get_window_size(int fd, unsigned short *rows, unsigned short *columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}

static struct termios saved_terminal;
static int saved_terminal_valid = 0;

int berth_terminal_make_raw(int fd) {
    struct termios settings;
    if (tcgetattr(fd, &settings) != 0) return -1;
    saved_terminal = settings;
    saved_terminal_valid = 1;
    cfmakeraw(&settings);
    return tcsetattr(fd, TCSANOW, &settings);
}

int berth_terminal_restore(int fd) {
    if (!saved_terminal_valid) return 0;
    return tcsetattr(fd, TCSANOW, &saved_terminal);
}
