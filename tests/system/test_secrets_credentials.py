"""Data-link passwords never reach a trace or `atbridge decode` output: AT+CGAUTH (27.007 10.1.31,
OneMO 4.13), AT+XGAUTH (N58 4.21), AT+NETAPN with user and password (N58 6.1) and its read answer,
the long AT+MIPCALL form and N720's AT$MYNETCON "USERPWD".  User names stay readable (the manuals
call them user names; the password is the credential).  Every line is cut at every byte boundary,
in every direction, as tests/unit/test_trace_secrets.py does for headers."""
from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import pytest

from bridge.bridging.trace import Trace
from bridge.app.decode import decode_stream
from bridge.at.frames import to_json
from bridge.app.migration.timeline import timeline
from bridge.model import Method, Request
from bridge.secrets import SECRET_PARAMS, mask_line
from support.bridged import bridged

DIRECTIONS = ("host->bridge", "bridge->host", "bridge->module", "module->bridge")

# (bytes as firmware or a module writes them, the password, the user name that stays)
PLANTED = [
    (b'AT+CGAUTH=1,1,"cmuser","XPW01cg"\r', b"XPW01", b"cmuser"),
    (b'AT+CGAUTH=1,2,"cm,user","XPW02cg"\r', b"XPW02", b"cm"),  # a comma in the user name
    (b'at + cgauth = 1 , 1 , "cmuser" , XPW03cg\r', b"XPW03", b"cmuser"),  # V.250: spaces, lower case
    (b'AT+XGAUTH=1,1,"nwuser","XPW04xg"\r', b"XPW04", b"nwuser"),
    (b'AT+NETAPN="cmnet","nwuser","XPW05na"\r', b"XPW05", b"nwuser"),
    (b'\r\n+NETAPN: "cmnet","nwuser","XPW06na"\r\n', b"XPW06", b"nwuser"),  # the read answer repeats it
    (b'AT+MIPCALL=1,"cmnet","gprs","XPW07mc"\r', b"XPW07", b"gprs"),
    (b'AT$MYNETCON=0,"USERPWD","nwuser,XPW08my"\r', b"XPW08", b"USERPWD"),
    (b'AT+CGDCONT=1,"IP","cmnet";+CGAUTH=1,1,"cmuser","XPW09cc"\r', b"XPW09", b"cmuser"),  # concatenated
    (b'\r\n+CGAUTH: 1,1,"cmuser","XPW10ra"\r\n', b"XPW10", b"cmuser"),
]


def _recorded(out: io.BytesIO, direction: str) -> bytes:
    data = b""
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        if record.get("dir") == direction:
            value = record["data"]
            data += base64.b64decode(value["base64"]) if isinstance(value, dict) else value.encode()
    return data


def test_the_list_names_every_command_that_carries_a_password():
    assert {"+CGAUTH", "+XGAUTH", "+NETAPN", "+MIPCALL", "$MYNETCON"} <= set(SECRET_PARAMS)


@pytest.mark.parametrize("line,password,user", PLANTED, ids=[p.decode() for _, p, _ in PLANTED])
def test_a_password_cut_at_every_byte_boundary_is_masked_in_every_direction(line, password, user):
    before, after = b"AT+CSQ\r\r\n+CSQ: 25,99\r\n", b"AT+CGATT?\r"
    stream = before + line + after
    for cut in range(len(before), len(before) + len(line) + 1):
        out = io.BytesIO()
        trace = Trace(out)
        for direction in DIRECTIONS:
            trace.bytes(direction, stream[:cut])
            trace.bytes(direction, stream[cut:])
        trace.close()
        assert password not in out.getvalue(), (cut, out.getvalue())
        for direction in DIRECTIONS:
            recorded = _recorded(out, direction)
            assert recorded.startswith(before) and recorded.endswith(after)  # the rest is kept
            assert b"***" in recorded and user in recorded  # masked, not dropped; the user name stays


def test_a_password_cut_into_single_bytes_is_masked():
    out = io.BytesIO()
    trace = Trace(out)
    data = b"".join(line for line, _, _ in PLANTED)
    for i in range(len(data)):
        trace.bytes("module->bridge", data[i:i + 1])
    trace.close()
    for _, password, _ in PLANTED:
        assert password not in out.getvalue()


