"""Every OneMO command form and every MHTTPCFG setting, driven by OneMO firmware through the bridge
to an emulated Neoway module (real ptys) and a loopback HTTP(S) server.

Forms answered by the bridge itself (test, read and query forms, settings, refusals) are compared
byte for byte with the OneMO emulator's answers to the same script, and none of them may reach the
Neoway module.  Each setting is then shown to work over the network.
"""
from __future__ import annotations

import hashlib
import json
import re
import time

import pytest

from support.emulated import emulator
from support.servers import BlobServer, blob_bytes, blob_sha256, make_ca, server_context
from support.onemo_bridged import OK, Body, Trace, create, get, onemo_bridge
from support.onemo_emulated import ScriptedServer, http_response

pytestmark = pytest.mark.timeout(60)

PEM = b"-----BEGIN CERTIFICATE-----\r\nMIIBszCCAVmgAwIBAgIU\r\n-----END CERTIFICATE-----\r\n"
SETTINGS = {  # MHTTPCFG setting -> the values set on instance 0
    "header": '"X-Set: 1"', "chunked": "1", "cached": "1,2048", "timeout": "10,20,30", "encoding": "0,1",
    "ssl": "1,2", "cid": "1", "fragment": "100,10", "urlencode": "1",
}
SCRIPT: list = [  # a command line, or (command line, data after the prompt)
    *(f"AT+{name}=?" for name in ("MHTTPCFG", "MHTTPCREATE", "MHTTPHEADER", "MHTTPCONTENT", "MHTTPREQUEST",
                                  "MHTTPREAD", "MHTTPDEL", "MHTTPTERM", "MHTTPDLFILE", "MSSLCFG")),
    "AT+MHTTPCFG?", 'AT+MHTTPCFG="chunked",0', "AT+MHTTPDEL=0",  # nothing created yet: 652
    'AT+MHTTPCREATE="http://127.0.0.1:1"', 'AT+MHTTPCREATE="https://example.com:8443/base"',
    'AT+MHTTPCREATE="ftp://x"',  # 654
    *(line for setting, values in SETTINGS.items()
      for line in (f'AT+MHTTPCFG="{setting}"', f'AT+MHTTPCFG="{setting}",0', f'AT+MHTTPCFG="{setting}",0,{values}',
                   f'AT+MHTTPCFG="{setting}",0', f'AT+MHTTPCFG="{setting}"')),
    'AT+MHTTPCFG="encoding",0,0,0', 'AT+MHTTPCFG="cid",0,2', 'AT+MHTTPCFG="fragment",0,1025', 'AT+MHTTPCFG="nosuch",0',
    'AT+MHTTPCFG="chunked",0,0', "AT+MHTTPCFG?",
    'AT+MHTTPHEADER=0,1,0,"X-A: 1\\r\\n"', ("AT+MHTTPHEADER=0,0,8", b"X-B: 2\r\n"), "AT+MHTTPHEADER=0",
    'AT+MHTTPHEADER=0,1,0,"X-C: 3"',  # <eof> 0 came: 3 until cleared
    "AT+MHTTPHEADER=0,2", "AT+MHTTPHEADER=0",
    'AT+MHTTPCONTENT=0,1,0,"abc"', ("AT+MHTTPCONTENT=0,1", b"d,\"e\r\n\x1a"), ("AT+MHTTPCONTENT=0,0,3", b"\x00\x01\x02"),
    "AT+MHTTPCONTENT=0", 'AT+MHTTPCONTENT=0,1,5,"abc"', "AT+MHTTPCONTENT=0,2", "AT+MHTTPCONTENT=0",
    "AT+MHTTPREAD=0,0", "AT+MHTTPREAD=0,1", "AT+MHTTPREAD=0,1,10", "AT+MHTTPREAD=3,0",
    "AT+MHTTPTERM", "AT+MHTTPTERM=1", "AT+MHTTPTERM=3",
    'AT+MHTTPREQUEST=0,9,0,"/"', 'AT+MHTTPREQUEST=3,1,0,"/"',
    'AT+MSSLCFG="auth",1,1', 'AT+MSSLCFG="auth",1', 'AT+MSSLCFG="version",1,3', 'AT+MSSLCFG="version",1',
    'AT+MSSLCERTWR="c.pem",0,{},"{}"'.format(len(PEM), PEM.decode().replace("\r\n", "\\r\\n")),
    'AT+MSSLCFG="cert",1,"c.pem"', 'AT+MSSLCFG="cert",1', 'AT+MSSLCFG="auth"',
    'AT+MHTTPDLFILE="nope","/x.bin"', 'AT+MHTTPDLFILE="http://127.0.0.1:1/x","/x.bin",0,"bytes=x"',
    "AT+MHTTPDEL=1", "AT+MHTTPDEL=1",
    *(['AT+MHTTPCREATE="http://127.0.0.1:2"'] * 4),  # ids 1, 2, 3, then 651
    "AT+CMEE=2", "AT+MHTTPDEL=9", "AT+MHTTPDEL=3", "AT+CMEE=0", "AT+MHTTPDEL=3", "AT+CMEE=1",
]
FINAL = rb"\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n"


