#!/usr/bin/env python3
"""HTTP clients for the end-to-end tests, one mode per scenario.

Credentials come from the environment (TT_TOKEN, TT_TOKEN2, TT_TOKEN3), never
from the command line, and are never printed: every output is searched for
them afterwards.
"""
import http.client
import os
import socket
import ssl
import sys
import time
import urllib.parse
import urllib.request

TIMEOUT = 15


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def auth_value(env="TT_TOKEN"):
    scheme = os.environ.get("TT_SCHEME", "Bearer")
    return "%s %s" % (scheme, os.environ[env])


def connection(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=TIMEOUT,
                                           context=tls_context())
    return http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)


def target(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def mode_urllib(url):
    req = urllib.request.Request(url, headers={"Authorization": auth_value()})
    handlers = [urllib.request.HTTPSHandler(context=tls_context())]
    opener = urllib.request.build_opener(*handlers)
    with opener.open(req, timeout=TIMEOUT) as resp:
        resp.read()
        print("status=%d" % resp.status)


def mode_httpclient(url, n="1"):
    """n requests over one keep-alive connection; reports how many sockets."""
    conn = connection(url)
    socks = set()
    for _ in range(int(n)):
        conn.request("GET", target(url), headers={"Authorization": auth_value()})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            print("status=%d" % resp.status)
            return 1
        socks.add(id(conn.sock))
    conn.close()
    print("requests=%s connections=%d" % (n, len(socks)))
    return 0


def wait_file(path):
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def mode_prestart(url, ready_file, go_file, done_file=None):
    """Connects (TLS handshake done) before the sensor runs, sends when
    go_file appears, then, given done_file, stays alive until it appears."""
    conn = connection(url)
    conn.connect()
    with open(ready_file, "w") as f:
        f.write("%d\n" % os.getpid())
    if not wait_file(go_file):
        print("timed out waiting for go file")
        return 1
    conn.request("GET", target(url), headers={"Authorization": auth_value()})
    resp = conn.getresponse()
    resp.read()
    print("status=%d" % resp.status)
    if done_file and not wait_file(done_file):
        print("timed out waiting for done file")
        return 1
    return 0


def raw_socket(host, port):
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_closed(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def mode_split(host, port):
    """One request in three writes; the Authorization header straddles 2 and 3."""
    tok = os.environ["TT_TOKEN"]
    half = len(tok) // 2
    host_hdr = "%s:%s" % (host, port)
    pieces = [
        "GET /split?x=1 HTTP/1.1\r\nHost: %s\r\nUser-Agent: e2e-split\r\n" % host_hdr,
        "Accept: */*\r\nAuthorization: Bearer " + tok[:half],
        tok[half:] + "\r\nConnection: close\r\n\r\n",
    ]
    s = raw_socket(host, port)
    for i, p in enumerate(pieces):
        if i:
            time.sleep(0.05)
        s.sendall(p.encode())
    resp = read_until_closed(s)
    s.close()
    print("responses=%d" % resp.count(b"HTTP/1.1 200"))
    return 0


def mode_bigcookie(host, port):
    """An 8 KiB Cookie header ahead of Authorization, in one write."""
    cookie = "session=" + "c" * 8192
    req = ("GET /bigcookie HTTP/1.1\r\nHost: %s:%s\r\nCookie: %s\r\n"
           "Authorization: %s\r\nConnection: close\r\n\r\n") % (host, port, cookie, auth_value())
    s = raw_socket(host, port)
    s.sendall(req.encode())
    resp = read_until_closed(s)
    s.close()
    print("responses=%d" % resp.count(b"HTTP/1.1 200"))
    return 0


def mode_pipeline(host, port):
    """Three pipelined requests, three credentials, one write."""
    reqs = []
    for i, env in enumerate(("TT_TOKEN", "TT_TOKEN2", "TT_TOKEN3")):
        last = "Connection: close\r\n" if i == 2 else ""
        reqs.append("GET /pipe/%d HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n%s\r\n"
                    % (i, host, port, os.environ[env], last))
    s = raw_socket(host, port)
    s.sendall("".join(reqs).encode())
    resp = read_until_closed(s)
    s.close()
    print("responses=%d" % resp.count(b"HTTP/1.1 200"))
    return 0


def mode_query(url):
    """The credential as a query parameter, no Authorization header."""
    conn = connection(url)
    path = "%s?access_token=%s&page=2" % (target(url), os.environ["TT_TOKEN"])
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    print("status=%d" % resp.status)
    return 0


MODES = {
    "urllib": mode_urllib,
    "httpclient": mode_httpclient,
    "prestart": mode_prestart,
    "split": mode_split,
    "bigcookie": mode_bigcookie,
    "pipeline": mode_pipeline,
    "query": mode_query,
}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        print("usage: py_client.py MODE ARGS...", file=sys.stderr)
        return 2
    return MODES[sys.argv[1]](*sys.argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main())
