"""The library end to end: open_module on a real pty with the OneMO emulator behind it, and a real
loopback HTTP(S) server behind that.  Bodies are binary and checked by SHA-256."""
from __future__ import annotations

import hashlib
import json
import time

import pytest

from bridge.io.client import ModuleClient, ModuleError, Response, open_module
from bridge.model import (BodyChunk, ByteRange, ErrorKind, Method, Progress, Request, ResponseEnd, ResponseHead,
                          Timeouts, TlsSettings, VerifyMode)
from bridge.onemo.host.side import OnemoHostSide
from bridge.io.ports import PtyPort, SerialPort
from support.emulated import emulator
from support.servers import BlobServer, RefusedPort, blob_bytes, blob_pieces, blob_sha256, make_ca, server_context

HOSTS = {"blob.test": ["127.0.0.1"]}
SIZES = [0, 1024, 1_000_000, 10_000_000]


@pytest.fixture(scope="module")
def server():
    with BlobServer() as blobs:
        yield blobs


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """(client, runner): one emulated module on a pty, opened by the library, for the whole module."""
    tmp_path = tmp_path_factory.mktemp("onemo")
    with emulator("onemo", tmp_path, hosts=HOSTS) as (_host, runner):
        with open_module(str(tmp_path / "onemo.pty")) as client:
            yield client, runner


@pytest.fixture
def module(rig) -> ModuleClient:
    client, _ = rig
    yield client
    assert client.side.idle or _settle(client), "requests or commands left over"


def _settle(client: ModuleClient) -> bool:
    client._wait(lambda: client.side.idle, time.monotonic() + 5)
    return client.side.idle


def stream_sha(client: ModuleClient, request: Request) -> tuple[ResponseHead, int, str, list]:
    """Stream the response: its head, body length and SHA-256, and the events that are no body."""
    digest, length, head, others = hashlib.sha256(), 0, None, []
    for event in client.request(request):
        if isinstance(event, BodyChunk):
            assert event.offset == length
            digest.update(event.data)
            length += len(event.data)
        else:
            head = event if isinstance(event, ResponseHead) else head
            others.append(event)
    return head, length, digest.hexdigest(), others


# ---- methods and bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("chunked", [False, True])
def test_get_bodies(module, server, size, chunked):
    url = server.url(f"/blob/{size}?seed={size}" + ("&chunked=1" if chunked else ""))
    head, length, sha, others = stream_sha(module, Request(Method.GET, url))
    assert head.status == 200 and length == size and sha == blob_sha256(size, size)
    assert others[-1] == ResponseEnd(size)


def test_head(module, server):
    response = module.fetch("HEAD", server.url("/blob/1024?seed=1"))
    assert response.status == 200 and response.body == b"" and response.header("content-length") == "1024"


@pytest.mark.parametrize("size", SIZES[:3])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_upload_bytes(module, server, method, size):
    data = blob_bytes(size, 7)
    response = module.fetch(method, server.url("/echo/sha256"), body=data, headers=[("Content-Type", "application/x-test")])
    assert response.status == 200
    assert json.loads(response.body) == {"length": size, "sha256": hashlib.sha256(data).hexdigest()}


def test_put_echoes_binary(module, server):
    data = bytes(range(256)) * 4
    response = module.fetch("PUT", server.url("/echo"), body=data)
    assert response.body == data


def test_delete_with_headers_and_a_name_from_the_hosts_map(module, server):
    url = f"http://blob.test:{server.port}/echo/headers"
    response = module.fetch(Method.DELETE, url, headers=[("X-Token", 'a "quoted", value'), ("Accept", "*/*")])
    info = json.loads(response.body)
    assert info["method"] == "DELETE"
    assert ["X-Token", 'a "quoted", value'] in info["headers"] and ["Accept", "*/*"] in info["headers"]


@pytest.mark.parametrize("size", [1024, 10_000_000])
def test_streamed_upload_in_chunked_mode(module, server, size):
    request = Request(Method.POST, server.url("/echo/sha256"), body=blob_pieces(size, 3))
    events = list(module.request(request))
    assert isinstance(events[-1], ResponseEnd), events[-1]
    info = json.loads(b"".join(e.data for e in events if isinstance(e, BodyChunk)))
    assert info == {"length": size, "sha256": blob_sha256(size, 3)}


def test_ranged_get(module, server):
    response = module.fetch("GET", server.url("/blob/100000?seed=5"), byte_range=ByteRange(1000, 50999))
    assert response.status == 206 and response.header("Content-Range") == "bytes 1000-50999/100000"
    assert response.body == blob_bytes(100000, 5, 1000, 51000)


def test_keep_alive_reuses_the_instance(module, server):
    for seed in range(3):
        response = module.fetch("GET", server.url(f"/blob/2048?seed={seed}"), keep_alive=seed < 2)
        assert response.body == blob_bytes(2048, seed)


def test_leaving_a_stream_early_cancels_it(module, server):
    events = module.request(Request(Method.GET, server.url("/blob/10000000?seed=9")))
    assert isinstance(next(events), ResponseHead)
    assert isinstance(next(events), BodyChunk)
    events.close()  # MHTTPTERM and MHTTPDEL go out; the next request works
    assert module.fetch("GET", server.url("/blob/10?seed=1")).body == blob_bytes(10, 1)


