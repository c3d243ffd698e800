#!/usr/bin/python3
"""Build test images from busybox-static and push them through the registry HTTP API v2.

Usage:
    build_image.py --registry 127.0.0.1:PORT --name test/busybox --tag v1 --recipe basic
        [--user U --password P] [--token-url URL | --token JWT]
        [--format oci|docker] [--compression gzip|zstd|none] [--gzip-level 6]
        [--arch amd64] [--platforms linux/amd64,linux/arm64]
        [--layers 5 --size-mb 200 [--seed N]] [--salt TEXT] [--config-json JSON]
        [--busybox /usr/bin/busybox] [--output-dir DIR]

At least one of --registry and --output-dir is needed; with both the image is pushed and
written. --tag may be repeated (every tag points at the top-level manifest/index).

Recipes (every file is made here; /usr/bin/busybox comes from Debian's busybox-static):
  basic       one layer: /bin/busybox and symlinks to it (sh ls cat echo sleep id true
              false env pwd mkdir touch rm wc stat head tail hostname readlink printf kill
              test ps grep uname date whoami ping nc wget ip seq dd), /etc/passwd (root, app uid 1000, nobody),
              /etc/group, /home/app (1000:1000), /root (0700), /tmp (1777), /dev /proc /sys.
              Config: Entrypoint ["/bin/sh","-c"], Cmd [a script that prints
              "berth-test: $GREETING", traps SIGINT (prints "berth-test: got SIGINT", exits
              0) and loops on `sleep 1`], Env PATH/GREETING/BERTH_TEST, WorkingDir
              /home/app, User app, Labels, StopSignal SIGINT, ExposedPorts 8080/tcp.
              SIGTERM is not trapped, so only a runtime that honours StopSignal stops it
              with exit code 0.
  multilayer  3 layers: the basic layer; a layer adding /data files (a hard link
              /data/hardlink.txt -> /data/hello.txt, symlinks relative and absolute, a
              0600 file owned 1000:1000, an executable, a file with a 150-character name,
              a UTF-8 name, /data/sub/, /opt/app/old*.txt, an empty dir); a layer with OCI
              whiteouts: /data/.wh.to-delete.txt, /data/.wh.sub (a whole directory),
              /bin/.wh.false (a file of the first layer), /opt/app/.wh..wh..opq (opaque
              dir, then /opt/app/new.txt) and a changed /data/overwrite.txt.
  index       an OCI image index (a Docker manifest list with --format docker) for
              --platforms (default linux/amd64,linux/arm64/v8): each platform has the
              basic layer (same bytes, shared blob) plus a layer with /etc/platform
              containing e.g. "linux/arm64/v8\\n", and its own config (architecture,
              variant). The tag points at the index.
  large       the basic layer plus --layers N (default 5) layers of random data,
              --size-mb M (default 200) in total, one file /data/blob-<i>.bin each.
              Random bytes come from os.urandom, or from random.Random(seed) with --seed.

Layers are PAX tar archives made with Python's tarfile (fixed mtime, sorted, reproducible)
compressed with gzip (Python, mtime 0) or zstd (the `zstd` command, package zstd; OCI
only) or not at all. Media types: OCI application/vnd.oci.image.layer.v1.tar[+gzip|+zstd];
Docker application/vnd.docker.image.rootfs.diff.tar.gzip (or ...diff.tar for none).
Configs carry rootfs.diff_ids (sha256 of the uncompressed tar) and history. Everything
but `large` without --seed is deterministic: the same arguments give the same digests.
--salt TEXT adds a label and /etc/berth-salt to the top layer, giving a new image.
--config-json '{"User": "0", "Cmd": ["sleep", "60"]}' merges keys into the image config's
"config" object (a value of null removes the key).

Push: HEAD blob (skipped if present), POST /v2/<name>/blobs/uploads/ then PUT
<location>?digest=... (monolithic), then PUT /v2/<name>/manifests/<ref> (child manifests
of an index by digest first). Auth follows the registry's challenge: Basic with
--user/--password, or Bearer: a token is fetched from the challenge's realm (or
--token-url) with service and scope repository:<name>:pull,push and the Basic
credentials; --token JWT uses a given token. Only plain HTTP registries.

--output-dir DIR writes, instead of or besides pushing (for hostile_registry.py):
    DIR/blobs/sha256/<hex>       layers and configs
    DIR/manifests/sha256/<hex>   manifests and indexes (exact bytes pushed)
    DIR/tags.json                {"<name>": {"<tag>": "sha256:..."}} (merged with earlier runs)

Output: one JSON line on stdout:
    {"reference": "127.0.0.1:PORT/test/busybox:v1", "registry": ..., "name": ..., "tag": ...,
     "tags": [...], "repoDigest": "127.0.0.1:PORT/test/busybox@sha256:<top>",
     "digest": <top-level digest>, "mediaType": <top-level media type>,
     "manifestDigest": "sha256:...", "manifestMediaType": ..., "manifestSize": N,
     "indexDigest": "sha256:..." or null, "indexMediaType": ... or null,
     "configDigest": "sha256:...", "configSize": N, "platform": "linux/amd64",
     "layers": [{"digest", "size", "diffID", "chainID", "mediaType"}],
     "size": manifest+config+layers bytes, "layersSize": N,
     "manifests": [per platform: {"platform", "manifestDigest", "manifestSize",
                   "configDigest", "configSize", "layers", "size", "expect"}] (index only),
     "expect": {"files": {path: text}, "symlinks": {path: target},
                "hardlinks": [[path, same-inode path]], "dirs": [...], "absent": [...],
                "modes": {path: "0600"}, "owners": {path: "uid:gid"}},
     "recipe", "format", "compression", "outputDir"}
For `index` the top-level manifest/config/layers/expect are those of the host's platform
(or the first one). The image's CRI id is configDigest.
"""

