#!/usr/bin/python3
"""Pod start latency and per-container monitor memory: berthd against containerd's CRI
and podman's conmon, in one run. Driven by bench/run-pod.sh; see bench/README.md.

1. Pod start: RunPodSandbox -> CreateContainer -> StartContainer -> the container's first
   log line in its CRI log file, through the CRI (the PyPI client
   container-runtime-interface-api over grpcio, the same code path for every daemon).
   Contenders: berthd with berth, berthd with runc as a RuntimeClass handler, containerd
   1.6's CRI with its runc v2 shim. Rounds rotate the order; each pod is removed
   (untimed) before the next starts.
2. Monitor memory: K pods with one sleeping container each stay up on berthd and on
   containerd, and K containers under podman (conmon); the PSS of every monitor process
   (berth-shim, containerd-shim-runc-v2, conmon) from /proc/PID/smaps_rollup.
3. Daemon memory when idle (image pulled, no pods): PSS of berthd and of containerd.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import grpc
from cri_api.v1 import api_pb2 as cri
from cri_api.v1 import api_pb2_grpc as cri_grpc

from bench_support import Background, run, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TOOLS = os.path.join(REPO, "Tests", "tools")
RUNC = "/usr/sbin/runc"


def memory(pid):
    """PSS, RSS and USS (private pages: what one more such process adds) of one process
    in KiB (None if it is gone)."""
    values = {"Uss": 0}
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            field = line.split()
            if field[0] in ("Pss:", "Rss:"):
                values[field[0][:-1]] = int(field[1])
            elif field[0] in ("Private_Clean:", "Private_Dirty:"):
                values["Uss"] += int(field[1])
    except OSError:
        return None
    return values


def processes(name, marker):
    """Pids whose command name is `name` and whose command line contains `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = open(f"/proc/{entry}/comm").read().strip()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if comm == name[:15] and marker in cmdline:
            found.append(int(entry))
    return sorted(found)


class CRI:
    """One CRI endpoint: pods with one container whose first log line is awaited."""

    def __init__(self, name, socket, handler, logs, image):
        self.name, self.handler, self.logs, self.image = name, handler, logs, image
        channel = grpc.insecure_channel("unix://" + socket)
        self.runtime = cri_grpc.RuntimeServiceStub(channel)
        self.images = cri_grpc.ImageServiceStub(channel)
        self.count = 0

    def pull(self, reference):
        self.images.PullImage(cri.PullImageRequest(image=cri.ImageSpec(image=reference)), timeout=300)

    def start(self, command):
        """Runs a pod with one container and waits for its first log line; the pod id."""
        self.count += 1
        name = f"bench-{os.getpid()}-{self.count}"
        directory = os.path.join(self.logs, name)
        pod = cri.PodSandboxConfig(
            metadata=cri.PodSandboxMetadata(name=name, uid=name, namespace="bench"), hostname=name, log_directory=directory)
        pod_id = self.runtime.RunPodSandbox(cri.RunPodSandboxRequest(config=pod, runtime_handler=self.handler), timeout=60).pod_sandbox_id
        container = cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name="app"), image=cri.ImageSpec(image=self.image), command=command, log_path="app/0.log")
        container_id = self.runtime.CreateContainer(
            cri.CreateContainerRequest(pod_sandbox_id=pod_id, config=container, sandbox_config=pod), timeout=60).container_id
        self.runtime.StartContainer(cri.StartContainerRequest(container_id=container_id), timeout=60)
        log = os.path.join(directory, "app", "0.log")
        deadline = time.monotonic() + 30
        while True:
            try:
                if os.path.getsize(log) > 0 and b"ready" in open(log, "rb").read():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"pod_bench: {self.name}: no first log line in {log} within 30 s")
            time.sleep(0.001)
        return pod_id

    def remove(self, pod_id):
        for item in self.runtime.ListContainers(cri.ListContainersRequest(filter=cri.ContainerFilter(pod_sandbox_id=pod_id)), timeout=60).containers:
            self.runtime.StopContainer(cri.StopContainerRequest(container_id=item.id, timeout=0), timeout=60)
        self.runtime.StopPodSandbox(cri.StopPodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)
        self.runtime.RemovePodSandbox(cri.RemovePodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)

    def remove_all(self):
        for item in self.runtime.ListPodSandbox(cri.ListPodSandboxRequest(), timeout=60).items:
            self.remove(item.id)


def network_list(name, bridge, subnet, data_dir):
    return json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": subnet}]], "dataDir": data_dir}}]})


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="directory with berthd, berth, berth-shim, berth-pause")
    parser.add_argument("-n", "--rounds", type=int, default=20)
    parser.add_argument("-w", "--warmup", type=int, default=2)
    parser.add_argument("-k", "--pods", type=int, default=10, help="pods kept up for the memory figures")
    parser.add_argument("-o", "--output")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="berth-pod-bench.")
    # containerd's CNI library caches results under /var/lib/cni whatever the config says.
    cni_cache_existed = os.path.exists("/var/lib/cni")
    tag = os.path.basename(work).split(".")[-1].lower()[:6]
    bridges = [f"bb{tag}", f"cb{tag}"]
    try:
        return bench(args, work, bridges)
    finally:
        Background.stop_all()
        # Whatever a failed run left: containers' processes die with their cgroups'
        # owners above; mounts, bridges and empty parent cgroups go here.
        for line in reversed(open("/proc/self/mounts").read().splitlines()):
            target = line.split()[1]
            if target.startswith(work):
                subprocess.run(["umount", "-l", target], stderr=subprocess.DEVNULL)
        for bridge in bridges:
            subprocess.run(["ip", "link", "del", bridge], stderr=subprocess.DEVNULL)
        # The pods' network namespaces made /run/netns a mount of its own (iproute2 and
        # containerd both do): removed once no namespace is left in it.
        mounted = any(line.split()[1] == "/run/netns" for line in open("/proc/self/mounts"))
        if mounted and not os.listdir("/run/netns"):
            subprocess.run(["umount", "/run/netns"], stderr=subprocess.DEVNULL)
        for hierarchy in os.listdir("/sys/fs/cgroup"):
            for parent in ("berth/pods", "berth", "k8s.io", "libpod_parent/conmon", "libpod_parent"):
                try:
                    os.rmdir(f"/sys/fs/cgroup/{hierarchy}/{parent}")
                except OSError:
                    pass
        if not cni_cache_existed:
            shutil.rmtree("/var/lib/cni", ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def bench(args, work, bridges):
    # The registry, the image (busybox-static) and a pause image for containerd (the same
    # busybox sleeping; berthd's pause program is built in).
    registry = subprocess.Popen(["/usr/bin/python3", os.path.join(TOOLS, "registry.py"), "--dir", os.path.join(work, "registry")],
                                stdout=subprocess.PIPE, text=True)
    Background.processes.append(registry)
    port = json.loads(registry.stdout.readline())["port"]
    build = ["/usr/bin/python3", os.path.join(TOOLS, "build_image.py"), "--registry", f"127.0.0.1:{port}", "--recipe", "basic"]
    image = json.loads(run(build + ["--name", "bench/busybox", "--tag", "v1"]).stdout)["reference"]
    pause = json.loads(run(build + ["--name", "bench/pause", "--tag", "v1",
                                    "--config-json", json.dumps({"Entrypoint": ["/bin/sleep"], "Cmd": ["2147483647"], "User": None})]).stdout)["reference"]
    command = ["/bin/sh", "-c", "echo ready; exec sleep 3600"]
    environment = dict(os.environ, PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")

    # berthd: berth by default, runc as a RuntimeClass handler.
    berth_dir = os.path.join(work, "berthd")
    os.makedirs(os.path.join(berth_dir, "net.d"))
    open(os.path.join(berth_dir, "net.d", "10-bench.conflist"), "w").write(
        network_list("berthbench", bridges[0], "10.236.1.0/24", os.path.join(berth_dir, "ipam")))
    open(os.path.join(berth_dir, "berthd.toml"), "w").write(
        f'[runtime]\nberth = "{args.bin}/berth"\nshim = "{args.bin}/berth-shim"\npause = "{args.bin}/berth-pause"\n'
        f'[runtime.handlers]\nrunc = "{RUNC}"\n[network]\nconfig_dir = "{berth_dir}/net.d"\n')
    berth_socket = os.path.join(berth_dir, "berth.sock")
    berthd = Background([os.path.join(args.bin, "berthd"), "--address", berth_socket, "--root", os.path.join(berth_dir, "root"),
                         "--state", os.path.join(berth_dir, "state"), "--config", os.path.join(berth_dir, "berthd.toml")],
                        os.path.join(work, "berthd.log"), env=environment)

    # containerd 1.6 with its CRI plugin and the runc v2 shim, in a directory of its own.
    containerd_dir = os.path.join(work, "containerd")
    os.makedirs(os.path.join(containerd_dir, "cni"))
    open(os.path.join(containerd_dir, "cni", "10-bench.conflist"), "w").write(
        network_list("ctrdbench", bridges[1], "10.236.2.0/24", os.path.join(containerd_dir, "ipam")))
    template = open(os.path.join(TOOLS, "containerd-cri.toml")).read()
    config = template.replace("@DIR@", containerd_dir).replace("@REGISTRY@", f"127.0.0.1:{port}")
    config = config.replace("restrict_oom_score_adj = true", f'restrict_oom_score_adj = true\n  sandbox_image = "{pause}"')
    open(os.path.join(work, "containerd.toml"), "w").write(config)
    containerd_socket = os.path.join(containerd_dir, "containerd.sock")
    containerd = Background(["/usr/bin/containerd", "--config", os.path.join(work, "containerd.toml")], os.path.join(work, "containerd.log"), env=environment)

    logs = os.path.join(work, "logs")
    contenders = [
        CRI("berthd + berth", berth_socket, "", os.path.join(logs, "berth"), image),
        CRI("berthd + runc (RuntimeClass handler)", berth_socket, "runc", os.path.join(logs, "berth-runc"), image),
        CRI("containerd CRI + runc v2 shim", containerd_socket, "", os.path.join(logs, "containerd"), image),
    ]
    for contender, socket in ((contenders[0], berth_socket), (contenders[2], containerd_socket)):
        wait_for(lambda: os.path.exists(socket), 30, f"{contender.name}'s socket")
        wait_for(lambda: _answers(contender), 30, contender.name)
        contender.pull(image)
    contenders[2].pull(pause)

    # 1. Pod start latency.
    samples = {c.name: [] for c in contenders}
    print(f"pod start: {args.warmup} warm-up and {args.rounds} timed rounds, order rotated", flush=True)
    for number in range(args.warmup + args.rounds):
        order = contenders[number % len(contenders):] + contenders[:number % len(contenders)]
        for contender in order:
            started = time.monotonic()
            pod = contender.start(command)
            elapsed = time.monotonic() - started
            contender.remove(pod)
            if number >= args.warmup:
                samples[contender.name].append(elapsed * 1000)

    # 2. Monitor memory with K pods (berthd, containerd) and K containers (podman) up.
    monitors = {}
    for contender, process_name, marker in ((contenders[0], "berth-shim", berth_dir), (contenders[2], "containerd-shim-runc-v2", containerd_socket)):
        pods = [contender.start(command) for _ in range(args.pods)]
        time.sleep(1)
        monitors[process_name] = [memory(pid) for pid in processes(process_name, marker)]
        for pod in pods:
            contender.remove(pod)
    monitors["conmon"] = podman_conmon(work, port, image, args.pods, environment)

    # 3. Daemons at rest: the image pulled, no pods.
    time.sleep(2)
    idle = {"berthd": memory(berthd.process.pid), "containerd": memory(containerd.process.pid)}

    report(args, samples, monitors, idle)
    for contender in contenders:
        contender.remove_all()
    return 0


def _answers(contender):
    try:
        contender.runtime.Version(cri.VersionRequest(), timeout=2)
        return True
    except grpc.RpcError:
        return False


def podman_conmon(work, port, image, count, environment):
    """K detached podman containers (runc, private storage and config); conmon's memory."""
    directory = os.path.join(work, "podman")
    for sub in ("etc", "tmp", "root", "runroot"):
        os.makedirs(os.path.join(directory, sub))
    open(os.path.join(directory, "etc", "containers.conf"), "w").write(
        '[containers]\nlog_driver = "k8s-file"\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\nnetns = "none"\n'
        f'[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "{directory}/netconf"\n'
        f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "{directory}/tmp/events.log"\n'
        f'tmp_dir = "{directory}/tmp"\nlock_type = "file"\nimage_copy_tmp_dir = "{directory}/tmp"\n')
    open(os.path.join(directory, "etc", "storage.conf"), "w").write(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{directory}/root"\nrunroot = "{directory}/runroot"\n')
    open(os.path.join(directory, "etc", "registries.conf"), "w").write('unqualified-search-registries = []\nshort-name-mode = "disabled"\n')
    env = dict(environment, CONTAINERS_CONF=f"{directory}/etc/containers.conf", CONTAINERS_STORAGE_CONF=f"{directory}/etc/storage.conf",
               CONTAINERS_REGISTRIES_CONF=f"{directory}/etc/registries.conf", TMPDIR=f"{directory}/tmp")
    podman = ["podman", "--root", f"{directory}/root", "--runroot", f"{directory}/runroot", "--tmpdir", f"{directory}/tmp",
              "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    try:
        run(podman + ["pull", "--tls-verify=false", image], env=env)
        for number in range(count):
            # The image's entrypoint is `sh -c`: a plain command would only be its argument.
            run(podman + ["run", "-d", "--name", f"bench{number}", "--runtime", RUNC, "--network", "none", "--entrypoint", "/bin/sleep", image, "3600"], env=env)
        time.sleep(1)
        found = [memory(pid) for pid in processes("conmon", directory)]
        if len(found) != count:
            raise SystemExit(f"pod_bench: {len(found)} conmon processes for {count} podman containers")
        return found
    finally:
        subprocess.run(podman + ["rm", "-f", "-t", "0", "-a"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(podman + ["rmi", "-a", "-f"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(podman + ["system", "reset", "-f"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def report(args, samples, monitors, idle):
    medians = {name: statistics.median(values) for name, values in samples.items()}
    reference = medians["containerd CRI + runc v2 shim"]
    print(f"\npod start (RunPodSandbox -> CreateContainer -> StartContainer -> first log line), {args.rounds} rounds:")
    print(f"  {'':40s} {'median':>8s} {'p10':>8s} {'p90':>8s}   containerd/this")
    for name, values in samples.items():
        print(f"  {name:40s} {medians[name]:7.1f}ms {percentile(values, 0.1):7.1f}ms {percentile(values, 0.9):7.1f}ms   {reference / medians[name]:.2f}")

    per_container = {"berth-shim": 2, "containerd-shim-runc-v2": 1, "conmon": 1}
    print(f"\nmonitor memory with {args.pods} pods of one container each up (KiB, from smaps_rollup; USS = private pages):")
    print(f"  {'':26s} {'processes':>9s} {'PSS each':>9s} {'USS each':>9s} {'RSS each':>9s} {'PSS per pod':>12s}")
    figures = {}
    for name, values in monitors.items():
        values = [v for v in values if v]
        if not values:
            print(f"  {name:26s} none found")
            continue
        pss = statistics.median(v["Pss"] for v in values)
        rss = statistics.median(v["Rss"] for v in values)
        uss = statistics.median(v["Uss"] for v in values)
        # berthd runs a shim for the pause process and one per container; containerd 1.6
        # one shim per pod; podman one conmon per container (its pods add an infra one).
        figures[name] = {"count": len(values), "pss": pss, "uss": uss, "rss": rss, "perPod": pss * per_container[name]}
        print(f"  {name:26s} {len(values):9d} {pss:9.0f} {uss:9.0f} {rss:9.0f} {pss * per_container[name]:12.0f}")
    if "berth-shim" in figures:
        for other in ("conmon", "containerd-shim-runc-v2"):
            if other in figures:
                print(f"  {other} / berth-shim: PSS {figures[other]['pss'] / figures['berth-shim']['pss']:.2f} per process, "
                      f"{figures[other]['perPod'] / figures['berth-shim']['perPod']:.2f} per pod; USS {figures[other]['uss'] / figures['berth-shim']['uss']:.2f}")

    print("\ndaemons at rest (image pulled, no pods), KiB:")
    for name, value in idle.items():
        print(f"  {name:12s} PSS {value['Pss']:8d}   RSS {value['Rss']:8d}")
    print(f"  containerd / berthd PSS: {idle['containerd']['Pss'] / idle['berthd']['Pss']:.2f}")
    if args.output:
        json.dump({"podStartMilliseconds": samples, "medians": medians, "monitors": figures, "idle": idle}, open(args.output, "w"), indent=2)


if __name__ == "__main__":
    sys.exit(main())
