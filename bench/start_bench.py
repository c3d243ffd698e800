#!/usr/bin/env python3
"""Driver for bench/run-start.sh -- do not call directly.

Runs inside a private mount namespace (the shell script starts it with
`unshare -m --propagation private`).  Hides the cgroup2 mount of a hybrid
cgroup layout, then times `<rt> --root <state> run --bundle <bundle> <id>`
for each runtime, alternating runtimes within every round.

Timing: CLOCK_MONOTONIC (ns) read immediately before os.posix_spawn() and
immediately after os.wait4() returns.  The code path between the two clock
reads is byte-for-byte the same for every runtime; its cost is measured by
timing the host's /usr/bin/true the same way in every round ("driver floor").
wait4() also gives the child's rusage; ru_utime+ru_stime (CPU of the
runtime plus the processes it reaped) is reported as "cpu".

Peak RSS is NOT taken from these wait4() calls: posix_spawn() uses
clone(CLONE_VM|CLONE_VFORK), and exec folds the high-water RSS of the mm it
leaves -- Python's own, ~16 MB -- into the child's ru_maxrss.  Instead a few
extra runs of each runtime go through GNU time (/usr/bin/time -f %M, from
the Debian package `time`), which forks from a ~2 MB process; its figure for
the host's /usr/bin/true is printed as the floor of that column.
"""

import argparse
import glob
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import time
import traceback

MONO = time.CLOCK_MONOTONIC
RUN_TIMEOUT_S = 60  # one `run` of /bin/true taking this long is a hang
GNU_TIME = "/usr/bin/time"  # Debian package `time`; optional
RSS_RUNS = 5  # extra runs of each runtime under GNU time, for peak RSS


class Fail(Exception):
    pass


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


PROG = "start_bench"  # prefix of log lines; exec_bench.py sets its own


