"""Requests through the OneMO emulator over a real pty and real loopback servers: HTTPS with
server verification, cached mode, chunked upload and download, fragments and intervals, HEX in
and out, redirects, downloads to files, and a 10 MB body with the emulator's memory bounded."""
from __future__ import annotations

import hashlib
import json
import re
import time
import tracemalloc

import pytest

from bridge.at.frames import Info
from support.emulated import emulator
from support.servers import BlobServer, StallServer, blob_bytes, blob_sha256, make_ca, server_context
from support.onemo_emulated import OK, Body, Module, ScriptedServer, http_response, running_module

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def module(tmp_path):
    with running_module(tmp_path) as module:
        yield module


def write_ca(module: Module, name: str, pem: bytes) -> None:
    """MSSLCERTWR with the PEM's line ends written as \\r\\n text, as the manual's 4.2 example."""
    data = pem.replace(b"\n", b"\r\n")
    module.ok(f'AT+MSSLCERTWR="{name}",0,{len(data)},"' + data.decode().replace("\r\n", "\\r\\n") + '"')


def get(module: Module, path: str, httpid: int = 0, method: int = 1, name: str = "GET") -> tuple[Info, bytes]:
    module.ok(f'AT+MHTTPREQUEST={httpid},{method},0,"{path}"')
    return module.response(httpid, name)


def test_https_with_server_verification(module):
    ca = make_ca()
    with BlobServer(tls_context=server_context(ca)) as server:
        write_ca(module, "server.ca", ca.cert_pem.bytes())
        module.ok('AT+MSSLCFG="cert",2,"server.ca"')
        module.ok('AT+MSSLCFG="auth",2,1')
        module.ok(f'AT+MHTTPCREATE="https://localhost:{server.port}"')
        module.ok('AT+MHTTPCFG="ssl",0,1,2')
        head, body = get(module, "/blob/70000?seed=3")
        assert head.int("code") == 200 and hashlib.sha256(body).hexdigest() == blob_sha256(70000, 3)
        module.ok('AT+MHTTPCREATE="http://localhost:%d"' % server.port)  # http URL, "ssl" on: TLS to that port
        module.ok('AT+MHTTPCFG="ssl",1,1,2')
        assert get(module, "/blob/10", 1)[1] == blob_bytes(10, 0)


def test_https_mutual_authentication_and_version(module):
    """MSSLCFG "auth" 2 with a client certificate and key written by MSSLCERTWR, TLS 1.2 only."""
    ca = make_ca()
    client = ca.issue_cert("client.example")
    with BlobServer(tls_context=server_context(ca, require_client_cert=True)) as server:
        write_ca(module, "ca.pem", ca.cert_pem.bytes())
        write_ca(module, "cli.pem", b"".join(pem.bytes() for pem in client.cert_chain_pems))
        write_ca(module, "cli.key", client.private_key_pem.bytes())
        module.ok('AT+MSSLCFG="cert",0,"ca.pem","cli.pem","cli.key"')
        module.ok('AT+MSSLCFG="auth",0,2')
        module.ok('AT+MSSLCFG="version",0,3')
        module.ok(f'AT+MHTTPCREATE="https://localhost:{server.port}"')
        module.ok('AT+MHTTPCFG="ssl",0,1,0')
        assert get(module, "/blob/64")[1] == blob_bytes(64, 0)
        assert server.peer_certs[-1]["subjectAltName"] == (("DNS", "client.example"),)


def test_https_without_verification_and_ignoreverify(module):
    with BlobServer(tls_context=server_context(make_ca())) as server:
        module.ok(f'AT+MHTTPCREATE="https://localhost:{server.port}"')  # no SSL configured: defaults, no verification
        assert get(module, "/blob/100")[1] == blob_bytes(100, 0)
        write_ca(module, "other.ca", make_ca().cert_pem.bytes())
        module.ok('AT+MSSLCFG="cert",3,"other.ca"')
        module.ok('AT+MSSLCFG="auth",3,1')
        module.ok('AT+MSSLCFG="ignoreverify",3,1')
        module.ok('AT+MHTTPCFG="ssl",0,1,3')
        assert get(module, "/blob/100")[1] == blob_bytes(100, 0)


