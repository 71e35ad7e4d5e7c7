"""No credential reaches a trace record: bytes records (whatever the cut of the stream into reads)
and model-event records.  Planted markers; every header cut at every byte boundary."""
from __future__ import annotations

import base64
import io
import json

import pytest

from bridge.bridging.trace import Trace
from bridge.model import Method, Request, ResponseHead
from bridge.secrets import is_secret_header, mask_line

DIRECTIONS = ("host->bridge", "bridge->host", "bridge->module", "module->bridge")

# (bytes as firmware or a module sends them, the secret marker they carry)
PLANTED = [
    (b"Authorization: Bearer MARK01tok\r\n", b"MARK01"),
    (b"Proxy-Authorization: Basic MARK02b64=\r\n", b"MARK02"),
    (b"Cookie: session=MARK03c; other=1\r\n", b"MARK03"),
    (b"Set-Cookie: id=MARK04c; Path=/\r\n", b"MARK04"),
    (b"api-key: MARK05k\r\n", b"MARK05"),
    (b"X-Api-Key: MARK06k\r\n", b"MARK06"),
    (b"Private-Token: MARK07t\r\n", b"MARK07"),
    (b"X-Amz-Security-Token: MARK08t\r\n", b"MARK08"),
    (b"X-Custom-Token: MARK09t\r\n", b"MARK09"),
    (b"Client-Secret: MARK10s\r\n", b"MARK10"),
    (b'Authorization: Digest username="u", response="MARK11d", nonce="n"\r\n', b"MARK11"),
    (b'AT+MHTTPHEADER=0,0,0,"Authorization: Bearer MARK12h"\r', b"MARK12"),
    (b'AT+MHTTPCREATE="http://user:MARK13pw@example.test:8080/"\r', b"MARK13"),
    (b'AT+HTTPPARA="URL","http://example.test/x?a=1&access_token=MARK14q&b=2"\r', b"MARK14"),
    (b'AT+MHTTPCREATE="http://example.test/?api_key=MARK15q"\r', b"MARK15"),
    (b'AT+MHTTPHEADER=0,0,0,"' + b"X-Api-Key: MARK16hex".hex().encode() + b'"\r', b"MARK16hex".hex().encode()),
    (b'AT+MHTTPHEADER=0,0,0,"' + b"Cookie: a=MARK17HEX".hex().upper().encode() + b'"\r',
     b"MARK17HEX".hex().upper().encode()),
    (b'AT+MSSLCERTWR="key.pem",0,0,"-----BEGIN PRIVATE KEY-----\\r\\nMARK18pem\\r\\n-----END PRIVATE KEY-----"\r',
     b"MARK18"),
    (b'+MHTTPURC: "header",0,200,30,"Set-Cookie: sid=MARK19u"\r\n', b"MARK19"),
    (b'AT+HTTPPARA="HEADER","Authorization: Bearer MARK20x\\r\\nAccept: */*"\r', b"MARK20"),
]


