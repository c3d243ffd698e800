#!/usr/bin/python3
"""A small read-only registry (HTTP API v2 subset) that can misbehave, for pull tests.

Usage:
    hostile_registry.py --dir DIR [--port N] [--log FILE]
        [--lie-digest DIGEST]... [--lie-mode subtle|garbage]
        [--truncate DIGEST]... [--truncate-count K]
        [--fail-first N] [--fail-status 500]
        [--redirect] [--redirect-host HOST]
        [--require-basic USER:PASSWORD]
        [--throttle-kbps N]

DIR is what `build_image.py --output-dir DIR` writes (blobs/sha256/*, manifests/sha256/*,
tags.json). Every repository name in tags.json is served, with its tags; manifests and
blobs by digest are served under any of those names. Unknown names, tags and digests get
the registry's 404 errors (NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN).

On start it listens on 127.0.0.1 and prints one JSON line on stdout:
    {"port": N, "pid": P}
then serves until SIGTERM/SIGINT/SIGKILL (one process, threads only).

Endpoints: GET/HEAD /v2/, /v2/<name>/manifests/<tag|digest> (Content-Type from the
manifest's mediaType, Docker-Content-Digest), /v2/<name>/blobs/<digest> (Accept-Ranges,
Docker-Content-Digest), and /_storage/sha256/<hex> (the redirect target, no auth, like a
pre-signed S3 URL). Anything else: 404; other methods: 405.

Misbehaviour (blob GETs; the manifest endpoints always behave, HEAD is never failed):
  --lie-digest D      serve bytes that do not match D, of the same length, while still
                      claiming Docker-Content-Digest: D. --lie-mode subtle (default): for a
                      gzip blob only the gzip header's MTIME field changes, so the stream
                      still decompresses to the same tar and only digest verification can
                      notice; for other blobs the last byte is flipped. --lie-mode garbage:
                      every byte is XORed with 0xFF.
  --truncate D        send the full Content-Length but only the first half of the body,
                      then close the connection. Only the first K GETs of D are cut
                      (--truncate-count K, default 1; 0 = every one), so a client that
                      resumes with `Range: bytes=N-` succeeds afterwards.
  --fail-first N      answer --fail-status (default 500) to the first N GETs of each blob
                      (counted per digest, at /v2/ level), then serve.
  --redirect          answer blob GETs with 307 to /_storage/sha256/<hex>?X-Amz-Signature=...
                      on this server (--redirect-host HOST, e.g. localhost, puts another host
                      name in the Location, so a client must drop Authorization there).
  --require-basic U:P /v2/ endpoints need `Authorization: Basic`; otherwise 401 with
                      `WWW-Authenticate: Basic realm="hostile-registry"` (/_storage does not).
  --throttle-kbps N   send blob bodies at about N KiB/s.
Ranges: `Range: bytes=N-` and `bytes=N-M` get 206 with Content-Range; N past the end gets
416; any other Range form is ignored (200, whole blob). Lies and truncation apply to the
ranged body.

--log FILE appends one JSON line per request, written (and flushed) when its response ends:
    {"ts": ..., "method": "GET", "path": "/v2/x/blobs/sha256:...", "status": 206,
     "range": "bytes=100-" or null, "auth": true/false (an Authorization header came),
     "bytes": <body bytes sent>,
     "event": null|"lie"|"truncated"|"fail-first"|"redirect"|"unauthorized"|"client-closed"}
"""

import argparse
import base64
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
CHUNK = 64 * 1024


