"""Numbers that are not ASCII digits ("²", fullwidth "１", Arabic-Indic "٣") or that are huge (more
digits than Python converts: 5,000) are refused with the dialect's error -- never converted, never
a traceback: in every numeric parameter of the 3GPP basics (common.yaml), in OneMO's own commands,
and in the response headers a network server (or a module behind a bridge) sends."""
from __future__ import annotations

import logging
import tempfile

import pytest

from bridge.roles.basics import _HANDLERS
from bridge.registry import make_module_side
from bridge.model import Method, Progress, Request, ResponseEnd, ResponseHead
from bridge.device.fs import ModuleFileSystem
from bridge.device.hosts import HostsResolver
from bridge.net import NetworkExecutor
from bridge.onemo.module.sinks import FileWriter
from support.servers import RawServer

HOSTILE = ["\u00b2", "\uff11", "\u0663", "9" * 5000, "1" * 19]
ERROR = {"onemo": b"\r\n+CME ERROR: 50\r\n", "neoway": b"\r\nERROR\r\n"}  # invalid parameter (AT+CMEE=1)


def _side(dialect: str, tmp_path):
    side = make_module_side(dialect, ModuleFileSystem(str(tmp_path)))
    side.receive_data(b"ATE0\r", 0.0)
    side.data_to_send()
    return side


def _ask(side, line: str) -> bytes:
    side.receive_data(line.encode() + b"\r", 0.0)
    return side.data_to_send()


def _valid(param) -> str:
    if param.values:
        return sorted(param.values)[-1]
    return str(param.range[0]) if param.range else "1"


def _numeric_forms(side) -> list[tuple[str, list, int]]:
    """(name, set-form params, index) for every int parameter of the basics' set forms."""
    out = []
    for name in sorted(n for n in _HANDLERS if n and n not in ("E", "I")):
        spec = side.dialect.command(name)
        form = spec.forms.get("set") if spec else None
        for index, param in enumerate(form.params if form else ()):
            if param.type == "int":
                out.append((name, form.params, index))
    return out


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_every_numeric_basic_parameter_refuses_hostile_digits(dialect, tmp_path, caplog):
    side = _side(dialect, tmp_path)
    forms = _numeric_forms(side)
    assert {name for name, _, _ in forms} >= {"CGDCONT", "CGACT", "CGATT", "CFUN", "COPS", "CEREG", "CREG", "CMEE"}
    for name, params, index in forms:
        for value in HOSTILE:
            values = [_valid(p) for p in params[:index]] + [value]
            answer = _ask(side, f"AT+{name}=" + ",".join(values))
            assert answer == ERROR[dialect], (name, index, value[:8], answer)
    assert _ask(side, "AT") == b"\r\nOK\r\n"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("line", [
    "AT+MIPCALL=\uff11,1", "AT+MIPCALL=1,\u0663", 'AT+CGAUTH=\uff11,1,"u","p"', 'AT+MHTTPCREATE="http://a.example"\rAT+MHTTPCFG="timeout",0,\uff11\uff10',
    'AT+MHTTPDLFILE="http://127.0.0.1:9/x","f.bin",\uff11', "AT+MHTTPDEL=\u0663",
])
def test_onemo_commands_refuse_non_ascii_digits(line, tmp_path):
    """OneMO parameters are read with [0-9]: a regular expression's \\d (and int()) take "１"."""
    side = _side("onemo", tmp_path)
    *setup, last = line.split("\r")
    for earlier in setup:
        assert _ask(side, earlier).endswith(b"OK\r\n")
    assert _ask(side, last) == ERROR["onemo"]
    assert not side.take_actions()
    assert _ask(side, "AT") == b"\r\nOK\r\n"


def test_a_file_writer_ignores_hostile_lengths(tmp_path):
    """A OneMO module side writing a download itself (a bridge) takes the head from the module
    behind it: "²" as Content-Length and a 5,000-digit Content-Range total are no totals."""
    writer = FileWriter(ModuleFileSystem(str(tmp_path)), "/f.bin")
    head = ResponseHead(206, "Partial Content", b"", (("Content-Length", "\u00b2"), ("Content-Range", "bytes 0-1/" + "9" * 5000)))
    writer.start(head, Method.GET)
    assert (writer.total, writer.entity) == (None, None)
    assert writer.write(b"ab") == Progress(2, None, None)
    writer.close()


def test_a_server_announcing_a_huge_range_total_still_delivers_the_file():
    """The executor saving a body to a file read the Content-Range total with int(): a server's
    5,000 digits raised ValueError out of the request (the firmware saw "err" 255)."""
    head = b"HTTP/1.1 206 Partial Content\r\nContent-Length: 2\r\nContent-Range: bytes 0-1/" + b"9" * 5000 + b"\r\n\r\nab"
    with tempfile.TemporaryDirectory() as root, RawServer(head) as server, \
            NetworkExecutor(HostsResolver({}), ModuleFileSystem(root)) as executor:
        events = list(executor.execute(Request(Method.GET, f"http://127.0.0.1:{server.port}/", save_to="/f.bin")))
        assert isinstance(events[0], ResponseHead) and events[0].status == 206
        assert [e for e in events if isinstance(e, ResponseEnd)][0].body_length == 2
        assert [e.entity_total for e in events if isinstance(e, Progress)] == [None]
        assert ModuleFileSystem(root).read_bytes("/f.bin") == b"ab"
