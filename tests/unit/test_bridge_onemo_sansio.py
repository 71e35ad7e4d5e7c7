"""OneMO firmware through the bridge engine in memory to a scripted Neoway module: what no real
module can be made to do on demand (a connect it never answers, a response that is no HTTP)
reaches the firmware as the OneMO err codes of the manual's 3.10."""
from __future__ import annotations

from support.sansio_bridge import SansIoBridge


def test_a_connect_the_module_never_answers_is_err_3(tmp_path):
    """Sans-I/O: a Neoway module that answers every command OK but never AT+HTTPSETUP.  When
    the wait for it runs out the firmware gets err 3 (connect timeout), not a hang and not a
    response timeout."""
    bridge = SansIoBridge(tmp_path, lambda line: None if line == b"AT+HTTPSETUP" else b"\r\nOK\r\n")
    for line in (b"ATE0", b'AT+MHTTPCREATE="http://127.0.0.1:8080"', b'AT+MHTTPREQUEST=0,1,0,"/x"'):
        bridge.firmware(line, 1.0)
    assert bridge.written[-1] == b"AT+HTTPSETUP" and b"+MHTTPURC" not in bridge.to_firmware
    deadline = bridge.engine.next_deadline()
    assert deadline is not None and 30 < deadline < 120  # the module's 30 s, the request's 60 s, a margin
    bridge.at(deadline - 0.01)
    assert b"+MHTTPURC" not in bridge.to_firmware
    bridge.at(deadline)
    assert bridge.to_firmware.endswith(b'\r\n+MHTTPURC: "err",0,3\r\n')


def test_a_response_that_is_no_http_is_err_7(tmp_path):
    """Sans-I/O: a Neoway module passes the server's bytes through as +HTTPRECV pieces without
    parsing them; bytes that are no HTTP response reach the firmware as err 7.  (The emulated
    Neoway module parses HTTP itself and reports such a server only as the link closing: err 5.)"""
    garbage = b"NOT HTTP AT ALL\r\n\r\n"

    def answer(line: bytes):
        if line == b"AT+HTTPACTION=0":
            return b"\r\nOK\r\n\r\n+HTTPRECV: %d," % len(garbage) + garbage + b"\r\n"
        return b"\r\nOK\r\n"

    bridge = SansIoBridge(tmp_path, answer)
    for line in (b"ATE0", b'AT+MHTTPCREATE="http://127.0.0.1:8080"', b'AT+MHTTPREQUEST=0,1,0,"/x"'):
        bridge.firmware(line, 1.0)
    assert bridge.to_firmware.endswith(b'\r\n+MHTTPURC: "err",0,7\r\n')
    assert bridge.written[-1] == b"AT+HTTPCLOSE"  # and the link is given up
