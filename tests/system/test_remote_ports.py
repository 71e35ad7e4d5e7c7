"""Modules on other machines: the bridge (`--module URL`) and `atbridge request` (`--port URL`)
over `socket://` (a loopback TCP relay to an emulator's pty) and `rfc2217://` (Debian's ser2net
exposing an emulator's pty with RFC 2217, as a module farm does), with no undocumented option.
Each moves a multi-megabyte body, checked by SHA-256."""
from __future__ import annotations

import hashlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

from bridge.app.demo.firmware import HostEnd
from bridge.at.dialect import load
from bridge.at.frames import HttpBody, Info
from bridge.at import ResponseFramer
from bridge.io.ports import SerialPort, open_host_end
from support.servers import BlobServer, blob_sha256
from support.ser2net import SER2NET_CONFIG, connectable as _connectable

ATBRIDGE = [sys.executable, "-m", "bridge.app.cli"]
SIZE = 10 * 1000 * 1000


def _start(args: list[str]) -> subprocess.Popen:
    process = subprocess.Popen(ATBRIDGE + args, stderr=subprocess.PIPE, text=True)
    banner = process.stderr.readline()  # printed once the ports are open
    assert "Ctrl-C stops" in banner, banner + (process.stderr.read() if process.poll() is not None else "")
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class TcpRelay:
    """A loopback TCP server relaying one connection at a time to a serial device (the pty of an
    emulator): what `socket://` reaches on a module farm."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop_r, self._stop_w = os.pipe()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        selector.register(self._stop_r, selectors.EVENT_READ)
        while True:
            if any(key.fileobj == self._stop_r for key, _ in selector.select()):
                return
            conn, _ = self.listener.accept()
            with conn:
                self._relay(conn)

    def _relay(self, conn: socket.socket) -> None:
        serial_end = open_host_end(self.device, timeout=None)
        fd = serial_end.fileno()
        try:
            selector = selectors.DefaultSelector()
            selector.register(conn, selectors.EVENT_READ)
            selector.register(fd, selectors.EVENT_READ)
            selector.register(self._stop_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj == self._stop_r:
                        return
                    if key.fileobj is conn:
                        data = conn.recv(65536)
                        if not data:
                            return
                        serial_end.write(data)
                    else:
                        conn.sendall(os.read(fd, 65536))
        finally:
            serial_end.close()

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def emulated_onemo(tmp_path) -> Iterator[str]:
    """An `atbridge emulate onemo` process; yields its pty link."""
    link = str(tmp_path / "onemo.pty")
    emulator = _start(["emulate", "onemo", "--port", f"pty:{link}"])
    try:
        yield link
    finally:
        _stop(emulator)


@pytest.fixture
def socket_url(emulated_onemo) -> Iterator[str]:
    relay = TcpRelay(emulated_onemo)
    try:
        yield f"socket://127.0.0.1:{relay.port}"
    finally:
        relay.close()


@pytest.fixture
def rfc2217_url(emulated_onemo, tmp_path) -> Iterator[str]:
    if shutil.which("ser2net") is None:
        if os.environ.get("CI"):  # CI runs tools/test-deps.sh: a missing ser2net is a failure there
            pytest.fail("ser2net is not installed although tools/test-deps.sh ran")
        pytest.skip("ser2net is not installed (tools/test-deps.sh installs it)")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    config = tmp_path / "ser2net.yaml"
    config.write_text(SER2NET_CONFIG.format(port=port, device=emulated_onemo))
    daemon = subprocess.Popen(["ser2net", "-n", "-u", "-c", str(config), "-P", str(tmp_path / "ser2net.pid")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _connectable(port)
        yield f"rfc2217://127.0.0.1:{port}"
    finally:
        daemon.terminate()
        daemon.wait(5)


def _request(url: str, port_url: str, out: Path) -> str:
    result = subprocess.run(ATBRIDGE + ["request", "--dialect", "onemo", "--port", port_url, "-o", str(out), url],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256()
    with open(out, "rb") as body:
        for block in iter(lambda: body.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bridged_download(tmp_path: Path, module_url: str, server: BlobServer, size: int) -> str:
    """Neoway firmware -> `atbridge bridge --module module_url` -> the OneMO module: one GET."""
    host_link = str(tmp_path / "host.pty")
    bridge = _start(["bridge", "--host", f"pty:{host_link}", "--host-dialect", "neoway",
                     "--module", module_url, "--module-dialect", "onemo"])
    firmware = HostEnd(open_host_end(host_link))
    try:
        firmware.transact("ATE0")
        firmware.transact("AT+XIIC=1")
        firmware.transact(f"AT+HTTPPARA=url,127.0.0.1/blob/{size}?seed=5")
        firmware.transact(f"AT+HTTPPARA=port,{server.port}")
        firmware.transact("AT+HTTPSETUP", timeout=30)
        firmware.command("AT+HTTPACTION=0")
        framer = ResponseFramer(load("neoway"), prompts=False)
        digest, head_seen = hashlib.sha256(), False
        while True:
            frames = firmware.frames_until(framer, lambda f: isinstance(f, (HttpBody, Info)), timeout=120)
            firmware.seen.clear()  # bounded: the firmware keeps no history
            firmware.cursor = 0
            for frame in frames:
                if isinstance(frame, HttpBody):
                    digest.update(frame.data)
                    head_seen = True
            if any(isinstance(f, Info) and f.name == "+HTTPCLOSED" for f in frames):
                break
        assert head_seen
        return digest.hexdigest()
    finally:
        firmware.port.close()
        _stop(bridge)


@pytest.mark.timeout(300)
def test_request_over_socket_url(socket_url, tmp_path):
    with BlobServer() as server:
        assert _request(server.url(f"/blob/{SIZE}?seed=4"), socket_url, tmp_path / "body") == blob_sha256(SIZE, 4)


@pytest.mark.timeout(300)
def test_bridge_with_its_module_over_socket_url(socket_url, tmp_path):
    with BlobServer() as server:
        assert _bridged_download(tmp_path, socket_url, server, SIZE) == blob_sha256(SIZE, 5)


@pytest.mark.timeout(300)
def test_request_over_ser2net_rfc2217(rfc2217_url, tmp_path):
    with BlobServer() as server:
        assert _request(server.url(f"/blob/{SIZE}?seed=4"), rfc2217_url, tmp_path / "body") == blob_sha256(SIZE, 4)


@pytest.mark.timeout(300)
def test_bridge_with_its_module_over_ser2net_rfc2217(rfc2217_url, tmp_path):
    with BlobServer() as server:
        assert _bridged_download(tmp_path, rfc2217_url, server, SIZE) == blob_sha256(SIZE, 5)


@pytest.mark.timeout(60)
def test_socket_url_reads_large_blocks(socket_url):
    """`socket://` is read on its descriptor in blocks, not a byte or two at a time."""
    port = SerialPort(socket_url)
    try:
        port.write(b"ATE0\r")
        got = b""
        while b"OK\r\n" not in got:
            got += port.read()
        port.write(b"AT+CSQ\rAT+CSQ\rAT+CSQ\r")
        got = b""
        reads = 0
        while got.count(b"OK\r\n") < 3:
            got += port.read()
            reads += 1
        assert reads <= 3 and got.count(b"+CSQ:") == 3
    finally:
        port.close()
