#!/usr/bin/env python3
"""Loads the TLS library only after start (a lazy `import ssl`), checks that
the copy named by TT_LIBDIR is the one mapped, waits the attach allowance,
then sends one HTTPS request with the token from TT_TOKEN."""
import os
import sys
import time
import urllib.request

url, wait = sys.argv[1], float(sys.argv[2])
time.sleep(0.2)
import ssl  # noqa: E402  (late on purpose: this dlopens libssl)

libdir = os.path.realpath(os.environ.get("TT_LIBDIR", "/nonexistent"))
want_ino = int(os.environ.get("TT_EXPECT_INO", "0"))
mapped = False
with open("/proc/self/maps") as f:
    for line in f:
        path = line.split()[-1] if "libssl" in line else ""
        if not path.startswith("/"):
            continue
        # a copy at another path, or (in a mount namespace) at the usual path
        if libdir in path or (want_ino and os.stat(path).st_ino == want_ino):
            mapped = True
print("mapped_copy=%d" % mapped)
sys.stdout.flush()
time.sleep(wait)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
req = urllib.request.Request(url, headers={"Authorization": "Bearer " + os.environ["TT_TOKEN"]})
with urllib.request.urlopen(req, context=ctx, timeout=15) as r:
    r.read()
print("status=%d" % r.status)
