#!/usr/bin/env python3
"""gRPC unary calls over h2c (grpcio's C core, insecure channel) with the
token of TT_TOKEN as authorization metadata, all on one channel.

Usage: TT_TOKEN=... python3 grpc_h2c_client.py HOST:PORT N
Prints "calls=N" when every call succeeded. The token never reaches argv."""
import os
import sys

import grpc


def main():
    target, n = sys.argv[1], int(sys.argv[2])
    md = [("authorization", "Bearer " + os.environ["TT_TOKEN"])]
    with grpc.insecure_channel(target) as ch:
        call = ch.unary_unary("/tt.Echo/Call")
        ok = 0
        for _ in range(n):
            if call(b"ping", metadata=md, timeout=10) == b"ok":
                ok += 1
    print("calls=%d" % ok)


if __name__ == "__main__":
    main()