import argparse
import base64
import copy
import gzip
import hashlib
import http.client
import io
import json
import os
import platform as platform_mod
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse

MTIME = 1704067200  # 2024-01-01T00:00:00Z
CREATED = "2024-01-01T00:00:00Z"

APPLETS = ["sh", "ls", "cat", "echo", "sleep", "id", "true", "false", "env", "pwd", "mkdir",
           "touch", "rm", "wc", "stat", "head", "tail", "hostname", "readlink", "printf",
           "kill", "test", "ps", "grep", "uname", "date", "whoami", "ping", "nc", "wget", "ip",
           "seq", "dd"]

PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "app:x:1000:1000:app:/home/app:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
GROUP = "root:x:0:\napp:x:1000:\nnobody:x:65534:\n"

STOP_SCRIPT = ("trap 'echo berth-test: got SIGINT; exit 0' INT; "
               "echo \"berth-test: $GREETING\"; while :; do sleep 1; done")

MT = {
    "oci": {
        "manifest": "application/vnd.oci.image.manifest.v1+json",
        "index": "application/vnd.oci.image.index.v1+json",
        "config": "application/vnd.oci.image.config.v1+json",
        "layer": {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
                  "none": "application/vnd.oci.image.layer.v1.tar"},
    },
    "docker": {
        "manifest": "application/vnd.docker.distribution.manifest.v2+json",
        "index": "application/vnd.docker.distribution.manifest.list.v2+json",
        "config": "application/vnd.docker.container.image.v1+json",
        "layer": {"gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                  "none": "application/vnd.docker.image.rootfs.diff.tar"},
    },
}


def die(msg):
    sys.stderr.write(f"build_image.py: {msg}\n")
    sys.exit(1)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def host_arch():
    m = platform_mod.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64", "i686": "386"}.get(m, m)


def parse_platform(text):
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        die(f"bad platform {text!r} (want os/arch[/variant])")
    p = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        p["variant"] = parts[2]
    elif parts[1] == "arm64":
        p["variant"] = "v8"
    return p


def platform_str(p):
    return "/".join([p["os"], p["architecture"]] + ([p["variant"]] if p.get("variant") else []))


# ---------------------------------------------------------------------------------------
# Layer contents

class Entry:
    def __init__(self, kind, path, data=b"", target=None, mode=None, uid=0, gid=0):
        self.kind, self.path, self.data, self.target = kind, path.lstrip("/"), data, target
        self.mode = mode if mode is not None else (0o755 if kind == "dir" else 0o644)
        self.uid, self.gid = uid, gid


def D(path, mode=0o755, uid=0, gid=0):
    return Entry("dir", path, mode=mode, uid=uid, gid=gid)


def F(path, data, mode=0o644, uid=0, gid=0):
    if isinstance(data, str):
        data = data.encode()
    return Entry("file", path, data=data, mode=mode, uid=uid, gid=gid)


def R(path, size, seed):
    """A file of `size` random bytes (os.urandom, or random.Random(seed))."""
    return Entry("random", path, data=(size, seed))


def S(path, target):
    return Entry("symlink", path, target=target, mode=0o777)


def H(path, target):
    return Entry("hardlink", path, target=target.lstrip("/"))


class RandomReader:
    """A file-like source of `size` random bytes (all tarfile needs is read(n))."""

    def __init__(self, size, seed):
        self.left = size
        self.rng = random.Random(seed) if seed is not None else None

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.left
        n = min(n, self.left)
        self.left -= n
        return self.rng.randbytes(n) if self.rng else os.urandom(n)


def write_tar(entries, path):
    with open(path, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.copybufsize = 1 << 20
        for e in entries:
            ti = tarfile.TarInfo(e.path)
            ti.mtime, ti.mode, ti.uid, ti.gid = MTIME, e.mode, e.uid, e.gid
            ti.uname = ti.gname = ""
            if e.kind == "dir":
                ti.type = tarfile.DIRTYPE
                tar.addfile(ti)
            elif e.kind == "file":
                ti.size = len(e.data)
                tar.addfile(ti, io.BytesIO(e.data))
            elif e.kind == "random":
                size, seed = e.data
                ti.size = size
                tar.addfile(ti, RandomReader(size, seed))
            elif e.kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, e.target
                tar.addfile(ti)
            elif e.kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, e.target
                tar.addfile(ti)


class Store:
    """Blobs are built into files; `root` is --output-dir or a temporary directory."""

    def __init__(self, root, keep):
        self.root, self.keep = root, keep
        self.tmp = tempfile.mkdtemp(prefix=".build-", dir=root)
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        os.makedirs(os.path.join(root, "manifests", "sha256"), exist_ok=True)
        self.layer_cache = {}

    def blob_path(self, digest):
        return os.path.join(self.root, "blobs", "sha256", digest.split(":", 1)[1])

    def manifest_path(self, digest):
        return os.path.join(self.root, "manifests", "sha256", digest.split(":", 1)[1])

    def add_file(self, path):
        digest = sha256_file(path)
        os.replace(path, self.blob_path(digest))
        return digest, os.path.getsize(self.blob_path(digest))

    def add_bytes(self, data, kind="blob"):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        target = self.blob_path(digest) if kind == "blob" else self.manifest_path(digest)
        with open(target, "wb") as f:
            f.write(data)
        return digest, len(data)

    def layer(self, key, entries, compression, level, fmt):
        if (key, compression) in self.layer_cache:
            return dict(self.layer_cache[(key, compression)])
        tar_path = tempfile.mktemp(dir=self.tmp, suffix=".tar")
        write_tar(entries, tar_path)
        diff_id = sha256_file(tar_path)
        if compression == "none":
            out = tar_path
        else:
            out = tar_path + "." + compression
            if compression == "gzip":
                with open(tar_path, "rb") as src, open(out, "wb") as raw:
                    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0) as gz:
                        shutil.copyfileobj(src, gz, 1 << 20)
            else:
                zstd = shutil.which("zstd") or die("zstd missing (apt-get install zstd)")
                with open(out, "wb") as dst:
                    subprocess.run([zstd, "-q", "-c", "-3", "--no-progress", tar_path], stdout=dst, check=True)
            os.unlink(tar_path)
        digest, size = self.add_file(out)
        layer = {"digest": digest, "size": size, "diffID": diff_id, "mediaType": MT[fmt]["layer"][compression]}
        self.layer_cache[(key, compression)] = layer
        return dict(layer)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Recipes: each returns a list of images, one per platform:
#   {"platform": {...}, "layers": [(key, entries, history)], "config": {...}, "expect": {...}}

def base_entries(busybox):
    e = [D("bin"), F("bin/busybox", busybox, 0o755)]
    e += [S("bin/" + a, "busybox") for a in sorted(APPLETS)]
    e += [D("dev"), D("etc"), F("etc/group", GROUP), F("etc/passwd", PASSWD),
          D("home"), D("home/app", uid=1000, gid=1000), D("proc"), D("root", 0o700),
          D("sys"), D("tmp", 0o1777)]
    return e


def base_config(recipe):
    return {
        "User": "app",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "GREETING=hello from berth", "BERTH_TEST=1"],
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": [STOP_SCRIPT],
        "WorkingDir": "/home/app",
        "Labels": {"org.opencontainers.image.title": f"berth-test-{recipe}",
                   "org.berth.test.recipe": recipe},
        "StopSignal": "SIGINT",
    }