def log(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def ms(ns):
    return ns / 1e6


def percentile(sorted_xs, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_xs:
        return float("nan")
    k = (len(sorted_xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (k - lo)


def summarize_ns(samples_ns):
    xs = sorted(ms(x) for x in samples_ns)
    return {
        "n": len(xs),
        "median": statistics.median(xs),
        "p10": percentile(xs, 10),
        "p90": percentile(xs, 90),
        "mean": statistics.fmean(xs),
        "stdev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
        "min": xs[0],
        "max": xs[-1],
    }


# --------------------------------------------------------------------------
# mount namespace / cgroup layout


def mountinfo():
    """[(mount_point, fstype)] of this process's mount namespace."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            mnt_point = left.split()[4]
            fstype = right.split()[0]
            out.append((mnt_point.replace("\\040", " "), fstype))
    return out


def hide_cgroup2_in_hybrid_layout(outer_mntns):
    """In a hybrid layout (v1 hierarchies + a cgroup2 mount), unmount the
    cgroup2 mount(s) -- only in our private mount namespace."""
    if os.readlink("/proc/self/ns/mnt") == outer_mntns:
        raise Fail("not in a private mount namespace; refusing to umount "
                   "anything (run bench/run-start.sh, not this file)")
    mounts = mountinfo()
    v1 = [m for m, t in mounts if t == "cgroup"]
    v2 = [m for m, t in mounts if t == "cgroup2"]
    if not (v1 and v2):
        return "v2-only" if v2 else "v1-only"
    for m in sorted(v2, key=len, reverse=True):
        rc = os.spawnvp(os.P_WAIT, "umount", ["umount", m])
        if rc != 0:
            raise Fail(f"umount {m} failed (rc={rc})")
    left = [m for m, t in mountinfo() if t == "cgroup2"]
    if left:
        raise Fail(f"cgroup2 still mounted at {left}")
    # After the umount, /sys/fs/cgroup/unified is a plain directory of the
    # host's /sys/fs/cgroup tmpfs, which is shared with the host.  crun (in
    # its v1 mode) treats every directory there as a hierarchy, mkdirs
    # <id>/ in it and writes a regular cgroup.procs file, which it then
    # cannot rmdir -- litter hidden under the host's cgroup2 mount.  So put
    # a scratch tmpfs over the old mount point: it dies with this namespace.
    for m in v2:
        rc = os.spawnvp(os.P_WAIT, "mount", ["mount", "-t", "tmpfs", "-o",
                        "size=16m,mode=0755", "berth-bench-scratch", m])
        if rc != 0:
            raise Fail(f"mounting a scratch tmpfs on {m} failed (rc={rc})")
        SCRATCH.append(m)
    return (f"hybrid; cgroup2 at {', '.join(v2)} unmounted (scratch tmpfs "
            f"in its place) in the bench namespace")


SCRATCH = []  # former cgroup2 mount points, now scratch tmpfs (see above)


def cgroup_dirs(tag):
    """Real cgroup directories named after our container ids."""
    found = glob.glob(f"/sys/fs/cgroup/*/{tag}-*") + \
        glob.glob(f"/sys/fs/cgroup/*/*/{tag}-*")
    return sorted(d for d in found
                  if not any(d.startswith(s + "/") for s in SCRATCH))


# --------------------------------------------------------------------------


class Bench:
    # What is timed; exec_bench.ExecBench (bench/run-exec.sh) overrides these
    # along with setup(), teardown(), run_container() and gnu_time_rss().
    BENCHMARK = "container start: <rt> --root <tmp> run --bundle <b> <id>, /bin/true (busybox-static)"
    TITLE = "container start time: `<rt> run` of a /bin/true bundle"

    def __init__(self, a):
        self.a = a
        self.work = a.work
        self.bundle = a.bundle
        self.tag = a.tag
        self.current = None  # pid of the runtime being waited for
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        self.env = dict(os.environ)
        self.env.pop("NOTIFY_SOCKET", None)
        self.env.pop("LISTEN_FDS", None)

        self.runtimes = []  # [(name, abs path)]
        if a.berth:
            self.runtimes.append(("berth", a.berth))
        for name in ("crun", "runc"):
            p = shutil.which(name)
            if not p:
                raise Fail(f"{name} not found")
            self.runtimes.append((name, p))
        self.state = {}
        for name, _ in self.runtimes:
            root = os.path.join(self.work, "state", name)
            os.makedirs(root, exist_ok=True)
            self.state[name] = root
        self.true = shutil.which("true") or "/bin/true"

        with open(os.path.join(self.bundle, "config.runc-spec.json")) as f:
            self.config = json.load(f)
        self.config["process"]["args"] = ["/bin/true"]
        self.config["process"]["terminal"] = False
        self.config_path = os.path.join(self.bundle, "config.json")
        self.used_ids = []

    # ---- process handling -------------------------------------------------

    def spawn_timed(self, argv, logpath):
        """Run argv to completion; return (elapsed_ns, status, rusage).

        Everything between the two clock reads is identical for every argv.
        The child gets its own session so a terminal Ctrl-C reaches only
        us; we then let the child finish and clean up in order."""
        logfd = os.open(logpath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        fa = [(os.POSIX_SPAWN_DUP2, self.devnull, 0),
              (os.POSIX_SPAWN_DUP2, logfd, 1),
              (os.POSIX_SPAWN_DUP2, logfd, 2)]
        sigs = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        try:
            signal.alarm(RUN_TIMEOUT_S)
            signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
            t0 = time.clock_gettime_ns(MONO)
            pid = os.posix_spawn(argv[0], argv, self.env, file_actions=fa,
                                 setsid=True, setsigmask=(),
                                 setsigdef=(signal.SIGPIPE, signal.SIGXFSZ,
                                            signal.SIGINT, signal.SIGTERM,
                                            signal.SIGHUP, signal.SIGALRM))
            self.current = pid
            signal.pthread_sigmask(signal.SIG_UNBLOCK, sigs)
            _, status, ru = os.wait4(pid, 0)
            t1 = time.clock_gettime_ns(MONO)
            self.current = None
            signal.alarm(0)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, sigs)
            os.close(logfd)
        return t1 - t0, status, ru

    def reap_current(self, grace_s=10.0):
        pid, self.current = self.current, None
        if pid is None:
            return
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            time.sleep(0.02)
        log(f"killing stuck child {pid}")
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)

    def run_quiet(self, argv):
        """Untimed helper run; returns (rc, output)."""
        logpath = os.path.join(self.work, "logs", "helper.log")
        _, status, _ = self.spawn_timed(argv, logpath)
        with open(logpath, errors="replace") as f:
            return os.waitstatus_to_exitcode(status), f.read()

    # ---- one container run --------------------------------------------------

    def run_container(self, name, path, seq):
        cid = f"{self.tag}-{name}-{seq}"
        self.used_ids.append(cid)
        self.config["linux"]["cgroupsPath"] = "/" + cid
        with open(self.config_path, "w") as f:
            json.dump(self.config, f)
        logpath = os.path.join(self.work, "logs", f"{name}.log")
        argv = [path, "--root", self.state[name], "run", "--bundle",
                self.bundle, cid]
        dt, status, ru = self.spawn_timed(argv, logpath)
        rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            with open(logpath, errors="replace") as f:
                out = f.read().strip()
            raise Fail(f"{name} run {cid} exited {rc}:\n  $ {' '.join(argv)}\n"
                       + "\n".join("  | " + l for l in out.splitlines()))
        return dt, (ru.ru_utime + ru.ru_stime) * 1e3

    def run_baseline(self):
        logpath = os.path.join(self.work, "logs", "floor.log")
        dt, status, _ = self.spawn_timed([self.true], logpath)
        if os.waitstatus_to_exitcode(status) != 0:
            raise Fail(f"{self.true} failed")
        return dt

    # ---- checks / cleanup -----------------------------------------------------

    def list_ids(self, name, path):
        rc, out = self.run_quiet([path, "--root", self.state[name], "list", "-q"])
        if rc != 0:
            raise Fail(f"{name} list -q exited {rc}: {out.strip()}")
        return [l for l in out.split() if l]

    def verify_clean(self):
        problems = []
        for name, path in self.runtimes:
            ids = self.list_ids(name, path)
            if ids:
                problems.append(f"{name} still lists containers: {ids}")
        dirs = cgroup_dirs(self.tag)
        if dirs:
            ids = sorted({os.path.basename(d) for d in dirs})
            problems.append(f"{len(dirs)} cgroup dirs left behind for {len(ids)} "
                            f"ids, e.g. {dirs[0]} (ids: {' '.join(ids[:6])}"
                            f"{' ...' if len(ids) > 6 else ''})")
        if problems:
            raise Fail("not clean after the benchmark:\n  " + "\n  ".join(problems))

    def cleanup(self):
        """Best effort; used after an error or an interrupt."""
        for name, path in self.runtimes:
            try:
                rc, out = self.run_quiet([path, "--root", self.state[name], "list", "-q"])
                for cid in out.split() if rc == 0 else []:
                    log(f"deleting leftover {name} container {cid}")
                    self.run_quiet([path, "--root", self.state[name], "delete", "-f", cid])
            except Exception as e:  # keep cleaning the rest
                log(f"cleanup of {name}: {e}")
        for d in cgroup_dirs(self.tag):
            log(f"removing leftover cgroup {d}")
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    for p in f.read().split():
                        try:
                            os.kill(int(p), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            except OSError:
                pass
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
            else:
                log(f"could not remove {d}")

    # ---- peak RSS with GNU time ------------------------------------------------

    def gnu_time_rss(self, name, path, k):
        """Peak RSS (KiB, GNU time %M) of one run; name None = host true."""
        outp = os.path.join(self.work, "logs", "rss.time")
        if name is None:
            argv = [GNU_TIME, "-f", "%M", "-o", outp, self.true]
        else:
            cid = f"{self.tag}-{name}-rss{k}"
            self.used_ids.append(cid)
            self.config["linux"]["cgroupsPath"] = "/" + cid
            with open(self.config_path, "w") as f:
                json.dump(self.config, f)
            argv = [GNU_TIME, "-f", "%M", "-o", outp, path, "--root",
                    self.state[name], "run", "--bundle", self.bundle, cid]
        rc, out = self.run_quiet(argv)
        if rc != 0:
            raise Fail(f"{name} run under {GNU_TIME} exited {rc}: {out.strip()}")
        with open(outp) as f:
            return int(f.read().split()[-1])

    # ---- main -------------------------------------------------------------------

    def versions(self):
        v = {}
        for name, path in self.runtimes:
            try:
                rc, out = self.run_quiet([path, "--version"])
                v[name] = out.strip().splitlines()[0] if rc == 0 and out.strip() else f"(--version exited {rc})"
            except Exception as e:
                v[name] = f"(--version failed: {e})"
        return v

    def setup(self):
        """Untimed preparation after the cgroup view is set up (none here)."""

    def teardown(self):
        """Untimed clean-up before verify_clean() (none here)."""

    def main(self):
        a = self.a
        layout = hide_cgroup2_in_hybrid_layout(a.outer_mntns)
        versions = self.versions()
        self.setup()
        names = [n for n, _ in self.runtimes]
        samples = {n: [] for n in names}
        cpu = {n: [] for n in names}
        floor = []
        load0 = open("/proc/loadavg").read().split()[:3]
        if float(load0[0]) > 0.5 * (os.cpu_count() or 1):
            log(f"warning: load average {load0[0]} on {os.cpu_count()} cpus -- "
                "other work is running; expect noisy, inflated figures")

        total = a.warmup + a.rounds
        log(f"{', '.join(names)}: {a.warmup} warm-up + {a.rounds} rounds "
            f"(cgroups: {layout})")
        seq = 0
        for r in range(total):
            # Rotate which runtime goes first: a run right after another runtime's run
            # finds the kernel's cgroup_threadgroup_rwsem "warm" (no RCU grace period on
            # the v1 cgroup move, about 10 ms here), so a fixed order would hand that
            # saving to the same runtimes every round.
            shift = r % len(self.runtimes)
            for name, path in self.runtimes[shift:] + self.runtimes[:shift]:
                dt, cpums = self.run_container(name, path, seq)
                seq += 1
                if r >= a.warmup:
                    samples[name].append(dt)
                    cpu[name].append(cpums)
            dt = self.run_baseline()
            if r >= a.warmup:
                floor.append(dt)
            if sys.stderr.isatty() and (r + 1) % 20 == 0:
                print(f"\r  round {r + 1}/{total}", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)

        # Peak RSS: RSS_RUNS extra runs of each (alternated), via GNU time.
        rss = {n: [] for n in names + ["floor"]}
        if os.access(GNU_TIME, os.X_OK):
            for k in range(RSS_RUNS):
                for name, path in self.runtimes:
                    rss[name].append(self.gnu_time_rss(name, path, k))
                rss["floor"].append(self.gnu_time_rss(None, None, k))
        else:
            log(f"{GNU_TIME} not installed (apt-get install -y time): "
                "no peak RSS figures")

        def rss_summary(xs):
            if not xs:
                return None
            return {"median": statistics.median(xs), "max": max(xs), "runs": xs}
        self.teardown()
        self.verify_clean()
        load1 = open("/proc/loadavg").read().split()[:3]

        res = {
            "benchmark": self.BENCHMARK,
            "title": self.TITLE,
            "rounds": a.rounds,
            "warmup_rounds_discarded": a.warmup,
            "order_within_round": "rotated each round: " + ", ".join(names) + ", then floor",
            "clock": "CLOCK_MONOTONIC ns around posix_spawn()+wait4()",
            "cpu": "ru_utime+ru_stime from wait4(), median, ms",
            "peak_rss": f"GNU time %M (KiB), {RSS_RUNS} extra runs each, not timed",
            "host": {
                "kernel": platform.release(),
                "cpus": os.cpu_count(),
                "loadavg_before": load0,
                "loadavg_after": load1,
                "cgroups": layout,
            },
            "berth_skipped": a.berth_skipped is not None,
            "berth_path": a.berth or a.berth_skipped,
            "runtimes": {},
            "driver_floor": {
                "what": f"posix_spawn+wait4 of host {self.true}, same code path, every round",
                "ms": summarize_ns(floor),
                "peak_rss_kib": rss_summary(rss["floor"]),
                "samples_ns": floor,
            },
            "ratios_of_medians": {},
        }
        for name, path in self.runtimes:
            res["runtimes"][name] = {
                "path": path,
                "version": versions[name],
                "ms": summarize_ns(samples[name]),
                "cpu_ms_median": statistics.median(cpu[name]),
                "peak_rss_kib": rss_summary(rss[name]),
                "samples_ns": samples[name],
            }
        med = {n: res["runtimes"][n]["ms"]["median"] for n in names}
        for num, den in (("berth", "crun"), ("berth", "runc"), ("crun", "runc")):
            res["ratios_of_medians"][f"{num}/{den}"] = (
                med[num] / med[den] if num in med and den in med else None)
        return res


def rss_cell(r):
    return "n/a" if r is None else f"{r['median']:.0f}"


def print_table(res):
    rts = res["runtimes"]
    w = sys.stdout.write
    w(f"\n{res.get('title', Bench.TITLE)}, "
      f"{res['rounds']} rounds ({res['warmup_rounds_discarded']} warm-up discarded), "
      f"order per round: {res['order_within_round']}\n")
    w(f"host: {res['host']['cpus']} cpus, kernel {res['host']['kernel']}, "
      f"load {' '.join(res['host']['loadavg_before'])} -> {' '.join(res['host']['loadavg_after'])}; "
      f"cgroups {res['host']['cgroups']}\n\n")
    hdr = f"{'runtime':<8} {'median':>8} {'p10':>8} {'p90':>8} {'mean':>8} {'cpu':>8} {'peak RSS':>9}\n"
    w(hdr)
    w(f"{'':<8} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>8} {'KiB':>9}\n")
    w("-" * (len(hdr) - 1) + "\n")
    if res["berth_skipped"]:
        w(f"{'berth':<8} SKIPPED: no executable at {res['berth_path']}\n")
    for name, r in rts.items():
        s = r["ms"]
        w(f"{name:<8} {s['median']:8.2f} {s['p10']:8.2f} {s['p90']:8.2f} {s['mean']:8.2f} "
          f"{r['cpu_ms_median']:8.1f} {rss_cell(r['peak_rss_kib']):>9}\n")
    f = res["driver_floor"]["ms"]
    w(f"{'(floor)':<8} {f['median']:8.2f} {f['p10']:8.2f} {f['p90']:8.2f} {f['mean']:8.2f} "
      f"{'':>8} {rss_cell(res['driver_floor']['peak_rss_kib']):>9}\n")
    w("(floor) = the driver timing the host's /usr/bin/true the same way; that cost is\n"
      "          included in every runtime row.  cpu = user+sys of the runtime and the\n"
      "          processes it reaped.  peak RSS = median of GNU time %M over "
      f"{len((res['driver_floor']['peak_rss_kib'] or {'runs': []})['runs'])} extra runs\n"
      "          (largest single process, not a sum).\n\n")
    for k, v in res["ratios_of_medians"].items():
        if v is None:
            w(f"{k:<11} n/a (berth skipped)\n")
        else:
            w(f"{k:<11} {v:6.3f}  (ratio of medians; < 1 means the first is faster)\n")
    for name, r in rts.items():
        w(f"  {name}: {r['path']}  [{r['version']}]\n")


def main(bench_class=Bench):
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--berth")
    ap.add_argument("--berth-skipped")
    ap.add_argument("--json")
    ap.add_argument("--cleanup-only", action="store_true",
                    help="only delete leftover containers/cgroups of --tag")
    ap.add_argument("--outer-mntns", required=True,
                    help="readlink /proc/<launcher>/ns/mnt, to make sure we are not in it")
    a = ap.parse_args()

    def on_signal(signum, _frame):
        raise Interrupted(signum)

    def on_alarm(_signum, _frame):
        raise Fail(f"a run took longer than {RUN_TIMEOUT_S}s")

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)

    b = None
    rc = 0
    try:
        b = bench_class(a)
        if a.cleanup_only:
            hide_cgroup2_in_hybrid_layout(a.outer_mntns)
            b.cleanup()
            b = None
            return 0
        res = b.main()
    except Interrupted as e:
        log(f"interrupted by signal {e.signum}; cleaning up")
        rc = 128 + e.signum
    except Fail as e:
        log(f"FAIL: {e}")
        rc = 1
    except Exception:
        traceback.print_exc()
        log("FAIL: driver error")
        rc = 1
    finally:
        signal.alarm(0)
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if b is not None:
            b.reap_current()
            if rc != 0:
                b.cleanup()
    if rc != 0:
        return rc
    print_table(res)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
        print(f"\nwrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
