"""A stalled server is reported by the Neoway emulator after HTTPACTION's own time -- 30 s (manual
9.3: "The command times out if the module does not respond in 30s"; neoway.yaml HTTPACTION
timeout: 30) -- and never after twice that.

Why it was sometimes 60 s: AT+HTTPSETUP's connection is kept for the HTTPACTION that follows, so
the request goes out on a reused connection.  A server that accepts, never answers and closes an
idle connection after its own timeout (about 30 s, like many servers and the suite's loopback
servers) closed it just before the module's 30 s ran out; the executor took that for a stale
pooled connection, sent the request again on a fresh one and waited 30 s more.  The response time
is now the request's: a retry gets only what is left of it.

The Neoway dialect has no command to set that time, so the fast test sets the module side's
response time as the library allows (`NeowayModuleSide.response_timeout`), and a slow one runs
the emulator with the manual's 30 s."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from bridge.at.dialect import load
from support.emulated import emulator
from support.neoway_emulated import OK, ask, neoway, wait_for

HOST = "www.neoway.com.cn"  # in the emulator's hosts map (127.0.0.1)
CLOSED = b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"


class IdleClosingServer:
    """Accepts, reads, never answers; closes a connection `idle` seconds after the last byte it
    received from it.  `requests` counts the connections a request arrived on."""

    def __init__(self, idle: float) -> None:
        self.idle = idle
        self.requests = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        counted = False
        with conn:
            conn.settimeout(self.idle)
            try:
                while conn.recv(65536):
                    if not counted:
                        counted = True
                        with self._lock:
                            self.requests += 1
            except (TimeoutError, OSError):
                pass  # idle for `idle` seconds: close it, unanswered

    def close(self) -> None:
        self._listener.close()


def _stalled_action(host, port: int, timeout: float) -> float:
    """HTTPSETUP, then HTTPACTION=0; seconds from the command to the link's close."""
    assert ask(host, f"AT+HTTPPARA=url,{HOST}:{port}/") == OK
    assert ask(host, "AT+HTTPSETUP") == OK
    started = time.monotonic()
    assert ask(host, "AT+HTTPACTION=0", timeout=5) == OK  # the request went out ...
    assert wait_for(host, r"\r\n\+HTTP[^\r]*\r\n", timeout=timeout) == CLOSED  # ... nothing came back
    return time.monotonic() - started


@pytest.mark.timeout(60)
def test_a_server_closing_just_before_the_response_time_does_not_double_it(tmp_path):
    server = IdleClosingServer(idle=1.5)
    try:
        with neoway(tmp_path, response_timeout=2.0) as (host, side):
            took = _stalled_action(host, server.port, timeout=10)
            assert 1.4 <= took <= 2.6, took  # the module's 2 s, not 1.5 s + another 1.5 s
            assert ask(host, "AT+HTTPACTION=0") == b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"  # the link is gone
            assert ask(host, "AT") == OK
    finally:
        server.close()


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_with_the_manuals_30_s_a_stalled_server_is_reported_within_30_s(tmp_path):
    assert load("neoway").command("HTTPACTION").timeout == 30  # manual 9.3
    server = IdleClosingServer(idle=29.0)  # closes unanswered connections just before the module's 30 s
    try:
        with emulator("neoway", tmp_path, hosts={HOST: ["127.0.0.1"]}) as (host, _):
            assert ask(host, "AT+XIIC=1") == OK
            took = _stalled_action(host, server.port, timeout=90)
        assert 28.5 <= took <= 31.0, took  # was 58 s: the request sent again on a fresh connection
    finally:
        server.close()
