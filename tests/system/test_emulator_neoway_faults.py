"""Neoway's error responses, each provoked by a real fault over the real pty: a refused port, a
name the hosts map lacks, TLS with the wrong CA, a server that stalls, one that closes before or
in the middle of its response, data after '>' that never comes, a file that cannot be written,
the data link down.  And bad input of every kind: ERROR, after which the module still answers."""
from __future__ import annotations

import random

import ssl

import pytest

from bridge.device.fs import ModuleFileSystem
from support.servers import (
    BlobServer,
    CloseMidBodyServer,
    RawServer,
    RefusedPort,
    StallServer,
    blob_bytes,
    install_ca,
    make_ca,
    server_context,
)
from test_emulator_neoway_support import OK, ask, fs_root, neoway, wait_for

HOST = "www.neoway.com.cn"
ERROR = b"\r\nERROR\r\n"
NO_SOCKET = b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"
CLOSED_LINE = b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"


def still_serving(host) -> None:
    assert ask(host, "AT") == OK


# ---- HTTPSETUP: connect failures ---------------------------------------------------------------------


@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_setup_refused_port_is_error(tmp_path, family):
    with RefusedPort() as port, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,{HOST}:{port}/") == OK
        assert ask(host, f"AT+{family}SETUP") == ERROR
        assert ask(host, f"AT+{family}ACTION=0") == (ERROR if family == "HTTPS" else NO_SOCKET)
        still_serving(host)


@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_setup_unknown_name_is_error(tmp_path, family):
    """9.2: "ERROR - DNS translation fails" -- a name missing from the hosts map."""
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,unknown.example:{server.port}/blob/1") == OK
        assert ask(host, f"AT+{family}SETUP") == ERROR
        assert ask(host, f"AT+{family}GET=0") == OK  # OK at once; the download fails in background
        assert wait_for(host, rf"\+{family}GETRPT: [^\r]*\r\n") == f"\r\n+{family}GETRPT: 11\r\n".encode()
        assert server.connections == 0


def test_tls_with_the_wrong_ca_is_error(tmp_path, ca):
    other = make_ca()
    with BlobServer(server_context(ca, names=(HOST,))) as server, neoway(tmp_path) as (host, side):
        install_ca(ModuleFileSystem(fs_root(tmp_path)), other, "wrong.pem")
        assert ask(host, 'AT+HTTPSCFG="cacert","wrong.pem"') == OK
        assert ask(host, 'AT+HTTPSCFG="authmode",1') == OK
        assert ask(host, f"AT+HTTPSPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSSETUP") == ERROR
        assert server.connections == 1  # it got as far as the server's certificate
        assert ask(host, 'AT+HTTPSCFG="cacert","missing.pem"') == OK  # a file that is not there
        assert ask(host, "AT+HTTPSSETUP") == ERROR
        assert server.connections == 1  # no CA to verify with: it does not even connect
        assert ask(host, 'AT+HTTPSCFG="authmode",0') == OK  # no verification: it connects
        assert ask(host, "AT+HTTPSSETUP") == OK


def test_sslversion_is_the_lowest_offered(tmp_path, ca):
    """sslversion names the lowest version offered (dialect-facts): 3 (TLS 1.2) refuses a server
    that stops at TLS 1.1.  (SSL 3.0, value 0, is not pinned either: tests/test_neoway_sslversion.py.)"""
    with BlobServer(server_context(ca, max_version=ssl.TLSVersion.TLSv1_1)) as server, neoway(tmp_path) as (host, side):
        assert ask(host, 'AT+HTTPSCFG="sslversion",3') == OK
        assert ask(host, f"AT+HTTPSPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSSETUP") == ERROR


# ---- HTTPACTION: faults after the link is up --------------------------------------------------------


def test_server_that_stalls(tmp_path):
    with StallServer() as server, neoway(tmp_path, response_timeout=0.5) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+HTTPACTION=0", timeout=5) == OK  # the request went out ...
        assert wait_for(host, r"\r\n\+HTTP[^\r]*\r\n") == CLOSED_LINE  # ... nothing came back
        assert server.received.is_set()
        assert ask(host, "AT+HTTPACTION=0") == NO_SOCKET  # the link is gone
        still_serving(host)


@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_server_that_closes_mid_body(tmp_path, recvmode):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    with CloseMidBodyServer(total=1000, sent=100) as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=recvmode,{recvmode}") == OK
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+HTTPACTION=0") == OK
        text = wait_for(host, r"\+HTTPCLOSED: [^\r]*\r\n")
    raw = head + b"\xab" * 100
    if recvmode == "0":
        assert text == b"\r\n+HTTPRECV:\r\n" + raw + CLOSED_LINE
    else:
        assert text.startswith(b"\r\n+HTTPRECV: ") and text.endswith(CLOSED_LINE)
        assert b"".join(piece.split(b",", 1)[1] for piece in text[:-len(CLOSED_LINE)].split(b"\r\n+HTTPRECV: ")[1:]) == raw + b"\r\n"


