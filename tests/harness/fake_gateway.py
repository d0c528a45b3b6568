"""A FAKE etcd v3 gateway on loopback, for what a real etcd cannot be made to send.

Tests use it for garbled or cut snapshot streams and for answers that never come; everything
else is tested against real etcd.
"""
from __future__ import annotations

import http.server
import threading


class FakeEtcd:
    """A FAKE etcd gateway on loopback (not etcd): ``GET /version`` and ``/health`` as 3.5 answers
    them; each POST path answers with the bytes in ``routes`` (status 200, then the connection
    closes) or, for the value None, drops the connection without any answer. ``posts`` counts
    the POSTs per path."""

    def __init__(self, routes):
        self.routes = routes
        self.posts = {}
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, body):
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # pylint: disable=invalid-name
                if self.path == '/version':
                    self._answer(b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}')
                else:
                    self._answer(b'{"health":"true","reason":""}')

            def do_POST(self):  # pylint: disable=invalid-name
                self.rfile.read(int(self.headers.get('Content-Length') or 0))
                fake.posts[self.path] = fake.posts.get(self.path, 0) + 1
                body = fake.routes.get(self.path)
                if body is None:
                    self.close_connection = True  # the request arrived; the answer never comes
                    return
                self._answer(body)

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
