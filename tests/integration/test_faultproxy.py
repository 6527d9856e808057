"""The FaultProxy on its own, with this test process as member "a" and an
echo server as member "b" (no cluster needed)."""

import os
import socket
import socketserver
import threading
import time

import pytest

from cluster import free_port
from faultproxy import FaultProxy, wait_until

pytestmark = pytest.mark.no_server


class _Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            try:
                data = self.request.recv(4096)
            except OSError:
                return
            if not data:
                return
            self.server.received.append(data)
            self.request.sendall(data)


@pytest.fixture
def proxy():
    echo = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    echo.daemon_threads = True
    echo.received = []
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    proxy = FaultProxy()
    proxy.echo = echo
    proxy.listen_port = free_port()
    proxy.add_destination("b", proxy.listen_port, echo.server_address[1])
    proxy.set_pid("a", os.getpid())
    yield proxy
    proxy.close()
    echo.shutdown()
    echo.server_close()


def dial(proxy):
    sock = socket.create_connection(("127.0.0.1", proxy.listen_port), timeout=2)
    wait_until(lambda: proxy.connections(), 5, message="the proxied connection")
    return sock


def echoes(sock, payload, timeout_s=0.5):
    sock.sendall(payload)
    sock.settimeout(timeout_s)
    try:
        return sock.recv(4096) == payload
    except OSError:  # time-out or reset
        return False


def test_connection_is_attributed_to_the_dialing_member(proxy):
    with dial(proxy) as sock:
        assert echoes(sock, b"hello")
        assert proxy.connections() == [("a", "b")]


def test_cut_towards_destination_discards_requests_only(proxy):
    with dial(proxy) as sock:
        proxy.cut("a", "b")
        assert not echoes(sock, b"lost")
        assert b"lost" not in b"".join(proxy.echo.received)


def test_cut_from_destination_delivers_requests_but_not_replies(proxy):
    with dial(proxy) as sock:
        proxy.cut("b", "a")
        assert not echoes(sock, b"one-way")
        wait_until(lambda: b"one-way" in b"".join(proxy.echo.received), 5,
                   message="the request to arrive")


def test_heal_closes_connections_that_lost_bytes_and_new_ones_work(proxy):
    with dial(proxy) as sock:
        proxy.isolate("a")
        assert not echoes(sock, b"x")
        proxy.heal()
        sock.settimeout(5)
        try:
            closed = sock.recv(4096) == b""
        except ConnectionResetError:
            closed = True
        assert closed
    wait_until(lambda: not proxy.connections(), 5, message="the old connection to go")
    with dial(proxy) as sock:
        assert echoes(sock, b"again")


def test_delay_holds_every_chunk_at_least_that_long(proxy):
    with dial(proxy) as sock:
        proxy.delay("a", "b", 0.3)
        start = time.monotonic()
        assert echoes(sock, b"slow", timeout_s=5)
        assert time.monotonic() - start >= 0.3


def test_drop_with_certainty_resets_the_connection(proxy):
    with dial(proxy) as sock:
        proxy.drop("a", "b", 1.0)
        assert not echoes(sock, b"gone", timeout_s=2)
        assert b"gone" not in b"".join(proxy.echo.received)
