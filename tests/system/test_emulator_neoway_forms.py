"""Each command form of the Neoway emulator over a real pty against real loopback servers: url
forms, ranged GET, POST types, raw requests, keepalive, HTTPCLOSE timing, chunked responses,
HTTPS with server (and client) verification, the data link, HTTPGET and FILEHTTPACTION."""
from __future__ import annotations

import hashlib
import json
import re
import socket

import pytest

from bridge.at.dialect import load
from bridge.device.fs import ModuleFileSystem
from support.servers import BlobServer, blob_bytes, blob_sha256, install_ca, install_client_cert, server_context
from support.neoway_emulated import OK, Canned, Reader, ask, fs_root, neoway, wait_for

HOST = "www.neoway.com.cn"
CLOSED = r"\r\n\+HTTPCLOSED: HTTP Link Closed\r\n"
CLOSED_LINE = b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"
PIECE = re.compile(rb"\r\n\+HTTPRECV: (\d+),")
POST_TYPES = load("neoway").enums["post_type"]


@pytest.fixture
def server():
    with BlobServer() as srv:
        yield srv


def setup(host, url: str, family: str = "HTTP", **para) -> None:
    for name, value in para.items():
        assert ask(host, f"AT+{family}PARA={name},{value}") == OK
    assert ask(host, f"AT+{family}PARA=url,{url}") == OK
    assert ask(host, f"AT+{family}SETUP") == OK


def get_body(host, closed: str = CLOSED) -> tuple[bytes, bytes]:
    """After HTTPACTION's OK, a recvmode-0 response: (head, body) up to the close URC."""
    text = wait_for(host, closed)
    head, _, rest = text.partition(b"\r\n\r\n")
    return head, rest[: rest.rindex(b"\r\n+HTTP")]


# ---- HTTPPARA url forms and limits ----------------------------------------------------------------


@pytest.mark.parametrize("form", ["{h}:{p}/blob/7", '"{h}:{p}/blob/7"', "http://{h}:{p}/blob/7", "URL", "PORT"])
def test_url_forms(tmp_path, server, form):
    with neoway(tmp_path) as (host, side):
        if form == "URL":  # parameter names in upper case, as some firmware writes them
            assert ask(host, f"AT+HTTPPARA=URL,{HOST}/blob/7") == OK
            assert ask(host, f"AT+HTTPPARA=PORT,{server.port}") == OK
        elif form == "PORT":  # the port setting wins over a port in the url
            assert ask(host, f"AT+HTTPPARA=url,{HOST}:1/blob/7") == OK
            assert ask(host, f"AT+HTTPPARA=port,{server.port}") == OK
        else:
            assert ask(host, "AT+HTTPPARA=url," + form.format(h=HOST, p=server.port)) == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        assert ask(host, "AT+HTTPACTION=0") == OK
        head, body = get_body(host)
        assert body == blob_bytes(7, 0)
    assert server.requests[0][1] == "/blob/7"
    assert dict(server.requests[0][2])["Host"] == f"{HOST}:{server.port}"


@pytest.mark.parametrize("family, limit", [("HTTP", 2048), ("HTTPS", 512)])
def test_url_length_limit(tmp_path, family, limit):
    base = f"{HOST}/"
    with neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,{base}{'a' * (limit - len(base))}") == OK
        assert ask(host, f"AT+{family}PARA=url,{base}{'a' * (limit + 1 - len(base))}") == b"\r\nERROR\r\n"


# ---- HTTPACTION modes ---------------------------------------------------------------------------


def test_ranged_get_in_pieces(tmp_path, server):
    """recvmode 1: "+HTTPRECV: <len>,<data>" pieces of exact raw lengths, the first one starting with
    the status line; together they are the response, whose body is the requested slice."""
    size, offset, count = 100_000, 1234, 20_000
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/blob/{size}?seed=4", recvmode=1)
        assert ask(host, f"AT+HTTPACTION=0,{offset},{count}") == OK
        text = wait_for(host, CLOSED)
    pieces, position = [], 0
    while (match := PIECE.match(text, position)) is not None:
        length = int(match.group(1))
        pieces.append(text[match.end():match.end() + length])
        assert text[match.end() + length:match.end() + length + 2] == b"\r\n"
        position = match.end() + length + 2
    assert text[position:] == CLOSED_LINE
    assert pieces[0].startswith(b"HTTP/1.1 206 Partial Content\r\n")
    assert max(map(len, pieces)) <= side.piece_max
    head, _, body = b"".join(pieces).partition(b"\r\n\r\n")
    assert f"Content-Range: bytes {offset}-{offset + count - 1}/{size}".encode() in head
    assert body == blob_bytes(size, 4, offset, offset + count)
    assert dict(server.requests[0][2])["Range"] == f"bytes={offset}-{offset + count - 1}"