def run_script(firmware) -> list[bytes]:
    answers = []
    for step in SCRIPT:
        line, data = (step, None) if isinstance(step, str) else step
        start = firmware.cursor
        if data is None:
            firmware.transact(line)
        else:
            firmware.command(line)
            firmware.expect(rb"\r\n> ?")
            firmware.send(data)
            firmware.expect(FINAL)
        answers.append(bytes(firmware.seen[start:firmware.cursor]))
    return answers


def test_answers_without_the_network_are_the_emulators(tmp_path):
    """Test, read and query forms, every setting and the refusals: byte for byte the OneMO
    emulator's answers, given by the bridge without a word to the Neoway module."""
    with emulator("onemo", tmp_path / "emulator") as (host, runner):
        expected = run_script(host)
    trace = Trace()
    with onemo_bridge(tmp_path / "bridge", trace=trace) as module:
        got = run_script(module.firmware)
        module.alive()
    for step, want, have in zip(SCRIPT, expected, got):
        assert have == want, step
    assert sum(answer.endswith(b"\r\nOK\r\n") for answer in got) > 60
    assert [a for a in got if b"+CME ERROR: 652" in a] and [a for a in got if b"+CME ERROR: 651" in a]
    sent = trace.sent_to_module()
    assert b"AT+XIIC" in sent  # the bridge's own start-up: the Neoway data link
    assert not re.search(rb"MHTTP|MSSL|HTTPPARA=url", sent), sent  # nothing of the script went to the module


# ---- each setting over the network ------------------------------------------------------------------


@pytest.fixture
def module(tmp_path):
    with onemo_bridge(tmp_path) as module:
        yield module


def headers_of(body: bytes) -> dict[str, str]:
    return {k.lower(): v for k, v in json.loads(body)["headers"]}


