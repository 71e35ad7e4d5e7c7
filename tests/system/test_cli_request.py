"""`atbridge request` against an emulated module on a real pty, as a user runs it."""
import hashlib
import subprocess
import sys
from contextlib import contextmanager

import pytest

from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.io.ports import PtyPort
from support.servers import BlobServer, RefusedPort, blob_sha256


@contextmanager
def module_on_pty(dialect, tmp_path):
    fs = ModuleFileSystem(str(tmp_path / "fs"))
    executor = NetworkExecutor(HostsResolver({"blob.test": ["127.0.0.1"]}), fs)
    path = str(tmp_path / f"{dialect}.pty")
    runner = ModuleRunner(make_module_side(dialect, fs), PtyPort(path), executor.single).start()
    try:
        yield path
    finally:
        runner.stop()
        executor.close()


def atbridge(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bridge.app.cli", *args], capture_output=True, timeout=60, input=stdin)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_get_writes_the_body(dialect, tmp_path):
    with BlobServer() as server, module_on_pty(dialect, tmp_path) as port:
        out = tmp_path / "body.bin"
        result = atbridge("request", "--dialect", dialect, "--port", port, "-o", str(out), server.url("/blob/300000?seed=4"))
        assert result.returncode == 0, result.stderr
        assert hashlib.sha256(out.read_bytes()).hexdigest() == blob_sha256(300000, 4)


@pytest.mark.timeout(60)
def test_put_with_header_and_data_from_a_file(tmp_path):
    payload = tmp_path / "note.txt"
    payload.write_bytes(b"hello, module")
    with BlobServer() as server, module_on_pty("onemo", tmp_path) as port:
        result = atbridge("request", "--dialect", "onemo", "--port", port, "-X", "PUT", "-H", "X-Thing: 42",
                          "-d", f"@{payload}", server.url("/echo"))
        assert result.returncode == 0, result.stderr
        assert result.stdout == b"hello, module"
        assert ("X-Thing", "42") in [(k, v) for k, v in server.requests[-1][2]]


@pytest.mark.timeout(60)
def test_failure_exits_nonzero_with_a_clear_message(tmp_path):
    with RefusedPort() as port_number, module_on_pty("onemo", tmp_path) as port:
        result = atbridge("request", "--dialect", "onemo", "--port", port, f"http://127.0.0.1:{port_number}/")
    assert result.returncode != 0
    assert b"request failed: connect_failed" in result.stderr


def test_bad_header_is_refused(tmp_path):
    result = atbridge("request", "--dialect", "onemo", "--port", str(tmp_path / "none"), "-H", "nocolon", "http://x/")
    assert result.returncode != 0 and b"Name: value" in result.stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_https_is_verified_by_default_like_curl(dialect, tmp_path, ca):
    """An untrusted server is refused unless -k; --cacert writes the CA to the module and verifies."""
    from support.servers import make_ca, server_context

    good = tmp_path / "ca.pem"
    good.write_bytes(ca.cert_pem.bytes())
    other = tmp_path / "other.pem"
    other.write_bytes(make_ca().cert_pem.bytes())
    with BlobServer(tls_context=server_context(ca)) as server, module_on_pty(dialect, tmp_path) as port:
        url = server.url("/blob/3000?seed=2").replace("http://", "https://")
        plain = atbridge("request", "--dialect", dialect, "--port", port, url)
        assert plain.returncode != 0 and b"--cacert" in plain.stderr and b"--insecure" in plain.stderr
        assert plain.stdout == b""
        wrong = atbridge("request", "--dialect", dialect, "--port", port, "--cacert", str(other), url)
        assert wrong.returncode != 0 and wrong.stdout == b""
        verified = atbridge("request", "--dialect", dialect, "--port", port, "--cacert", str(good), url)
        assert verified.returncode == 0, verified.stderr
        assert hashlib.sha256(verified.stdout).hexdigest() == blob_sha256(3000, 2)
        insecure = atbridge("request", "--dialect", dialect, "--port", port, "-k", url)
        assert insecure.returncode == 0, insecure.stderr
        assert hashlib.sha256(insecure.stdout).hexdigest() == blob_sha256(3000, 2)
