"""Certificates across the bridge (issue 9, section 4), both directions, against a real TLS server
(trustme CA) on loopback:

- OneMO firmware -> Neoway module: the CA written with AT+MSSLCERTWR (the HTTP manual's 4.2 and
  esp-ml307's way) and MSSLCFG "auth" 1 verify the server; the bridge hands the PEM to the Neoway
  host side in TlsSettings.ca (PEM text: the Neoway module must get the file).  The wrong CA gives
  OneMO's own TLS error, +MHTTPURC: "err",<id>,4.
- Neoway firmware -> OneMO module: the OneMO host side writes what the request carries as PEM with
  MSSLCERTWR / MSSLKEYWR (tests/system/test_onemo_ssl.py) and names the SSL context's files.
"""
from __future__ import annotations

import pytest

from support.servers import blob_bytes, make_ca
from support.onemo_bridged import onemo_bridge
from support.onemo_emulated import OK

pytestmark = pytest.mark.timeout(60)

def write_ca(module, name: str, pem: bytes) -> None:
    module.send(f'AT+MSSLCERTWR="{name}",0,{len(pem)}\r')
    module.prompt()
    module.send(pem)
    assert module.until_final() == [OK]


def https_get(module, port: int, path: str = "/blob/500") -> None:
    module.ok('AT+MSSLCFG="auth",1,1')
    module.ok('AT+MSSLCFG="cert",1,"server.cer"')
    module.ok(f'AT+MHTTPCREATE="https://localhost:{port}"')
    module.ok('AT+MHTTPCFG="ssl",0,1,1')
    module.ok(f'AT+MHTTPREQUEST=0,1,0,"{path}"')


def test_onemo_firmware_verifies_the_server_through_a_neoway_module(tmp_path, ca, tls_server):
    with onemo_bridge(tmp_path) as module:
        write_ca(module, "server.cer", ca.cert_pem.bytes())
        https_get(module, tls_server.port)
        head, body = module.response(0, "GET", timeout=30)
        assert head.int("code") == 200 and body == blob_bytes(500, 0)


def test_onemo_firmware_with_the_wrong_ca_gets_onemos_tls_error(tmp_path, tls_server):
    with onemo_bridge(tmp_path) as module:
        before = len(tls_server.requests)
        write_ca(module, "server.cer", make_ca().cert_pem.bytes())
        https_get(module, tls_server.port, "/blob/10")
        assert module.urc("err", timeout=30).int("error_code") == 4
        assert len(tls_server.requests) == before  # never sent unverified