def test_header_general_and_specific_with_every_method(module, blob_server):
    """"header" (general, for the instance's life) and MHTTPHEADER (specific, one request; inline,
    escaped, data mode) reach the server; GET, POST, PUT, DELETE and HEAD all go."""
    create(module, blob_server.url(""))
    module.ok('AT+MHTTPCFG="header",0,"Connection: keep-alive"')
    module.ok('AT+MHTTPCFG="header",0,"X-Id: general"')
    module.ok('AT+MHTTPCFG="header",0,"Content-Length: 999"')  # the module frames the body itself
    module.ok('AT+MHTTPCFG="encoding",0,2')
    module.ok('AT+MHTTPHEADER=0,1,0,"X-Id: specific\\r\\n"')
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
    headers = headers_of(body)
    assert echoed["method"] == "POST" and echoed["body_length"] == 18 and headers["content-length"] == "18"
    assert headers["x-id"] == "specific" and headers["x-data"] == "mode" and headers["connection"] == "keep-alive"
    assert headers["host"] == f"127.0.0.1:{blob_server.port}"
    assert module.ok("AT+MHTTPCONTENT=0") == [] and module.ok("AT+MHTTPHEADER=0") == []  # cleared after success
    for method, name in ((1, "GET"), (3, "PUT"), (4, "DELETE")):
        head, body = get(module, "/echo/headers", method=method, name=name)
        assert json.loads(body)["method"] == name and headers_of(body)["x-id"] == "general"
    head, body = get(module, "/blob/500", method=5, name="HEAD")
    assert head.int("code") == 200 and b"Content-Length: 500" in head.payload and body == b""
    assert [r[0] for r in blob_server.requests[-5:]] == ["POST", "GET", "PUT", "DELETE", "HEAD"]


def test_chunked_upload_and_chunked_download(module, blob_server):
    """"chunked" 1: the request first, "ind", then MHTTPCONTENT pieces (HEX inline, data mode,
    escaped); the server gets a chunked body.  A chunked response: content_len 0, a last cur_len 0."""
    create(module, blob_server.url(""))
    module.ok('AT+MHTTPCFG="chunked",0,1')
    module.ok('AT+MHTTPREQUEST=0,3,0,"/echo/sha256"')
    assert module.urc("ind").int("httpid") == 0
    data = blob_bytes(1500, 5)
    module.ok('AT+MHTTPCFG="encoding",0,1')
    module.ok(f"AT+MHTTPCONTENT=0,1,500,{data[:500].hex()}")
    module.send("AT+MHTTPCONTENT=0,1,500\r")
    module.prompt()
    module.send(data[500:1000])
    assert module.until_final() == [OK]
    module.send("AT+MHTTPCONTENT=0,0,500\r")
    module.prompt()
    module.send(data[1000:])
    assert module.until_final() == [OK]
    head, body = module.response(0, "PUT")
    assert json.loads(body) == {"length": 1500, "sha256": hashlib.sha256(data).hexdigest()}
    method, path, headers = blob_server.requests[-1]
    assert method == "PUT" and dict((k.lower(), v) for k, v in headers)["transfer-encoding"] == "chunked"
    module.fails('AT+MHTTPCONTENT=0,0,0,"00"', 3)  # the body has ended
    module.ok('AT+MHTTPCFG="encoding",0,2')
    module.ok('AT+MHTTPREQUEST=0,2,0,"/echo"')
    module.urc("ind")
    module.ok('AT+MHTTPCONTENT=0,0,0,"a\\r\\nb\\"c\\x00"')
    head, body = module.response(0, "POST")
    assert body == b'a\r\nb"c\x00'
    create(module, blob_server.url(""))
    for terminate in ("AT+MHTTPTERM", "AT+MHTTPTERM=0"):  # a chunked request whose body has not ended
        module.ok('AT+MHTTPREQUEST=0,2,0,"/echo"')
        module.urc("ind")
        module.ok('AT+MHTTPCONTENT=0,1,0,"abc"')
        module.fails('AT+MHTTPREQUEST=1,1,0,"/blob/1"', 653)
        module.ok(terminate)
        module.fails('AT+MHTTPCONTENT=0,0,0,"def"', 3)
        assert get(module, "/blob/1", 1)[1] == blob_bytes(1, 0)  # the other instance may go now
    module.ok('AT+MHTTPCFG="chunked",0,0')
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/200000?seed=2&chunked=1"')
    head = module.urc("header")
    body = Body(head)
    assert body.chunked and b"Transfer-Encoding: chunked" in head.payload
    last = None
    while not body.complete:
        last = module.urc("content")
        body.add(last, 0)
    assert body.length == 0 and last.int("cur_len") == 0 and last.int("sum_len") == 200000
    assert body.sha.hexdigest() == blob_sha256(200000, 2)
    module.alive()