def _records(stream: io.BytesIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _recorded_bytes(records: list[dict], direction: str) -> bytes:
    out = b""
    for record in records:
        if record.get("dir") != direction:
            continue
        data = record["data"]
        out += base64.b64decode(data["base64"]) if isinstance(data, dict) else data.encode("utf-8")
    return out


@pytest.mark.parametrize("line,marker", PLANTED, ids=[m.decode()[:8] for _, m in PLANTED])
def test_a_secret_cut_at_every_byte_boundary_is_masked_in_every_direction(line, marker):
    before, after = b"AT+CSQ\r\r\n+CSQ: 25,99\r\n", b"Host: example.test\r\nAT\r"
    stream = b"".join((before, line, after))
    for cut in range(len(before), len(before) + len(line) + 1):
        out = io.BytesIO()
        trace = Trace(out)
        for direction in DIRECTIONS:
            trace.bytes(direction, stream[:cut])
            trace.bytes(direction, stream[cut:])
        records = _records(out)
        assert marker not in out.getvalue(), (cut, out.getvalue())
        for direction in DIRECTIONS:
            recorded = _recorded_bytes(records, direction)
            assert marker not in recorded
            assert recorded.startswith(before) and recorded.endswith(after)  # the rest is kept
            assert b"***" in recorded or b"2a2a2a" in recorded.lower() or b"sha256:" in recorded  # masked, not dropped


def test_a_secret_cut_into_single_bytes_is_masked():
    out = io.BytesIO()
    trace = Trace(out)
    data = b"".join(line for line, _ in PLANTED)
    for i in range(len(data)):
        trace.bytes("host->bridge", data[i:i + 1])
    recorded = out.getvalue()
    for _, marker in PLANTED:
        assert marker not in recorded


def test_certificate_and_key_data_after_the_prompt_keep_only_length_and_hash():
    key = b"-----BEGIN EC PRIVATE KEY-----\r\nMARKkeybody\r\n-----END EC PRIVATE KEY-----\r\n"
    stream = b'AT+MSSLCERTWR="client.key",0,%d\r' % len(key) + key + b"AT+CSQ\r"
    for cut in range(len(stream) + 1):
        out = io.BytesIO()
        trace = Trace(out)
        trace.bytes("bridge->module", stream[:cut])
        trace.bytes("bridge->module", stream[cut:])
        recorded = _recorded_bytes(_records(out), "bridge->module")
        assert b"MARKkeybody" not in recorded and b"PRIVATE KEY" not in recorded
        assert recorded == b'AT+MSSLCERTWR="client.key",0,%d\r<%d bytes sha256:' % (len(key), len(key)) \
            + recorded.split(b"sha256:")[1].split(b">")[0] + b">AT+CSQ\r"


def test_a_multiline_pem_written_as_a_file_is_reduced_to_length_and_hash():
    pem = b"-----BEGIN CERTIFICATE-----\r\nMARKline1\r\nMARKline2\r\n-----END CERTIFICATE-----\r\n"
    out = io.BytesIO()
    trace = Trace(out)
    for piece in (b"AT+FSWF=1\r\n", pem[:20], pem[20:50], pem[50:], b"OK\r\n"):
        trace.bytes("host->bridge", piece)
    recorded = _recorded_bytes(_records(out), "host->bridge")
    assert b"MARK" not in recorded
    assert recorded.startswith(b"AT+FSWF=1\r\n") and recorded.endswith(b"OK\r\n") and b"sha256:" in recorded


def test_model_event_records_mask_every_credential_header_and_url_secrets():
    headers = [(line.split(b":")[0].decode(), "MARKv%02d" % i) for i, (line, _) in enumerate(PLANTED[:11])]
    headers.append(("Accept", "text/plain"))
    request = Request(Method.GET, "https://user:MARKurlpw@example.test/p?x=1&token=MARKqtok", headers, b"Cookie: MARKbody\r\n")
    head = ResponseHead(200, "OK", b"HTTP/1.1 200 OK\r\nSet-Cookie: MARKraw=1\r\nContent-Length: 3\r\n",
                        (("Set-Cookie", "MARKsc=1"), ("Content-Length", "3")))
    out = io.BytesIO()
    trace = Trace(out)
    trace.event("request", request, 1)
    trace.event("event", head, 1)
    text = out.getvalue().decode()
    assert "MARK" not in text, text
    records = _records(out)
    assert ["Accept", "text/plain"] in records[0]["event"]["headers"]
    assert records[0]["event"]["url"] == "https://user:***@example.test/p?x=1&token=***"
    assert ["Content-Length", "3"] in records[1]["event"]["headers"]


def test_with_trace_secrets_everything_is_kept():
    out = io.BytesIO()
    trace = Trace(out, secrets=True)
    trace.bytes("host->bridge", PLANTED[0][0][:10])
    trace.bytes("host->bridge", PLANTED[0][0][10:])
    trace.event("request", Request(Method.GET, "http://u:MARKpw@example.test/", [("Authorization", "MARKa")]), 1)
    assert b"MARK01" in out.getvalue() and b"MARKpw" in out.getvalue() and b"MARKa" in out.getvalue()


def test_without_a_trace_file_nothing_is_recorded_nor_masked(monkeypatch):
    import bridge.bridging.trace as trace_module

    def fail(*args):
        raise AssertionError("masked though there is no trace file")

    monkeypatch.setattr(trace_module, "mask_line", fail)
    monkeypatch.setattr(trace_module, "StreamMasker", fail)
    trace = Trace(None)
    trace.bytes("host->bridge", b"Authorization: x\r\n")
    trace.event("request", Request(Method.GET, "http://example.test/", [("Authorization", "x")]), 1)
    assert not trace.enabled


def test_the_one_list_of_secret_header_names():
    for name in ("Authorization", "proxy-authorization", "COOKIE", "Set-Cookie", "api-key", "X-Api-Key",
                 "Private-Token", "X-Amz-Security-Token", "X-Whatever-Token", "X-Signing-Key", "My-Secret-Value"):
        assert is_secret_header(name), name
    for name in ("Host", "Content-Type", "Accept", "Content-Length", "Keyboard", "User-Agent"):
        assert not is_secret_header(name), name


def test_mask_line_is_linear_on_pathological_lines():
    for line in (b"x" * 200000 + b"-toke", b"a-" * 100000, b"0" * 200001, b"-----BEGIN " + b"A" * 100000,
                 b"http://" + b"a" * 100000 + b":" + b"b" * 100000, b"?" + b"k" * 100000 + b"="):
        assert len(mask_line(line)) >= 1


def test_a_held_line_keeps_its_arrival_time_and_the_last_one_is_written_at_close():
    """A firmware body without CRLF is held for masking while the module answers; its record
    carries the time it arrived, and an unterminated last line is written (masked) at close."""
    import io
    import json

    from bridge.bridging.trace import Trace

    stream = io.BytesIO()
    trace = Trace(stream)
    trace.bytes("host->module", b'{"status": "ACCEPTED"}')  # held: no line end yet
    trace.bytes("module->host", b"\r\nOK\r\n")
    trace.bytes("host->module", b"AT+CSQ\r")
    trace.bytes("host->module", b"Authorization: Bearer abc")  # the session ends mid-line
    trace.close()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    body = next(r for r in records if r["data"].startswith('{"status"'))
    answer = next(r for r in records if r["dir"] == "module->host")
    assert records.index(body) > records.index(answer)  # held back until its line ended ...
    assert body["t"] <= answer["t"]  # ... but stamped with its arrival, so ordering by t is right
    last = records[-1]
    assert last["dir"] == "host->module" and last["data"].startswith("Authorization:") and "abc" not in last["data"]
