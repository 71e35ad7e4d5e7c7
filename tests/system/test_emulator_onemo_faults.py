"""Every +MHTTPURC "err" code from a real fault (no injection in the emulator), the +CME ERROR
codes of chapter 5, and bad input of every kind -- after each the emulator still answers AT."""
from __future__ import annotations

import random
import time

import pytest

from bridge.at.frames import Final, Info
from support.emulated import emulator
from support.servers import (BacklogFullServer, BlobServer, CloseMidBodyServer, RawServer, RefusedPort, StallServer,
                             make_ca, server_context)
from support.onemo_emulated import OK, Module, cme, running_module

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def module(tmp_path):
    with running_module(tmp_path) as module:
        yield module


def request_fails(module: Module, url: str, code: int, path: str = "/x", setup: tuple[str, ...] = ()) -> list:
    """Create an instance for `url`, send a GET, and expect +MHTTPURC: "err",0,<code>; returns
    the URCs before it."""
    module.ok(f'AT+MHTTPCREATE="{url}"')
    for line in setup:
        module.ok(line)
    module.ok(f'AT+MHTTPREQUEST=0,1,0,"{path}"')
    before = []
    while True:
        frame = module.next(timeout=20)
        if isinstance(frame, Info) and frame.variant == "err":
            assert frame.int("httpid") == 0 and frame.int("error_code") == code, frame
            module.alive()
            return before
        before.append(frame)


def test_err_1_name_not_in_the_hosts_map(module):
    request_fails(module, "http://no-such-host.example", 1)


def test_err_2_connection_refused(module):
    with RefusedPort() as port:
        request_fails(module, f"http://127.0.0.1:{port}", 2)


def test_err_3_connect_timeout(module):
    with BacklogFullServer() as server:
        if server.port is None:
            pytest.skip("this platform completes connects to a full backlog")
        started = time.monotonic()
        request_fails(module, f"http://127.0.0.1:{server.port}", 3, setup=('AT+MHTTPCFG="timeout",0,1',))
        assert time.monotonic() - started < 10


def test_err_4_tls_against_the_wrong_ca(module):
    wrong = make_ca().cert_pem.bytes().replace(b"\n", b"\r\n")
    module.ok(f'AT+MSSLCERTWR="wrong.ca",0,{len(wrong)},"' + wrong.decode().replace("\r\n", "\\r\\n") + '"')
    module.ok('AT+MSSLCFG="cert",1,"wrong.ca"')
    module.ok('AT+MSSLCFG="auth",1,1')
    with BlobServer(tls_context=server_context(make_ca())) as server:
        request_fails(module, f"https://localhost:{server.port}", 4, "/blob/10", setup=('AT+MHTTPCFG="ssl",0,1,1',))


def test_err_5_server_closes_mid_body(module):
    with CloseMidBodyServer(total=1000, sent=100) as server:
        before = request_fails(module, f"http://127.0.0.1:{server.port}", 5)
        assert before[0].variant == "header"
        assert sum(f.int("cur_len") for f in before[1:]) <= 100


def test_err_6_response_timeout(module):
    with StallServer() as server:
        request_fails(module, f"http://127.0.0.1:{server.port}", 6, setup=('AT+MHTTPCFG="timeout",0,5,1',))
        assert server.received.is_set()


def test_err_7_malformed_response(module):
    with RawServer(b"\x00\x01 this is not HTTP\r\n\r\n") as server:
        request_fails(module, f"http://127.0.0.1:{server.port}", 7)


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_err_8_body_larger_than_the_cache(module, chunked):
    with BlobServer() as server:
        request_fails(module, server.url(""), 8, f"/blob/5000?chunked={chunked}", setup=('AT+MHTTPCFG="cached",0,1,1000',))
        assert [f.raw for f in module.ok("AT+MHTTPREAD=0,1")] == [b"+MHTTPREAD: 0,1,0"]  # nothing was cached


def test_err_9_output_cannot_keep_up(module):
    """Paced output (2 s per 1 KiB fragment) of a 2 MB body: what waits is bounded, the rest is lost."""
    with BlobServer() as server:
        before = request_fails(module, server.url(""), 9, "/blob/2000000", setup=('AT+MHTTPCFG="fragment",0,1024,2000',))
        assert before[0].variant == "header" and [f.int("cur_len") for f in before[1:]] == [1024]


def test_err_10_local_path_cannot_be_written(module, tmp_path):
    (tmp_path / "fs" / "adir").mkdir(parents=True)
    with BlobServer() as server:
        module.ok(f'AT+MHTTPCREATE="{server.url("")}"')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/100","/adir"')
        assert module.urc("header").int("code") == 200
        assert module.urc("err").int("error_code") == 10
        module.ok(f'AT+MHTTPDLFILE="{server.url("/blob/100")}","/adir"')
        module.urc("header")
        err = module.urc("err")
        assert err.int("error_code") == 10
        module.alive()


