"""OneMO firmware through the bridge to an emulated Neoway module (real ptys, loopback servers):
the issue 9 additions -- bring-up (AT+MCCID, AT+MIPCALL), header fields one per AT+MHTTPHEADER,
packet-sized content frames, and the SSL file commands (MSSLKEYWR, MSSLLIST, MSSLCERTRD, MSSLRM),
which the bridge answers from its own file system, where the written files are kept.
"""
from __future__ import annotations

import hashlib
import json
import re

import pytest

from support.servers import blob_sha256
from support.onemo_bridged import Trace, onemo_bridge
from support.onemo_emulated import OK
from support.onemo_forms import FRAME_MAX, SIX, content_frames, send_six_headers

pytestmark = pytest.mark.timeout(60)

@pytest.fixture
def module(tmp_path):
    with onemo_bridge(tmp_path) as module:
        yield module


def test_mccid_from_the_neoway_ccid(module):
    [iccid] = module.ok("AT+MCCID")
    assert re.fullmatch(r"\d{19,20}", iccid.get("iccid") or "")


def test_mipcall_from_the_neoway_xiic(module):
    [state] = module.ok("AT+MIPCALL?")
    assert state.get("cid") == "1" and state.get("state") == "1" and state.get("ip")
    assert module.ok("AT+MIPCALL=0,1") == []
    assert module.ok("AT+MIPCALL?")[0].get("state") == "0"
    module.send("AT+MIPCALL=1,1\r")
    assert module.next() == OK
    assert re.match(r'\+MIPCALL: 1,1,"[\d.]+"', module.next().raw.decode().strip())


def test_mipcall_and_mccid_forms_answered_locally(module):
    assert module.ok("AT+MIPCALL=?")[0].raw.strip() == b"+MIPCALL: (0-1),(0-16)"
    assert module.ok("AT+MCCID=?") == []
    module.fails("AT+MIPCALL=1", 50)


def test_six_headers_in_six_calls(module, blob_server):
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    send_six_headers(module)
    module.ok('AT+MHTTPREQUEST=0,1,0,"/echo/headers"')
    _, body = module.response(0, "GET", timeout=20)
    received = [(name.lower(), value) for name, value in json.loads(body)["headers"]]
    assert all((name.lower(), value) in received for name, value in SIX), received


def test_content_frames_are_packet_sized(module, blob_server):
    size = 100 * 1024
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok(f'AT+MHTTPREQUEST=0,1,0,"/blob/{size}?seed=9"')
    _, body = module.response(0, "GET", timeout=30)
    assert hashlib.sha256(body).hexdigest() == blob_sha256(size, 9)
    assert max(whole for _, whole in content_frames(bytes(module.log))) <= FRAME_MAX


def test_ssl_file_commands_on_the_bridges_file_system(module, ca):
    cert, key = ca.cert_pem.bytes(), ca.issue_cert("d.example").private_key_pem.bytes()
    for command, name, pem in (("MSSLCERTWR", "c.cer", cert), ("MSSLKEYWR", "k.key", key)):
        module.send(f'AT+{command}="{name}",0,{len(pem)}\r')
        module.prompt()
        module.send(pem)
        assert module.until_final() == [OK]
    assert module.ok("AT+MSSLLIST=1")[0].raw.strip() == b'+MSSLLIST: "c.cer",%d' % len(cert)
    assert module.ok("AT+MSSLLIST=2")[0].raw.strip() == b'+MSSLLIST: "k.key",%d' % len(key)
    assert module.ok('AT+MSSLCERTRD="c.cer"')[0].payload == cert
    module.fails('AT+MSSLCERTRD="k.key"', 762)
    module.ok('AT+MSSLRM="k.key"')
    assert module.ok("AT+MSSLLIST=2") == []
    assert module.fs.read_bytes("/ssl/c.cer") == cert


def test_iccid_and_mdnscfg(module):
    """AT+ICCID (RT-Thread's ML307 driver) is translated like AT+MCCID; MDNSCFG is kept by the bridge."""
    [iccid] = module.ok("AT+ICCID")
    assert iccid.name == "+ICCID" and re.fullmatch(r"\d{19,20}", iccid.get("iccid") or "")
    module.ok('AT+MDNSCFG="priority",0')
    assert re.match(r'\+MDNSCFG: "ip","\d+\.\d+\.\d+\.\d+"', module.ok('AT+MDNSCFG="ip"')[0].raw.decode())


def test_cgauth_reaches_the_neoway_module_as_its_own_command(tmp_path):
    """OneMO firmware's AT+CGAUTH (OneMO's auth command, 4.13) becomes the Neoway module's own."""
    trace = Trace()
    with onemo_bridge(tmp_path, trace=trace) as module:
        module.ok('AT+CGAUTH=1,1,"gsm","1234"')
        module.alive()
    sent = trace.sent_to_module()
    assert b"AT+CGAUTH" not in sent and re.search(rb'AT\+XGAUTH=1,1,"gsm","1234"', sent), sent