# ---- TLS --------------------------------------------------------------------------------------------


def test_https_with_server_verification(module, tls_server, ca):
    tls = TlsSettings(verify=VerifyMode.SERVER, ca=ca.cert_pem.bytes().decode())
    for _ in range(2):  # the CA is written once
        head, length, sha, _ = stream_sha(module, Request(Method.GET, tls_server.url("/blob/300000?seed=4"), tls=tls))
        assert head.status == 200 and length == 300000 and sha == blob_sha256(300000, 4)


def test_https_with_the_wrong_ca_fails(module, tls_server):
    tls = TlsSettings(verify=VerifyMode.SERVER, ca=make_ca().cert_pem.bytes().decode())
    with pytest.raises(ModuleError) as failure:
        module.fetch("GET", tls_server.url("/blob/10"), tls=tls)
    assert failure.value.kind is ErrorKind.TLS_FAILED


def test_https_with_mutual_authentication(module, ca):
    client_cert = ca.issue_cert("client.example")
    tls = TlsSettings(verify=VerifyMode.MUTUAL, ca=ca.cert_pem.bytes().decode(),
                      client_cert=b"".join(p.bytes() for p in client_cert.cert_chain_pems).decode(),
                      client_key=client_cert.private_key_pem.bytes().decode())
    with BlobServer(tls_context=server_context(ca, require_client_cert=True)) as server:
        assert module.fetch("GET", server.url("/blob/5000?seed=2"), tls=tls).body == blob_bytes(5000, 2)
        assert server.peer_certs and server.peer_certs[0]["subjectAltName"] == (("DNS", "client.example"),)


def test_https_download_to_a_module_file(module, tls_server, ca, rig):
    _, runner = rig
    tls = TlsSettings(verify=VerifyMode.SERVER, ca=ca.cert_pem.bytes().decode())
    events = list(module.request(Request(Method.GET, tls_server.url("/blob/70000?seed=3"), tls=tls, save_to="/dl/tls.bin")))
    assert events[-1] == ResponseEnd(70000)
    assert runner.side.fs.read_bytes("/dl/tls.bin") == blob_bytes(70000, 3)


# ---- download to a module file -------------------------------------------------------------------


def test_download_to_a_module_file(module, server, rig):
    _, runner = rig
    size = 1_000_000
    events = list(module.request(Request(Method.GET, server.url(f"/blob/{size}?seed=6"), save_to="/dl/blob.bin")))
    assert isinstance(events[0], ResponseHead) and events[0].status == 200
    progress = [e for e in events if isinstance(e, Progress)]
    assert len(progress) > 2 and progress[-1].done == size and events[-1] == ResponseEnd(size)
    assert hashlib.sha256(runner.side.fs.read_bytes("/dl/blob.bin")).hexdigest() == blob_sha256(size, 6)


def test_ranged_download_appended_to_a_module_file(module, server, rig):
    _, runner = rig
    url = server.url("/blob/5000?seed=8")
    for span in (ByteRange(0, 2999), ByteRange(3000)):
        events = list(module.request(Request(Method.GET, url, save_to="part.bin", byte_range=span, append=span.start > 0)))
        assert events[0].status == 206 and isinstance(events[-1], ResponseEnd)
    assert runner.side.fs.read_bytes("/etc/http_file/part.bin") == blob_bytes(5000, 8)


# ---- failures -----------------------------------------------------------------------------------------


def test_refused_port(module):
    with pytest.raises(ModuleError) as failure:
        module.fetch("GET", f"http://127.0.0.1:{RefusedPort()}/x", timeouts=Timeouts(connect=5))
    assert failure.value.kind is ErrorKind.CONNECT_FAILED


def test_name_missing_from_the_hosts_map(module):
    with pytest.raises(ModuleError) as failure:
        module.fetch("GET", "http://no-such-name.test/x")
    assert failure.value.kind is ErrorKind.DNS_FAILED


def test_passthrough_command(module):
    assert module.command("AT+CSQ").endswith(b"\r\nOK\r\n")
    assert b"+CSQ:" in module.command(b"AT+CSQ")


def test_a_silent_module_fails_the_start_up(tmp_path):
    silent = PtyPort(str(tmp_path / "silent.pty"))  # nobody answers on the other end
    started = time.monotonic()
    client = ModuleClient(SerialPort(str(tmp_path / "silent.pty")), OnemoHostSide(command_timeout=0.5))
    try:
        with pytest.raises(ModuleError) as failure:
            client.wait_ready()
    finally:
        client.close()
        silent.close()
    assert failure.value.kind is ErrorKind.RESPONSE_TIMEOUT and time.monotonic() - started < 5


def test_unknown_dialect_is_refused(tmp_path):
    with pytest.raises(Exception, match="quectel"):
        open_module(str(tmp_path / "nothing"), "quectel")


def test_response_header_lookup():
    response = Response(200, "OK", (("A", "1"), ("a", "2")), b"")
    assert response.header("A") == "2" and response.header("b") is None
