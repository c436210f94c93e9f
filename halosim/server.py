"""The HTTP layer: a keep-alive, TCP_NODELAY ThreadingHTTPServer that routes to the API, control and web UI."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import control, webui
from .reply import ApiError, Reply, json_reply, parse_params

if TYPE_CHECKING:
    from .simulator import Simulator


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # benchmarks open many connections at once; the default 5 drops some

    def __init__(self, sim: Simulator, address: tuple[str, int]) -> None:
        self.sim = sim
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        # Without TCP_NODELAY, Nagle's algorithm and delayed ACKs add ~40 ms to keep-alive requests: timings would lie.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._conn_lock:
            self._connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open keep-alive connection (used when the simulator stops)."""
        with self._conn_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections end eventually instead of pinning a thread forever
    server: _Server

    def version_string(self) -> str:
        return "halosim"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: thousands of benchmark requests would drown the console

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        sim = self.server.sim
        url = urlsplit(self.path)
        path, params = url.path or "/", parse_params(url.query)
        try:
            body = self._read_body()
            if path.startswith("/_sim/") or path == "/_sim":
                reply = control.handle(sim, method, path, params, body)
            elif path.lower().rstrip("/") in ("/auth/token", "/api") or path.lower().startswith("/api/"):
                reply = sim.handle_api("GET" if method == "HEAD" else method, path, params, self.headers, body)
                if sim.config.latency_seconds > 0:
                    time.sleep(sim.config.latency_seconds)  # real time on purpose: only demos use latency
            else:
                reply = webui.handle(sim, method, path, params, body)
        except ApiError as exc:
            reply = exc.reply()
        except Exception as exc:  # a bug in the simulator must still answer, like Halo's own 500s
            traceback.print_exc(file=sys.stderr)
            reply = json_reply(500, {"ClassName": type(exc).__name__, "Message": str(exc)})
        self._send(reply, head=method == "HEAD")

    def _send(self, reply: Reply, head: bool) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)


def make_server(sim: Simulator, host: str, port: int) -> _Server:
    """Bind a server for the simulator (not yet serving)."""
    return _Server(sim, (host, port))
