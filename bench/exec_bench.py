#!/usr/bin/env python3
"""Driver for bench/run-exec.sh -- do not call directly.

The exec-latency variant of start_bench.py, and built on it: the same
private-mount-namespace cgroup view, the same timing code path
(Bench.spawn_timed: CLOCK_MONOTONIC ns around posix_spawn() + wait4()), the
same rotated interleaving, "floor" row, cpu and peak-RSS columns, checks,
clean-up and output.  What differs:

  setup()         untimed: for each runtime, one long-running container
                  `<rt> --root <state> run -d --bundle <bundle-rt> <tag>-<rt>`
                  whose process is `/bin/sleep 86400` (busybox), each with
                  its own bundle directory (config.json only; root.path is
                  the shared busybox rootfs), state root and cgroupsPath
                  /<tag>-<rt>; then checks `state` says "running".
  run_container() timed: `<rt> --root <state> exec <tag>-<rt> /bin/true`
  gnu_time_rss()  the same exec under GNU time
  teardown()      untimed: `<rt> delete -f` of each container, then waits
                  for its sleep process to be gone.

A failure anywhere (or Ctrl-C) ends in Bench.cleanup(), which `delete -f`s
whatever `list -q` still shows and removes cgroups named after the tag.
"""

import json
import os
import sys
import time

import start_bench as sb
from start_bench import Fail

SLEEP_S = 86400  # the containers' process; they are deleted long before


