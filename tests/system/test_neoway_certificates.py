"""Certificates and files of Neoway firmware and of a Neoway module (issue 9, section 4), against
real TLS servers (trustme CA) on loopback:

- N58 firmware writes its CA with AT+FSWF (N58 manual 28.1) and names it in HTTPSCFG "cacert".
- Neoway firmware -> OneMO module: a "cacert" the bridge's file root does not hold is a name the
  OneMO module is assumed to hold; it is passed on as that name (no MSSLCERTWR).
- OneMO firmware -> Neoway module: the CA written with AT+MSSLCERTWR lands in the Neoway module's
  file system (AT+FSWF from the Neoway host side) and HTTPSCFG "cacert" names it.
"""
from __future__ import annotations

import io
import json

import pytest

from bridge.device.fs import ModuleFileSystem
from support.servers import BlobServer, blob_bytes, install_ca, server_context
from support.neoway_bridged import ERROR, recv0, session, setup
from support.onemo_bridged import onemo_bridge
from support.neoway_emulated import OK, ask, fs_root, neoway, wait_for

HOST = "www.neoway.com.cn"
CLOSED = r"\r\n\+HTTPSCLOSED: HTTPS Link Closed\r\n"


def fswf(fw, name: str, data: bytes) -> bytes:
    """AT+FSWF="<name>",0,<size>,<time>, the data after the prompt: the answer."""
    answer = ask(fw, f'AT+FSWF="{name}",0,{len(data)},10000')
    assert answer.endswith(b"\r\n>"), answer
    fw.send(data)
    return wait_for(fw, r"\r\n(OK|ERROR|\+FSWF: [^\r]*)\r\n")


@pytest.mark.timeout(20)
def test_n58_firmware_writes_its_ca_with_fswf(tmp_path, ca):
    pem = ca.cert_pem.bytes()
    with BlobServer(server_context(ca, names=(HOST,))) as server, neoway(tmp_path) as (fw, side):
        assert fswf(fw, "ca.pem", pem[:100]) == OK
        assert ask(fw, f'AT+FSWF="ca.pem",1,{len(pem) - 100},10000').endswith(b"\r\n>")  # append the rest
        fw.send(pem[100:])
        assert wait_for(fw, r"\r\n(OK|ERROR)\r\n") == OK
        assert (fs_root(tmp_path) / "ca.pem").read_bytes() == pem
        assert ask(fw, 'AT+HTTPSCFG="authmode",1') == OK
        assert ask(fw, 'AT+HTTPSCFG="cacert","ca.pem"') == OK
        assert ask(fw, f"AT+HTTPSPARA=url,{HOST}:{server.port}/blob/20") == OK
        assert ask(fw, "AT+HTTPSSETUP") == OK
        assert ask(fw, "AT+HTTPSACTION=0") == OK
        assert wait_for(fw, CLOSED).split(b"\r\n\r\n", 1)[1].startswith(blob_bytes(20, 0))


@pytest.mark.timeout(20)
def test_fswf_forms(tmp_path):
    with neoway(tmp_path) as (fw, side):
        assert ask(fw, 'AT+FSWF=ca.pem,0,5,1000') == ERROR  # the file name is quoted
        assert ask(fw, 'AT+FSWF="ca.pem",2,5,1000') == ERROR  # mode 0 or 1
        assert ask(fw, 'AT+FSWF="../ca.pem",0,5,1000') == ERROR  # outside the file system
        assert ask(fw, 'AT+FSWF="late.pem",0,5,200').endswith(b"\r\n>")
        assert wait_for(fw, r"\r\n\+FSWF: [^\r]*\r\n", timeout=5) == b"\r\n+FSWF: Timeout!\r\n"
        assert ask(fw, "AT") == OK


@pytest.mark.timeout(30)
def test_a_cacert_the_bridge_lacks_is_the_onemo_modules_own(tmp_path, ca):
    """Neoway firmware -> OneMO module: "ca.pem" is not in the bridge's file root but the OneMO
    module holds it (as if written there before); the request names it, and the server verifies."""
    trace = io.BytesIO()
    with BlobServer(server_context(ca, names=(HOST,))) as server, session(tmp_path, trace=trace) as (fw, bridge, module):
        install_ca(ModuleFileSystem(str(tmp_path / "module-fs")), ca, "ssl/ca.pem")  # the OneMO module's certificate store
        assert ask(fw, 'AT+HTTPSCFG="authmode",1') == OK
        assert ask(fw, 'AT+HTTPSCFG="cacert","ca.pem"') == OK
        setup(fw, f"{HOST}:{server.port}/blob/30", family="HTTPS")
        assert ask(fw, "AT+HTTPSACTION=0") == OK
        assert recv0(fw, "HTTPS")[1] == blob_bytes(30, 0)
    to_module = "".join(str(r.get("data")) for r in map(json.loads, trace.getvalue().decode().splitlines())
                        if r.get("dir") == "bridge->module")
    assert 'MSSLCFG="cert",0,"ca.pem"' in to_module and "MSSLCERTWR" not in to_module


@pytest.mark.timeout(40)
def test_onemo_firmwares_ca_lands_in_the_neoway_modules_file_system(tmp_path, ca):
    pem = ca.cert_pem.bytes()
    with BlobServer(server_context(ca)) as server, onemo_bridge(tmp_path) as module:
        module.send(f'AT+MSSLCERTWR="server.cer",0,{len(pem)}\r')
        module.prompt()
        module.send(pem)
        module.until_final()
        for line in ('AT+MSSLCFG="auth",1,1', 'AT+MSSLCFG="cert",1,"server.cer"',
                     f'AT+MHTTPCREATE="https://localhost:{server.port}"', 'AT+MHTTPCFG="ssl",0,1,1',
                     'AT+MHTTPREQUEST=0,1,0,"/blob/40"'):
            module.ok(line)
        head, body = module.response(0, "GET", timeout=30)
        assert head.int("code") == 200 and body == blob_bytes(40, 0)
    written = list((tmp_path / "module-fs").glob("atb-cacert-*.pem"))
    assert len(written) == 1 and written[0].read_bytes() == pem  # in the Neoway module's file system