def base_expect():
    return {
        "files": {"/etc/passwd": PASSWD, "/etc/group": GROUP},
        "symlinks": {"/bin/" + a: "busybox" for a in ("sh", "ls", "cat", "echo", "sleep", "id", "true")},
        "hardlinks": [],
        "dirs": ["/bin", "/etc", "/home/app", "/tmp", "/root"],
        "absent": [],
        "modes": {"/bin/busybox": "0755", "/tmp": "1777", "/root": "0700"},
        "owners": {"/home/app": "1000:1000", "/bin/busybox": "0:0"},
    }


LONG_NAME = "long-" + "x" * 141 + ".txt"  # 150 characters: needs a PAX path header
UTF8_NAME = "ünïcødé-файл.txt"


def recipe_basic(a, busybox):
    return [{"layers": [("base", base_entries(busybox), "basic: busybox, /etc/passwd")],
             "config": base_config("basic"), "expect": base_expect()}]


def recipe_multilayer(a, busybox):
    add = [
        D("data"),
        S("data/abs-link", "/data/hello.txt"),
        D("data/emptydir"),
        F("data/exec.sh", "#!/bin/sh\necho exec ok\n", 0o755),
        F("data/hello.txt", "hello from layer 2\n"),
        H("data/hardlink.txt", "data/hello.txt"),
        S("data/link-to-hello", "hello.txt"),
        D("data/long"),
        F("data/long/" + LONG_NAME, "long name\n"),
        F("data/overwrite.txt", "v1 (layer 2)\n"),
        F("data/private.txt", "secret\n", 0o600, 1000, 1000),
        D("data/sub"),
        F("data/sub/nested.txt", "nested, removed by layer 3\n"),
        F("data/to-delete.txt", "removed by layer 3\n"),
        F("data/" + UTF8_NAME, "utf-8 name\n"),
        D("etc"),
        F("etc/layer2", "layer 2\n"),
        D("opt"),
        D("opt/app"),
        F("opt/app/old1.txt", "hidden by the opaque whiteout\n"),
        F("opt/app/old2.txt", "hidden by the opaque whiteout\n"),
    ]
    whiteouts = [
        D("bin"),
        F("bin/.wh.false", b""),
        D("data"),
        F("data/.wh.sub", b""),
        F("data/.wh.to-delete.txt", b""),
        F("data/overwrite.txt", "v2 (layer 3)\n"),
        D("opt"),
        D("opt/app"),
        F("opt/app/.wh..wh..opq", b""),
        F("opt/app/new.txt", "new in layer 3\n"),
    ]
    ex = base_expect()
    ex["files"].update({"/data/hello.txt": "hello from layer 2\n",
                        "/data/hardlink.txt": "hello from layer 2\n",
                        "/data/overwrite.txt": "v2 (layer 3)\n",
                        "/data/private.txt": "secret\n",
                        "/data/long/" + LONG_NAME: "long name\n",
                        "/data/" + UTF8_NAME: "utf-8 name\n",
                        "/opt/app/new.txt": "new in layer 3\n",
                        "/etc/layer2": "layer 2\n"})
    ex["symlinks"].update({"/data/link-to-hello": "hello.txt", "/data/abs-link": "/data/hello.txt"})
    ex["hardlinks"].append(["/data/hardlink.txt", "/data/hello.txt"])
    ex["dirs"] += ["/data", "/data/emptydir", "/data/long", "/opt/app"]
    ex["absent"] += ["/data/to-delete.txt", "/data/sub", "/data/sub/nested.txt", "/bin/false",
                     "/opt/app/old1.txt", "/opt/app/old2.txt", "/data/.wh.to-delete.txt",
                     "/data/.wh.sub", "/bin/.wh.false", "/opt/app/.wh..wh..opq"]
    ex["modes"].update({"/data/private.txt": "0600", "/data/exec.sh": "0755"})
    ex["owners"].update({"/data/private.txt": "1000:1000"})
    return [{"layers": [("base", base_entries(busybox), "basic: busybox, /etc/passwd"),
                        ("ml-add", add, "multilayer: files, hard link, symlinks"),
                        ("ml-wh", whiteouts, "multilayer: whiteouts and opaque dir")],
             "config": base_config("multilayer"), "expect": ex}]


