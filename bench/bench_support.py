"""What the Python benchmark drivers share: running a command, waiting for a condition,
and server processes that are always stopped at the end."""

import signal
import subprocess
import time


def run(argv, **kwargs):
    """Runs a command to completion; its output as text (raises on a non-zero exit)."""
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise SystemExit(f"{what} did not happen within {seconds} s")


class Background:
    """A server process of ours, stopped at the end (even on errors), last started first."""
    processes = []

    def __init__(self, argv, log, env=None):
        self.log = open(log, "w")
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        Background.processes.append(self.process)

    @classmethod
    def stop_all(cls):
        for process in reversed(cls.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
