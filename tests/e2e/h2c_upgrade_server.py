#!/usr/bin/env python3
"""Local HTTP/1.1 server that takes "Upgrade: h2c" (RFC 7540 3.2) and then
speaks HTTP/2 on the same connection (python3-h2), loopback only.

Usage: python3 h2c_upgrade_server.py     Prints "port N" once listening.
Answers every request with a small body; never logs request headers,
which carry the test credentials. One connection at a time is enough for
the tests (curl puts its requests on one connection)."""
import socket
import sys

import h2.config
import h2.connection
import h2.events
import h2.exceptions

BODY = b"ok\n"


def read_head(conn):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
        if len(buf) > 1 << 20:
            return None, b""
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def serve(conn):
    head, rest = read_head(conn)
    if head is None:
        return
    lines = head.split(b"\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    h2c = fields.get(b"upgrade", b"").lower() == b"h2c" and b"http2-settings" in fields
    if not h2c:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n" + BODY)
        return
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
    h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    settings = fields[b"http2-settings"]
    # h2 decodes the header itself; curl sends it unpadded
    h2conn.initiate_upgrade_connection(settings + b"=" * (-len(settings) % 4))
    # the upgrade request is stream 1: answered over HTTP/2
    h2conn.send_headers(1, [(":status", "200"), ("content-length", str(len(BODY)))])
    h2conn.send_data(1, BODY, end_stream=True)
    conn.sendall(h2conn.data_to_send())
    data = rest
    while True:
        if data:
            for ev in h2conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    h2conn.send_headers(ev.stream_id, [(":status", "200"),
                                                       ("content-length", str(len(BODY)))])
                    h2conn.send_data(ev.stream_id, BODY, end_stream=True)
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    conn.sendall(h2conn.data_to_send())
                    return
            conn.sendall(h2conn.data_to_send())
        data = conn.recv(65536)
        if not data:
            return


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    sys.stdout.write("port %d\n" % s.getsockname()[1])
    sys.stdout.flush()
    while True:
        conn, _ = s.accept()
        conn.settimeout(30)
        try:
            serve(conn)
        except (OSError, ValueError, h2.exceptions.ProtocolError):
            pass  # a broken client connection: the next one is served
        finally:
            conn.close()


if __name__ == "__main__":
    main()