def recipe_index(a, busybox):
    images = []
    for text in a.platforms.split(","):
        p = parse_platform(text.strip())
        name = platform_str(p)
        ex = base_expect()
        ex["files"]["/etc/platform"] = name + "\n"
        images.append({"platform": p,
                       "layers": [("base", base_entries(busybox), "basic: busybox, /etc/passwd"),
                                  ("platform-" + name, [D("etc"), F("etc/platform", name + "\n")],
                                   f"index: /etc/platform = {name}")],
                       "config": base_config("index"), "expect": ex})
    return images


def recipe_large(a, busybox):
    if a.layers < 1 or a.size_mb <= 0:
        die("large needs --layers >= 1 and --size-mb > 0")
    total = int(a.size_mb * 1024 * 1024)
    layers = [("base", base_entries(busybox), "basic: busybox, /etc/passwd")]
    ex = base_expect()
    ex["dirs"].append("/data")
    for i in range(a.layers):
        size = total // a.layers + (1 if i < total % a.layers else 0)
        seed = None if a.seed is None else a.seed * 1000003 + i
        key = None if seed is None else f"large-{seed}-{size}"
        layers.append((key, [D("data"), R(f"data/blob-{i}.bin", size, seed)],
                       f"large: {size} random bytes"))
        ex["modes"][f"/data/blob-{i}.bin"] = "0644"
    return [{"layers": layers, "config": base_config("large"), "expect": ex}]


