"""AT+HTTPSCFG="sslversion",<n> names the lowest TLS version the module offers, not an exact pin:
with the manual's example value 0 (9.15: AT+HTTPSCFG="sslversion",0) a TLS 1.2-only server must
work, and so must every other value up to 3 (TLS 1.2).  Checked against a real TLS server that
offers TLS 1.2 and nothing else, directly and through the bridge to the OneMO emulator."""
from __future__ import annotations

import ssl

import pytest

from bridge.device.fs import ModuleFileSystem
from support.servers import BlobServer, blob_bytes, install_ca, server_context
from support.neoway_bridged import bridge_fs, session
from support.neoway_emulated import OK, ask, fs_root, neoway, wait_for

HOST = "www.neoway.com.cn"
CLOSED = r"\r\n\+HTTPSCLOSED: HTTPS Link Closed\r\n"


@pytest.fixture(scope="module")
def tls12_server(ca):
    with BlobServer(server_context(ca, names=(HOST,), max_version=ssl.TLSVersion.TLSv1_2)) as server:
        yield server


def https_get(fw, port: int, version: str, size: int = 300) -> None:
    """authmode 1 (verify the server) with the CA in ca.pem, sslversion `version`, one GET."""
    for option, value in (("sslversion", version), ("authmode", "1"), ("cacert", '"ca.pem"')):
        assert ask(fw, f'AT+HTTPSCFG="{option}",{value}') == OK
    assert ask(fw, f"AT+HTTPSPARA=url,{HOST}:{port}/blob/{size}?seed=4") == OK
    assert ask(fw, "AT+HTTPSSETUP") == OK
    assert ask(fw, "AT+HTTPSACTION=0") == OK
    text = wait_for(fw, CLOSED)
    assert text.startswith(b"\r\n+HTTPSRECV:\r\nHTTP/1.1 200 OK\r\n")
    assert text.split(b"\r\n\r\n", 1)[1].startswith(blob_bytes(size, 4))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("version", ["0", "1", "2", "3"])
def test_tls12_server_with_every_sslversion_directly(tmp_path, ca, tls12_server, version):
    with neoway(tmp_path) as (fw, side):
        install_ca(ModuleFileSystem(fs_root(tmp_path)), ca, "ca.pem")
        https_get(fw, tls12_server.port, version)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("version", ["0", "3"])
def test_tls12_server_with_sslversion_bridged(tmp_path, ca, tls12_server, version):
    with session(tmp_path) as (fw, bridge, module):
        install_ca(bridge_fs(tmp_path), ca, "ca.pem")
        https_get(fw, tls12_server.port, version)