class State:
    def __init__(self, args):
        self.args = args
        self.dir = os.path.abspath(args.dir)
        self.lock = threading.Lock()
        self.gets = {}        # digest -> GETs seen (fail-first)
        self.truncated = {}   # digest -> truncations done
        self.log = open(args.log, "a") if args.log else None
        self.basic = None
        if args.require_basic:
            self.basic = "Basic " + base64.b64encode(args.require_basic.encode()).decode()

    def tags(self):
        try:
            with open(os.path.join(self.dir, "tags.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def path_of(self, digest, manifest_first=False):
        hexpart = digest.split(":", 1)[1]
        kinds = ("manifests", "blobs") if manifest_first else ("blobs", "manifests")
        for kind in kinds:
            p = os.path.join(self.dir, kind, "sha256", hexpart)
            if os.path.isfile(p):
                return p
        return None

    def bump(self, table, digest):
        with self.lock:
            table[digest] = table.get(digest, 0) + 1
            return table[digest]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-hostile-registry/1"

    def log_message(self, fmt, *a):
        pass

    @property
    def st(self):
        return self.server.state

    # -- plumbing ---------------------------------------------------------------------
    def setup_request(self):
        self._status, self._bytes, self._event = None, 0, None

    def record(self):
        st = self.st
        if not st.log:
            return
        line = json.dumps({"ts": time.time(), "method": self.command, "path": self.path,
                           "status": self._status, "range": self.headers.get("Range"),
                           "auth": "Authorization" in self.headers, "bytes": self._bytes,
                           "event": self._event})
        with st.lock:
            st.log.write(line + "\n")
            st.log.flush()

    def head_only(self, status, headers, length):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        self._status = status

    def reply(self, status, body=b"", headers=None):
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        self.head_only(status, headers, len(body))
        if self.command != "HEAD" and body:
            self.wfile.write(body)
            self._bytes = len(body)

    def error(self, status, code, message, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        self.reply(status, body, headers)

    # -- dispatch ---------------------------------------------------------------------
    def do_HEAD(self):
        self.handle_read()

    def do_GET(self):
        self.handle_read()

    def refuse(self):
        self.setup_request()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.error(405, "UNSUPPORTED", "this registry is read-only")
        self.record()

    do_POST = do_PUT = do_PATCH = do_DELETE = refuse

    def handle_read(self):
        self.setup_request()
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self._event = self._event or "client-closed"
        self.record()

    def route(self):
        st = self.st
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path.startswith("/_storage/"):
            m = re.fullmatch(r"/_storage/sha256/([0-9a-f]{64})", path)
            digest = "sha256:" + m.group(1) if m else None
            if not digest or not st.path_of(digest):
                self.error(404, "BLOB_UNKNOWN", "blob unknown")
                return
            self.send_blob(digest)
            return
        if not (path == "/v2" or path.startswith("/v2/")):
            self.error(404, "NOT_FOUND", "not found")
            return
        if st.basic and not secrets.compare_digest(self.headers.get("Authorization", ""), st.basic):
            self._event = "unauthorized"
            self.error(401, "UNAUTHORIZED", "authentication required",
                       {"WWW-Authenticate": 'Basic realm="hostile-registry"'})
            return
        if path in ("/v2", "/v2/"):
            self.reply(200, b"{}")
            return
        m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", path)
        if not m:
            self.error(404, "NOT_FOUND", "not found")
            return
        name, kind, ref = m.group(1), m.group(2), urllib.parse.unquote(m.group(3))
        tags = st.tags()
        if name not in tags:
            self.error(404, "NAME_UNKNOWN", f"repository name not known to registry: {name}")
            return
        if kind == "manifests":
            self.send_manifest(tags[name], ref)
            return
        if not DIGEST_RE.match(ref) or not st.path_of(ref):
            self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            return
        a = st.args
        if self.command == "GET" and a.fail_first > 0:
            if st.bump(st.gets, ref) <= a.fail_first:
                self._event = "fail-first"
                self.error(a.fail_status, "UNKNOWN", "injected failure")
                return
        if self.command == "GET" and a.redirect:
            host = a.redirect_host or "127.0.0.1"
            port = self.server.server_address[1]
            location = (f"http://{host}:{port}/_storage/sha256/{ref.split(':', 1)[1]}"
                        f"?X-Amz-Expires=300&X-Amz-Signature={secrets.token_hex(16)}")
            self._event = "redirect"
            self.reply(307, b"", {"Location": location, "Content-Type": "text/plain"})
            return
        self.send_blob(ref)

    def send_manifest(self, tags, ref):
        st = self.st
        digest = ref if DIGEST_RE.match(ref) else tags.get(ref)
        path = st.path_of(digest, manifest_first=True) if digest else None
        if not path:
            self.error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {ref}")
            return
        with open(path, "rb") as f:
            data = f.read()
        try:
            media_type = json.loads(data).get("mediaType") or "application/vnd.oci.image.manifest.v1+json"
        except ValueError:
            media_type = "application/octet-stream"
        self.reply(200, data, {"Content-Type": media_type, "Docker-Content-Digest": digest,
                               "ETag": f'"{digest}"'})

    def send_blob(self, digest):
        st, a = self.st, self.st.args
        path = st.path_of(digest)
        size = os.path.getsize(path)
        start, end, status = 0, size - 1, 200
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
                   "Docker-Content-Digest": digest, "ETag": f'"{digest}"'}
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"\s*bytes=(\d+)-(\d*)\s*", rng)
            if m:
                start = int(m.group(1))
                if m.group(2):
                    end = min(int(m.group(2)), size - 1)
                if start >= size or start > end:
                    self.reply(416, b"", {"Content-Range": f"bytes */{size}"})
                    return
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
        if self.command == "HEAD":
            self.head_only(status, headers, length)
            return
        lie = digest in (a.lie_digest or [])
        cut = None
        if digest in (a.truncate or []):
            done = st.bump(st.truncated, digest)
            if a.truncate_count == 0 or done <= a.truncate_count:
                cut = length // 2
        if lie:
            self._event = "lie"
        self.head_only(status, headers, length)
        limit = cut if cut is not None else length
        delay = CHUNK / (a.throttle_kbps * 1024.0) if a.throttle_kbps else 0
        with open(path, "rb") as f:
            f.seek(start)
            pos = start
            sent = 0
            gzip_blob = None
            while sent < limit:
                chunk = f.read(min(CHUNK, limit - sent))
                if not chunk:
                    break
                if lie:
                    if gzip_blob is None:
                        with open(path, "rb") as g:
                            gzip_blob = g.read(2) == b"\x1f\x8b"
                    chunk = self.corrupt(chunk, pos, size, gzip_blob)
                self.wfile.write(chunk)
                sent += len(chunk)
                pos += len(chunk)
                self._bytes = sent
                if delay:
                    self.wfile.flush()
                    time.sleep(delay)
        if cut is not None:
            self._event = "truncated"
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def corrupt(self, chunk, pos, size, gzip_blob):
        if self.st.args.lie_mode == "garbage":
            return bytes(b ^ 0xFF for b in chunk)
        # subtle: gzip MTIME (bytes 4..7) for gzip blobs, else the last byte.
        targets = range(4, 8) if gzip_blob and size > 8 else range(size - 1, size)
        out = bytearray(chunk)
        for t in targets:
            if pos <= t < pos + len(chunk):
                out[t - pos] ^= 0x5A
        return bytes(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="a build_image.py --output-dir directory")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--lie-digest", action="append", metavar="DIGEST")
    p.add_argument("--lie-mode", choices=("subtle", "garbage"), default="subtle")
    p.add_argument("--truncate", action="append", metavar="DIGEST")
    p.add_argument("--truncate-count", type=int, default=1, help="cut the first K GETs (0: all)")
    p.add_argument("--fail-first", type=int, default=0, metavar="N")
    p.add_argument("--fail-status", type=int, default=500)
    p.add_argument("--redirect", action="store_true")
    p.add_argument("--redirect-host", help="host name to put in redirect Locations (default 127.0.0.1)")
    p.add_argument("--require-basic", metavar="USER:PASSWORD")
    p.add_argument("--throttle-kbps", type=float, default=0)
    args = p.parse_args()
    for d in (args.lie_digest or []) + (args.truncate or []):
        if not DIGEST_RE.match(d):
            p.error(f"not a sha256 digest: {d}")
    if args.require_basic and ":" not in args.require_basic:
        p.error("--require-basic wants USER:PASSWORD")
    if not os.path.isdir(os.path.join(args.dir, "blobs")):
        p.error(f"{args.dir}: no blobs/ (make it with build_image.py --output-dir)")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    sys.stdout.write(json.dumps({"port": server.server_address[1], "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