def test_lines_without_a_password_are_kept_whole():
    for line in (b"AT+MIPCALL=1,1\r", b"AT+CGAUTH=1,0\r", b'AT$MYNETCON=0,"APN","cmnet"\r', b'+MIPCALL: 1,1,"10.0.0.2"\r\n',
                 b'AT+CGDCONT=1,"IP","cmnet"\r', b"AT+NETAPN?\r"):
        assert mask_line(line) == line


class Pieces(io.RawIOBase):
    """A capture read back in pieces of `size` bytes (decode reads whatever read() gives)."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    def read(self, n: int = -1) -> bytes:
        piece, self.data = self.data[:self.size], self.data[self.size:]
        return piece


@pytest.mark.parametrize("source", ["host", "module"])
@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_decode_of_raw_bytes_masks_every_password_however_they_are_read(dialect, source):
    data = b"".join(line for line, _, _ in PLANTED)
    for size in (1, 2, 3, 7, 64, len(data)):
        text = "\n".join(to_json(frame) for frame in decode_stream(Pieces(data, size), dialect, source))
        for _, password, user in PLANTED:
            assert password.decode() not in text, (size, password)
        assert "cmuser" in text and "nwuser" in text


def test_atbridge_decode_masks_a_raw_capture(tmp_path):
    capture = tmp_path / "host.bin"
    capture.write_bytes(b"".join(line for line, _, _ in PLANTED) + b'AT+MHTTPHEADER=0,0,0,"Authorization: Bearer TOKEN11"\r')
    result = subprocess.run([sys.executable, "-m", "bridge.app.cli", "decode", "--dialect", "onemo", "--from", "host", str(capture)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "XPW" not in result.stdout and "TOKEN11" not in result.stdout
    assert '"name": "CGAUTH"' in result.stdout and "cmuser" in result.stdout


def test_decode_of_a_trace_written_with_trace_secrets_masks_frames_and_events(tmp_path):
    out = io.BytesIO()
    trace = Trace(out, secrets=True)  # everything in clear, as --trace-secrets writes it
    trace.bytes("host->bridge", b'AT+NETAPN="cmnet","nwuser","XPW12tr"\r')
    trace.bytes("bridge->module", b'AT+CGAUTH=1,1,"nwuser","XPW13tr"\r')
    trace.bytes("module->bridge", b'\r\n+CGAUTH: 1,1,"nwuser","XPW14tr"\r\n')
    trace.event("request", Request(Method.GET, "http://u:XPW15ev@example.test/", [("Authorization", "XPW16ev")]), 1)
    assert b"XPW12" in out.getvalue() and b"XPW16" in out.getvalue()
    path = tmp_path / "trace.jsonl"
    path.write_bytes(out.getvalue())
    lines = list(timeline(path.open("rb"), "neoway"))
    text = "\n".join(lines)
    assert len(lines) >= 4 and "XPW" not in text, text
    assert "nwuser" in text


@pytest.mark.timeout(60)
@pytest.mark.parametrize("host,module,commands", [
    ("neoway", "onemo", ['AT+NETAPN="cmnet","nwuser","XPW17br"', 'AT+XGAUTH=1,1,"nwuser","XPW18br"', "AT+NETAPN?"]),
    ("onemo", "neoway", ['AT+CGAUTH=1,1,"cmuser","XPW19br"']),
])
def test_a_bridge_carries_the_password_but_its_trace_does_not(tmp_path, host, module, commands):
    """Bring-up is translated (NETAPN/XGAUTH become CGDCONT/CGAUTH and back): the module gets the
    password, the trace of both sides does not."""
    out = io.BytesIO()
    with bridged(host, module, tmp_path, trace=out) as (firmware, bridge, emulator):
        answers = [firmware.transact(line) for line in commands]
    assert all(answer.rstrip().endswith(b"OK") for answer in answers), answers
    recorded = out.getvalue()
    assert b"XPW" not in recorded, recorded
    sent = _recorded(out, "bridge->module")
    assert (b"CGAUTH" if module == "onemo" else b"XGAUTH") in sent and b"***" in sent  # carried, masked in the trace