def test_server_that_closes_before_answering(tmp_path):
    with RawServer(b"") as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+HTTPACTION=1") == OK
        assert wait_for(host, r"\r\n\+HTTP[^\r]*\r\n") == CLOSED_LINE


def test_https_handshake_that_never_completes(tmp_path):
    """A plain server that waits for an HTTP head: the TLS handshake times out (setup_timeout)."""
    with RawServer(b"HTTP/1.1 400 Bad Request\r\n\r\n") as server, neoway(tmp_path, setup_timeout=0.5) as (host, side):
        assert ask(host, f"AT+HTTPSPARA=url,{HOST}:{server.port}/") == OK
        assert ask(host, "AT+HTTPSSETUP") == ERROR


@pytest.mark.parametrize("family, answer", [("HTTP", b"\r\n+HTTPACTION: OPERATION EXPIRED\r\n"), ("HTTPS", ERROR)])
@pytest.mark.parametrize("sent", [b"", b"half"])
def test_data_after_prompt_never_comes(tmp_path, ca, family, answer, sent):
    tls = server_context(ca) if family == "HTTPS" else None
    with BlobServer(tls) as server, neoway(tmp_path, input_timeout=0.3) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,{HOST}:{server.port}/echo") == OK
        assert ask(host, f"AT+{family}SETUP") == OK
        assert ask(host, f"AT+{family}ACTION=2,10").endswith(b"\r\n>")
        host.send(sent)
        assert wait_for(host, r"\r\n(\+HTTPACTION: [^\r]*|ERROR)\r\n", timeout=5) == answer
        still_serving(host)
        assert server.requests == []


