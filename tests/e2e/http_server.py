#!/usr/bin/env python3
"""Local HTTP/1.1 test server, plaintext or TLS, loopback only.

Prints "port N" on stdout once listening. Answers every request with a small
body and keeps connections alive. Never logs request lines: they carry the
test credentials (query parameters), and every output is searched for them.
"""
import argparse
import http.server
import socketserver
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 so clients can reuse one connection for many requests.
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections end on their own.
    timeout = 30

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(min(length, 1 << 20))
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer
    do_PUT = _answer
    do_HEAD = _answer

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Large enough for the request header blocks the tests send (8 KiB cookie).
    request_queue_size = 64
    ssl_ctx = None

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_ctx is not None:
            # Handshake in the connection's thread, not in the accept loop,
            # so one slow client cannot stall the others.
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass


class TLSHandler(Handler):
    def setup(self):
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            pass
        super().setup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    handler = Handler
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        handler = TLSHandler
    srv = Server(("127.0.0.1", 0), handler)
    srv.ssl_ctx = ctx
    print("port %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
