#!/usr/bin/env python3
"""Opens one keep-alive connection per URL, sends one request on each, then
waits for the file TT_CLOSE_FILE before closing them all and for TT_DONE_FILE
before exiting, so the runner can watch the sensor while the process lives.

Usage: close_client.py URL...   The credential comes from TT_TOKEN and is
never printed. Prints "sent" once every response is read, "closed" after
the close.
"""
import http.client
import os
import ssl
import sys
import time
import urllib.parse

TIMEOUT = 15


def wait_file(path):
    deadline = time.monotonic() + TIMEOUT * 2
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for the runner")
        time.sleep(0.02)


def main():
    auth = "Bearer " + os.environ["TT_TOKEN"]
    conns = []
    for url in sys.argv[1:]:
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection(u.hostname, u.port, timeout=TIMEOUT, context=ctx)
        else:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
        c.request("GET", u.path, headers={"Authorization": auth})
        c.getresponse().read()
        conns.append(c)
    print("sent", flush=True)
    wait_file(os.environ["TT_CLOSE_FILE"])
    for c in conns:
        c.close()
    print("closed", flush=True)
    wait_file(os.environ["TT_DONE_FILE"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
