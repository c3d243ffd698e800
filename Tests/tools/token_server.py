#!/usr/bin/python3
"""A tiny Docker token-auth server (distribution "token" auth spec) for integration tests.

Usage:
    token_server.py --dir DIR --user U --password P [--issuer X] [--service Y]
                    [--expires-in 300] [--allow-anonymous] [--pull-only]
                    [--key-header x5c|kid|both] [--log FILE] [--port N]

DIR holds the signing key and certificate; they are made on first use with the openssl
command line (Debian package openssl) and reused afterwards:
    DIR/token.key   RSA 2048 private key (PEM)
    DIR/token.crt   self-signed X.509 certificate: give it to the registry as rootcertbundle

Once listening on 127.0.0.1 it prints one JSON line on stdout:
    {"port": N, "pid": P, "realm": "http://127.0.0.1:N/token", "issuer": X, "service": Y,
     "rootcertbundle": "DIR/token.crt", "kid": "ABCD:EFGH:..."}
and serves until SIGTERM/SIGINT/SIGKILL (a plain foreground process, no children other
than short-lived `openssl dgst` runs). Start the registry with those values:
    registry.py --dir R --auth token --realm REALM --issuer X --service Y --rootcertbundle CRT

Endpoints:
  GET /token?service=Y&scope=repository:NAME:pull,push[&scope=...][&account=U]
      with `Authorization: Basic` -> 200 {"token": JWT, "access_token": JWT,
      "expires_in": N, "issued_at": ...}. Wrong credentials -> 401 (with a Basic
      challenge). No credentials -> 401, unless --allow-anonymous (then pull-only
      tokens). A `service` other than --service -> 400.
  POST /token  (OAuth2 form, as containerd sends when it has a password):
      grant_type=password&username=U&password=P&service=Y&scope=...&client_id=...
      [&access_type=offline]  or  grant_type=refresh_token&refresh_token=R&...
      -> {"access_token": JWT, "token": JWT, "expires_in", "issued_at", "scope"
          [, "refresh_token"]}; bad credentials -> 401.
  GET /stats  -> {"requests" (all but /stats and /healthz), "token_requests", "issued",
      "unauthorized", "bad_request", "anonymous", "get", "post", "scopes": {scope: count}}.
      GET /stats?reset=1 returns the counters and zeroes them.
  GET /healthz -> 200.

Tokens are RS256 JWTs signed with `openssl dgst -sha256 -sign` (docker-registry 2.8
verifies them with the certificate in rootcertbundle). The JWT header carries, per
--key-header: `x5c` (the certificate, the default), `kid` (the libtrust key id of the
public key: base32 of the first 240 bits of SHA-256 of the DER SubjectPublicKeyInfo, in 12
groups of 4 joined by ':'), or both. docker-registry 2.8.2 accepts either. Claims: iss,
sub (user, or "" when anonymous), aud (the service), exp, nbf, iat, jti, access (the
requested actions: all of them for the user, pull only with --pull-only or anonymously).

--log FILE appends one JSON line per request: {"ts", "method", "path", "status", "user",
"scopes"}.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OPENSSL = "/usr/bin/openssl"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ensure_key(directory):
    os.makedirs(directory, exist_ok=True)
    key = os.path.join(directory, "token.key")
    crt = os.path.join(directory, "token.crt")
    if not (os.path.isfile(key) and os.path.isfile(crt)):
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                        "-keyout", key, "-out", crt, "-days", "3650",
                        "-subj", "/CN=berth-test-token-issuer"],
                       check=True, capture_output=True)
    der_cert = subprocess.run([OPENSSL, "x509", "-in", crt, "-outform", "DER"],
                              check=True, capture_output=True).stdout
    spki = subprocess.run([OPENSSL, "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          check=True, capture_output=True).stdout
    return key, crt, der_cert, libtrust_key_id(spki)


def libtrust_key_id(spki_der):
    """docker/libtrust KeyID: base32(sha256(SPKI DER)[:30]) in 12 groups of 4."""
    b32 = base64.b32encode(hashlib.sha256(spki_der).digest()[:30]).decode()
    return ":".join(b32[i:i + 4] for i in range(0, 48, 4))


def parse_scope(scope):
    """'repository:name:pull,push' -> ('repository', 'name', ['pull', 'push']).
    The name may contain ':' only as a port (registry:catalog:* has none)."""
    typ, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not typ or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


class State:
    def __init__(self, args, key, der_cert, kid):
        self.args = args
        self.key = key
        self.der_cert = der_cert
        self.kid = kid
        self.lock = threading.Lock()
        self.refresh_tokens = {}
        self.log = open(args.log, "a") if args.log else None
        self.reset()

    def reset(self):
        self.stats = {"requests": 0, "token_requests": 0, "issued": 0, "unauthorized": 0,
                      "bad_request": 0, "anonymous": 0, "get": 0, "post": 0, "scopes": {}}

    def count(self, key, n=1):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + n

    def sign(self, claims):
        header = {"typ": "JWT", "alg": "RS256"}
        if self.args.key_header in ("x5c", "both"):
            header["x5c"] = [base64.b64encode(self.der_cert).decode()]
        if self.args.key_header in ("kid", "both"):
            header["kid"] = self.kid
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = subprocess.run([OPENSSL, "dgst", "-sha256", "-sign", self.key],
                             input=signing_input.encode(), check=True, capture_output=True).stdout
        return signing_input + "." + b64url(sig)

    def token_for(self, user, scopes, anonymous):
        now = int(time.time())
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            typ, name, actions = parsed
            if anonymous or self.args.pull_only:
                actions = [a for a in actions if a == "pull"]
            access.append({"type": typ, "name": name, "actions": actions})
            with self.lock:
                self.stats["scopes"][scope] = self.stats["scopes"].get(scope, 0) + 1
        claims = {"iss": self.args.issuer, "sub": user or "", "aud": self.args.service,
                  "exp": now + self.args.expires_in, "nbf": now - 10, "iat": now,
                  "jti": secrets.token_hex(12), "access": access}
        self.count("issued")
        return self.sign(claims), now


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-test-token-server/1"

    def log_message(self, fmt, *a):  # keep stderr quiet
        pass

    @property
    def st(self):
        return self.server.state

    def send_json(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._status = status

    def record(self, user=None, scopes=None):
        st = self.st
        if st.log:
            line = json.dumps({"ts": time.time(), "method": self.command, "path": self.path,
                               "status": getattr(self, "_status", None), "user": user,
                               "scopes": scopes or []})
            with st.lock:
                st.log.write(line + "\n")
                st.log.flush()

    def basic_credentials(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ("", None)
        return user, password

    def check(self, user, password):
        a = self.st.args
        return (secrets.compare_digest(user or "", a.user) and
                secrets.compare_digest(password or "", a.password))

    def unauthorized(self, message):
        self.st.count("unauthorized")
        self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                       {"WWW-Authenticate": 'Basic realm="berth-test-token-server"'})

    def bad_request(self, message):
        self.st.count("bad_request")
        self.send_json(400, {"errors": [{"code": "DENIED", "message": message}]})

    def do_GET(self):
        st = self.st
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path not in ("/stats", "/healthz"):
            st.count("requests")
        if url.path == "/stats":
            with st.lock:
                snapshot = json.loads(json.dumps(st.stats))
                if query.get("reset", ["0"])[0] not in ("0", ""):
                    st.reset()
            self.send_json(200, snapshot)
            return
        if url.path == "/healthz":
            self.send_json(200, {"ok": True})
            return
        if url.path != "/token":
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            return
        st.count("token_requests")
        st.count("get")
        scopes = [s for v in query.get("scope", []) for s in v.split(" ") if s]
        creds = self.basic_credentials()
        user = None
        if creds is None:
            if not st.args.allow_anonymous:
                self.unauthorized("credentials required")
                self.record(None, scopes)
                return
            st.count("anonymous")
        else:
            if not self.check(*creds):
                self.unauthorized("invalid credentials")
                self.record(creds[0], scopes)
                return
            user = creds[0]
        service = query.get("service", [st.args.service])[0]
        if service != st.args.service:
            self.bad_request(f"unknown service {service!r}")
            self.record(user, scopes)
            return
        token, now = st.token_for(user, scopes, anonymous=user is None)
        self.send_json(200, {"token": token, "access_token": token,
                             "expires_in": st.args.expires_in,
                             "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
        self.record(user, scopes)

    def do_POST(self):
        st = self.st
        st.count("requests")
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        if url.path != "/token":
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            return
        st.count("token_requests")
        st.count("post")
        form = urllib.parse.parse_qs(body)
        get = lambda k: form.get(k, [""])[0]  # noqa: E731
        scopes = [s for v in form.get("scope", []) for s in v.split(" ") if s]
        grant = get("grant_type")
        user = None
        if grant == "password":
            if not self.check(get("username"), get("password")):
                self.unauthorized("invalid credentials")
                self.record(get("username"), scopes)
                return
            user = get("username")
        elif grant == "refresh_token":
            with st.lock:
                user = st.refresh_tokens.get(get("refresh_token"))
            if user is None:
                self.unauthorized("invalid refresh token")
                self.record(None, scopes)
                return
        else:
            self.bad_request(f"unsupported grant_type {grant!r}")
            self.record(None, scopes)
            return
        service = get("service") or st.args.service
        if service != st.args.service:
            self.bad_request(f"unknown service {service!r}")
            self.record(user, scopes)
            return
        token, now = st.token_for(user, scopes, anonymous=False)
        reply = {"access_token": token, "token": token, "expires_in": st.args.expires_in,
                 "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                 "scope": " ".join(scopes)}
        if get("access_type") == "offline" or grant == "refresh_token":
            refresh = get("refresh_token") if grant == "refresh_token" else secrets.token_hex(16)
            with st.lock:
                st.refresh_tokens[refresh] = user
            reply["refresh_token"] = refresh
        self.send_json(200, reply)
        self.record(user, scopes)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="directory for token.key and token.crt (made if missing)")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--issuer", default="berth-test-issuer")
    p.add_argument("--service", default="berth-test-registry")
    p.add_argument("--expires-in", type=int, default=300, help="token lifetime in seconds (default 300)")
    p.add_argument("--allow-anonymous", action="store_true", help="give pull-only tokens without credentials")
    p.add_argument("--pull-only", action="store_true", help="grant only `pull`, even to the user")
    p.add_argument("--key-header", choices=("x5c", "kid", "both"), default="x5c")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", help="append a JSON line per request to this file")
    args = p.parse_args()

    key, crt, der_cert, kid = ensure_key(args.dir)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args, key, der_cert, kid)
    port = server.server_address[1]
    info = {"port": port, "pid": os.getpid(), "realm": f"http://127.0.0.1:{port}/token",
            "issuer": args.issuer, "service": args.service,
            "rootcertbundle": os.path.abspath(crt), "kid": kid}
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
