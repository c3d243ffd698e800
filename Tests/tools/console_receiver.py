#!/usr/bin/env python3
"""A console socket peer, as conmon and containerd's shim are: listens on a unix socket,
receives the pty master berth sends with SCM_RIGHTS, writes the given input to it and
copies what the container prints to stdout until the terminal closes.

usage: console_receiver.py SOCKET [INPUT]
Prints "ready" on stderr once it listens, and the name sent with the descriptor.
"""
import array
import os
import socket
import sys

path = sys.argv[1]
text = sys.argv[2] if len(sys.argv) > 2 else ""
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", file=sys.stderr, flush=True)
connection, _ = server.accept()
descriptors = array.array("i")
message, ancillary, _, _ = connection.recvmsg(4096, socket.CMSG_LEN(descriptors.itemsize))
for level, kind, data in ancillary:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        descriptors.frombytes(data[: len(data) - (len(data) % descriptors.itemsize)])
if not descriptors:
    print("no descriptor received", file=sys.stderr)
    sys.exit(2)
print("name=" + message.decode(), file=sys.stderr, flush=True)
master = descriptors[0]
if text:
    os.write(master, text.encode())
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