def test_cached_read_and_a_response_larger_than_the_cache(module, blob_server):
    create(module, blob_server.url(""))
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
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/9000?seed=6"')  # more than the 8192 of the cache
    assert module.urc("err").int("error_code") == 8
    assert [f.raw for f in module.ok("AT+MHTTPREAD=0,1")] == [b"+MHTTPREAD: 0,1,0"]  # nothing is cached
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/20000?seed=7&chunked=1"')  # chunked: found out as it comes
    assert module.urc("err").int("error_code") == 8
    module.ok('AT+MHTTPCFG="cached",0,0')
    assert get(module, "/blob/10?seed=1")[1] == blob_bytes(10, 1)  # the instance is fine afterwards


def test_timeout_settings_go_with_the_request(module, blob_server):
    """"timeout": set and queried; a request with them gets its response (the response timeout
    running out is in test_bridge_onemo_faults.py)."""
    create(module, blob_server.url(""))
    module.ok('AT+MHTTPCFG="timeout",0,5,3,2')
    assert module.ok('AT+MHTTPCFG="timeout",0')[0].raw == b'+MHTTPCFG: "timeout",0,5,3,2'
    head, body = get(module, "/blob/100000?seed=2")
    assert hashlib.sha256(body).hexdigest() == blob_sha256(100000, 2)
    module.send("AT+MHTTPCONTENT=0,0,10\r")  # <input_timeout> 2 s: what arrived is taken
    module.prompt()
    module.send(b"abc")
    started = time.monotonic()
    assert module.until_final(timeout=5) == [OK] and time.monotonic() - started >= 1.5
    head, body = get(module, "/echo", method=2, name="POST")
    assert body == b"abc"


def test_hex_and_escaped_encodings_in_and_out(module, blob_server):
    """"encoding": HEX and escaped input of the path, headers and content; HEX output of the
    header and content URCs; binary bytes survive both ways."""
    create(module, blob_server.url(""))
    data = bytes(range(256)) + b'\r\n",\x1a\x1b'
    module.ok('AT+MHTTPCFG="encoding",0,1,1')
    path = b"/echo"
    module.ok(f'AT+MHTTPHEADER=0,0,0,"{b"X-Hex: in".hex()}"')
    module.ok(f"AT+MHTTPCONTENT=0,0,{len(data)},{data.hex().upper()}")
    start = len(module.log)
    module.ok(f"AT+MHTTPREQUEST=0,2,{len(path)},{path.hex()}")
    head, body = module.response(0, "POST")
    assert body == data and head.int("code") == 200
    text = bytes(module.log[start:])
    assert f'"header",0,200,{head.int("header_len")},'.encode() + head.payload.hex().upper().encode() in text
    assert re.search(rb'"content",0,%d,%d,%d,([0-9A-F]+)\r\n' % ((len(data),) * 3), text).group(1) == data.hex().upper().encode()
    assert dict(blob_server.requests[-1][2])["X-Hex"] == "in"
    module.ok('AT+MHTTPCFG="encoding",0,2,0')
    module.ok('AT+MHTTPHEADER=0,0,0,"X-Esc: \\"q\\""')
    module.ok('AT+MHTTPCONTENT=0,0,0,"\\x00\\xff\\r\\n\\x5c\\"\\101"')
    head, body = get(module, "/echo", method=2, name="POST")
    assert body == b'\x00\xff\r\n\\"A' and dict(blob_server.requests[-1][2])["X-Esc"] == '"q"'


