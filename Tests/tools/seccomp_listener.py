#!/usr/bin/env python3
"""A seccomp notify listener, as the runtime spec describes one: listens on a unix socket,
receives the container process state (JSON) with the notify descriptor (SCM_RIGHTS), and
answers every intercepted syscall with an error of its choice until the descriptor hangs up.

usage: seccomp_listener.py SOCKET REPORT ERRNO
REPORT gets one JSON line per connection: {"state": <what berth sent>, "syscalls": [nr...]}.
"""
import array
import errno
import fcntl
import json
import os
import select
import socket
import struct
import sys

# struct seccomp_notif: u64 id, u32 pid, u32 flags, struct seccomp_data (i32 nr, u32 arch,
# u64 ip, u64 args[6]) = 80 bytes; struct seccomp_notif_resp: u64 id, s64 val, s32 error,
# u32 flags = 24 bytes. _IOWR('!', 0 / 1, size).
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101

path, report_path, answer = sys.argv[1], sys.argv[2], int(sys.argv[3])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(4)
with open(report_path, "w"):
    pass
# One poll over the socket and every notify descriptor received so far: the container's
# filter and an exec'd process's each come with their own descriptor.
poller = select.poll()
poller.register(server.fileno(), select.POLLIN)
sessions = {}
while True:
    for fd, event in poller.poll():
        if fd == server.fileno():
            connection, _ = server.accept()
            descriptors = array.array("i")
            message, ancillary, _, _ = connection.recvmsg(65536, socket.CMSG_LEN(4 * descriptors.itemsize))
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    descriptors.frombytes(data[: len(data) - (len(data) % descriptors.itemsize)])
            connection.close()
            if descriptors:
                sessions[descriptors[0]] = {"state": json.loads(message.decode()), "syscalls": []}
                poller.register(descriptors[0], select.POLLIN)
        elif event & select.POLLIN:
            buffer = bytearray(80)
            try:
                fcntl.ioctl(fd, NOTIF_RECV, buffer, True)
            except OSError:
                continue
            identifier, pid, flags, number = struct.unpack_from("=QIIi", buffer)
            sessions[fd]["syscalls"].append(number)
            try:
                fcntl.ioctl(fd, NOTIF_SEND, bytearray(struct.pack("=QqiI", identifier, 0, -answer, 0)), True)
            except OSError:
                pass
        else:
            # Every process using that filter is gone.
            poller.unregister(fd)
            os.close(fd)
            with open(report_path, "a") as report:
                report.write(json.dumps(sessions.pop(fd)) + "\n")
