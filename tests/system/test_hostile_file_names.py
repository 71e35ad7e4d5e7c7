"""Hostile module file names get the dialect's error, never a traceback, and the log stays short.

Names: a NUL, '..', control characters, a name over 255 bytes (also on a resumed OneMO
AT+MHTTPDLFILE, <eof> 1 without <range>), a path 1,500 folders deep, and a symbolic-link loop
inside the file root.  What each dialect answers:

- OneMO (HTTP manual, chapter 5): a malformed <local_path> is a parameter error, +CME ERROR: 50; a
  well-formed one no file can be opened at ("长度范围与文件系统相关", fn 26/33: the length limits
  are the file system's) is +CME ERROR: 658 "打开文件失败" (open file failed) -- at once, with no
  request made.
- Neoway: AT+FSWF and AT+HTTPSCFG="cacert" answer ERROR; AT+FILEHTTPACTION its +CME code for
  invalid parameters (53, Chinese v2.0 11.19).

Checked in memory (the module sides and the file system) and on the CLI emulator over a pty.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.registry import make_module_side
from bridge.roles.module import StartRequest
from bridge.model import Connected
from bridge.device.fs import ModuleFileSystem, PathEscapeError, UnusablePathError
from bridge.io.ports import open_host_end
from bridge.app.demo.firmware import HostEnd

URL = "http://127.0.0.1:9/x"  # never reached: every name below is refused before a request
FINAL = r"\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n"

MALFORMED = {"nul": "a\x00b.bin", "dotdot": "../outside.bin", "dotdot-inner": "a/../../outside.bin",
             "control": "a\x01\x1b[2Jb.bin"}  # (BS and DEL edit the typed line: V.250 S5)
UNUSABLE = {"name-256": "n" * 256, "component-300": "dir/" + "c" * 300, "deep-1500": "d/" * 1500 + "f.bin",
            "loop": "loop", "under-loop": "loop/x.bin", "two-link-loop": "ping/x.bin"}


def _fs_with_loops(root: Path) -> ModuleFileSystem:
    """A file root holding symbolic-link loops where each dialect stores names."""
    for folder in (root, root / "etc" / "http_file"):
        folder.mkdir(parents=True, exist_ok=True)
        os.symlink("loop", folder / "loop")
        os.symlink("pong", folder / "ping")
        os.symlink("ping", folder / "pong")
    return ModuleFileSystem(root)


def _no_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text[:2000]


def _tree_size(root: Path) -> int:
    return sum(len(dirs) + len(files) for _, dirs, files in os.walk(root))


# ---- the file system itself -----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_names_are_refused_as_malformed(tmp_path, name):
    fs = _fs_with_loops(tmp_path)
    with pytest.raises(PathEscapeError) as refused:
        fs.open_write(name)
    assert not isinstance(refused.value, UnusablePathError)
    assert len(str(refused.value)) < 200  # the message quotes a bounded part of the name


@pytest.mark.parametrize("name", list(UNUSABLE.values()), ids=list(UNUSABLE))
def test_unusable_names_are_refused_before_anything_is_created(tmp_path, name):
    fs = _fs_with_loops(tmp_path)
    before = _tree_size(tmp_path)
    for operation in (fs.resolve, fs.open_write, fs.exists, fs.size, fs.read_bytes, fs.remove):
        with pytest.raises(UnusablePathError):
            operation(name)
    assert _tree_size(tmp_path) == before  # no folders of a 1,500-level path were made
    assert len(str(pytest.raises(UnusablePathError, fs.resolve, name).value)) < 200


def test_ordinary_names_still_work(tmp_path):
    fs = _fs_with_loops(tmp_path)
    assert fs.write_file("/etc/http_file/caf\u00e9 1.bin", b"abc") == 3
    assert fs.write_file("d/" * 60 + "f.bin", b"x") == 1
    assert fs.write_file("n" * 255, b"255") == 3 and fs.read_bytes("n" * 255) == b"255"
    assert fs.resolve("loop-free/\u00e9" * 2)


# ---- OneMO, in memory -------------------------------------------------------------------------------


class OnemoSide:
    def __init__(self, tmp_path: Path) -> None:
        self.side = make_module_side("onemo", _fs_with_loops(tmp_path / "fs"))
        self.ask("ATE0")

    def ask(self, line: str) -> bytes:
        self.side.receive_data(line.encode("utf-8", "surrogateescape") + b"\r", 0.0)
        return self.side.data_to_send()


@pytest.mark.parametrize("resumed", [False, True], ids=["new", "resumed"])
@pytest.mark.parametrize("name,code", [(n, 50) for n in MALFORMED.values()] + [(n, 658) for n in UNUSABLE.values()],
                         ids=[f"{k}-50" for k in MALFORMED] + [f"{k}-658" for k in UNUSABLE])
def test_onemo_dlfile_answers_the_manuals_code_at_once(tmp_path, caplog, name, code, resumed):
    onemo = OnemoSide(tmp_path)
    tail = ",0,,1" if resumed else ""  # <eof> 1 without <range>: resume after what the file holds (fn 34)
    assert onemo.ask(f'AT+MHTTPDLFILE="{URL}","{name}"{tail}') == f"\r\n+CME ERROR: {code}\r\n".encode()
    assert not [a for a in onemo.side.take_actions() if isinstance(a, StartRequest)]  # nothing went to the network
    assert onemo.ask(f'AT+MHTTPCREATE="{URL[:-2]}"').endswith(b"OK\r\n")
    assert onemo.ask(f'AT+MHTTPREQUEST=0,1,0,"/x","{name}"') == f"\r\n+CME ERROR: {code}\r\n".encode()
    assert not [a for a in onemo.side.take_actions() if isinstance(a, StartRequest)]
    assert onemo.ask("AT") == b"\r\nOK\r\n"
    _no_traceback(caplog)


# ---- Neoway, in memory ------------------------------------------------------------------------------


class NeowaySide:
    def __init__(self, tmp_path: Path) -> None:
        self.side = make_module_side("neoway", _fs_with_loops(tmp_path / "fs"), link_up=True)
        self.ask("ATE0")

    def ask(self, line: str) -> bytes:
        self.side.receive_data(line.encode("utf-8", "surrogateescape") + b"\r", 0.0)
        return self.side.data_to_send()

    def link(self) -> None:
        assert self.ask("AT+HTTPPARA=url,127.0.0.1/x") == b"\r\nOK\r\n"
        self.ask("AT+HTTPPARA=port,9")
        self.ask("AT+HTTPSETUP")
        [start] = self.side.take_actions()
        self.side.handle_event(start.token, Connected(), 0.0)
        assert self.side.data_to_send() == b"\r\nOK\r\n"


@pytest.mark.parametrize("name", list(MALFORMED.values()) + list(UNUSABLE.values()), ids=list(MALFORMED) + list(UNUSABLE))
def test_neoway_file_commands_answer_their_error_form(tmp_path, caplog, name):
    neoway = NeowaySide(tmp_path)
    assert neoway.ask(f'AT+FSWF="{name}",0,5,1000') == b"\r\nERROR\r\n"  # refused before the "> " prompt
    assert neoway.ask(f'AT+HTTPSCFG="cacert","{name}"') == b"\r\nERROR\r\n"
    neoway.link()
    for mode in ("1,5,1", "0,0,100"):  # POST the file / GET into it (Chinese v2.0 names a local file too)
        assert neoway.ask(f'AT+FILEHTTPACTION={mode},"{name}"') == b"\r\n+CME ERROR: 53\r\n"
        assert not neoway.side.take_actions()
    assert neoway.ask("AT") == b"\r\nOK\r\n"
    _no_traceback(caplog)


# ---- the CLI emulator over a pty --------------------------------------------------------------------


def _emulate(dialect: str, tmp_path: Path):
    fs = tmp_path / "fs"
    _fs_with_loops(fs)
    link = str(tmp_path / f"{dialect}.pty")
    stderr = open(tmp_path / "stderr", "w+b")
    args = [sys.executable, "-m", "bridge.app.cli", "emulate", dialect, "--port", f"pty:{link}", "--fs-root", str(fs)]
    process = subprocess.Popen(args + (["--link", "up"] if dialect == "neoway" else []), stderr=stderr)
    return process, link, stderr


def _wait_for_banner(stderr, process) -> None:
    import selectors
    import time

    deadline = time.monotonic() + 30
    while b"Ctrl-C stops" not in Path(stderr.name).read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, Path(stderr.name).read_bytes()
        with selectors.DefaultSelector() as selector:  # bounded wait without a busy loop
            selector.select(0.05)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_the_cli_emulator_answers_and_its_log_stays_short(tmp_path, dialect):
    process, link, stderr = _emulate(dialect, tmp_path)
    try:
        _wait_for_banner(stderr, process)
        host = HostEnd(open_host_end(link))
        host.transact("ATE0")
        answers = []
        for name in list(MALFORMED.values()) + list(UNUSABLE.values()):
            if dialect == "onemo":
                answers.append(host.transact(f'AT+MHTTPDLFILE="{URL}","{name}"', FINAL))
                answers.append(host.transact(f'AT+MHTTPDLFILE="{URL}","{name}",0,,1', FINAL))
            else:
                answers.append(host.transact(f'AT+FSWF="{name}",0,5,1000', FINAL))
                answers.append(host.transact(f'AT+HTTPSCFG="cacert","{name}"', FINAL))
        assert host.transact("AT") == b"\r\nOK\r\n"
        host.port.close()
    finally:
        process.terminate()
        process.wait(10)
    expected = {"onemo": [b"\r\n+CME ERROR: 50\r\n"] * 2 * len(MALFORMED) + [b"\r\n+CME ERROR: 658\r\n"] * 2 * len(UNUSABLE),
                "neoway": [b"\r\nERROR\r\n"] * 2 * (len(MALFORMED) + len(UNUSABLE))}[dialect]
    assert answers == expected
    log = Path(stderr.name).read_bytes()
    assert b"Traceback" not in log and len(log) < 1024, log[:2000]  # the start-up line (and the stop line)
