#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int berth_send_descriptor(int socket, int fd, const void *data, size_t length) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof(control));
    /* At least one byte: a message of zero bytes with a descriptor is not delivered on
     * every socket type. */
    char placeholder = 0;
    struct iovec vector = {.iov_base = length > 0 ? (void *)data : &placeholder, .iov_len = length > 0 ? length : 1};
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    ssize_t sent;
    do {
        sent = sendmsg(socket, &message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -1 : 0;
}

ssize_t berth_receive_descriptor(int socket, void *buffer, size_t length, int *fd) {
    char control[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec vector = {.iov_base = buffer, .iov_len = length};
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
    *fd = -1;
    ssize_t received;
    do {
        received = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return -1;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int descriptors[4];
        memcpy(descriptors, CMSG_DATA(header), count * sizeof(int));
        /* Keep the first; a peer that sends more must not leak them into berth. */
        for (size_t index = 0; index < count; index++) {
            if (*fd < 0) *fd = descriptors[index];
            else close(descriptors[index]);
        }
    }
    return received;
}
