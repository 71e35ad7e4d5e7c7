"""`atbridge bridge --fs-root DIR`, run as a user runs it: the files the bridge keeps on the
firmware's behalf land in DIR under the module paths the firmware names, the log says where, and
a name that would leave DIR is refused with the firmware's own dialect's error."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from bridge.device.fs import ModuleFileSystem
from support.bridged import cli_bridged
from support.servers import BlobServer, blob_bytes, install_ca, server_context

@pytest.fixture
def server():
    with BlobServer() as srv:
        yield srv


def final_of(answer: bytes) -> bytes:
    return answer.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]


@pytest.mark.timeout(60)
def test_neoway_httpget_saves_into_the_fs_root(tmp_path, server):
    """Neoway firmware on a OneMO module: AT+HTTPGET's file is DIR/http/download.bin, and the MD5
    check the firmware asks for is made over the bytes that arrived there."""
    root = tmp_path / "n58-files"
    body = blob_bytes(70000, 4)
    digest = hashlib.md5(body).hexdigest()
    with cli_bridged("neoway", "onemo", tmp_path, "--fs-root", str(root)) as (fw, bridge, _):
        assert str(root.resolve()) in bridge.banner
        assert final_of(fw.transact("AT+XIIC=1")) == b"OK"
        assert final_of(fw.transact(f"AT+HTTPPARA=url,127.0.0.1:{server.port}/blob/70000?seed=4")) == b"OK"
        assert final_of(fw.transact(f'AT+HTTPGET=0,0,"{digest}"')) == b"OK"
        assert fw.expect(r"\+HTTPGETRPT: ([^\r]*)\r\n", timeout=30).group(1) == b"30"  # verification succeeded
        saved = root / "http" / "download.bin"
        assert hashlib.md5(saved.read_bytes()).hexdigest() == digest
        assert final_of(fw.transact(f'AT+HTTPGET=0,0,"{"0" * 32}"')) == b"OK"
        assert fw.expect(r"\+HTTPGETRPT: ([^\r]*)\r\n", timeout=30).group(1) == b"31"  # wrong digest: failed
        answer = fw.transact('AT+HTTPSCFG="cacert","../outside.pem"')
        assert final_of(answer) == b"ERROR", answer  # Neoway's error form
    assert saved.read_bytes() == body  # kept after the bridge stopped
    assert f"/http/download.bin -> {saved.resolve()}" in bridge.log
    assert bridge.process.returncode == 0


@pytest.mark.timeout(60)
def test_onemo_dlfile_lands_in_the_fs_root(tmp_path, server):
    """OneMO firmware on a Neoway module: AT+MHTTPDLFILE targets are the bridge's files; a
    relative name goes under etc/http_file/ as on a OneMO module, an absolute one under DIR."""
    root = tmp_path / "ml307-files"
    with cli_bridged("onemo", "neoway", tmp_path, "--fs-root", str(root)) as (fw, bridge, emulator):
        for url, name, where in (("/blob/70000?seed=5", '"fw.bin"', root / "etc" / "http_file" / "fw.bin"),
                                 ("/blob/3000?seed=6", '"/abs.bin"', root / "abs.bin")):
            assert final_of(fw.transact(f'AT+MHTTPDLFILE="http://127.0.0.1:{server.port}{url}",{name}')) == b"OK"
            fw.expect(r'\+MHTTPDLFILE: \d+,\d+,100\r\n', timeout=30)
        assert (root / "etc" / "http_file" / "fw.bin").read_bytes() == blob_bytes(70000, 5)
        assert (root / "abs.bin").read_bytes() == blob_bytes(3000, 6)
        assert emulator.side.fs.list("/") == []  # nothing was put on the Neoway module
        for escaping in ('"../../escape.bin"', '"/../escape.bin"'):
            answer = fw.transact(f'AT+MHTTPDLFILE="http://127.0.0.1:{server.port}/blob/10",{escaping}')
            assert final_of(answer).startswith(b"+CME ERROR:"), answer  # OneMO's error form (AT+CMEE=1)
        assert final_of(fw.transact("AT")) == b"OK"
    assert not (tmp_path / "escape.bin").exists() and not (root.parent / "escape.bin").exists()
    assert f"etc/http_file/fw.bin -> {(root / 'etc' / 'http_file' / 'fw.bin').resolve()}" in bridge.log
    assert bridge.process.returncode == 0


@pytest.mark.timeout(60)
def test_without_fs_root_a_named_temporary_directory_is_used_and_removed(tmp_path):
    with cli_bridged("neoway", "onemo", tmp_path) as (fw, bridge, _):
        found = re.search(r"bridge file system at (\S+), removed on exit", bridge.banner)
        assert found, bridge.banner
        where = Path(found.group(1))
        assert where.is_dir()
        assert final_of(fw.transact("AT")) == b"OK"
    assert not where.exists()


@pytest.mark.timeout(60)
def test_certificates_in_the_fs_root(tmp_path, ca):
    """Neoway firmware on a OneMO module: the CA a user copies into DIR is the file
    AT+HTTPSCFG="cacert" names, and the module verifies the server with it.  OneMO firmware on a
    Neoway module: the CA written with AT+MSSLCERTWR is kept in DIR/ssl/ and verifies too."""
    root = tmp_path / "n58-files"
    install_ca(ModuleFileSystem(str(root)), ca, "certs/ca.pem")  # as a user would copy it there
    with BlobServer(server_context(ca)) as server:
        with cli_bridged("neoway", "onemo", tmp_path / "n", "--fs-root", str(root)) as (fw, bridge, _):
            for line in ("AT+XIIC=1", 'AT+HTTPSCFG="authmode",1', 'AT+HTTPSCFG="cacert","certs/ca.pem"',
                         "AT+HTTPSPARA=url,127.0.0.1/blob/300?seed=8", f"AT+HTTPSPARA=port,{server.port}",
                         "AT+HTTPSSETUP", "AT+HTTPSACTION=0"):
                assert final_of(fw.transact(line, timeout=20)) == b"OK", line
            fw.expect(r"\+HTTPSRECV:", timeout=30)
            fw.expect(r"\r\n\+HTTPSCLOSED: HTTPS Link Closed\r\n", timeout=30)
            assert blob_bytes(300, 8) in bytes(fw.seen)
        root = tmp_path / "ml307-files"
        pem = ca.cert_pem.bytes()
        with cli_bridged("onemo", "neoway", tmp_path / "o", "--fs-root", str(root)) as (fw, bridge, _):
            fw.command(f'AT+MSSLCERTWR="s.ca",0,{len(pem)}')
            fw.expect(r"\r\n>")
            fw.send(pem)
            assert fw.expect(r"\r\n(OK|ERROR|\+CME ERROR: \d+)\r\n").group(1) == b"OK"
            for line in ('AT+MSSLCFG="cert",1,"s.ca"', 'AT+MSSLCFG="auth",1,1'):
                assert final_of(fw.transact(line)) == b"OK", line
            assert final_of(fw.transact(f'AT+MHTTPDLFILE="https://127.0.0.1:{server.port}/blob/20?seed=9","/v.bin",0,,0,1')) == b"OK"
            fw.expect(r'\+MHTTPDLFILE: \d+,\d+,100\r\n', timeout=30)
        assert (root / "ssl" / "s.ca").read_bytes() == pem and (root / "v.bin").read_bytes() == blob_bytes(20, 9)
        assert "/ssl/s.ca -> " in bridge.log
