#!/usr/bin/python3
"""Image pull benchmark: pull + unpack of one multi-layer image from a local registry by
berthd and by containerd (with `ctr images pull` and through its CRI plugin), against the
floor of `tar xzf` of the same layers. Driven by bench/run-pull.sh; see bench/README.md.

Every contender starts each round with an empty store (the image removed and its content
collected), reads from the same registry on 127.0.0.1, and is timed from the command's
start to its exit. Rounds rotate the order so no contender always runs on a warm or cold
page cache. Prints medians, ratios, and writes JSON with -o.
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

from bench_support import Background, run, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TOOLS = os.path.join(REPO, "Tests", "tools")


def socket_answers(berthctl, socket, config):
    if not os.path.exists(socket):
        return False
    return subprocess.run([berthctl, "-r", "unix://" + socket, "--config", config, "version"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--berthd", required=True)
    parser.add_argument("--berthctl", required=True)
    parser.add_argument("-n", "--rounds", type=int, default=5)
    parser.add_argument("--size-mb", type=float, default=200)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("-o", "--output")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="berth-pull-bench.")
    try:
        return bench(args, work)
    finally:
        Background.stop_all()
        for line in open("/proc/self/mounts").read().splitlines():
            target = line.split()[1]
            if target.startswith(work):
                subprocess.run(["umount", "-l", target], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def bench(args, work):
    crictl_config = os.path.join(work, "crictl.yaml")
    open(crictl_config, "w").write("timeout: 600\n")

    # The registry and the image (random data, so compression cannot flatter anyone).
    registry = subprocess.Popen(["/usr/bin/python3", os.path.join(TOOLS, "registry.py"), "--dir", os.path.join(work, "registry")],
                                stdout=subprocess.PIPE, text=True)
    Background.processes.append(registry)
    ready = json.loads(registry.stdout.readline())
    port = ready["port"]
    print(f"registry on 127.0.0.1:{port}; building a {args.size_mb:g} MB image of {args.layers} random layers (gzip)...", flush=True)
    built = json.loads(run(["/usr/bin/python3", os.path.join(TOOLS, "build_image.py"), "--registry", f"127.0.0.1:{port}",
                            "--name", "bench/large", "--tag", "v1", "--recipe", "large", "--layers", str(args.layers),
                            "--size-mb", str(args.size_mb), "--seed", "1"]).stdout)
    reference = built["reference"]
    layers = [layer["digest"] for layer in built["layers"]]
    total = sum(layer["size"] for layer in built["layers"])
    blobs = os.path.join(work, "registry", "storage", "docker", "registry", "v2", "blobs", "sha256")
    layer_files = [os.path.join(blobs, d[7:9], d[7:], "data") for d in layers]
    print(f"image {reference}: {len(layers)} layers, {total / 1e6:.1f} MB compressed", flush=True)

    # berthd, with its own root.
    berth_socket = os.path.join(work, "berthd.sock")
    Background([args.berthd, "--address", berth_socket, "--root", os.path.join(work, "berth-root"), "--state", os.path.join(work, "berth-state")],
               os.path.join(work, "berthd.log"))
    wait_for(lambda: socket_answers(args.berthctl, berth_socket, crictl_config), 30, "berthd")

    # containerd with its CRI plugin; ctr and CRI share its store, so each round cleans up.
    containerd_socket = os.path.join(work, "containerd", "containerd.sock")
    os.makedirs(os.path.join(work, "containerd", "cni"))
    config = os.path.join(work, "containerd.toml")
    template = open(os.path.join(TOOLS, "containerd-cri.toml")).read()
    open(config, "w").write(template.replace("@DIR@", os.path.join(work, "containerd")).replace("@REGISTRY@", f"127.0.0.1:{port}"))
    Background(["/usr/bin/containerd", "--config", config], os.path.join(work, "containerd.log"))
    wait_for(lambda: socket_answers(args.berthctl, containerd_socket, crictl_config), 30, "containerd")
    ctr = ["/usr/bin/ctr", "--address", containerd_socket]

    def berthctl(socket, *words):
        return [args.berthctl, "--config", crictl_config, "-r", "unix://" + socket] + list(words)

    def clean_berthd():
        run(berthctl(berth_socket, "rmi", "--all"))

    def clean_ctr():
        run(ctr + ["-n", "bench", "images", "rm", "--sync", reference])
        run(ctr + ["-n", "bench", "content", "prune", "references"])

    def clean_cri():
        run(berthctl(containerd_socket, "rmi", "--all"))
        run(ctr + ["-n", "k8s.io", "content", "prune", "references"])

    floor_target = os.path.join(work, "floor")

    def floor():
        os.makedirs(floor_target)
        for path in layer_files:
            subprocess.run(["tar", "xzf", path, "-C", floor_target], check=True)

    def clean_floor():
        shutil.rmtree(floor_target, ignore_errors=True)

    contenders = [
        ("berthd (berthctl pull)", lambda: run(berthctl(berth_socket, "pull", reference)), clean_berthd),
        ("containerd: ctr images pull", lambda: run(ctr + ["-n", "bench", "images", "pull", "--plain-http", reference]), clean_ctr),
        ("containerd: CRI PullImage (berthctl pull)", lambda: run(berthctl(containerd_socket, "pull", reference)), clean_cri),
        ("floor: tar xzf of the layers", floor, clean_floor),
    ]
    samples = {name: [] for name, _, _ in contenders}
    for round_number in range(args.rounds):
        order = contenders[round_number % len(contenders):] + contenders[:round_number % len(contenders)]
        for name, pull, clean in order:
            subprocess.run(["sync"])
            started = time.monotonic()
            pull()
            samples[name].append(time.monotonic() - started)
            clean()
        line = "  ".join(f"{short} {samples[name][-1]:.2f}s" for (name, _, _), short in zip(contenders, ["berthd", "ctr", "containerd-cri", "tar"]))
        print(f"round {round_number + 1}/{args.rounds}: {line}", flush=True)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    berth = medians["berthd (berthctl pull)"]
    print(f"\npull + unpack of {total / 1e6:.0f} MB in {len(layers)} layers, median of {args.rounds} rounds:")
    for name, _, _ in contenders:
        value = medians[name]
        print(f"  {name:44s} {value:7.2f} s   {total / 1e6 / value:7.1f} MB/s   berthd/this = {berth / value:.2f}")
    if args.output:
        json.dump({"image": reference, "bytes": total, "layers": len(layers), "rounds": args.rounds,
                   "samples": samples, "medians": medians}, open(args.output, "w"), indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