def test_ssl_setting_and_ssl_context(module):
    """"ssl": HTTPS on the Neoway module's HTTPS family; the SSL context's version goes along."""
    ca = make_ca()
    with BlobServer(tls_context=server_context(ca)) as server:
        create(module, f"https://127.0.0.1:{server.port}")
        module.ok('AT+MHTTPCFG="ssl",0,1')
        assert get(module, "/blob/70000?seed=3")[1] == blob_bytes(70000, 3)
        module.ok('AT+MSSLCFG="version",3,3')  # TLS 1.2
        module.ok('AT+MSSLCFG="auth",3,0')
        create(module, f"http://127.0.0.1:{server.port}")  # an http URL with "ssl" on: TLS to that port
        module.ok('AT+MHTTPCFG="ssl",1,1,3')
        head, body = get(module, "/blob/10", 1)
        assert body == blob_bytes(10, 0)
        module.ok(f'AT+MHTTPDLFILE="http://127.0.0.1:{server.port}/blob/1000","/s.bin",0,,0,3')  # <ssl_id>: SSL on
        assert module.urc("header").int("code") == 200
        assert module.next().raw == b"+MHTTPDLFILE: 1000,1000,100"
        assert module.fs.read_bytes("/s.bin") == blob_bytes(1000, 0)


def test_cid_setting(module, blob_server):
    """"cid": a defined PDP context is accepted and the request goes on the Neoway data link; an
    undefined one is refused as the emulator refuses it."""
    create(module, blob_server.url(""))
    module.ok('AT+MHTTPCFG="cid",0,1')
    assert get(module, "/blob/64?seed=1")[1] == blob_bytes(64, 1)
    module.fails('AT+MHTTPCFG="cid",0,3', 3)
    assert module.ok('AT+MHTTPCFG="cid",0')[0].raw == b'+MHTTPCFG: "cid",0,1'


def test_fragment_size_and_interval(module, blob_server):
    create(module, blob_server.url(""))
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


def test_urlencode(module):
    with ScriptedServer() as server:
        server.script(*(http_response(b"x") for _ in range(2)))
        create(module, f"http://127.0.0.1:{server.port}/api/")
        module.ok('AT+MHTTPREQUEST=0,1,0,"/a b/%41?x=1&y=é"')
        module.response(0)
        module.ok('AT+MHTTPCFG="urlencode",0,1')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/a b/%41?x=1&y=é"')
        module.response(0)
    assert [r[1] for r in server.requests] == ["/api/a%20b/%41?x=1&y=%C3%A9", "/api/a%20b/%2541?x=1&y=%C3%A9"]


def test_delete_and_terminate_forms(module, blob_server):
    """MHTTPDEL and both MHTTPTERM forms with requests that have ended; the ids are reused."""
    for _ in range(2):
        create(module, blob_server.url(""))
    assert get(module, "/blob/5", 1)[1] == blob_bytes(5, 0)
    module.ok("AT+MHTTPTERM=1")
    module.ok("AT+MHTTPTERM")
    module.ok("AT+MHTTPDEL=0")
    module.fails('AT+MHTTPREQUEST=0,1,0,"/"', 652)
    assert create(module, blob_server.url("")) == 0
    assert get(module, "/blob/6", 0)[1] == blob_bytes(6, 0)


def test_request_path_in_data_mode(module, blob_server):
    """MHTTPREQUEST's data-mode forms: the path after ">" by <length>, and up to Ctrl-Z."""
    create(module, blob_server.url(""))
    path = b"/blob/33?seed=2"
    module.send(f"AT+MHTTPREQUEST=0,1,{len(path)}\r")
    module.prompt()
    module.send(path)
    assert module.until_final() == [OK]
    assert module.response(0)[1] == blob_bytes(33, 2)
    module.send("AT+MHTTPREQUEST=0,1\r")
    module.prompt()
    module.send(path + b"\x1a")
    assert module.until_final() == [OK]
    assert module.response(0)[1] == blob_bytes(33, 2)
    module.send("AT+MHTTPREQUEST=0,1\r")  # ESC cancels: nothing is sent
    module.prompt()
    module.send(b"/blob/1\x1b")
    assert module.until_final()[-1] != OK
    assert sum(1 for r in blob_server.requests if r[1] == "/blob/33") >= 2
    module.alive()
