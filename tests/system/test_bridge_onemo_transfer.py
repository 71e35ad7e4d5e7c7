"""Bodies through the bridge (OneMO firmware -> bridge -> emulated Neoway module, real ptys, loopback
servers): downloads byte-identical from 0 B to 10 MB, uploads as far as AT+HTTPACTION carries them,
two instances with their own settings and Neoway's one request at a time, pass-through while a
request runs, MHTTPTERM mid-body, and downloads to files with their progress URCs."""
from __future__ import annotations

import hashlib
import json
import re

import pytest

from bridge.at.frames import Info, Line
from support.servers import blob_bytes, blob_sha256
from support.onemo_emulated import cme
from support.onemo_bridged import OK, Body, Trace, create, err_code, get, onemo_bridge, streamed

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def module(tmp_path):
    with onemo_bridge(tmp_path) as module:
        yield module


def test_downloads_from_0_bytes_to_4_mb_are_byte_identical(tmp_path, blob_server):
    """Binary bodies with Content-Length and chunked: header_len exact, content_len / sum_len /
    cur_len right on every URC, SHA-256 of what the firmware got equal to the server's."""
    with onemo_bridge(tmp_path, keep_log=False) as module:
        create(module, blob_server.url(""))
        for size in (0, 1, 2, 2047, 2048, 4096, 65537, 1 << 20, 4 << 20):
            for chunked in (0, 1):
                module.ok(f'AT+MHTTPREQUEST=0,1,0,"/blob/{size}?seed={size % 97}&chunked={chunked}"')
                head, body, others = streamed(module)
                assert others == [] and head.int("code") == 200
                assert body.chunked == bool(chunked) and body.sum == size
                assert body.sha.hexdigest() == blob_sha256(size, size % 97), (size, chunked)
        module.alive()


@pytest.mark.slow
def test_a_10_mb_download_is_byte_identical(tmp_path, blob_server):
    size = 10 * 1024 * 1024
    with onemo_bridge(tmp_path, keep_log=False) as module:
        create(module, blob_server.url(""))
        module.ok(f'AT+MHTTPREQUEST=0,1,0,"/blob/{size}?seed=11"')
        head, body, others = streamed(module)
        assert others == [] and body.sum == size and body.sha.hexdigest() == blob_sha256(size, 11)
        module.alive()


def test_uploads_up_to_what_one_httpaction_carries(tmp_path, blob_server):
    """Binary bodies of 0 B .. 2048 B reach the server intact: typed POSTs go as AT+HTTPACTION=2
    (up to 2048 bytes of body), anything else as a raw request (mode 99, 2048 bytes with its head)."""
    trace = Trace()
    with onemo_bridge(tmp_path, trace=trace) as module:
        create(module, blob_server.url(""))
        cases = [(2, "Content-Type: text/plain", 2048), (2, "Content-Type: application/json", 1),
                 (3, "Content-Type: application/octet-stream", 1700), (2, None, 0), (3, None, 0), (4, None, 10)]
        for method, header, size in cases:
            data = blob_bytes(size, size)
            if header:
                module.ok(f'AT+MHTTPHEADER=0,0,0,"{header}"')
            if size:
                module.send(f"AT+MHTTPCONTENT=0,0,{size}\r")
                module.prompt()
                module.send(data)
                assert module.until_final() == [OK]
            head, body = get(module, "/echo/sha256", method=method, name={2: "POST", 3: "PUT", 4: "DELETE"}[method])
            assert json.loads(body) == {"length": size, "sha256": hashlib.sha256(data).hexdigest()}, (method, header, size)
    assert [r[0] for r in blob_server.requests[-len(cases):]] == ["POST", "POST", "PUT", "POST", "PUT", "DELETE"]
    actions = re.findall(rb"AT\+HTTPACTION=([0-9,]+)\r", trace.sent_to_module())
    assert actions[0] == b"2,2048,1" and actions[1] == b"2,1,2" and all(a.startswith(b"99,") for a in actions[2:])
    assert 1700 < int(actions[2][3:]) <= 2048  # the raw PUT with its head


