"""`atbridge dialects` and `atbridge decode`, run as a user would (decode also on hostile lines)."""
import json
import subprocess
import sys

import pytest

from support.manual_names import NEOWAY_COMMANDS, NEOWAY_URCS, ONEMO_COMMANDS


def atbridge(*args, input_bytes=None):
    return subprocess.run([sys.executable, "-m", "bridge.app.cli", *args], input=input_bytes, capture_output=True, timeout=60)


def test_dialects_lists_both():
    out = atbridge("dialects").stdout.decode()
    assert out.startswith("neoway") and "\nonemo" in out


@pytest.mark.parametrize("name,commands,urcs", [
    ("onemo", ONEMO_COMMANDS, ['+MHTTPURC: "header"', '+MHTTPURC: "content"', '+MHTTPURC: "err"', '+MHTTPURC: "recv"',
                               '+MHTTPURC: "ind"', '+MHTTPURC: "download"', "+MHTTPDLFILE"]),
    ("neoway", NEOWAY_COMMANDS, NEOWAY_URCS),
])
def test_dialect_shows_every_command_and_urc(name, commands, urcs):
    result = atbridge("dialects", name)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    for command in commands:
        assert f"AT+{command}" in out
    for urc in urcs:
        assert urc in out
    assert "Error codes" in out and "Model profiles" in out


def test_unknown_dialect_is_a_clear_error():
    result = atbridge("dialects", "quectel")
    assert result.returncode != 0 and b"no such dialect" in result.stderr


def test_decode_prints_json_lines():
    capture = b'\r\n+MHTTPURC: "content",0,5,5,5,a\r\nb,\r\n\r\nOK\r\n'
    result = atbridge("decode", "--dialect", "onemo", "--from", "module", "-", input_bytes=capture)
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert lines[0]["type"] == "Info" and lines[0]["payload"] == {"text": "a\r\nb,"}
    assert lines[1] == {"type": "Final", "result": "OK", "code": None, "text": None}


# ---- hostile lines (tests/property/test_hostile_lines.py) through the command line --------------


@pytest.mark.parametrize("dialect_name", ["onemo", "neoway"])
@pytest.mark.parametrize("source", ["host", "module"])
def test_atbridge_decode_prints_hostile_lines_as_frames(dialect_name, source):
    """`atbridge decode`, run as a user runs it, on the issue's lines: every line a JSON frame,
    exit 0, no traceback."""
    import json
    import subprocess
    import sys

    capture = (b"\r\n+CME ERROR: \xc2\xb2\r\n\r\n+CME ERROR: " + b"9" * 5000 + b"\r\n"
               b'\r\n+MHTTPURC: "err",' + b"9" * 5000 + b",2\r\n\r\n+MHTTPHEADER:" + b" " * 5000 + b"\r\n"
               b"\r\n+HTTPRECV: " + b"9" * 5000 + b",x\r\nAT+MHTTPCONTENT=0,0,\xc2\xb2\r\nAT+HTTPSEND=" + b"9" * 5000 + b"\r\n"
               b"\x00\x00\r\r\r\n\xff\xfe\r\n\r\nOK\r\n")
    result = subprocess.run([sys.executable, "-m", "bridge.app.cli", "decode", "--dialect", dialect_name, "--from", source, "-"],
                            input=capture, capture_output=True, timeout=60)
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr[-2000:]
    frames = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert frames and all("type" in frame for frame in frames)
    if source == "module":
        cme = [f for f in frames if f["type"] == "Final" and f["result"] == "CME"]
        assert cme[0]["text"] == "²" and cme[1]["code"] is None and cme[1]["text"] == "9" * 5000
        assert frames[-1] == {"type": "Final", "result": "OK", "code": None, "text": None}