@pytest.mark.parametrize("post_type", sorted(POST_TYPES))
def test_post_types(tmp_path, server, post_type):
    data = b'{"a": [1, 2], "b": "x,y\r\n"}' * 20
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/echo/headers")
        assert ask(host, f"AT+HTTPACTION=2,{len(data)},{post_type}").endswith(b"\r\n>")
        host.send(data)
        assert wait_for(host, r"\r\nOK\r\n") == OK
        head, body = get_body(host)
    info = json.loads(body)
    assert info["method"] == "POST" and info["body_length"] == len(data)
    assert dict(info["headers"])["Content-Type"] == POST_TYPES[post_type]


def test_post_default_type_and_body(tmp_path, server):
    data = bytes(range(256)) * 8  # 2048: the most the manual allows, any byte value
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/echo")
        assert ask(host, "AT+HTTPACTION=2,2048").endswith(b"\r\n>")
        host.send(data)
        assert wait_for(host, r"\r\nOK\r\n") == OK
        head, body = get_body(host)
    assert body == data
    assert dict(server.requests[0][2])["Content-Type"] == POST_TYPES["0"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD"])
def test_raw_request(tmp_path, method):
    """Mode 99: the host's own request; the response is framed by its method (HEAD: no body)."""
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n" + (b"" if method == "HEAD" else b"hello")
    body = b"x=1" if method == "PUT" else b""
    request = (f"{method} /api/item?id=7 HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer abc\r\n"
               f"X-Custom: yes\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body + b"\r\n"
    with Canned(response) as server, neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/ignored")
        assert ask(host, f"AT+HTTPACTION=99,{len(request)}").endswith(b"\r\n>")
        host.send(request)
        assert wait_for(host, r"\r\nOK\r\n") == OK
        text = wait_for(host, CLOSED)
    assert text.startswith(b"\r\n+HTTPRECV:\r\n" + response)
    seen = server.seen[0]
    assert (seen.method, seen.target, seen.body) == (method, "/api/item?id=7", body)
    assert {("Authorization", "Bearer abc"), ("X-Custom", "yes"), ("Host", HOST)} <= set(seen.headers)


def test_chunked_response_recvmode0(tmp_path, server):
    """A chunked response stays valid HTTP: the host's framer de-chunks it to the server's body."""
    size = 300_000
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/blob/{size}?seed=8&chunked=1")
        assert ask(host, "AT+HTTPACTION=0") == OK
        got = Reader(host).response("+HTTPCLOSED")
    assert got.length == size and got.digest.hexdigest() == blob_sha256(size, 8)
    assert got.events == ["Info +HTTPRECV", "HttpHead", "HttpEnd", "Info +HTTPCLOSED"]


# ---- the link: keepalive, HTTPCLOSE --------------------------------------------------------------


def test_keepalive_keeps_the_link(tmp_path, server):
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/blob/10", keepalive=1)
        for _ in range(2):  # no HTTPSETUP between: the link stays up, no +HTTPCLOSED
            assert ask(host, "AT+HTTPACTION=0") == OK
            text = wait_for(host, r"\r\n\r\n")
            assert text.startswith(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n")
            assert host.read_exactly(10) == blob_bytes(10, 0)
        assert ask(host, "AT+HTTPCLOSE") == OK
        assert wait_for(host, r"\r\n\+HTTPCLOSE: [^\r]*\r\n") == b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n"
        assert ask(host, "AT+HTTPCLOSE") == OK  # no link: only OK
        assert ask(host, "AT+HTTPACTION=0") == b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"
        assert ask(host, "AT+HTTPSETUP") == b"\r\nERROR\r\n"  # HTTPCLOSE cleared the url
    assert [dict(h).get("Connection") for _, _, h in server.requests] == [None, None]


def test_link_closes_after_each_response_without_keepalive(tmp_path, server):
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/blob/10")
        assert ask(host, "AT+HTTPACTION=0") == OK
        wait_for(host, CLOSED)
        assert ask(host, "AT+HTTPACTION=0") == b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"
        assert ask(host, "AT+HTTPSETUP") == OK  # the url is kept; set the link up again
        assert ask(host, "AT+HTTPACTION=1") == OK
        text = wait_for(host, CLOSED)
    assert text.startswith(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n") and text.index(b"\r\n\r\n") == len(text) - len(b"\r\n\r\n" + CLOSED_LINE)


@pytest.mark.parametrize("keepalive", [0, 1])
def test_httpclose_answers_after_the_response(tmp_path, server, keepalive):
    size = 2_000_000
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/blob/{size}?seed=2", keepalive=keepalive)
        assert ask(host, "AT+HTTPACTION=0") == OK
        host.command("AT+HTTPCLOSE")  # while the body streams
        reader = Reader(host)
        got = reader.until("Final OK") if keepalive else reader.response("+HTTPCLOSED")
        assert got.length == size and got.digest.hexdigest() == blob_sha256(size, 2)
        if keepalive:  # the response, then HTTPCLOSE's answer: OK and the link closed by it
            assert reader.response("+HTTPCLOSE").events == ["Info +HTTPRECV", "HttpHead", "HttpEnd", "Final OK", "Info +HTTPCLOSE"]
        else:  # the server closed the link with the response; HTTPCLOSE then has only OK to say
            assert reader.until("Final OK").events == ["Info +HTTPRECV", "HttpHead", "HttpEnd", "Info +HTTPCLOSED", "Final OK"]


# ---- HTTPS ----------------------------------------------------------------------------------------


def test_https_verifies_the_server_with_the_ca_in_the_module_fs(tmp_path, ca):
    size = 50_000
    with BlobServer(server_context(ca, names=(HOST,))) as server, neoway(tmp_path) as (host, side):
        install_ca(ModuleFileSystem(fs_root(tmp_path)), ca, "certs/ca.pem")
        assert ask(host, 'AT+HTTPSCFG="cacert","certs/ca.pem"') == OK
        assert ask(host, 'AT+HTTPSCFG="authmode",1') == OK
        assert ask(host, "AT+HTTPSCFG?") == b"\r\n+HTTPSCFG: 3,1,,certs/ca.pem,,\r\n" + OK
        setup(host, f"{HOST}:{server.port}/blob/{size}?seed=6", family="HTTPS")
        assert ask(host, "AT+HTTPSACTION=0") == OK
        got = Reader(host).response("+HTTPSCLOSED")
    assert got.length == size and got.digest.hexdigest() == blob_sha256(size, 6)


def test_https_client_certificate(tmp_path, ca):
    context = server_context(ca, names=(HOST,), require_client_cert=True)
    with BlobServer(context) as server, neoway(tmp_path) as (host, side):
        fs = ModuleFileSystem(fs_root(tmp_path))
        install_ca(fs, ca, "ca.pem")
        install_client_cert(fs, ca, "cc.pem", "ck.pem")
        for option, value in (("authmode", "2"), ("cacert", "ca.pem"), ("clientcert", "cc.pem"), ("clientkey", "ck.pem")):
            assert ask(host, f'AT+HTTPSCFG="{option}","{value}"') == OK
        setup(host, f"{HOST}:{server.port}/blob/100", family="HTTPS", recvmode=1)
        assert ask(host, "AT+HTTPSACTION=0") == OK
        text = wait_for(host, r"\r\n\+HTTPSCLOSED: HTTPS Link Closed\r\n")
        assert text.startswith(b"\r\n+HTTPSRECV: ") and blob_bytes(100, 0) in text
        assert server.peer_certs and server.peer_certs[0]
        assert ask(host, "AT+HTTPSCLOSE") == OK  # the link was closed by the server already


# ---- the data link ----------------------------------------------------------------------------------


def test_xiic(tmp_path):
    with neoway(tmp_path, link=False) as (host, side):
        assert ask(host, "AT+XIIC?") == b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK
        assert ask(host, "AT+XIIC=1") == OK
        assert ask(host, "AT+XIIC?") == b"\r\n+XIIC:    1,10.0.0.2\r\n" + OK
        assert ask(host, "AT+CGATT=0") == OK
        assert ask(host, "AT+XIIC?") == b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK
        assert ask(host, "AT$MYNETACT=0,1") == b"\r\nERROR\r\n"  # an N720 command


def test_n720_mynetact(tmp_path, server):
    with neoway(tmp_path, model="N720", link=False) as (host, side):
        assert ask(host, "AT+XIIC=1") == b"\r\nERROR\r\n"  # N58 only
        assert ask(host, "AT$MYNETACT?") == b'\r\n$MYNETACT: 0,0,"0.0.0.0"\r\n' + OK
        assert ask(host, "AT$MYNETACT=0,1") == OK
        assert ask(host, "AT$MYNETACT?") == b'\r\n$MYNETACT: 0,1,"10.0.0.2"\r\n' + OK
        setup(host, f"{HOST}:{server.port}/blob/3")
        assert ask(host, "AT+HTTPACTION=0") == OK
        assert wait_for(host, CLOSED).endswith(blob_bytes(3, 0) + CLOSED_LINE)


# ---- CDNSGIP (N58 firmware's DNS query, outside chapter 9) -------------------------------------------


def cdnsgip(host, name: str) -> bytes:
    """AT+CDNSGIP="<name>": everything up to the +CDNSGIP line that follows its OK."""
    host.command(f'AT+CDNSGIP="{name}"')
    return wait_for(host, r"\+CDNSGIP: [^\r]*\r\n")


def test_cdnsgip_answers_from_the_hosts_map(tmp_path, monkeypatch):
    """OK, then +CDNSGIP: 1,"<name>","<ip>"[,"<ip2>"] from the emulator's hosts map (an IP literal
    is itself); 0,8 for a name it lacks; 0,3 without the data link.  Never a real DNS query."""
    def no_dns(*args, **kwargs):
        raise AssertionError(f"a DNS lookup was attempted: {args}")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, no_dns)
    hosts = {HOST: ["127.0.0.1"], "two.test": ["127.0.0.2", "::1"]}
    with neoway(tmp_path, hosts=hosts, link=False) as (host, side):
        assert cdnsgip(host, HOST) == OK + b"\r\n+CDNSGIP: 0,3\r\n"  # network error: no data link
        assert ask(host, "AT+XIIC=1") == OK
        assert cdnsgip(host, HOST) == OK + f'\r\n+CDNSGIP: 1,"{HOST}","127.0.0.1"\r\n'.encode()
        assert cdnsgip(host, "Two.Test") == OK + b'\r\n+CDNSGIP: 1,"Two.Test","127.0.0.2","::1"\r\n'
        assert cdnsgip(host, "10.1.2.3") == OK + b'\r\n+CDNSGIP: 1,"10.1.2.3","10.1.2.3"\r\n'
        assert cdnsgip(host, "unknown.example") == OK + b"\r\n+CDNSGIP: 0,8\r\n"  # DNS common error
        assert ask(host, "AT+CGATT=0") == OK  # detached: the data link goes with it
        assert cdnsgip(host, HOST) == OK + b"\r\n+CDNSGIP: 0,3\r\n"
        assert ask(host, "AT") == OK


def test_cdnsgip_is_n58_only(tmp_path):
    with neoway(tmp_path, model="N720") as (host, side):
        assert ask(host, f'AT+CDNSGIP="{HOST}"') == b"\r\nERROR\r\n"


# ---- HTTPGET and FILEHTTPACTION --------------------------------------------------------------------


def test_httpget_http_status_failure(tmp_path, server):
    with neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=url,{HOST}:{server.port}/status/404") == OK
        assert ask(host, "AT+HTTPGET=0") == OK
        assert wait_for(host, r"\+HTTPGETRPT: [^\r]*\r\n") == b"\r\n+HTTPGETRPT: 11,404\r\n"
        assert ask(host, "AT+HTTPGETSTAT?") == b"\r\n+HTTPGETSTAT: 11,404\r\n" + OK


def test_filehttpaction_post_sends_the_file(tmp_path):
    data = blob_bytes(300_000, 12)
    fs_root(tmp_path).mkdir(parents=True, exist_ok=True)
    (fs_root(tmp_path) / "data.json").write_bytes(data)
    with Canned(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n") as server, neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/upload")
        assert ask(host, "AT+FILEHTTPACTION=1,250000,2,data.json") == OK
        assert wait_for(host, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 1,1,250000\r\n"
        assert ask(host, "AT+FILEHTTPACTION=1,300001,2,data.json") == b"\r\n+CME ERROR: 53\r\n"  # longer than the file
    seen = server.seen[0]
    assert hashlib.sha256(seen.body).hexdigest() == hashlib.sha256(data[:250_000]).hexdigest()
    assert ("Content-Type", POST_TYPES["2"]) in seen.headers


def test_filehttpaction_get_to_a_named_file(tmp_path, server):
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/blob/5000?seed=1")
        assert ask(host, 'AT+FILEHTTPACTION=0,100,1000,"dl/piece.bin"') == OK
        assert wait_for(host, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 0,1,1000\r\n"
    assert (fs_root(tmp_path) / "dl" / "piece.bin").read_bytes() == blob_bytes(5000, 1, 100, 1100)


def test_filehttpaction_404(tmp_path, server):
    with neoway(tmp_path) as (host, side):
        setup(host, f"{HOST}:{server.port}/missing")
        assert ask(host, "AT+FILEHTTPACTION=0,0,10") == OK
        assert wait_for(host, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 0,1416\r\n"


def test_echo_and_verbose_errors(tmp_path):
    with neoway(tmp_path) as (host, side):
        assert ask(host, "ATE1") == OK
        assert ask(host, "AT+HTTPPARA=port,0") == b"AT+HTTPPARA=port,0\r\r\nERROR\r\n"
        assert ask(host, "AT+CMEE=2").endswith(OK)
        assert ask(host, "AT+CGATT=0").endswith(OK)
        assert ask(host, "AT+FILEHTTPACTION=0,0,10").endswith(b"\r\n+CME ERROR: PDP not active (no data link)\r\n")
