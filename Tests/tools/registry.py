#!/usr/bin/python3
"""Run Debian's docker-registry (distribution v2.8) on 127.0.0.1 for integration tests.

Usage:
    registry.py --dir DIR [--port N] [--auth none] [--tls-cert CRT --tls-key KEY]
    registry.py --dir DIR --auth htpasswd --user U --password P
    registry.py --dir DIR --auth token --realm URL --issuer X --service Y --rootcertbundle FILE

DIR receives config.yml, storage/ (the registry's filesystem storage, deletes enabled),
htpasswd (htpasswd mode) and registry.log (the registry's own log; `--log -` keeps it on this
script's stderr instead, `--log FILE` puts it elsewhere).

Once the registry answers `GET /v2/` (200, or 401 with auth), one JSON line is printed on
stdout and stdout is then closed:

    {"port": 41234, "pid": 5678, "url": "http://127.0.0.1:41234", "dir": ..., "config": ...,
     "log": ..., "auth": "none"}

`pid` is the pid of this script, which by then *is* docker-registry: after writing the
config the script `os.execv`s /usr/bin/docker-registry in its own process, so SIGTERM or
SIGKILL of the process the test started stops the registry, and nothing else is left
behind. Readiness is probed by a small watcher (double-forked, so it is no child of the
registry and leaves no zombie) which holds the original stdout/stderr, prints the JSON
line and exits. The registry's stdin is /dev/null and its stdout/stderr go to the log, so a
test that stops reading the pipes can never block it.

With --port 0 (the default) the registry listens on 127.0.0.1:0 and the watcher reads the
port the kernel chose from /proc/<pid>/fd and /proc/<pid>/net/tcp, so there is no race
for a "free" port.

If the registry does not answer within --timeout seconds (default 30) or exits first, the
watcher prints the tail of the log to stderr, kills the registry and exits; the test then
sees EOF on stdout without a JSON line and the process exits non-zero.

Needs the Debian packages docker-registry, and apache2-utils for `htpasswd -B` (bcrypt);
without htpasswd the bcrypt hash is made with Python's crypt module (libxcrypt) instead.
"""

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import warnings

REGISTRY_BIN = "/usr/bin/docker-registry"


def q(value):
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(str(value))


def bcrypt_line(user, password):
    htpasswd = shutil.which("htpasswd")
    if htpasswd:
        out = subprocess.run([htpasswd, "-nbB", "-C", "5", user, password],
                             check=True, capture_output=True, text=True).stdout
        line = out.strip().splitlines()[0]
        if not line.startswith(user + ":$2"):
            raise SystemExit(f"registry.py: unexpected htpasswd output: {line!r}")
        return line
    # Fallback: glibc/libxcrypt crypt(3) knows bcrypt ("$2b$").
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # noqa: deprecated in 3.11, gone in 3.13
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5)
    hashed = crypt.crypt(password, salt)
    if not hashed or not hashed.startswith("$2"):
        raise SystemExit("registry.py: no bcrypt available (apt-get install apache2-utils)")
    return f"{user}:{hashed}"


def write_config(args, port):
    d = os.path.abspath(args.dir)
    storage = os.path.join(d, "storage")
    os.makedirs(storage, exist_ok=True)
    lines = [
        "version: 0.1",
        "log:",
        f"  level: {args.log_level}",
        "  formatter: text",
        "  fields:",
        "    service: registry",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {q(storage)}",
        "  delete:",
        "    enabled: true",
        "  cache:",
        "    blobdescriptor: inmemory",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        f"  addr: {q(f'127.0.0.1:{port}')}",
        f"  secret: {q(secrets.token_hex(16))}",
        "  headers:",
        "    X-Content-Type-Options: [nosniff]",
    ]
    if args.tls_cert:
        lines += ["  tls:", f"    certificate: {q(os.path.abspath(args.tls_cert))}", f"    key: {q(os.path.abspath(args.tls_key))}"]
    if args.auth == "htpasswd":
        path = os.path.join(d, "htpasswd")
        with open(path, "w") as f:
            f.write(bcrypt_line(args.user, args.password) + "\n")
        lines += ["auth:", "  htpasswd:", f"    realm: {q(args.basic_realm)}", f"    path: {q(path)}"]
    elif args.auth == "token":
        lines += [
            "auth:",
            "  token:",
            f"    realm: {q(args.realm)}",
            f"    service: {q(args.service)}",
            f"    issuer: {q(args.issuer)}",
            f"    rootcertbundle: {q(os.path.abspath(args.rootcertbundle))}",
        ]
    config = os.path.join(d, "config.yml")
    with open(config, "w") as f:
        f.write("\n".join(lines) + "\n")
    return config


