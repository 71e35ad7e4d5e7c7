"""The forms real OneMO firmware sends and the frames a real module gives back (issue 9, section 3),
over real ptys and loopback servers: directly against the OneMO emulator, and from OneMO firmware
through the bridge to an emulated Neoway module.

- esp-ml307 (ml307_http.cc), a MicroPython ML307 client and an ESP-IDF forwarder send one
  AT+MHTTPHEADER call per header field, bare "Name: value" without CRLF, <eof> 1 on all but the
  last; a capture of a real ML307 shows six such calls in one request.  Each must reach the server
  as a header of its own.
- +MHTTPURC "content" comes in network-packet-sized pieces (fn 10: "a 1400-byte packet"), so a
  firmware line buffer sized for a real module (esp-ml307 reads frames of ~1.5 KB) suffices.
"""
from __future__ import annotations

import hashlib
import json

import pytest

from support.servers import blob_sha256
from support.onemo_bridged import onemo_bridge
from support.onemo_emulated import OK, running_module
from support.onemo_forms import FRAME_MAX, SIX, content_frames, send_six_headers

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def direct(tmp_path):
    with running_module(tmp_path) as module:
        yield module


@pytest.fixture
def through_bridge(tmp_path):
    with onemo_bridge(tmp_path) as module:
        yield module


@pytest.fixture(params=["direct", "through_bridge"])
def module(request):
    return request.getfixturevalue(request.param)


def test_six_headers_in_six_calls_reach_the_server_as_six(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    send_six_headers(module)
    module.ok('AT+MHTTPREQUEST=0,1,0,"/echo/headers"')
    head, body = module.response(0, "GET", timeout=20)
    assert head.int("code") == 200
    received = [(name.lower(), value) for name, value in json.loads(body)["headers"]]
    for name, value in SIX:
        assert (name.lower(), value) in received, (name, received)
    assert not any("MyCustomAgent/1.0mam" in value for _, value in received)


def test_six_headers_in_data_mode_calls(direct, blob_server):
    """The same with the data after ">" (ml307_http.cc's long-header path): six bare fields."""
    module = direct
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    for index, (name, value) in enumerate(SIX):
        field = f"{name}: {value}".encode()
        module.send(f"AT+MHTTPHEADER=0,{0 if index == len(SIX) - 1 else 1},{len(field)}\r")
        module.prompt()
        module.send(field)
        assert module.until_final()[-1] == OK
    module.ok('AT+MHTTPREQUEST=0,1,0,"/echo/headers"')
    _, body = module.response(0, "GET")
    received = {name.lower(): value for name, value in json.loads(body)["headers"]}
    assert all(received.get(name.lower()) == value for name, value in SIX), received


def test_content_frames_are_packet_sized(module, blob_server):
    """A 100 KB body arrives in content frames of at most 1.5 KB each, whatever the read size."""
    size = 100 * 1024
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok(f'AT+MHTTPREQUEST=0,1,0,"/blob/{size}?seed=9"')
    head, body = module.response(0, "GET", timeout=30)
    assert head.int("code") == 200 and hashlib.sha256(body).hexdigest() == blob_sha256(size, 9)
    frames = content_frames(bytes(module.log))
    assert sum(cur for cur, _ in frames) == size
    assert max(whole for _, whole in frames) <= FRAME_MAX, max(frames)
    assert len(frames) >= size // FRAME_MAX  # not one frame per socket read


def test_chunked_body_frames_are_packet_sized(direct, blob_server):
    module = direct
    size = 50000
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok(f'AT+MHTTPREQUEST=0,1,0,"/blob/{size}?seed=4&chunked=1"')
    _, body = module.response(0, "GET")
    assert hashlib.sha256(body).hexdigest() == blob_sha256(size, 4)
    assert max(whole for _, whole in content_frames(bytes(module.log))) <= FRAME_MAX


def test_packet_size_is_configurable(tmp_path, blob_server):
    from bridge.at.dialect import load
    from bridge.onemo.module.side import OnemoModuleSide

    assert OnemoModuleSide(load("onemo")).packet_size == 1400  # the default of dialects/onemo.yaml
    side = OnemoModuleSide(load("onemo"), packet_size=512)
    assert side.packet_size == 512


def test_fragment_setting_still_splits_below_the_packet(direct, blob_server):
    """MHTTPCFG "fragment" 500 (fn 10): pieces of 500."""
    module = direct
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPCFG="fragment",0,500,0')
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/5000?seed=2"')
    _, body = module.response(0, "GET")
    assert hashlib.sha256(body).hexdigest() == blob_sha256(5000, 2)
    assert [cur for cur, _ in content_frames(bytes(module.log))] == [500] * 10


def test_dlfile_progress_per_packet(direct, blob_server):
    """AT+MHTTPDLFILE with <progind> 1000: a report after each packet that crosses another 1000
    bytes -- every report lands within one packet (1400) past its mark, never a whole read later."""
    module = direct
    size = 30000
    module.ok(f'AT+MHTTPDLFILE="{blob_server.url(f"/blob/{size}?seed=5")}","p.bin",1000')
    assert module.urc("header").int("code") == 200
    reports = []
    while not reports or reports[-1].get("percent") != "100":
        reports.append(module.next())
    marks = [r.int("downloaded") for r in reports[:-1]]
    assert len(marks) >= size // 1400 - 1
    assert all(m % 1000 < 1400 for m in marks) and marks == sorted(set(marks))
    assert reports[-1].int("downloaded") == size