def test_file_that_cannot_be_written(tmp_path):
    root = fs_root(tmp_path)
    root.mkdir(parents=True, exist_ok=True)
    (root / "blocker").write_bytes(b"a file, not a folder")
    (root / "http").write_bytes(b"HTTPGET's folder is a file")
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/100") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+FILEHTTPACTION=0,0,100,blocker/x.bin") == OK
        assert wait_for(host, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 0,0\r\n"
        assert ask(host, "AT+HTTPGET=0") == OK
        assert wait_for(host, r"\+HTTPGETRPT: [^\r]*\r\n") == b"\r\n+HTTPGETRPT: 11\r\n"
        assert ask(host, "AT+FILEHTTPACTION=1,10,0,nothing.txt") == ERROR  # nothing to POST
        still_serving(host)


def test_data_link_down(tmp_path):
    with BlobServer() as server, neoway(tmp_path, link=False) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSETUP") == ERROR  # no AT+XIIC=1 yet
        assert ask(host, "AT+HTTPACTION=0") == NO_SOCKET  # 9.3: "PPP is not enabled"
        assert ask(host, "AT+FILEHTTPACTION=0,0,10") == b"\r\n+CME ERROR: 1001\r\n"
        assert ask(host, "AT+HTTPGET=0") == ERROR
        assert ask(host, "AT+XIIC=1") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+CGATT=0") == OK  # detached: the data link goes with it
        assert ask(host, "AT+HTTPACTION=0") == NO_SOCKET
        assert ask(host, "AT+HTTPSACTION=0") == ERROR
        assert ask(host, "AT+FILEHTTPACTION=0,0,10") == b"\r\n+CME ERROR: 1001\r\n"
        assert server.requests == []


# ---- bad input ----------------------------------------------------------------------------------------

BAD = [
    "AT+HTTPPARA=url,", "AT+HTTPPARA=url", "AT+HTTPPARA", "AT+HTTPPARA?", "AT+HTTPPARA=?", "AT+HTTPPARA=foo,1",
    "AT+HTTPPARA=port,0", "AT+HTTPPARA=port,65536", "AT+HTTPPARA=port,abc", "AT+HTTPPARA=port,-1",
    "AT+HTTPPARA=keepalive,2", "AT+HTTPPARA=recvmode,5", 'AT+HTTPPARA=url,"www.neoway.com.cn/x',
    'AT+HTTPPARA=url,"www.neoway.com.cn/x"y', "AT+HTTPPARA=url,www.neoway.com.cn/a b", "AT+HTTPPARA=url,http:///x",
    "AT+HTTPPARA=url,[::1/x", "AT+HTTPPARA=url,host:99999/x", "AT+HTTPSPARA=url,h/" + "a" * 511,
    "AT+HTTPSETUP=1", "AT+HTTPSETUP?", "AT+HTTPCLOSE=1",
    "AT+HTTPACTION=3", "AT+HTTPACTION=-1", "AT+HTTPACTION=0,1", "AT+HTTPACTION=0,0,0", "AT+HTTPACTION=1,5",
    "AT+HTTPACTION=2", "AT+HTTPACTION=2,0", "AT+HTTPACTION=2,2049", "AT+HTTPACTION=2,10,5", "AT+HTTPACTION=2,adasd",
    "AT+HTTPACTION=99", "AT+HTTPACTION=99,10,1", "AT+HTTPACTION=0,,", "AT+HTTPACTION=0,99999999999,1",
    "AT+HTTPACTION=0,1,2,3", "AT+HTTPACTION", 'AT+HTTPACTION="0"x',
    "AT+HTTPGET", "AT+HTTPGET=2", "AT+HTTPGET=0,0", "AT+HTTPGET=0,1,abc", "AT+HTTPGET=0,0,", "AT+HTTPGETSTAT",
    "AT+HTTPGETSTAT=1", 'AT+HTTPSCFG="sslversion",4', 'AT+HTTPSCFG="authmode",3', 'AT+HTTPSCFG="foo",1',
    'AT+HTTPSCFG="cacert","../x.pem"', "AT+HTTPSCFG", 'AT+HTTPSCFG="authmode"',
    "AT+XIIC=2", "AT+XIIC", "AT+XIIC=?", "AT+NOSUCH", "ATX", "hello",
    "AT+CDNSGIP", "AT+CDNSGIP=", 'AT+CDNSGIP=""', 'AT+CDNSGIP=" "', "AT+CDNSGIP=www.neoway.com.cn", "AT+CDNSGIP?",
    "AT+CDNSGIP=?", 'AT+CDNSGIP="www.neoway.com.cn",1', 'AT+CDNSGIP="www.neoway.com.cn', 'AT+CDNSGIP="' + "a" * 256 + '"',
]
BAD_FILE = [
    "AT+FILEHTTPACTION=2,0,10", "AT+FILEHTTPACTION=0,0", "AT+FILEHTTPACTION=0,0,524289", "AT+FILEHTTPACTION=0,0,0",
    "AT+FILEHTTPACTION=1,10,7,a.txt", "AT+FILEHTTPACTION=1,10,0", "AT+FILEHTTPACTION=1,0,0,a.txt",
    "AT+FILEHTTPACTION=0,0,10,../x", "AT+FILEHTTPACTION=1,524289,0,a.txt", "AT+FILEHTTPSACTION=0,x,10",
    'AT+FILEHTTPACTION=1,10,0,"a.txt',
]


def test_bad_commands_are_errors(tmp_path):
    root = fs_root(tmp_path)
    root.mkdir(parents=True, exist_ok=True)
    (root / "a.txt").write_bytes(b"0123456789")
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, f"AT+HTTPSPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSETUP") == OK  # so that FILEHTTPACTION gets to its parameters
        for line in BAD:
            assert ask(host, line) == ERROR, line
            still_serving(host)
        for line in BAD_FILE:
            assert ask(host, line) == b"\r\n+CME ERROR: 53\r\n", line
            still_serving(host)
        assert ask(host, "AT+HTTPACTION=0") == OK  # the link survived all of it
        assert wait_for(host, r"\+HTTPCLOSED: [^\r]*\r\n").endswith(blob_bytes(1, 0) + CLOSED_LINE)
    assert [path for _, path, _ in server.requests] == ["/blob/1"]


@pytest.mark.parametrize("raw", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r",                      # not ending in CRLF
    b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",                   # a method the request model lacks
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc\r\n",  # body shorter than said
    b"GET / HTTP/1.1\r\n\r\n",                               # HTTP/1.1 without Host
    b"not http at all\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n",  # bytes after the request
])
def test_bad_raw_requests_are_errors(tmp_path, raw):
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, f"AT+HTTPACTION=99,{len(raw)}").endswith(b"\r\n>")
        host.send(raw)
        assert wait_for(host, r"\r\n(OK|ERROR)\r\n") == ERROR
        still_serving(host)
        assert server.requests == []


def test_random_bytes(tmp_path):
    """100 KB of seeded random bytes: every line of it an error, the module still serving after."""
    noise = random.Random(20240521).randbytes(100_000)
    with neoway(tmp_path) as (host, side):
        host.send(noise)
        host.send(b"\rAT+CGSN\r")
        text = wait_for(host, r"\r\n\+CGSN: 861234567890123\r\n\r\nOK\r\n", timeout=20)  # N58 4.8: with the prefix
        assert text.count(ERROR) > 100 and OK not in text[: -len(OK)]
        still_serving(host)
        assert ask(host, "AT+HTTPPARA=port,80") == OK
