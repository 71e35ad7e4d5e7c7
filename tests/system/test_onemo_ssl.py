"""The OneMO SSL commands beyond MSSLCERTWR/MSSLCFG (issue 9, section 3), as the OneMO SSL manual
V5.4.5 states them (3.3 MSSLKEYWR, 3.4 MSSLCERTRD, 3.5 MSSLLIST, 3.6 MSSLRM) and public ML307R
drivers use them (MSSLRM before writing, MSSLCERTWR/MSSLKEYWR in data mode, MSSLLIST=<type> to see
what is stored): on the OneMO emulator over a real pty, with mutual TLS against a real TLS server
that requires a client certificate (trustme); and the OneMO host side writing a client key.
"""
from __future__ import annotations

import pytest

from bridge.model import Method, Request, TlsSettings, VerifyMode
from support.servers import BlobServer, blob_bytes, server_context
from support.onemo_emulated import OK, Module, running_module
from support.onemo_hostside import FakeModule, ok_response, started

pytestmark = pytest.mark.timeout(60)

NOT_FOUND = 762  # SSL manual 5.2: CERTS/KEYS do not exist


@pytest.fixture
def module(tmp_path):
    with running_module(tmp_path) as module:
        yield module


def write(module: Module, command: str, name: str, pem: bytes) -> None:
    """Data mode, as the manual's examples and ML307R drivers: <length> bytes after ">"."""
    module.send(f'AT+{command}="{name}",0,{len(pem)}\r')
    module.prompt()
    module.send(pem)
    assert module.until_final() == [OK]


def test_mutual_tls_with_a_key_written_by_msslkeywr(module, ca):
    client = ca.issue_cert("device.example")
    key = client.private_key_pem.bytes()
    with BlobServer(tls_context=server_context(ca, require_client_cert=True)) as server:
        write(module, "MSSLCERTWR", "test.cer", ca.cert_pem.bytes())
        write(module, "MSSLCERTWR", "test.clientcer", b"".join(p.bytes() for p in client.cert_chain_pems))
        write(module, "MSSLKEYWR", "test.key", key)
        module.ok('AT+MSSLCFG="auth",2,2')
        module.ok('AT+MSSLCFG="cert",2,"test.cer","test.clientcer","test.key"')
        module.ok(f'AT+MHTTPCREATE="https://localhost:{server.port}"')
        module.ok('AT+MHTTPCFG="ssl",0,1,2')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/300"')
        head, body = module.response()
        assert head.int("code") == 200 and body == blob_bytes(300, 0)
        assert server.peer_certs[-1]["subjectAltName"] == (("DNS", "device.example"),)


def test_without_the_key_the_server_refuses(module, ca):
    """The same context with the key removed (MSSLRM): the handshake fails, OneMO's "err" 4."""
    client = ca.issue_cert("device.example")
    with BlobServer(tls_context=server_context(ca, require_client_cert=True)) as server:
        write(module, "MSSLCERTWR", "ca.cer", ca.cert_pem.bytes())
        write(module, "MSSLCERTWR", "cli.cer", b"".join(p.bytes() for p in client.cert_chain_pems))
        write(module, "MSSLKEYWR", "cli.key", client.private_key_pem.bytes())
        module.ok("AT+MSSLRM=\"cli.key\"")
        module.ok('AT+MSSLCFG="auth",1,2')
        module.ok('AT+MSSLCFG="cert",1,"ca.cer","cli.cer","cli.key"')
        module.ok(f'AT+MHTTPCREATE="https://localhost:{server.port}"')
        module.ok('AT+MHTTPCFG="ssl",0,1,1')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/10"')
        err = module.urc("err")
        assert err.int("error_code") == 4


