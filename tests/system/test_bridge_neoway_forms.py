"""Every Neoway command form through the bridge, over real ptys, against loopback servers:
HTTPPARA (url quoted / unquoted, port, keepalive, recvmode), HTTPSETUP, HTTPACTION 0 / 1 / 2 (each
POST type) / 99 (PUT, DELETE with Authorization) / ranged GET, HTTPCLOSE, the HTTPS family with a
CA carried from the bridge's file system to the OneMO module, FILEHTTP(S)ACTION into the OneMO
module's file system, and AT+XIIC answered from the OneMO module's state."""
from __future__ import annotations

import hashlib
import io
import json
import re
import ssl

import pytest

from bridge.at.dialect import load
from support.servers import BlobServer, blob_bytes, blob_sha256, install_ca, install_client_cert, server_context
from support.neoway_bridged import (
    CLOSED,
    CLOSED_RE,
    ERROR,
    HOST,
    NO_SOCKET,
    OK,
    Response,
    action,
    ask,
    bridge_fs,
    module_root,
    recv0,
    session,
    setup,
    sha256_file,
    trace_records,
    wait_for,
)
from support.neoway_emulated import Reader, example_stream

POST_TYPES = load("neoway").enums["post_type"]
PIECE = re.compile(rb"\r\n\+HTTPS?RECV: (\d+),")


@pytest.fixture
def server():
    with BlobServer() as srv:
        yield srv


def pieces_of(text: bytes, closed: bytes) -> list[bytes]:
    """The payloads of "+HTTPRECV: <len>,<data>" CRLF pieces that make up `text`, up to `closed`."""
    pieces, position = [], 0
    while (match := PIECE.match(text, position)) is not None:
        length = int(match.group(1))
        pieces.append(text[match.end():match.end() + length])
        assert text[match.end() + length:match.end() + length + 2] == b"\r\n"
        position = match.end() + length + 2
    assert text[position:] == closed
    return pieces


# ---- HTTPPARA, HTTPSETUP, HTTPACTION=0 -------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize("form", ["unquoted", "quoted", "port", "scheme"])
def test_httppara_url_and_port(tmp_path, server, form):
    with session(tmp_path) as (fw, bridge, module):
        if form == "port":  # the port setting wins over a port in the url
            assert ask(fw, f"AT+HTTPPARA=url,{HOST}:1/blob/7?seed=5") == OK
            assert ask(fw, f"AT+HTTPPARA=port,{server.port}") == OK
        else:
            url = {"unquoted": "{h}:{p}/blob/7?seed=5", "quoted": '"{h}:{p}/blob/7?seed=5"',
                   "scheme": "http://{h}:{p}/blob/7?seed=5"}[form]
            assert ask(fw, "AT+HTTPPARA=url," + url.format(h=HOST, p=server.port)) == OK
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+HTTPACTION=0") == OK
        head, body = recv0(fw)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 7\r\n" in head
    assert body == blob_bytes(7, 5)
    method, path, headers = server.requests[0]
    assert (method, path, dict(headers)["Host"]) == ("GET", "/blob/7", f"{HOST}:{server.port}")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_ranged_get(tmp_path, server, recvmode):
    """AT+HTTPACTION=0,<offset>,<size>: a Range request; the 206 carries Content-Range, from which
    firmware reads the total size.  recvmode 1: pieces of exact raw lengths, the first one
    starting with the status line (the manual's 9.5 example)."""
    size, offset, count = 100_000, 1234, 20_000
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/{size}?seed=4", recvmode=recvmode)
        assert ask(fw, f"AT+HTTPACTION=0,{offset},{count}") == OK
        if recvmode == "1":
            pieces = pieces_of(wait_for(fw, CLOSED_RE["HTTP"]), CLOSED["HTTP"])
            assert pieces[0].startswith(b"HTTP/1.1 206 Partial Content\r\n")
            assert max(map(len, pieces)) <= bridge.engine.module_side.piece_max
            head, _, body = b"".join(pieces).partition(b"\r\n\r\n")
        else:
            head, body = recv0(fw)
    assert f"Content-Range: bytes {offset}-{offset + count - 1}/{size}".encode() in head
    assert body == blob_bytes(size, 4, offset, offset + count)
    assert dict(server.requests[0][2])["Range"] == f"bytes={offset}-{offset + count - 1}"


