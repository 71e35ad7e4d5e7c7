"""What else goes over the firmware's port while the bridge translates HTTP: commands the bridge
does not translate (answered by the OneMO module), the module's unrelated URCs, echo, and the
--trace record of it all."""
from __future__ import annotations

import base64
import io
import re

import pytest

from support.emulated import emulator
from support.servers import BlobServer, blob_sha256
from support.neoway_bridged import CLOSED, HOST, HOSTS, OK, Response, action, ask, session, setup, trace_records

SIZE = 10 << 20
SEED = 77
CEREG = '+CEREG: 1,"1A2B","01234567",7'
CSQ_ANSWER = b"\r\n+CSQ: 25,99\r\n\r\nOK\r\n"
CGATT_ANSWER = b"\r\n+CGATT: 1\r\n\r\nOK\r\n"


# ---- pass-through during a 10 MB download --------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_commands_and_urcs_pass_through_during_a_10mb_download(tmp_path, recvmode):
    """After 1 MB of body the firmware sends AT+CSQ and AT+CGATT?, and the OneMO module reports
    +CEREG and RING.  The answers and URCs reach the firmware byte for byte as the module wrote
    them and the body stays intact.  recvmode 1: between two pieces, while the body still flows;
    recvmode 0 (an unframed body): after the body -- inside it they would corrupt it."""
    csq = b"\r\n+CSQ: 17,3\r\n\r\nOK\r\n"  # the module's own figures, not ones the bridge could make up
    with BlobServer() as server, session(tmp_path) as (fw, bridge, module):
        module.side.identity.csq = (17, 3)
        setup(fw, f"{HOST}:{server.port}/blob/{SIZE}?seed={SEED}", recvmode=recvmode)

        def meanwhile() -> None:
            fw.command("AT+CSQ")
            fw.command("AT+CGATT?")
            module.unsolicited(CEREG)
            module.unsolicited("RING")

        fw.command("AT+HTTPACTION=0")
        got = Response(fw, recvmode=recvmode).at(1 << 20, meanwhile)
        got.until(lambda r: r.ended and ("Info", "+HTTPCLOSED") in r.frames and r.frames.count(("Final", "OK")) == 3
                  and ("Line", "RING") in r.frames and ("Info", "+CEREG") in r.frames)
        seen = bytes(fw.seen)
    assert got.length == SIZE and got.digest.hexdigest() == blob_sha256(SIZE, SEED)
    foreign = (csq, CGATT_ANSWER, f"\r\n{CEREG}\r\n".encode(), b"\r\nRING\r\n")
    for piece in foreign:
        assert seen.count(piece) == 1, piece
    positions = [seen.index(piece) for piece in foreign]
    assert positions[0] < positions[1] and positions[2] < positions[3]  # each in its order
    if recvmode == "1":  # during the download: more pieces came after the answers
        assert seen.count(b"\r\n+HTTPRECV: ", max(positions)) > 10
    else:  # after the unframed body (and before or after its close URC)
        start = seen.index(b"\r\n+HTTPRECV:\r\n")
        assert all(p > start + SIZE for p in positions)


# ---- echo ----------------------------------------------------------------------------------------


CONVERSATION = ["ATE1", "AT", "AT+CSQ", "AT+XIIC?", "AT+HTTPPARA=url,{h}:{p}/echo", "AT+HTTPSETUP", "AT+HTTPACTION=2,5,1",
                "AT+HTTPPARA=keepalive,0", "ATE0", "AT+CSQ"]


def converse(fw, port: int) -> bytes:
    start = fw.cursor
    for line in CONVERSATION:
        answer = ask(fw, line.format(h=HOST, p=port))
        if answer.endswith(b"\r\n>"):
            fw.send(b"hello")
            fw.expect(re.escape(CLOSED["HTTP"]))
    return re.sub(rb"Date: [^\r]*", b"Date: -", bytes(fw.seen[start:fw.cursor]))