# ---------------------------------------------------------------------------------------
# Watcher (runs in a double-forked grandchild; the registry is `pid`).

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def listening_port(pid):
    """The local port of a LISTEN socket (IPv4) that process `pid` holds, or None."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        if not inodes:
            return None
        for table in ("tcp", "tcp6"):
            try:
                with open(f"/proc/{pid}/net/{table}") as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        if fields[3] == "0A" and fields[9] in inodes:
                            return int(fields[1].rsplit(":", 1)[1], 16)
            except FileNotFoundError:
                continue
    except (FileNotFoundError, PermissionError):
        return None
    return None


TLS = False


def answers(port):
    try:
        if TLS:
            import ssl
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/v2/")
        status = conn.getresponse().status
        conn.close()
        return status in (200, 401)
    except OSError:
        return False


def log_tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except (OSError, TypeError):
        return ""


def watch(pid, args, config, log_path):
    deadline = time.monotonic() + args.timeout
    port = None
    error = None
    while True:
        if not alive(pid):
            error = "docker-registry exited before answering"
            break
        if time.monotonic() > deadline:
            error = f"docker-registry did not answer GET /v2/ within {args.timeout}s"
            break
        # Only a port that this very process listens on counts (with --port N, another
        # server already on N must not pass for ours).
        if port is None:
            port = listening_port(pid)
            if port is not None and args.port and port != args.port:
                port = None
        if port is not None and answers(port) and alive(pid):
            break
        time.sleep(0.05)
    if error is None:
        info = {"port": port, "pid": pid, "url": f"{'https' if TLS else 'http'}://127.0.0.1:{port}",
                "dir": os.path.abspath(args.dir), "config": config,
                "log": log_path, "auth": args.auth}
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        return 0
    sys.stderr.write(f"registry.py: {error}\n")
    if log_path:
        sys.stderr.write(log_tail(log_path))
    sys.stderr.flush()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not alive(pid):  # gone (or a zombie): never signal a pid that may be reused
            break
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    return 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="directory for config.yml, storage/, htpasswd, registry.log")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: the kernel picks one)")
    p.add_argument("--auth", choices=("none", "htpasswd", "token"), default="none")
    p.add_argument("--user", help="htpasswd: user name")
    p.add_argument("--password", help="htpasswd: password")
    p.add_argument("--basic-realm", default="berth-test-registry", help="htpasswd: realm in WWW-Authenticate")
    p.add_argument("--realm", help="token: URL of the token server's /token endpoint")
    p.add_argument("--issuer", help="token: expected `iss` of tokens")
    p.add_argument("--service", help="token: service name (`aud` of tokens)")
    p.add_argument("--rootcertbundle", help="token: PEM file with the token signer's certificate(s)")
    p.add_argument("--log", default=None, help="registry log file (default DIR/registry.log; '-' = stderr)")
    p.add_argument("--log-level", default="info", choices=("error", "warn", "info", "debug"))
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for GET /v2/ (default 30)")
    p.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (and --tls-key)")
    p.add_argument("--tls-key", help="the certificate's PEM private key")
    args = p.parse_args()
    global TLS
    TLS = bool(args.tls_cert)
    if TLS and not args.tls_key:
        p.error("--tls-cert needs --tls-key")

    if args.auth == "htpasswd" and (args.user is None or args.password is None):
        p.error("--auth htpasswd needs --user and --password")
    if args.auth == "token":
        missing = [o for o in ("realm", "issuer", "service", "rootcertbundle") if not getattr(args, o)]
        if missing:
            p.error("--auth token needs " + ", ".join("--" + m for m in missing))
        if not os.path.isfile(args.rootcertbundle):
            p.error(f"--rootcertbundle {args.rootcertbundle}: no such file")
    if not os.access(REGISTRY_BIN, os.X_OK):
        sys.exit(f"registry.py: {REGISTRY_BIN} missing (apt-get install docker-registry)")

    os.makedirs(args.dir, exist_ok=True)
    config = write_config(args, args.port)
    log_path = None if args.log == "-" else os.path.abspath(args.log or os.path.join(args.dir, "registry.log"))

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.getpid()
    child = os.fork()
    if child == 0:
        # Intermediate child: fork the watcher and exit, so the watcher is re-parented
        # (to init or a subreaper) and never becomes a zombie of docker-registry.
        if os.fork() == 0:
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                code = watch(pid, args, config, log_path)
            finally:
                os._exit(code)
        os._exit(0)
    os.waitpid(child, 0)

    # This process becomes docker-registry. Keep none of the test's pipes open in it.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if log_path:
        logfd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(logfd, 1)
        os.dup2(logfd, 2)
        os.close(logfd)
    else:
        os.dup2(2, 1)
    os.execv(REGISTRY_BIN, [REGISTRY_BIN, "serve", config])


if __name__ == "__main__":
    main()
