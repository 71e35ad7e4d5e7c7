"""`atbridge dialects` and `atbridge decode`, run as a user would."""
import json
import subprocess
import sys

import pytest

from test_dialect_files import NEOWAY_COMMANDS, NEOWAY_URCS, ONEMO_COMMANDS


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
