"""The local API server (`make dev`) keeps every connection of a burst of concurrent clients."""

from __future__ import annotations

import socket
import threading

import pytest

BURST = 40


@pytest.fixture
def api_server(aws):
    """The server `make dev` runs, bound and listening but not yet accepting (a busy accept loop)."""
    from app import app
    from chalicelib.local.stack import _api_server

    server = _api_server(app, "test", "127.0.0.1", 0)
    serving = threading.Thread(target=server.server.serve_forever, daemon=True)
    yield server, serving
    if serving.is_alive():
        server.server.shutdown()
    server.server.server_close()


def _connect(port: int) -> socket.socket | None:
    sock = socket.socket()
    sock.settimeout(0.5)  # a connection the kernel would not queue is still unanswered by then
    try:
        sock.connect(("127.0.0.1", port))
        return sock
    except OSError:
        sock.close()
        return None


def _status_of(sock: socket.socket) -> str:
    sock.settimeout(10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
    with sock, sock.makefile("rb") as response:
        return response.readline().decode().split(" ")[1]


def test_a_burst_of_concurrent_connections_is_queued_and_answered_not_dropped(api_server):
    server, serving = api_server
    port = server.server.server_address[1]
    # Given 40 clients connecting at once while the server's accept loop has not come round yet
    connections = [_connect(port) for _ in range(BURST)]
    # Then the kernel queued every one of them (the old listen queue of 5 held 6)
    dropped = sum(1 for sock in connections if sock is None)
    assert dropped == 0, f"{dropped} of {BURST} connections were not accepted"
    # And once the server serves, each gets its answer, on a thread of its own
    serving.start()
    statuses = [_status_of(sock) for sock in connections]
    assert statuses == ["200"] * BURST