@pytest.mark.timeout(20)
def test_echo_is_what_a_neoway_module_writes(tmp_path):
    """ATE1: every command line comes back before its answer -- the bridge's own, the forwarded
    ones (the OneMO module's echo stays off) and HTTPACTION before its '>'; ATE0 stops it.  The
    bytes equal what the Neoway emulator writes for the same conversation."""
    with BlobServer() as server:
        with session(tmp_path / "bridge", echo=True) as (fw, bridge, module):
            through_bridge = converse(fw, server.port)
        with emulator("neoway", tmp_path / "emulator", hosts=HOSTS, echo=True) as (host, runner):
            assert ask(host, "AT+XIIC=1").endswith(OK)
            direct = converse(host, server.port)
    assert through_bridge.startswith(b"ATE1\r\r\nOK\r\nAT\r\r\nOK\r\nAT+CSQ\r\r\n+CSQ: 25,99\r\n\r\nOK\r\nAT+XIIC?\r\r\n+XIIC:")
    assert b"AT+HTTPACTION=2,5,1\r\r\n>" in through_bridge
    assert through_bridge.endswith(b"ATE0\r\r\nOK\r\n" + b"\r\n+CSQ: 25,99\r\n\r\nOK\r\n")
    assert through_bridge == direct


# ---- trace ---------------------------------------------------------------------------------------


def _texts(records: list[dict]) -> list[str]:
    """Every data field as text (base64 ones decoded)."""
    out = []
    for record in records:
        data = record.get("data")
        if isinstance(data, dict):
            out.append(base64.b64decode(data["base64"]).decode("latin-1"))
        elif data is not None:
            out.append(data)
        if "event" in record:
            out.append(repr(record["event"]))
    return out


@pytest.mark.timeout(20)
@pytest.mark.parametrize("secrets", [False, True])
def test_trace_has_both_links_and_the_model_and_masks_secrets(tmp_path, secrets):
    raw = f"PUT /blob/16?seed=1 HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer s3cr3t-t0ken\r\nContent-Length: 2\r\n\r\nhi\r\n"
    stream = io.BytesIO()
    with BlobServer() as server, session(tmp_path, trace=stream, trace_secrets=secrets) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/")
        assert action(fw, f"AT+HTTPACTION=99,{len(raw)}", raw.encode()) == OK
        fw.expect(re.escape(CLOSED["HTTP"]))
        assert ask(fw, "AT+CSQ") == CSQ_ANSWER
    assert dict(server.requests[0][2])["Authorization"] == "Bearer s3cr3t-t0ken"  # the server got it
    records = trace_records(stream)
    assert {"host->bridge", "bridge->host", "bridge->module", "module->bridge", "request", "event"} <= {r["dir"] for r in records}
    assert all(isinstance(r["t"], float) for r in records)
    texts = _texts(records)
    joined = "\n".join(texts)
    assert "AT+HTTPACTION=99" in joined and "AT+MHTTPREQUEST=" in joined and "AT+CSQ" in joined
    events = [r["event"]["type"] for r in records if r["dir"] in ("request", "event")]
    assert {"Request", "Connected", "ResponseHead", "BodyChunk", "ResponseEnd"} <= set(events)
    request = next(r["event"] for r in records if r["dir"] == "request" and r["event"]["method"] == "PUT")
    authorization = [value for name, value in request["headers"] if name == "Authorization"]
    host_bytes = [t for r, t in zip(records, texts) if r["dir"] == "host->bridge" and "Authorization" in t]
    module_bytes = [t for r, t in zip(records, texts) if r["dir"] == "bridge->module" and "Authorization" in t]
    assert host_bytes and module_bytes  # the header went over both links
    if secrets:
        assert authorization == ["Bearer s3cr3t-t0ken"]
        assert all("s3cr3t-t0ken" in t for t in host_bytes + module_bytes)
    else:
        assert "s3cr3t-t0ken" not in joined and "s3cr3t" not in joined
        assert authorization == ["***"]
        assert all("Authorization: ***" in t for t in host_bytes + module_bytes)
