"""Fault conversations of Neoway firmware, held against whatever plays the Neoway module: the
Neoway emulator by default (tests/system/test_emulator_neoway_faults.py), or the bridge to a
OneMO emulator (`neoway=through_the_bridge`, tests/system/test_bridge_neoway_faults.py) -- the
same bytes expected of both.  `fs_root(tmp_path)` is the file system the firmware's paths name."""
from __future__ import annotations

import random

from support.neoway_emulated import OK, ask, fs_root, neoway, wait_for
from support.servers import BlobServer, blob_bytes, server_context

HOST = "www.neoway.com.cn"
ERROR = b"\r\nERROR\r\n"
NO_SOCKET = b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"
CLOSED_LINE = b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"


def still_serving(host) -> None:
    assert ask(host, "AT") == OK
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


def data_after_prompt_never_comes(tmp_path, ca, family, answer, sent, neoway=neoway):
    tls = server_context(ca) if family == "HTTPS" else None
    with BlobServer(tls) as server, neoway(tmp_path, input_timeout=0.3) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,{HOST}:{server.port}/echo") == OK
        assert ask(host, f"AT+{family}SETUP") == OK
        assert ask(host, f"AT+{family}ACTION=2,10").endswith(b"\r\n>")
        host.send(sent)
        assert wait_for(host, r"\r\n(\+HTTPACTION: [^\r]*|ERROR)\r\n", timeout=5) == answer
        still_serving(host)
        assert server.requests == []


def data_link_down(tmp_path, neoway=neoway):
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


def bad_commands_are_errors(tmp_path, neoway=neoway, fs_root=fs_root):
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


def bad_raw_requests_are_errors(tmp_path, raw, neoway=neoway):
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/1") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, f"AT+HTTPACTION=99,{len(raw)}").endswith(b"\r\n>")
        host.send(raw)
        assert wait_for(host, r"\r\n(OK|ERROR)\r\n") == ERROR
        still_serving(host)
        assert server.requests == []


def random_bytes(tmp_path, neoway=neoway):
    """100 KB of seeded random bytes: every line of it an error, the module still serving after."""
    noise = random.Random(20240521).randbytes(100_000)
    with neoway(tmp_path) as (host, side):
        host.send(noise)
        host.send(b"\rAT+CGSN\r")
        text = wait_for(host, r"\r\n\+CGSN: 861234567890123\r\n\r\nOK\r\n", timeout=20)  # N58 4.8: with the prefix
        assert text.count(ERROR) > 100 and OK not in text[: -len(OK)]
        still_serving(host)
        assert ask(host, "AT+HTTPPARA=port,80") == OK