def test_head_and_responses_without_a_body(module, blob_server):
    create(module, blob_server.url(""))
    head, body = get(module, "/blob/500", method=5, name="HEAD")
    assert head.int("code") == 200 and b"Content-Length: 500" in head.payload and body == b""
    head, body = get(module, "/status/204")
    assert head.int("code") == 204 and body == b""
    head, body = get(module, "/status/404?close=1")
    assert head.int("code") == 404 and body == b""
    module.alive()  # and no content URC was left over for any of them


def test_two_instances_with_their_own_settings_one_request_at_a_time(module, blob_server):
    """Instance 0 gives HEX output in fragments of 300 bytes, instance 1 raw output in whole
    pieces; each gets its own response.  While one request runs, a second one -- on the other
    instance, or MHTTPDLFILE -- is refused with 653 (client busy): Neoway has one HTTP context."""
    assert create(module, blob_server.url("")) == 0 and create(module, blob_server.url("")) == 1
    module.ok('AT+MHTTPCFG="encoding",0,0,1')
    module.ok('AT+MHTTPCFG="fragment",0,300,0')
    module.ok('AT+MHTTPCFG="header",1,"X-Instance: one"')
    for round_ in range(2):
        start = len(module.log)
        head, body = get(module, f"/blob/1000?seed={round_}", 0)
        assert body == blob_bytes(1000, round_)
        frames = re.findall(rb'\+MHTTPURC: "content",0,1000,(\d+),(\d+),([0-9A-F]*)\r\n', bytes(module.log[start:]))
        assert [int(cur) for _, cur, _ in frames] == [300, 300, 300, 100]  # HEX digits: twice cur_len
        assert all(len(digits) == 2 * int(cur) for _, cur, digits in frames)
        start = len(module.log)
        head, body = get(module, "/echo/headers", 1)
        assert json.loads(body)["headers"].count(["X-Instance", "one"]) == 1
        assert re.search(rb'\+MHTTPURC: "content",1,(\d+),\1,\1,\{', bytes(module.log[start:]))  # raw, one piece
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/3000000?seed=4"')
    meanwhile = []  # the running response's URCs may come before a refusal's answer: kept, in order
    for line in ('AT+MHTTPREQUEST=1,1,0,"/blob/5"', f'AT+MHTTPDLFILE="{blob_server.url("/blob/5")}","/x.bin"',
                 'AT+MHTTPREQUEST=0,1,0,"/blob/5"'):  # the last one: the same instance, busy anyway
        *urcs, final = module.command(line)
        assert final == cme(653) and all(u.name == "+MHTTPURC" and u.int("httpid") == 0 for u in urcs), (line, urcs, final)
        meanwhile += urcs
    module.frames.extendleft(reversed(meanwhile))
    head, body, others = streamed(module)
    assert body.sha.hexdigest() == blob_sha256(3000000, 4) and others == []
    assert get(module, "/blob/5", 1)[1] == blob_bytes(5, 0)  # free again


def test_passthrough_and_unrelated_urcs_during_a_request(module, blob_server):
    """AT+CSQ sent while a 3 MB body streams is answered by the Neoway module, unchanged; RING and
    +CEREG reported by the module meanwhile reach the firmware unchanged; the body stays intact."""
    create(module, blob_server.url(""))
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/3000000?seed=5"')
    head = module.urc("header")
    module.send("AT+CSQ\r")
    module.neoway.unsolicited("RING")
    module.neoway.unsolicited("+CEREG: 1")
    body, others = Body(head, keep=False), []
    while not body.complete or OK not in others:
        frame = module.next(20)
        if isinstance(frame, Info) and frame.name == "+MHTTPURC":
            body.add(frame, 0)
        else:
            others.append(frame)
    assert body.sha.hexdigest() == blob_sha256(3000000, 5)
    csq = [f for f in others if isinstance(f, Info) and f.name == "+CSQ"]
    assert len(csq) == 1 and csq[0].raw == b"+CSQ: 25,99" and others[others.index(csq[0]) + 1] == OK
    assert any(isinstance(f, Line) and f.raw == b"RING" for f in others)
    assert any(isinstance(f, Info) and f.raw == b"+CEREG: 1" for f in others)
    assert len(others) == 4
    assert b"\r\nRING\r\n" in module.log and b"\r\n+CEREG: 1\r\n" in module.log  # byte for byte, framed as sent
    [csq] = module.ok("AT+CSQ")  # and after the request
    assert csq.raw == b"+CSQ: 25,99"