def test_list_read_and_remove(module, ca):
    cert, key = ca.cert_pem.bytes(), ca.issue_cert("x.example").private_key_pem.bytes()
    assert module.ok("AT+MSSLLIST=1") == [] and module.ok("AT+MSSLLIST=2") == []
    write(module, "MSSLCERTWR", "baidu.cer", cert)
    write(module, "MSSLKEYWR", "test.key", key)
    [listed] = module.ok("AT+MSSLLIST=1")
    assert listed.raw.strip() == b'+MSSLLIST: "baidu.cer",%d' % len(cert)
    [listed] = module.ok("AT+MSSLLIST=2")
    assert listed.get("cert_name").strip('"') == "test.key" and listed.int("len") == len(key)
    assert module.ok("AT+MSSLLIST=3") == []  # no PSK
    [read] = module.ok('AT+MSSLCERTRD="baidu.cer"')
    assert read.int("length") == len(cert) and read.payload == cert
    module.fails('AT+MSSLCERTRD="test.key"', NOT_FOUND)  # fn 11: a private key cannot be read
    module.fails('AT+MSSLCERTRD="nosuch.cer"', NOT_FOUND)
    module.ok('AT+MSSLRM="baidu.cer"')
    assert module.ok("AT+MSSLLIST=1") == []
    module.fails('AT+MSSLRM="baidu.cer"', NOT_FOUND)
    module.fails("AT+MSSLLIST=4", 50)
    module.ok('AT+MSSLKEYWR=?')
    module.alive()


def test_keywr_in_the_command_and_in_parts(module, ca):
    """<data> in the command (escaped line ends) and <remain_length> > 0 for a first part."""
    key = ca.issue_cert("y.example").private_key_pem.bytes().replace(b"\n", b"\r\n")
    half = len(key) // 2
    first = key[:half].decode().replace("\r\n", "\\r\\n")
    module.ok(f'AT+MSSLKEYWR="k.key",{len(key) - half},{half},"{first}"')
    write_rest = key[half:]
    module.send(f'AT+MSSLKEYWR="k.key",0,{len(write_rest)}\r')
    module.prompt()
    module.send(write_rest)
    assert module.until_final() == [OK]
    [listed] = module.ok("AT+MSSLLIST=2")
    assert listed.int("len") == len(key)
    assert module.runner.side.fs.read_bytes("/ssl/k.key") == key


def test_host_side_writes_a_client_key_with_msslkeywr():
    """A OneMO module behind the bridge: CA and client certificate by MSSLCERTWR, the key by
    MSSLKEYWR, each under a name that says what it is, then the context names all three."""
    pems = {"ca": b"-----BEGIN CERTIFICATE-----\r\nMIIBca\r\n-----END CERTIFICATE-----\r\n",
            "cli": b"-----BEGIN CERTIFICATE-----\r\nMIIBcli\r\n-----END CERTIFICATE-----\r\n",
            "key": b"-----BEGIN PRIVATE KEY-----\r\nMIIEkey\r\n-----END PRIVATE KEY-----\r\n"}
    host = started()
    fake = FakeModule(host, lambda c: ok_response())
    tls = TlsSettings(verify=VerifyMode.MUTUAL, ca=pems["ca"].decode(), client_cert=pems["cli"].decode(),
                      client_key=pems["key"].decode())
    host.submit(Request(Method.GET, "https://h.example/x", tls=tls))
    fake.pump()
    writes = fake.commands[:3]
    assert [w.split(b"=")[0] for w in writes] == [b"AT+MSSLCERTWR", b"AT+MSSLCERTWR", b"AT+MSSLKEYWR"]
    names = [w.split(b'"')[1].decode() for w in writes]
    assert names[0].startswith("atb_ca_") and names[1].startswith("atb_cli_") and names[2].startswith("atb_key_")
    assert fake.data[:3] == [pems["ca"], pems["cli"], pems["key"]]
    assert fake.commands[3] == ('AT+MSSLCFG="cert",0,"%s","%s","%s"' % tuple(names)).encode()
    assert fake.commands[4] == b'AT+MSSLCFG="auth",0,2'


@pytest.mark.parametrize("version,minimum,code", [("TLSv1.2", False, b"3"), ("TLSv1.0", False, b"1"),
                                                  ("TLSv1.0", True, b"255"), ("TLSv1.1", True, b"255"),
                                                  ("TLSv1.2", True, b"3")])
def test_host_side_tls_version_pin_or_lowest_offered(version, minimum, code):
    """A pin is MSSLCFG "version" as such; a lowest version offered (Neoway sslversion) is "all
    versions" (255) -- OneMO cannot state a floor -- unless it is TLS 1.2, the newest it names."""
    host = started()
    fake = FakeModule(host, lambda c: ok_response())
    host.submit(Request(Method.GET, "https://h.example/x", tls=TlsSettings(version=version, version_is_minimum=minimum)))
    fake.pump()
    assert b'AT+MSSLCFG="version",0,' + code in fake.commands