def recipe_tarslip(a, busybox):
    """Hostile: the second layer's entry climbs out of the layer (`../`), the tar-slip class."""
    slip = [D("data"), F("data/fine.txt", "fine\n"), F("../../berth-tarslip-pwned.txt", "escaped\n")]
    return [{"layers": [("base", base_entries(busybox), "basic: busybox, /etc/passwd"),
                        ("tarslip", slip, "tarslip: an entry named ../../berth-tarslip-pwned.txt")],
             "config": base_config("tarslip"), "expect": base_expect()}]


RECIPES = {"basic": recipe_basic, "multilayer": recipe_multilayer, "index": recipe_index,
           "large": recipe_large, "tarslip": recipe_tarslip}


def apply_salt(images, salt):
    for img in images:
        key, entries, hist = img["layers"][-1]
        entries = list(entries)
        if not any(e.kind == "dir" and e.path == "etc" for e in entries):
            entries.append(D("etc"))
        entries.append(F("etc/berth-salt", salt + "\n"))
        entries.sort(key=lambda e: e.path)
        img["layers"][-1] = ((key + "-salt-" + salt) if key else None, entries, hist + " (salted)")
        img["config"]["Labels"]["org.berth.test.salt"] = salt
        img["expect"]["files"]["/etc/berth-salt"] = salt + "\n"


# ---------------------------------------------------------------------------------------
# Registry client