def test_terminate_mid_body(module, blob_server):
    """MHTTPTERM while a body streams: OK, no content URC after it, the instance kept; the next
    request and pass-through work once the Neoway module is done with the old response."""
    create(module, blob_server.url(""))
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/4000000?seed=6"')
    module.urc("header")
    module.urc("content")
    module.send("AT+MHTTPTERM=0\r")
    frame = module.next()
    while frame != OK:
        assert isinstance(frame, Info) and frame.variant == "content", frame
        frame = module.next()
    head, body = get(module, "/blob/77?seed=2")
    assert body == blob_bytes(77, 2)  # the first frame after OK is this request's header
    [csq] = module.ok("AT+CSQ")
    assert csq.raw == b"+CSQ: 25,99"


def test_dlfile_progress_resume_and_range(module, blob_server):
    """MHTTPDLFILE maps onto AT+HTTPACTION GETs (ranged ones for <range> and resume): the bridge
    writes the file into its own file system (the OneMO module's, as the firmware sees it) and
    reports +MHTTPDLFILE progress every <progind> bytes; nothing goes to the Neoway module's files."""
    fs = module.fs
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
    assert dict(blob_server.requests[-1][2]).get("Range") == "bytes=123456-"
    assert hashlib.sha256(fs.read_bytes("/part.bin")).hexdigest() == blob_sha256(300000, 7)
    module.ok(f'AT+MHTTPDLFILE="{url}","/range.bin",0,"bytes=10-19"')
    module.urc("header")
    assert module.next().get("entity_length") == "300000"
    assert fs.read_bytes("/range.bin") == blob_bytes(300000, 7, 10, 20)
    module.ok(f'AT+MHTTPDLFILE="{blob_server.url("/blob/5000?chunked=1")}","/c.bin",1000')
    module.urc("header")
    reports = [module.next()]
    while reports[-1].get("percent") != "100":
        reports.append(module.next())
    assert all(r.get("content_length") == "0" and r.get("percent") == "0" for r in reports[:-1]) and len(reports) >= 2
    assert reports[-1].raw == b"+MHTTPDLFILE: 5000,5000,100" and fs.read_bytes("/c.bin") == blob_bytes(5000, 0)
    assert module.neoway.side.fs.list("/") == []  # AT+FILEHTTPACTION was not used
    module.alive()


def test_request_to_a_file(module, blob_server):
    """MHTTPREQUEST with <local_path>: the header URC, the body into the bridge's file system,
    +MHTTPURC "download" reports."""
    create(module, blob_server.url(""))
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/300000?seed=8","dl/body.bin"')
    assert module.urc("header").int("code") == 200
    reports = []
    while not reports or reports[-1].int("downloaded") < 300000:
        reports.append(module.urc("download"))
    assert all(r.int("content_length") == 300000 for r in reports)
    assert module.fs.read_bytes("/etc/http_file/dl/body.bin") == blob_bytes(300000, 8)
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/5000?chunked=1","/chunked.bin"')
    module.urc("header")
    reports = [module.urc("download")]
    while reports[-1].int("content_length") == 0:
        reports.append(module.urc("download"))
    assert reports[-1].int("downloaded") == reports[-1].int("content_length") == 5000
    assert module.fs.read_bytes("/chunked.bin") == blob_bytes(5000, 0)
    module.alive()


def test_a_file_that_cannot_be_written_is_err_10(module, blob_server):
    """The bridge writes downloads itself: a <local_path> it cannot open ends the request with
    err 10 (file write failed) after the header, and the id is free again."""
    module.fs.write_file("/dir/inside", b"x")  # "/dir" is a directory
    module.ok(f'AT+MHTTPDLFILE="{blob_server.url("/blob/100")}","/dir"')
    assert module.urc("header").int("httpid") == 0
    assert err_code(module) == 10
    assert create(module, blob_server.url("")) == 0
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/100","/dir"')
    module.urc("header")
    assert err_code(module) == 10
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/100","/dir/ok.bin"')
    module.urc("header")
    assert module.urc("download").raw == b'+MHTTPURC: "download",100,100'
    assert module.fs.read_bytes("/dir/ok.bin") == blob_bytes(100, 0)