@pytest.mark.timeout(10)
def test_head(tmp_path, server):
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/5000")
        assert ask(fw, "AT+HTTPACTION=1") == OK
        text = wait_for(fw, CLOSED_RE["HTTP"])
    assert text.startswith(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n")
    assert text.endswith(b"Content-Length: 5000\r\n\r\n" + CLOSED["HTTP"])  # the head, no body
    assert server.requests[0][0] == "HEAD"


# ---- POST, raw requests -------------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize("post_type", sorted(POST_TYPES))
def test_post_type_reaches_the_server(tmp_path, server, post_type):
    data = b'{"a": [1, 2], "b": "x,y\r\n"}' * 20
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/echo/headers")
        assert action(fw, f"AT+HTTPACTION=2,{len(data)},{post_type}", data) == OK
        head, body = recv0(fw)
    info = json.loads(body)
    assert info["method"] == "POST" and info["body_length"] == len(data)
    assert dict(info["headers"])["Content-Type"] == POST_TYPES[post_type]


@pytest.mark.timeout(10)
def test_post_without_type_sends_the_body_as_form_data(tmp_path, server):
    data = bytes(range(256)) * 8  # 2048: the most the manual allows, every byte value
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/echo")
        assert action(fw, "AT+HTTPACTION=2,2048", data) == OK
        got = Response(fw, "POST", keep=True).until_frame("Info", "+HTTPCLOSED")
    assert got.body == data
    assert dict(server.requests[0][2])["Content-Type"] == POST_TYPES["0"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_raw_request_with_authorization(tmp_path, server, method):
    """Mode 99: the firmware's own request -- method, target, Authorization and custom headers,
    body -- reaches the server as written."""
    body = b'{"on": true}' if method == "PUT" else b""
    request = (f"{method} /echo/headers?id=7 HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer abc.def\r\n"
               f"X-Custom: yes\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body + b"\r\n"
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/ignored")
        assert action(fw, f"AT+HTTPACTION=99,{len(request)}", request) == OK
        head, reply = recv0(fw)
    info = json.loads(reply)
    headers = dict(info["headers"])
    assert (info["method"], info["body_length"]) == (method, len(body))
    assert headers["Authorization"] == "Bearer abc.def" and headers["X-Custom"] == "yes" and headers["Host"] == HOST
    assert server.requests[0][:2] == (method, "/echo/headers")


# ---- the link: keepalive, HTTPCLOSE --------------------------------------------------------------


@pytest.mark.timeout(10)
def test_keepalive_then_httpclose(tmp_path, server):
    """keepalive 1: two requests on one HTTPSETUP, no +HTTPCLOSED; HTTPCLOSE: OK and
    "+HTTPCLOSE: HTTP Link Closed" (a link was up), again: only OK; the url is cleared."""
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/10", keepalive=1)
        for _ in range(2):
            assert ask(fw, "AT+HTTPACTION=0") == OK
            assert wait_for(fw, r"\r\n\r\n").startswith(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n")
            assert fw.read_exactly(10) == blob_bytes(10, 0)
        assert ask(fw, "AT+HTTPCLOSE") == OK
        assert wait_for(fw, r"\r\n\+HTTPCLOSE: [^\r]*\r\n") == b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n"
        assert ask(fw, "AT+HTTPCLOSE") == OK
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET
        assert ask(fw, "AT+HTTPSETUP") == ERROR
        assert b"+HTTPCLOSED" not in bytes(fw.seen)
    assert len(server.requests) == 2 and server.connections == 1  # the OneMO module kept its connection


@pytest.mark.timeout(10)
def test_keepalive_link_closed_by_the_server(tmp_path, server):
    """keepalive 1, but the server answers "Connection: close": +HTTPCLOSED after the response,
    as a Neoway module reports the server closing; HTTPSETUP again, and the next one works."""
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/status/200?close=1", keepalive=1)
        assert ask(fw, "AT+HTTPACTION=0") == OK
        text = wait_for(fw, CLOSED_RE["HTTP"])
        assert text.startswith(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n")
        assert text.endswith(b"Connection: close\r\nContent-Length: 0\r\n\r\n" + CLOSED["HTTP"])
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET
        setup(fw, f"{HOST}:{server.port}/blob/5")
        assert ask(fw, "AT+HTTPACTION=0") == OK
        assert wait_for(fw, r"\r\n\r\n").startswith(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n")
        assert fw.read_exactly(5) == blob_bytes(5, 0)
        assert ask(fw, "AT+HTTPCLOSE") == OK  # the kept link is closed by it
        assert wait_for(fw, r"\r\n\+HTTPCLOSE: [^\r]*\r\n") == b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n"


@pytest.mark.timeout(10)
def test_link_closes_after_each_response_without_keepalive(tmp_path, server):
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/10")
        assert ask(fw, "AT+HTTPACTION=0") == OK
        wait_for(fw, CLOSED_RE["HTTP"])
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET
        assert ask(fw, "AT+HTTPSETUP") == OK  # the url is kept
        assert ask(fw, "AT+HTTPCLOSE") == OK
        assert wait_for(fw, r"\r\n\+HTTPCLOSE: [^\r]*\r\n") == b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n"


@pytest.mark.timeout(15)
@pytest.mark.parametrize("keepalive", [0, 1])
def test_httpclose_while_the_body_streams(tmp_path, server, keepalive):
    """HTTPCLOSE sent while 2 MB stream: answered after the response, the same frames the Neoway
    emulator gives (tests/system/test_emulator_neoway_forms.py)."""
    size = 2_000_000
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/{size}?seed=2", keepalive=keepalive)
        assert ask(fw, "AT+HTTPACTION=0") == OK
        fw.command("AT+HTTPCLOSE")
        reader = Reader(fw)
        got = reader.until("Final OK") if keepalive else reader.response("+HTTPCLOSED")
        assert got.length == size and got.digest.hexdigest() == blob_sha256(size, 2)
        if keepalive:
            assert reader.response("+HTTPCLOSE").events == ["Info +HTTPRECV", "HttpHead", "HttpEnd", "Final OK", "Info +HTTPCLOSE"]
        else:
            assert reader.until("Final OK").events == ["Info +HTTPRECV", "HttpHead", "HttpEnd", "Info +HTTPCLOSED", "Final OK"]


# ---- HTTPS -----------------------------------------------------------------------------------------


def to_module(stream) -> str:
    """What the bridge wrote to the OneMO module, from its trace."""
    return "".join(r["data"] for r in trace_records(stream) if r["dir"] == "bridge->module" and isinstance(r["data"], str))


@pytest.mark.timeout(15)
@pytest.mark.parametrize("encoding", ["pem", "der"])
def test_https_with_the_ca_from_the_bridge_fs(tmp_path, ca, encoding):
    """HTTPSCFG sslversion / authmode / cacert: the CA file is in the bridge's file system; the
    bridge writes it to the OneMO module (AT+MSSLCERTWR, a DER file as PEM), selects it and
    server verification (MSSLCFG "cert" / "auth" 1 / "version" TLS 1.2), and the module verifies
    the trustme server with it.  Then HEAD and POST on a kept link, and HTTPSCLOSE."""
    trace = io.BytesIO()
    pem = ca.cert_pem.bytes()
    size = 50_000
    with BlobServer(server_context(ca, names=(HOST,))) as server, session(tmp_path, trace=trace) as (fw, bridge, module):
        if encoding == "pem":
            install_ca(bridge_fs(tmp_path), ca, "certs/ca.pem")
        else:
            bridge_fs(tmp_path).write_file("certs/ca.pem", ssl.PEM_cert_to_DER_cert(pem.decode()))
        assert ask(fw, 'AT+HTTPSCFG="sslversion",3') == OK
        assert ask(fw, 'AT+HTTPSCFG="authmode",1') == OK
        assert ask(fw, 'AT+HTTPSCFG="cacert","certs/ca.pem"') == OK
        assert ask(fw, "AT+HTTPSCFG?") == b"\r\n+HTTPSCFG: 3,1,,certs/ca.pem,,\r\n" + OK
        assert ask(fw, f"AT+HTTPSPARA=url,{HOST}/blob/{size}?seed=6") == OK
        assert ask(fw, f"AT+HTTPSPARA=port,{server.port}") == OK
        assert ask(fw, "AT+HTTPSPARA=keepalive,1") == OK
        assert ask(fw, "AT+HTTPSSETUP") == OK
        assert ask(fw, "AT+HTTPSACTION=0") == OK
        got = Reader(fw).until("HttpEnd")
        assert got.length == size and got.digest.hexdigest() == blob_sha256(size, 6)
        assert ask(fw, "AT+HTTPSACTION=1") == OK
        assert wait_for(fw, r"\r\n\r\n").startswith(b"\r\n+HTTPSRECV:\r\nHTTP/1.1 200 OK\r\n")
        assert action(fw, "AT+HTTPSACTION=2,4,2", b"[42]") == OK  # the blob server answers a POST like a GET
        assert wait_for(fw, r"\r\n\r\n").startswith(b"\r\n+HTTPSRECV:\r\nHTTP/1.1 200 OK\r\n")
        assert hashlib.sha256(fw.read_exactly(size)).hexdigest() == blob_sha256(size, 6)
        assert ask(fw, "AT+HTTPSCLOSE") == OK
        assert wait_for(fw, r"\r\n\+HTTPSCLOSE: [^\r]*\r\n") == b"\r\n+HTTPSCLOSE: HTTPS Link Closed\r\n"
    assert [r[0] for r in server.requests] == ["GET", "HEAD", "POST"]
    assert server.tls_errors == []
    text = to_module(trace)
    assert re.search(r'AT\+MSSLCERTWR="(\w+\.pem)",0,%d\r' % len(pem), text)
    assert 'AT+MSSLCFG="auth",0,1\r' in text and 'AT+MSSLCFG="version",0,3\r' in text
    stored = [p for p in (module_root(tmp_path) / "ssl").iterdir()]
    assert len(stored) == 1 and stored[0].read_bytes() == pem  # the module holds the CA


@pytest.mark.timeout(10)
def test_sslversion_becomes_msslcfg_version(tmp_path, ca):
    """HTTPSCFG sslversion 3 (TLS 1.2 and up) reaches OneMO as MSSLCFG "version" 3, and a TLS 1.2
    server connects.  The lower values name the lowest version offered, not a pin: a TLS 1.2 server
    must work with them too (tests/system/test_neoway_sslversion.py)."""
    trace = io.BytesIO()
    with BlobServer(server_context(ca, names=(HOST,))) as server, session(tmp_path, trace=trace) as (fw, bridge, module):
        assert ask(fw, 'AT+HTTPSCFG="sslversion",3') == OK
        setup(fw, f"{HOST}:{server.port}/blob/10", family="HTTPS")
        assert ask(fw, "AT+HTTPSACTION=0") == OK
        assert recv0(fw, "HTTPS")[1] == blob_bytes(10, 0)
        assert ask(fw, "AT") == OK
    assert 'AT+MSSLCFG="version",0,3\r' in to_module(trace)


@pytest.mark.timeout(10)
def test_https_client_certificate(tmp_path, ca):
    """authmode 2 with clientcert / clientkey from the bridge's file system: the server, which
    requires one, sees the client certificate."""
    context = server_context(ca, names=(HOST,), require_client_cert=True)
    with BlobServer(context) as server, session(tmp_path) as (fw, bridge, module):
        fs = bridge_fs(tmp_path)
        install_ca(fs, ca, "ca.pem")
        install_client_cert(fs, ca, "cc.pem", "ck.pem")
        for option, value in (("authmode", "2"), ("cacert", "ca.pem"), ("clientcert", "cc.pem"), ("clientkey", "ck.pem")):
            assert ask(fw, f'AT+HTTPSCFG="{option}","{value}"') == OK
        setup(fw, f"{HOST}:{server.port}/blob/100", family="HTTPS", recvmode=1)
        assert ask(fw, "AT+HTTPSACTION=0") == OK
        pieces = pieces_of(wait_for(fw, CLOSED_RE["HTTPS"]), CLOSED["HTTPS"])
    assert b"".join(pieces).endswith(b"\r\n\r\n" + blob_bytes(100, 0))
    assert server.peer_certs and server.peer_certs[0]


# ---- HTTPGET ---------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_httpget_http_status_failure(tmp_path, server):
    with session(tmp_path) as (fw, bridge, module):
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/status/404") == OK
        assert ask(fw, "AT+HTTPGET=0") == OK
        assert wait_for(fw, r"\+HTTPGETRPT: [^\r]*\r\n") == b"\r\n+HTTPGETRPT: 11,404\r\n"
        assert ask(fw, "AT+HTTPGETSTAT?") == b"\r\n+HTTPGETSTAT: 11,404\r\n" + OK


# ---- FILEHTTPACTION / FILEHTTPSACTION ----------------------------------------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_filehttpaction_examples(tmp_path, ca, family):
    """9.19-9.21 byte for byte: a 512 KiB ranged GET lands in the OneMO module's file system
    (/http/filehttp.bin there), text.txt from the bridge's file system is POSTed (with its
    Content-Length, as a Neoway module sends it), then +CME ERROR: 1001 once the firmware has
    detached (AT+CGATT=0, answered by the OneMO module)."""
    size, seed, piece = 1 << 20, 9, 524288
    number = 19 if family == "HTTP" else 20
    expected = example_stream(f"9.{number} FILE{family}ACTION (module)")
    commands = example_stream(f"9.{number} FILE{family}ACTION (host)").decode().split("\r")[:3]
    bridge_fs(tmp_path).write_file("text.txt", blob_bytes(piece, 5))
    tls = server_context(ca, names=(HOST,)) if family == "HTTPS" else None
    with BlobServer(tls) as server, session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/{size}?seed={seed}", family=family)
        got = b""
        for command in commands[:2]:
            got += ask(fw, command) + wait_for(fw, r"\+FILEHTTPSTAT: [^\r]*\r\n")
        assert ask(fw, "AT+CGATT=0") == OK
        got += ask(fw, commands[2])
        assert got == expected
        assert module.side.identity.attached is False
    (get_method, get_headers), (post_method, post_headers) = [(m, dict(h)) for m, p, h in server.requests]
    assert get_method == "GET" and get_headers["Range"] == "bytes=0-524287"
    assert post_method == "POST" and post_headers["Content-Length"] == "524288"
    assert post_headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sha256_file(module_root(tmp_path) / "http" / "filehttp.bin") == blob_sha256(size, seed, 0, piece)


@pytest.mark.timeout(10)
def test_filehttpaction_get_to_a_named_file_and_post_a_file(tmp_path, server):
    data = blob_bytes(300_000, 12)
    bridge_fs(tmp_path).write_file("up/data.json", data)
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/5000?seed=1")
        assert ask(fw, 'AT+FILEHTTPACTION=0,100,1000,"dl/piece.bin"') == OK
        assert wait_for(fw, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 0,1,1000\r\n"
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/echo/sha256") == OK
        assert ask(fw, "AT+FILEHTTPACTION=1,250000,2,up/data.json") == OK
        assert wait_for(fw, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 1,1,250000\r\n"
        assert ask(fw, "AT+FILEHTTPACTION=1,300001,2,up/data.json") == b"\r\n+CME ERROR: 53\r\n"  # longer than the file
        assert ask(fw, "AT+FILEHTTPACTION=1,10,2,missing.bin") == ERROR  # as the Neoway emulator answers
    assert (module_root(tmp_path) / "dl" / "piece.bin").read_bytes() == blob_bytes(5000, 1, 100, 1100)
    method, path, headers = server.requests[-1]
    assert (method, path) == ("POST", "/echo/sha256")
    assert dict(headers)["Content-Length"] == "250000" and dict(headers)["Content-Type"] == POST_TYPES["2"]


@pytest.mark.timeout(10)
def test_filehttpaction_404(tmp_path, server):
    with session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/missing")
        assert ask(fw, "AT+FILEHTTPACTION=0,0,10") == OK
        assert wait_for(fw, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 0,1416\r\n"
        assert ask(fw, "AT+FILEHTTPACTION=0,0,10") == OK  # and the next one works as well
        assert wait_for(fw, r"\+FILEHTTPSTAT: [^\r]*\r\n") == b"\r\n+FILEHTTPSTAT: 0,1416\r\n"


# ---- the data link: AT+XIIC from the OneMO module's state -------------------------------------------


@pytest.mark.timeout(10)
def test_xiic_answers_from_the_module(tmp_path, server):
    with session(tmp_path, link=False) as (fw, bridge, module):
        module.side.identity.ip = "10.20.30.40"  # the module's address, not the bridge's
        assert ask(fw, "AT+XIIC?") == b"\r\n+XIIC:    1,10.20.30.40\r\n" + OK
        assert ask(fw, "AT+CGATT=0") == OK  # the module detaches
        assert module.side.identity.attached is False
        assert ask(fw, "AT+XIIC?") == b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/3") == OK
        assert ask(fw, "AT+HTTPSETUP") == ERROR
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET
        assert ask(fw, "AT+HTTPGET=0") == ERROR
        assert ask(fw, "AT+FILEHTTPACTION=0,0,3") == b"\r\n+CME ERROR: 1001\r\n"
        assert ask(fw, "AT+CGATT=1") == OK  # attach again first, as the manual says (4.22)
        assert ask(fw, "AT+XIIC=1") == OK  # the module's own PDP activation (ModuleOp.LINK_UP)
        assert module.side.identity.attached is True
        assert ask(fw, "AT+XIIC?") == b"\r\n+XIIC:    1,10.20.30.40\r\n" + OK
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+HTTPACTION=0") == OK
        assert recv0(fw)[1] == blob_bytes(3, 0)
        assert ask(fw, "AT+XIIC=2") == ERROR  # not a value of <state>
    assert len(server.requests) == 1


# ---- what is not mapped ---------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_what_the_bridge_does_not_map(tmp_path, ca):
    """HTTPSCFG ciphersuite is stored and read back but not carried (OneMO's SSL subset has no
    cipher setting); N720's AT$MYNETACT and the manual's misprinted commands are no N58 commands:
    the module answers them ERROR."""
    trace = io.BytesIO()
    with BlobServer(server_context(ca, names=(HOST,))) as server, session(tmp_path, trace=trace) as (fw, bridge, module):
        assert ask(fw, 'AT+HTTPSCFG="ciphersuite","0xC02F"') == OK
        assert ask(fw, "AT+HTTPSCFG?") == b"\r\n+HTTPSCFG: 3,0,0xC02F,,,\r\n" + OK
        setup(fw, f"{HOST}:{server.port}/blob/10", family="HTTPS")
        assert ask(fw, "AT+HTTPSACTION=0") == OK
        assert recv0(fw, "HTTPS")[1] == blob_bytes(10, 0)
        for line in ("AT$MYNETACT=0,1", "AT+HTTPSSSETUP", "AT+HTTPSCFGA?"):
            assert ask(fw, line) == ERROR, line
    sent = to_module(trace)
    assert "C02F" not in sent.upper() and "AT$MYNETACT=0,1\r" in sent and "AT+HTTPSSSETUP\r" in sent