class ExecBench(sb.Bench):
    BENCHMARK = ("container exec: <rt> --root <tmp> exec <id> /bin/true in a running "
                 "busybox-static container (one per runtime, started once)")
    TITLE = "container exec latency: `<rt> exec <id> /bin/true` into a running container"

    def __init__(self, a):
        super().__init__(a)
        # The long-running container: busybox sleep.  Only the container's
        # process differs from start_bench's config; exec of /bin/true gets
        # its cwd, env, user and capabilities from the runtime's defaults.
        self.config["process"]["args"] = ["/bin/sleep", str(SLEEP_S)]
        self.config["root"]["path"] = os.path.join(self.bundle, "rootfs")
        self.cid = {name: f"{self.tag}-{name}" for name, _ in self.runtimes}
        self.bundles = {}
        self.init_pid = {}

    def container_state(self, name, path):
        rc, out = self.run_quiet([path, "--root", self.state[name], "state",
                                  self.cid[name]])
        if rc != 0:
            raise Fail(f"{name} state {self.cid[name]} exited {rc}: {out.strip()}")
        try:
            return json.loads(out)
        except ValueError:
            raise Fail(f"{name} state {self.cid[name]}: not JSON: {out.strip()!r}")

    def setup(self):
        for name, path in self.runtimes:
            cid = self.cid[name]
            self.used_ids.append(cid)
            bdir = os.path.join(self.work, "bundles", name)
            os.makedirs(bdir, exist_ok=True)
            self.config["linux"]["cgroupsPath"] = "/" + cid
            with open(os.path.join(bdir, "config.json"), "w") as f:
                json.dump(self.config, f)
            self.bundles[name] = bdir
            argv = [path, "--root", self.state[name], "run", "-d", "--bundle",
                    bdir, cid]
            # The container's sleep inherits the log as stdout/stderr; it is
            # opened O_TRUNC here only, never again while the container lives.
            _, status, _ = self.spawn_timed(
                argv, os.path.join(self.work, "logs", f"{name}.container.log"))
            rc = os.waitstatus_to_exitcode(status)
            if rc != 0:
                with open(os.path.join(self.work, "logs", f"{name}.container.log"),
                          errors="replace") as f:
                    out = f.read().strip()
                raise Fail(f"{name} run -d {cid} exited {rc}:\n  $ {' '.join(argv)}\n"
                           + "\n".join("  | " + l for l in out.splitlines()))
            st = self.container_state(name, path)
            if st.get("status") != "running" or not st.get("pid"):
                raise Fail(f"{name} container {cid} is not running after run -d: {st}")
            self.init_pid[name] = int(st["pid"])
            self.check_exec_enters(name, path)
        sb.log("containers running: " + ", ".join(
            f"{n} {self.cid[n]} (pid {p})" for n, p in self.init_pid.items()))

    NS = ("mnt", "pid", "ipc", "uts", "net")

    def check_exec_enters(self, name, path):
        """Untimed: one exec that reports where it runs must be in the
        container's namespaces and in its cgroup in every v1 hierarchy --
        so every runtime's timed exec does the same job."""
        script = ("cat /proc/self/cgroup; for n in " + " ".join(self.NS) +
                  "; do echo ns $n $(readlink /proc/self/ns/$n); done")
        argv = [path, "--root", self.state[name], "exec", self.cid[name],
                "/bin/busybox", "sh", "-c", script]
        rc, out = self.run_quiet(argv)
        if rc != 0:
            raise Fail(f"{name} check exec exited {rc}:\n  $ {' '.join(argv)}\n  | {out.strip()}")
        problems = []
        for n in self.NS:
            want = os.readlink(f"/proc/{self.init_pid[name]}/ns/{n}")
            if f"ns {n} {want}" not in out.splitlines():
                problems.append(f"not in the container's {n} namespace {want}")
        for line in out.splitlines():
            parts = line.split(":", 2)
            if len(parts) == 3 and parts[0].isdigit() and parts[1] \
                    and not parts[2].endswith("/" + self.cid[name]):
                problems.append(f"cgroup {parts[1]} is {parts[2]}")
        if problems:
            raise Fail(f"{name} exec does not enter container {self.cid[name]}: "
                       + "; ".join(problems) + "\n  | " + out.strip().replace("\n", "\n  | "))

    def exec_argv(self, name, path):
        return [path, "--root", self.state[name], "exec", self.cid[name], "/bin/true"]

    def run_container(self, name, path, seq):
        logpath = os.path.join(self.work, "logs", f"{name}.log")
        argv = self.exec_argv(name, path)
        dt, status, ru = self.spawn_timed(argv, logpath)
        rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            with open(logpath, errors="replace") as f:
                out = f.read().strip()
            raise Fail(f"{name} exec #{seq} exited {rc}:\n  $ {' '.join(argv)}\n"
                       + "\n".join("  | " + l for l in out.splitlines()))
        return dt, (ru.ru_utime + ru.ru_stime) * 1e3

    def gnu_time_rss(self, name, path, k):
        if name is None:
            return super().gnu_time_rss(None, None, k)
        outp = os.path.join(self.work, "logs", "rss.time")
        argv = [sb.GNU_TIME, "-f", "%M", "-o", outp] + self.exec_argv(name, path)
        rc, out = self.run_quiet(argv)
        if rc != 0:
            raise Fail(f"{name} exec under {sb.GNU_TIME} exited {rc}: {out.strip()}")
        with open(outp) as f:
            return int(f.read().split()[-1])

    def teardown(self):
        for name, path in self.runtimes:
            st = self.container_state(name, path)
            if st.get("status") != "running":
                raise Fail(f"{name} container {self.cid[name]} is no longer running "
                           f"after the exec rounds: {st}")
            rc, out = self.run_quiet([path, "--root", self.state[name], "delete",
                                      "-f", self.cid[name]])
            if rc != 0:
                raise Fail(f"{name} delete -f {self.cid[name]} exited {rc}: {out.strip()}")
        # The sleep processes are not our children (reparented on the
        # runtimes' exit), so wait for them to be gone rather than reap.
        deadline = time.monotonic() + 5
        for name, pid in self.init_pid.items():
            while self.alive_sleep(pid):
                if time.monotonic() > deadline:
                    raise Fail(f"{name}'s container process {pid} still alive "
                               "after delete -f")
                time.sleep(0.02)

    @staticmethod
    def alive_sleep(pid):
        """Is pid still our container's sleep (not a zombie, not reused)?"""
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            return False
        state = stat.rsplit(")", 1)[1].split()[0]
        return state != "Z" and cmd[:2] == [b"/bin/sleep", str(SLEEP_S).encode()]


if __name__ == "__main__":
    sb.PROG = "exec_bench"
    sys.exit(sb.main(ExecBench))
