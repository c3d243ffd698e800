#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, as an interactive shell would: the command is
the session leader with the pty as its controlling terminal. The terminal starts at ROWS x
COLUMNS; DELAY seconds after the command's first line of output it is resized to
NEW_ROWS x NEW_COLUMNS (the kernel sends SIGWINCH to the command): waiting for that line,
not for a fixed time, keeps the order right on a loaded machine. Everything the command writes is copied to stdout; the exit
status is the command's.

usage: pty_run.py ROWS COLUMNS NEW_ROWS NEW_COLUMNS DELAY COMMAND [ARGS...]
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

rows, columns, new_rows, new_columns = (int(value) for value in sys.argv[1:5])
delay = float(sys.argv[5])
command = sys.argv[6:]

pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    os.execv(command[0], command)

resize_at = None
resized = False
while True:
    timeout = max(0.0, resize_at - time.monotonic()) if resize_at is not None and not resized else None
    readable, _, _ = select.select([master], [], [], timeout)
    if not resized and resize_at is not None and time.monotonic() >= resize_at:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", new_rows, new_columns, 0, 0))
        resized = True
    if readable:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
        if resize_at is None and b"\n" in chunk:
            resize_at = time.monotonic() + delay
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