def test_cme_busy_and_terminate(module):
    with StallServer() as server:
        module.ok(f'AT+MHTTPCREATE="http://127.0.0.1:{server.port}"')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        module.fails('AT+MHTTPREQUEST=0,1,0,"/x"', 653)
        module.fails('AT+MHTTPCONTENT=0,0,0,"x"', 653)
        assert server.received.wait(5)
        module.ok("AT+MHTTPTERM=0")
        module.ok('AT+MHTTPREQUEST=0,1,0,"/y"')
        module.ok("AT+MHTTPDEL=0")  # deleting terminates the request in flight
        module.alive()


def test_cme_codes_of_instance_commands(module, tmp_path):
    module.fails('AT+MHTTPREQUEST=0,1,0,"/"', 652)
    module.fails('AT+MHTTPCREATE="notaurl"', 654)
    module.ok('AT+MHTTPCREATE="http://127.0.0.1:9"')
    module.fails('AT+MHTTPREQUEST=0,6,0,"/"', 50)  # methods 1..5
    module.fails('AT+MHTTPREQUEST=0,1,5,"/"', 50)  # <length> must match
    module.fails('AT+MHTTPREQUEST=0,1,0,"/","../escape"', 50)
    module.ok('AT+MHTTPCFG="chunked",0,1')
    module.fails('AT+MHTTPCONTENT=0,0,0,"x"', 3)  # chunked: the request comes first
    module.fails("AT+MHTTPCONTENT=0,2", 3)  # <eof> 2 only in Content-Length mode
    module.fails('AT+MHTTPDLFILE="http://127.0.0.1:9/x","x",0,"rows=1-2"', 50)
    module.fails('AT+MHTTPDLFILE="gopher://x/","x"', 654)
    with emulator("onemo", tmp_path / "mn318", model="MN318") as (host, runner):
        Module(host).fails('AT+MHTTPCREATE="https://example.com"', 655)  # no SSL on this model


def test_data_mode_escape_and_timeouts(module):
    module.ok('AT+MHTTPCREATE="http://127.0.0.1:9"')
    module.ok('AT+MHTTPCFG="timeout",0,60,0,1')
    module.send("AT+MHTTPCONTENT=0,1\r")
    module.prompt()
    module.send(b"typed, then cancelled\x1b")
    assert module.until_final() == [cme(650)]
    module.alive()
    module.send("AT+MHTTPCONTENT=0,1\r")  # Ctrl-Z form: the timeout discards the input
    module.prompt()
    module.send(b"no ctrl-z")
    assert module.until_final(timeout=5) == [cme(50)]
    module.alive()
    module.send("AT+MHTTPCONTENT=0,0,100\r")  # length form: what arrived is used (3.4)
    module.prompt()
    module.send(b"only 19 bytes here.")
    assert module.until_final(timeout=5) == [OK]
    assert module.ok("AT+MHTTPCONTENT=0")[0].payload == b"only 19 bytes here."
    module.ok("AT+MHTTPCONTENT=0,2")
    module.send("AT+MHTTPCONTENT=0,1\r")  # longer than data mode takes: refused, the rest dropped
    module.prompt()
    module.send(b"x" * 5000 + b"\x1a")
    assert module.until_final() == [Final("ERROR")]
    module.alive()
    assert module.ok("AT+MHTTPCONTENT=0") == []


def test_malformed_lines(module):
    for line in ['AT+MHTTPCREATE="http://unterminated', "AT+MHTTPCREATE=", 'AT+MHTTPCREATE="a","b"', "AT+MHTTPDEL=0,0",
                 "AT+MHTTPDEL=x", "AT+MHTTPDEL=-1", "AT+MHTTPDEL=99999999999", "AT+MHTTPREQUEST=0", "AT+MHTTPCFG",
                 'AT+MHTTPCFG="header"x', "AT+MHTTPTERM?", "AT+NOSUCH", "hello", "AT+MSSLCFG", 'AT+MHTTPDLFILE="http://x/"']:
        final = module.command(line)[-1]
        assert isinstance(final, Final) and final.result in ("ERROR", "CME"), (line, final)
        module.alive()


def test_random_bytes(module):
    """100 KB of seeded random bytes: every line is answered with an error, and the module lives."""
    noise = random.Random(20240110).randbytes(100_000)
    module.keep_log = False
    module.send(noise + b"\r\n")
    module.send("AT\r")
    deadline = time.monotonic() + 30
    while True:
        frame = module.next(timeout=max(1.0, deadline - time.monotonic()))
        if frame == OK:
            break
        assert not isinstance(frame, Final) or frame.result in ("ERROR", "CME"), frame
    module.alive()


def test_a_resumed_download_to_a_name_too_long_is_an_error_not_a_traceback(tmp_path, caplog):
    """Found by benchmarks/fuzz.py: MHTTPDLFILE with <eof> 1 (resume) stats the file first; a name
    over 255 bytes raised OSError out of the command."""
    from support.emulated import emulator as running

    with running("onemo", tmp_path) as (host, _):
        answer = host.transact('AT+MHTTPDLFILE="http://127.0.0.1:9/x","/' + "a" * 300 + '.txt",1024,,1')
        assert b"+CME ERROR" in answer or answer.rstrip().endswith(b"ERROR")
        assert host.transact("AT").rstrip().endswith(b"OK")
    assert "Traceback" not in caplog.text