def test_redirect_from_http_to_https(module):
    """3.5 note: redirected from HTTP to HTTPS, the module enables SSL with the default settings."""
    with BlobServer(tls_context=server_context(make_ca())) as secure, BlobServer() as plain:
        module.ok(f'AT+MHTTPCREATE="{plain.url("")}"')
        head, body = get(module, f"/redirect?to=https://localhost:{secure.port}/blob/300?seed=5")
        assert head.int("code") == 200 and body == blob_bytes(300, 5)
        assert [r[1] for r in plain.requests] == ["/redirect"] and [r[1] for r in secure.requests] == ["/blob/300"]


def test_chunked_response_and_responses_without_body(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/200000?seed=2&chunked=1"')
    head = module.urc("header")
    body = Body(head)
    assert body.chunked
    while not body.complete:
        body.add(module.urc("content"), 0)
    assert body.length == 0 and body.sha.hexdigest() == blob_sha256(200000, 2)
    head, body = get(module, "/blob/500", method=5, name="HEAD")  # HEAD: the header and nothing else
    assert head.int("code") == 200 and body == b""
    head, body = get(module, "/status/204")
    assert head.int("code") == 204 and body == b""
    module.alive()


def test_fragments_interval_and_hex_output(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPCFG="fragment",0,1000,100')
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/4500?seed=9"')
    head = module.urc("header")
    body, arrivals = Body(head), []
    while not body.complete:
        urc = module.urc("content")
        arrivals.append(time.monotonic())
        body.add(urc, 0)
        assert urc.int("cur_len") <= 1000
    assert bytes(body.data) == blob_bytes(4500, 9) and len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 0.35  # four 100 ms intervals, allowing for reading granularity
    module.ok('AT+MHTTPCFG="fragment",0,0,0')
    module.ok('AT+MHTTPCFG="encoding",0,0,1')
    start = len(module.log)
    head, body = get(module, "/blob/50?seed=4")
    assert body == blob_bytes(50, 4)
    text = bytes(module.log[start:])
    assert re.search(rb'"content",0,50,50,50,([0-9A-F]{100})\r\n', text).group(1) == blob_bytes(50, 4).hex().upper().encode()
    assert f'"header",0,200,{head.int("header_len")},'.encode() + head.payload.hex().upper().encode() in text


def test_hex_input_of_the_path(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPCFG="encoding",0,1')
    path = b"/blob/7?seed=1"
    module.ok(f"AT+MHTTPREQUEST=0,1,{len(path)},{path.hex().upper()}")  # HEX, unquoted
    assert module.response(0)[1] == blob_bytes(7, 1)
    module.ok(f'AT+MHTTPREQUEST=0,1,0,"{path.hex()}"')  # HEX, quoted, lower case
    assert module.response(0)[1] == blob_bytes(7, 1)
    module.fails(f'AT+MHTTPREQUEST=0,1,5,"{path.hex()}"', 50)  # <length> is the decoded length


def test_path_in_data_mode(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    path = b"/blob/33?seed=2"
    module.send(f"AT+MHTTPREQUEST=0,1,{len(path)}\r")  # by length
    module.prompt()
    module.send(path)
    assert module.until_final() == [OK]
    assert module.response(0)[1] == blob_bytes(33, 2)
    module.send("AT+MHTTPREQUEST=0,1\r")  # up to Ctrl-Z
    module.prompt()
    module.send(path + b"\x1a")
    assert module.until_final() == [OK]
    assert module.response(0)[1] == blob_bytes(33, 2)


def test_urlencode_of_the_path(module):
    with ScriptedServer() as server:
        server.script(*(http_response(b"x") for _ in range(3)))
        module.ok(f'AT+MHTTPCREATE="http://127.0.0.1:{server.port}/api/"')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/a b/%41?x=1&y=é"')  # typed as UTF-8
        module.response(0)
        module.ok('AT+MHTTPCFG="urlencode",0,1')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/a b/%41?x=1&y=é"')
        module.response(0)
        module.send(b'AT+MHTTPREQUEST=0,1,0,"/\xe9"\r')  # a byte that is no UTF-8: sent as typed
        assert module.until_final() == [OK]
        module.response(0)
    assert [r[1] for r in server.requests] == ["/api/a%20b/%41?x=1&y=%C3%A9", "/api/a%20b/%2541?x=1&y=%C3%A9", "/api/%E9"]


def test_cached_mode_and_read(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPCFG="cached",0,1,8192')
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/3000?seed=6"')
    recv = module.urc("recv")
    header_len = recv.int("recv_header_len")
    assert recv.int("code") == 200 and recv.int("recv_content_len") == 3000
    assert [f.raw for f in module.ok("AT+MHTTPREAD=0,1")] == [b"+MHTTPREAD: 0,1,3000"]
    [first] = module.ok("AT+MHTTPREAD=0,1,1000")
    assert first.int("unread_length") == 2000 and first.payload == blob_bytes(3000, 6)[:1000]
    [rest] = module.ok("AT+MHTTPREAD=0,1,0")
    assert rest.int("unread_length") == 0 and rest.payload == blob_bytes(3000, 6)[1000:]
    [head] = module.ok(f"AT+MHTTPREAD=0,0,{header_len}")
    assert head.payload.startswith(b"HTTP/1.1 200 ") and len(head.payload) == header_len
    assert [f.raw for f in module.ok("AT+MHTTPREAD=0,0")] == [b"+MHTTPREAD: 0,0,0"]


def test_post_content_length_mode_and_headers(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPCFG="header",0,"Connection: keep-alive"')
    module.ok('AT+MHTTPCFG="header",0,"X-Id: general"')
    module.ok('AT+MHTTPCFG="header",0,"Content-Length: 999"')  # the module frames the body itself
    module.ok('AT+MHTTPCFG="encoding",0,2')
    module.ok('AT+MHTTPHEADER=0,1,0,"X-Id: specific\\r\\n"')  # pieces are joined as they are: end the field
    module.ok('AT+MHTTPCFG="encoding",0,0')
    module.send("AT+MHTTPHEADER=0,0\r")
    module.prompt()
    module.send(b"X-Data: mode\r\n\x1a")
    assert module.until_final() == [OK]
    module.ok('AT+MHTTPCONTENT=0,1,0,"part one;"')
    module.send("AT+MHTTPCONTENT=0,0,9\r")
    module.prompt()
    module.send(b"part two.")
    assert module.until_final() == [OK]
    head, body = get(module, "/echo/headers", method=2, name="POST")
    echoed = json.loads(body)
    headers = {k.lower(): v for k, v in echoed["headers"]}
    assert echoed["body_length"] == 18 and headers["content-length"] == "18"
    assert headers["x-id"] == "specific" and headers["x-data"] == "mode" and headers["connection"] == "keep-alive"
    assert headers["host"] == f"127.0.0.1:{blob_server.port}"
    assert module.ok("AT+MHTTPCONTENT=0") == [] and module.ok("AT+MHTTPHEADER=0") == []  # cleared after success
    head, body = get(module, "/echo/headers", method=4, name="DELETE")
    assert json.loads(body)["method"] == "DELETE"


def test_chunked_upload(module, blob_server):
    """Chunked mode: the request first, "ind", then every MHTTPCONTENT piece goes out as it comes."""
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPCFG="chunked",0,1')
    module.ok('AT+MHTTPREQUEST=0,3,0,"/echo/sha256"')
    assert module.urc("ind").int("httpid") == 0
    pieces = [blob_bytes(12288, 1, 4096 * i, 4096 * (i + 1)) for i in range(3)]
    module.ok('AT+MHTTPCFG="encoding",0,1')
    module.ok(f"AT+MHTTPCONTENT=0,1,4096,{pieces[0].hex()}")
    module.send("AT+MHTTPCONTENT=0,1,4096\r")
    module.prompt()
    module.send(pieces[1])
    assert module.until_final() == [OK]
    module.send("AT+MHTTPCONTENT=0,0,4096\r")
    module.prompt()
    module.send(pieces[2])
    assert module.until_final() == [OK]
    head, body = module.response(0, "PUT")
    assert json.loads(body) == {"length": 12288, "sha256": blob_sha256(12288, 1)}
    method, path, headers = blob_server.requests[-1]
    assert dict((k.lower(), v) for k, v in headers)["transfer-encoding"] == "chunked"
    module.fails('AT+MHTTPCONTENT=0,0,0,"00"', 3)  # the body has ended


def test_terminate_keeps_the_instance(module):
    with StallServer() as server:
        module.ok(f'AT+MHTTPCREATE="http://127.0.0.1:{server.port}"')
        module.ok('AT+MHTTPCFG="chunked",0,1')
        module.ok('AT+MHTTPREQUEST=0,2,0,"/"')
        module.urc("ind")
        module.ok('AT+MHTTPCONTENT=0,1,0,"abc"')
        module.ok("AT+MHTTPTERM")
        module.fails('AT+MHTTPCONTENT=0,1,0,"abc"', 3)
        module.ok('AT+MHTTPCFG="chunked",0,0')
        assert module.ok('AT+MHTTPCFG="chunked",0')[0].raw == b'+MHTTPCFG: "chunked",0,0'
        module.alive()


def test_request_to_a_file(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/300000?seed=8","dl/body.bin"')
    assert module.urc("header").int("code") == 200
    reports = []
    while not reports or reports[-1].int("downloaded") < 300000:
        reports.append(module.urc("download"))
    assert all(r.int("content_length") == 300000 for r in reports)
    assert module.runner.side.fs.read_bytes("/etc/http_file/dl/body.bin") == blob_bytes(300000, 8)
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/5000?chunked=1","/chunked.bin"')
    module.urc("header")
    reports = [module.urc("download")]
    while reports[-1].int("content_length") == 0:
        reports.append(module.urc("download"))
    assert reports[-1].int("downloaded") == reports[-1].int("content_length") == 5000
    module.alive()


def test_dlfile_progress_range_and_resume(module, blob_server):
    fs = module.runner.side.fs
    url = blob_server.url("/blob/300000?seed=7")
    module.ok(f'AT+MHTTPDLFILE="{url}","big.bin",65536')
    assert module.urc("header").int("code") == 200
    reports = []
    while not reports or reports[-1].get("percent") != "100":
        reports.append(module.next())
    assert len(reports) >= 2 and [r.name for r in reports] == ["+MHTTPDLFILE"] * len(reports)
    marks = [r.int("downloaded") // 65536 for r in reports[:-1]]
    assert marks == sorted(set(marks)) and reports[-1].int("downloaded") == 300000
    assert all(r.int("percent") == r.int("downloaded") * 100 // 300000 for r in reports)
    assert hashlib.sha256(fs.read_bytes("/etc/http_file/big.bin")).hexdigest() == blob_sha256(300000, 7)
    fs.write_file("/part.bin", blob_bytes(300000, 7, 0, 123456))  # an interrupted download
    module.ok(f'AT+MHTTPDLFILE="{url}","/part.bin",0,,1')
    assert module.urc("header").int("code") == 206
    final = module.next()
    assert final.name == "+MHTTPDLFILE" and final.get("downloaded") == str(300000 - 123456)
    assert final.get("entity_length") == "300000" and final.get("percent") == "100"
    assert blob_server.requests[-1][2] and dict(blob_server.requests[-1][2]).get("Range") == "bytes=123456-"
    assert hashlib.sha256(fs.read_bytes("/part.bin")).hexdigest() == blob_sha256(300000, 7)
    module.ok(f'AT+MHTTPDLFILE="{url}","/range.bin",0,"bytes=10-19"')
    module.urc("header")
    assert module.next().get("entity_length") == "300000"
    assert fs.read_bytes("/range.bin") == blob_bytes(300000, 7, 10, 20)


def test_dlfile_over_https_with_ssl_id(module):
    ca = make_ca()
    with BlobServer(tls_context=server_context(ca)) as server:
        write_ca(module, "dl.ca", ca.cert_pem.bytes())
        module.ok('AT+MSSLCFG="cert",4,"dl.ca"')
        module.ok('AT+MSSLCFG="auth",4,1')
        module.ok(f'AT+MHTTPDLFILE="http://localhost:{server.port}/blob/1000","/s.bin",0,,0,4')  # <ssl_id>: SSL on
        module.urc("header")
        assert module.next().get("percent") == "100"
        assert module.runner.side.fs.read_bytes("/s.bin") == blob_bytes(1000, 0)


@pytest.mark.slow
def test_10_mb_download_with_bounded_memory(tmp_path, blob_server):
    """A 10 MB body reaches the host intact while the emulator (in this process) holds far less."""
    size = 10 * 1024 * 1024
    with emulator("onemo", tmp_path) as (host, runner):
        module = Module(host, keep_log=False)
        module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
        tracemalloc.start()
        try:
            module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/%d?seed=11"' % size)
            head = module.urc("header", timeout=30)
            body = Body(head, keep=False)
            while not body.complete:
                body.add(module.urc("content", timeout=30), 0)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert body.sum == size and body.sha.hexdigest() == blob_sha256(size, 11)
        print(f"tracemalloc peak {peak} bytes")
        assert peak < 2 * 1024 * 1024, f"peak {peak} bytes"
        module.alive()