def parse_challenge(header):
    scheme, _, rest = header.strip().partition(" ")
    params = dict((k.lower(), v) for k, v in re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class Registry:
    def __init__(self, hostport, name, user=None, password=None, token_url=None, token=None):
        self.hostport, self.name = hostport, name
        self.user, self.password, self.token_url = user, password, token_url
        self.auth = f"Bearer {token}" if token else None
        self.fixed_token = bool(token)

    def _basic(self):
        raw = f"{self.user}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def _fetch_token(self, params):
        realm = self.token_url or params.get("realm")
        if not realm:
            die("bearer challenge without realm and no --token-url")
        query = {"service": params.get("service", "")} if params.get("service") else {}
        scopes = [f"repository:{self.name}:pull,push"]
        if params.get("scope") and params["scope"] not in scopes:
            scopes.append(params["scope"])
        qs = urllib.parse.urlencode(list(query.items()) + [("scope", s) for s in scopes])
        url = urllib.parse.urlsplit(realm)
        path = (url.path or "/") + ("&" if url.query else "?") + (url.query + "&" if url.query else "") + qs
        headers = {"Authorization": self._basic()} if self.user is not None else {}
        conn_cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(url.netloc, timeout=60)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as e:
            die(f"token server {realm}: {e}")
        finally:
            conn.close()
        if resp.status != 200:
            die(f"token server {realm} answered {resp.status}: {body[:300]!r}")
        reply = json.loads(body)
        return "Bearer " + (reply.get("token") or reply.get("access_token"))

    def _authenticate(self, challenge):
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if self.user is None:
                die("registry wants Basic credentials: give --user and --password")
            self.auth = self._basic()
        elif scheme == "bearer":
            if self.fixed_token:
                die("registry refused the --token given")
            self.auth = self._fetch_token(params)
        else:
            die(f"unsupported auth challenge {challenge!r}")

    def request(self, method, path, headers=None, body=None, expect=(200,), retry_auth=True):
        """body: bytes, or a path (str) of a file to stream. Returns (status, headers, data)."""
        hdrs = dict(headers or {})
        if self.auth:
            hdrs["Authorization"] = self.auth
        stream = None
        if isinstance(body, str):
            stream = open(body, "rb")
            hdrs["Content-Length"] = str(os.path.getsize(body))
            payload = stream
        else:
            payload = body
            if body is not None:
                hdrs["Content-Length"] = str(len(body))
            elif method in ("PUT", "POST"):
                hdrs["Content-Length"] = "0"
        conn = http.client.HTTPConnection(self.hostport, timeout=300, blocksize=1 << 20)
        try:
            conn.request(method, path, body=payload, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            status, rh = resp.status, resp.headers
        except (OSError, http.client.HTTPException) as e:
            die(f"{method} http://{self.hostport}{path}: {e}")
        finally:
            conn.close()
            if stream:
                stream.close()
        if status == 401 and retry_auth:
            self._authenticate(rh.get("WWW-Authenticate", ""))
            return self.request(method, path, headers, body, expect, retry_auth=False)
        if status not in expect:
            die(f"{method} {path} -> {status}: {data[:500]!r}")
        return status, rh, data

    def ping(self):
        self.request("GET", "/v2/")

    def push_blob(self, digest, path):
        status, _, _ = self.request("HEAD", f"/v2/{self.name}/blobs/{digest}", expect=(200, 404))
        if status == 200:
            return
        _, rh, _ = self.request("POST", f"/v2/{self.name}/blobs/uploads/", expect=(202,))
        loc = urllib.parse.urlsplit(rh["Location"])
        target = loc.path + "?" + (loc.query + "&" if loc.query else "") + \
            urllib.parse.urlencode({"digest": digest})
        _, rh, _ = self.request("PUT", target, headers={"Content-Type": "application/octet-stream"},
                                body=path, expect=(201,))
        got = rh.get("Docker-Content-Digest")
        if got and got != digest:
            die(f"registry stored blob {digest} as {got}")

    def push_manifest(self, ref, media_type, data, digest):
        _, rh, _ = self.request("PUT", f"/v2/{self.name}/manifests/{ref}",
                                headers={"Content-Type": media_type}, body=data, expect=(201,))
        got = rh.get("Docker-Content-Digest")
        if got and got != digest:
            die(f"registry stored manifest {digest} as {got}")


# ---------------------------------------------------------------------------------------

def build(a, store, images):
    fmt, comp = a.format, a.compression
    built = []
    for img in images:
        p = img.get("platform") or {"os": "linux", "architecture": a.arch}
        if p["architecture"] == "arm64" and "variant" not in p:
            p["variant"] = "v8"
        layers, history = [], []
        for key, entries, hist in img["layers"]:
            layer = store.layer(key or object(), entries, comp, a.gzip_level, fmt)
            layers.append(layer)
            history.append({"created": CREATED, "created_by": f"berth build_image.py: {hist}"})
        chain = None
        for layer in layers:
            chain = layer["diffID"] if chain is None else \
                "sha256:" + hashlib.sha256(f"{chain} {layer['diffID']}".encode()).hexdigest()
            layer["chainID"] = chain
        cfg = copy.deepcopy(img["config"])
        if a.config_json:
            for k, v in json.loads(a.config_json).items():
                if v is None:
                    cfg.pop(k, None)
                else:
                    cfg[k] = v
        config = {"created": CREATED, "author": "berth tests", "architecture": p["architecture"],
                  "os": p["os"]}
        if p.get("variant"):
            config["variant"] = p["variant"]
        diff_ids = [l["diffID"] for l in layers]
        if a.wrong_diff_id is not None:
            # A hostile image: the config claims another uncompressed digest for one layer.
            diff_ids[a.wrong_diff_id] = "sha256:" + hashlib.sha256(b"not this layer").hexdigest()
        config.update({"config": cfg,
                       "rootfs": {"type": "layers", "diff_ids": diff_ids},
                       "history": history})
        config_bytes = json.dumps(config, indent=2).encode()
        config_digest, config_size = store.add_bytes(config_bytes)
        manifest = {"schemaVersion": 2, "mediaType": MT[fmt]["manifest"],
                    "config": {"mediaType": MT[fmt]["config"], "digest": config_digest, "size": config_size},
                    "layers": [{"mediaType": l["mediaType"], "digest": l["digest"], "size": l["size"]}
                               for l in layers]}
        manifest_bytes = json.dumps(manifest, indent=2).encode()
        manifest_digest, manifest_size = store.add_bytes(manifest_bytes, kind="manifest")
        layers_size = sum(l["size"] for l in layers)
        built.append({"platform": p, "manifestDigest": manifest_digest, "manifestSize": manifest_size,
                      "manifestBytes": manifest_bytes, "configDigest": config_digest,
                      "configSize": config_size, "layers": layers, "layersSize": layers_size,
                      "size": manifest_size + config_size + layers_size, "expect": img["expect"]})
    index = None
    if a.recipe == "index":
        index_doc = {"schemaVersion": 2, "mediaType": MT[fmt]["index"],
                     "manifests": [{"mediaType": MT[fmt]["manifest"], "digest": b["manifestDigest"],
                                    "size": b["manifestSize"], "platform": b["platform"]} for b in built]}
        index_bytes = json.dumps(index_doc, indent=2).encode()
        index_digest, _ = store.add_bytes(index_bytes, kind="manifest")
        index = {"digest": index_digest, "bytes": index_bytes}
    return built, index


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--registry", help="HOST:PORT of a plain-HTTP registry to push to")
    p.add_argument("--output-dir", help="write blobs/, manifests/, tags.json here")
    p.add_argument("--name", required=True, help="repository name, e.g. test/busybox")
    p.add_argument("--tag", action="append", help="tag (repeatable; default latest)")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="basic")
    p.add_argument("--format", choices=("oci", "docker"), default="oci")
    p.add_argument("--compression", choices=("gzip", "zstd", "none"), default="gzip")
    p.add_argument("--gzip-level", type=int, default=6)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--token-url", help="token endpoint to use instead of the challenge's realm")
    p.add_argument("--token", help="a bearer token to send as is")
    p.add_argument("--arch", default=host_arch(), help="architecture of single-platform recipes")
    p.add_argument("--platforms", default="linux/amd64,linux/arm64/v8", help="index: os/arch[/variant],...")
    p.add_argument("--layers", type=int, default=5, help="large: number of random layers")
    p.add_argument("--size-mb", type=float, default=200, help="large: total MiB of random data")
    p.add_argument("--seed", type=int, help="large: deterministic random data")
    p.add_argument("--salt", help="make a distinct image: label + /etc/berth-salt in the top layer")
    p.add_argument("--config-json", help="JSON object merged into the config's `config`")
    p.add_argument("--wrong-diff-id", type=int, help="hostile: the config's diff id of layer N (0-based) is wrong")
    p.add_argument("--busybox", default="/usr/bin/busybox")
    a = p.parse_args()

    if not a.registry and not a.output_dir:
        p.error("give --registry and/or --output-dir")
    if a.format == "docker" and a.compression == "zstd":
        p.error("zstd layers exist only in OCI images (--format oci)")
    if (a.user is None) != (a.password is None):
        p.error("--user and --password go together")
    if not re.fullmatch(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*", a.name):
        p.error(f"invalid repository name {a.name!r}")
    tags = a.tag or ["latest"]
    for t in tags:
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", t):
            p.error(f"invalid tag {t!r}")
    try:
        with open(a.busybox, "rb") as f:
            busybox = f.read()
    except OSError as e:
        die(f"{a.busybox}: {e} (apt-get install busybox-static)")

    images = RECIPES[a.recipe](a, busybox)
    if a.salt:
        apply_salt(images, a.salt)

    if a.output_dir:
        os.makedirs(a.output_dir, exist_ok=True)
        store = Store(os.path.abspath(a.output_dir), keep=True)
    else:
        store = Store(tempfile.mkdtemp(prefix="berth-build-image-"), keep=False)
    try:
        built, index = build(a, store, images)
        top_digest = index["digest"] if index else built[0]["manifestDigest"]
        top_type = MT[a.format]["index"] if index else MT[a.format]["manifest"]

        if a.registry:
            reg = Registry(a.registry, a.name, a.user, a.password, a.token_url, a.token)
            reg.ping()
            for b in built:
                for layer in b["layers"]:
                    reg.push_blob(layer["digest"], store.blob_path(layer["digest"]))
                reg.push_blob(b["configDigest"], store.blob_path(b["configDigest"]))
            if index:
                for b in built:
                    reg.push_manifest(b["manifestDigest"], MT[a.format]["manifest"], b["manifestBytes"],
                                      b["manifestDigest"])
                for t in tags:
                    reg.push_manifest(t, top_type, index["bytes"], index["digest"])
            else:
                for t in tags:
                    reg.push_manifest(t, top_type, built[0]["manifestBytes"], top_digest)

        if a.output_dir:
            tags_path = os.path.join(a.output_dir, "tags.json")
            try:
                with open(tags_path) as f:
                    all_tags = json.load(f)
            except (OSError, ValueError):
                all_tags = {}
            for t in tags:
                all_tags.setdefault(a.name, {})[t] = top_digest
            with open(tags_path + ".tmp", "w") as f:
                json.dump(all_tags, f, indent=2)
            os.replace(tags_path + ".tmp", tags_path)

        host = platform_str({"os": "linux", "architecture": host_arch()})
        main_img = next((b for b in built if platform_str(b["platform"]).startswith(host)), built[0])
        repo = f"{a.registry}/{a.name}" if a.registry else a.name
        public = lambda b: {k: v for k, v in b.items() if k != "manifestBytes"}  # noqa: E731
        out = {
            "reference": f"{repo}:{tags[0]}", "registry": a.registry, "name": a.name,
            "tag": tags[0], "tags": tags, "repoDigest": f"{repo}@{top_digest}",
            "digest": top_digest, "mediaType": top_type,
            "manifestDigest": main_img["manifestDigest"], "manifestMediaType": MT[a.format]["manifest"],
            "manifestSize": main_img["manifestSize"],
            "indexDigest": index["digest"] if index else None,
            "indexMediaType": MT[a.format]["index"] if index else None,
            "configDigest": main_img["configDigest"], "configSize": main_img["configSize"],
            "platform": platform_str(main_img["platform"]),
            "layers": main_img["layers"], "size": main_img["size"], "layersSize": main_img["layersSize"],
            "manifests": [dict(public(b), platform=platform_str(b["platform"])) for b in built] if index else None,
            "expect": main_img["expect"],
            "recipe": a.recipe, "format": a.format, "compression": a.compression,
            "outputDir": os.path.abspath(a.output_dir) if a.output_dir else None,
        }
        sys.stdout.write(json.dumps(out) + "\n")
    finally:
        store.close()


if __name__ == "__main__":
    main()
