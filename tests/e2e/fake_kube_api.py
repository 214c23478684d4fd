"""A fake Kubernetes API server on loopback, HTTPS, for the pod watcher tests.

Serves GET /api/v1/pods (list, and watch=1 streams in chunked encoding as
the real one), checks the Bearer token and the node field selector, keeps
an event log with resourceVersions, and lets the test break a watch, end
it, expire old resourceVersions (410), rotate the accepted token (401) and
take the whole server down and up again. Every request is recorded, without
its token. Used in-process by run_kube.py.
"""
import http.server
import json
import socket
import ssl
import threading
import time
import urllib.parse


def pod(uid, name, namespace, node, containers, owner=None, template_hash=None, sa="default"):
    """A pod object as the API server answers it. containers: (name, image, id or None)."""
    meta = {"name": name, "namespace": namespace, "uid": uid, "resourceVersion": "0",
            "labels": {"app": name.split("-")[0]}}
    if template_hash:
        meta["labels"]["pod-template-hash"] = template_hash
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                    "uid": "00000000-0000-0000-0000-000000000000",
                                    "controller": True, "blockOwnerDeletion": True}]
    statuses = [{"name": n, "ready": True, "restartCount": 0, "image": img,
                 "containerID": "containerd://" + cid} for n, img, cid in containers if cid]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta,
            "spec": {"nodeName": node, "serviceAccountName": sa,
                     "containers": [{"name": n, "image": img} for n, img, _ in containers]},
            "status": {"phase": "Running", "containerStatuses": statuses}}


class FakeApi:
    def __init__(self, cert, key, node, token):
        self.cert, self.key, self.node = cert, key, node
        self.lock = threading.Condition()
        self.token = token
        self.rv = 100
        self.oldest_rv = 0         # a watch from before this gets 410
        self.pods = {}             # uid -> pod object (the current state)
        self.log = []              # (rv, type, pod) events
        self.requests = []         # (kind, status, query dict) of every request
        self.watches = set()       # open watch connections
        self.generation = 0        # bumped to end (1) or break (2) every open watch
        self.end_mode = 0
        self.gone = 0              # 410 answers given
        self.server = None
        self.port = 0
        self.up()

    # ---- state changes (the test's side) ----

    def _event(self, typ, obj):
        self.rv += 1
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.log.append((self.rv, typ, obj))
        self.lock.notify_all()
        return obj

    def add(self, p):
        with self.lock:
            self.pods[p["metadata"]["uid"]] = self._event("ADDED", p)

    def delete(self, uid):
        with self.lock:
            p = self.pods.pop(uid)
            self._event("DELETED", p)

    def _end_watches(self, mode):
        with self.lock:
            self.generation += 1
            self.end_mode = mode
            self.lock.notify_all()

    def end_watches(self):
        """Every open watch ends normally (as at its timeoutSeconds)."""
        self._end_watches(1)

    def break_watches(self):
        """Every open watch connection is cut mid-stream."""
        self._end_watches(2)

    def expire(self):
        """Every resourceVersion given so far is too old: a watch from one gets 410."""
        with self.lock:
            self.oldest_rv = self.rv + 1

    def rotate(self, token):
        with self.lock:
            self.token = token

    def count(self, kind, status=None):
        with self.lock:
            return sum(1 for k, s, _ in self.requests if k == kind and (status is None or s == status))

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    # ---- up and down ----

    def up(self):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass  # request lines are not logged

            def do_GET(self):
                api.handle(self)

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        srv.daemon_threads = True
        srv.allow_reuse_address = True
        srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.server_bind()
        srv.server_activate()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        self.port = srv.server_address[1]
        self.server = srv
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    def down(self):
        """An outage: the listener closes and every open watch is cut."""
        self.break_watches()
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for c in list(self.watches):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    # ---- requests ----

    def _reply(self, h, code, obj):
        body = json.dumps(obj).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _status(self, h, code, reason):
        self._reply(h, code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                              "reason": reason, "code": code})

    def handle(self, h):
        url = urllib.parse.urlsplit(h.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        kind = "watch" if q.get("watch") in ("1", "true") else "list"
        auth = h.headers.get("Authorization", "")
        with self.lock:
            ok_token = auth == "Bearer " + self.token
        if not ok_token:
            status = 401
        elif url.path != "/api/v1/pods" or q.get("fieldSelector") != "spec.nodeName=" + self.node:
            status = 403
        else:
            status = 200
        with self.lock:
            self.requests.append((kind, status, q))
        if status == 401:
            return self._status(h, 401, "Unauthorized")
        if status == 403:
            return self._status(h, 403, "Forbidden")
        if kind == "list":
            with self.lock:
                items = [p for p in self.pods.values() if p["spec"]["nodeName"] == self.node]
                body = {"kind": "PodList", "apiVersion": "v1",
                        "metadata": {"resourceVersion": str(self.rv)}, "items": items}
            return self._reply(h, 200, body)
        self.watch(h, q)

    def watch(self, h, q):
        try:
            since = int(q.get("resourceVersion", "0"))
        except ValueError:
            since = 0
        bookmarks = q.get("allowWatchBookmarks") == "true"
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        conn = h.connection

        def chunk(obj):
            data = (json.dumps(obj) + "\n").encode()
            h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.flush()

        with self.lock:
            self.watches.add(conn)
            gen = self.generation
        try:
            with self.lock:
                gone = since < self.oldest_rv
            if gone:
                with self.lock:
                    self.gone += 1
                chunk({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                                                   "status": "Failure", "reason": "Expired",
                                                   "message": "too old resource version", "code": 410}})
                h.wfile.write(b"0\r\n\r\n")
                return
            sent = since
            last_bookmark = time.monotonic()
            while True:
                with self.lock:
                    pending = [(rv, t, o) for rv, t, o in self.log if rv > sent]
                    if not pending and self.generation == gen:
                        self.lock.wait(0.2)
                        pending = [(rv, t, o) for rv, t, o in self.log if rv > sent]
                    ended = self.generation != gen
                    mode = self.end_mode
                    rv_now = self.rv
                for rv, t, o in pending:
                    if o["spec"]["nodeName"] == self.node:
                        chunk({"type": t, "object": o})
                    sent = rv
                if ended:
                    if mode == 2:
                        conn.shutdown(socket.SHUT_RDWR)  # no terminating chunk: a cut
                    else:
                        h.wfile.write(b"0\r\n\r\n")
                    return
                if bookmarks and time.monotonic() - last_bookmark > 1:
                    chunk({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
                                                          "metadata": {"resourceVersion": str(rv_now)}}})
                    last_bookmark = time.monotonic()
        except OSError:
            pass
        finally:
            with self.lock:
                self.watches.discard(conn)
            h.close_connection = True
