"""The library end to end with the Neoway host side: a ModuleClient on a real pty with the Neoway
emulator behind it, and a real loopback HTTP(S) server behind that.  Bodies are binary and
checked by SHA-256; failures come back as the right ErrorKind."""
from __future__ import annotations

import hashlib
import json
import time

import pytest

from bridge.io.client import ModuleClient, ModuleError, open_module
from bridge.model import (BodyChunk, ByteRange, ErrorKind, Failure, Method, Progress, Request, ResponseEnd, ResponseHead,
                          TlsSettings, VerifyMode)
from support.emulated import emulator
from support.servers import BlobServer, RefusedPort, blob_bytes, blob_sha256, install_ca, make_ca

HOSTS = {"blob.test": ["127.0.0.1"]}
SIZES = [0, 1024, 1_000_000, 10_000_000]


def open_neoway(path: str) -> ModuleClient:
    return open_module(path, "neoway")


@pytest.fixture(scope="module")
def server():
    with BlobServer() as blobs:
        yield blobs


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """(client, module side, fs root): one emulated N58 on a pty, opened by the library."""
    tmp_path = tmp_path_factory.mktemp("neoway")
    with emulator("neoway", tmp_path, hosts=HOSTS) as (_host, runner):
        with open_neoway(str(tmp_path / "neoway.pty")) as client:
            yield client, runner.side, tmp_path / "fs"


@pytest.fixture
def module(rig) -> ModuleClient:
    client, _, _ = rig
    yield client
    client._wait(lambda: client.side.idle, time.monotonic() + 5)
    assert client.side.idle, "requests or commands left over"


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


def file_sha(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def failure_of(client: ModuleClient, request: Request) -> Failure:
    events = list(client.request(request))
    assert isinstance(events[-1], Failure), events
    return events[-1]


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


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json", "text/plain"])
def test_typed_post(module, server, content_type):
    data = b'{"a": 1, "bytes": "\r\n,\x00"}'
    response = module.fetch("POST", server.url("/echo/headers"), body=data, headers=[("Content-Type", content_type)])
    info = json.loads(response.body)
    assert info["method"] == "POST" and info["body_length"] == len(data)
    assert ["Content-Type", content_type] in info["headers"]


@pytest.mark.parametrize("size", [0, 1024])
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_binary_upload(module, server, method, size):
    data = blob_bytes(size, 7)
    response = module.fetch(method, server.url("/echo/sha256"), body=data)
    assert json.loads(response.body) == {"length": size, "sha256": hashlib.sha256(data).hexdigest()}


def test_put_echoes_binary(module, server):
    data = bytes(range(256)) * 4
    assert module.fetch("PUT", server.url("/echo"), body=data).body == data


def test_delete_with_custom_headers_and_a_name_from_the_hosts_map(module, server):
    url = f"http://blob.test:{server.port}/echo/headers"
    headers = [("Authorization", "Bearer abc"), ("X-Token", 'a "quoted", value')]
    info = json.loads(module.fetch(Method.DELETE, url, headers=headers).body)
    assert info["method"] == "DELETE"
    assert ["Authorization", "Bearer abc"] in info["headers"] and ["X-Token", 'a "quoted", value'] in info["headers"]


@pytest.mark.parametrize("size", [1_000_000, 10_000_000])
def test_large_uploads_are_refused(module, server, size):
    failure = failure_of(module, Request(Method.PUT, server.url("/echo"), body=bytes(size)))
    assert failure.kind is ErrorKind.INVALID_PARAMETER and "2048" in failure.detail


@pytest.mark.parametrize("span,status,first,stop", [
    (ByteRange(1000, 50999), 206, 1000, 51000),  # AT+HTTPACTION=0,1000,50000
    (ByteRange(99000), 206, 99000, 100000),  # open range: a raw request with Range
])
def test_ranged_get(module, server, span, status, first, stop):
    response = module.fetch("GET", server.url("/blob/100000?seed=5"), byte_range=span)
    assert response.status == status and response.header("Content-Range") == f"bytes {first}-{stop - 1}/100000"
    assert response.body == blob_bytes(100000, 5, first, stop)


def test_keep_alive_then_close(module, server):
    for seed in range(3):
        response = module.fetch("GET", server.url(f"/blob/2048?seed={seed}"), keep_alive=seed < 2)
        assert response.body == blob_bytes(2048, seed)


def test_passthrough_command(module):
    assert module.command("AT+CSQ").endswith(b"OK\r\n")


def test_leaving_a_stream_early_cancels_it(module, server):
    events = module.request(Request(Method.GET, server.url("/blob/3000000?seed=9")))
    assert isinstance(next(events), ResponseHead)
    assert isinstance(next(events), BodyChunk)
    events.close()  # AT+HTTPCLOSE; the module answers it once the response is through
    assert module.fetch("GET", server.url("/blob/10?seed=1")).body == blob_bytes(10, 1)


# ---- TLS --------------------------------------------------------------------------------------------


def test_https_with_server_verification(rig, module, tls_server, ca):
    _, side, _ = rig
    name = install_ca(side.fs, ca, "certs/ca.pem")
    tls = TlsSettings(verify=VerifyMode.SERVER, ca=name)
    for size in (0, 300_000):
        head, length, sha, others = stream_sha(module, Request(Method.GET, tls_server.url(f"/blob/{size}?seed=4"), tls=tls))
        assert head.status == 200 and length == size and sha == blob_sha256(size, 4) and others[-1] == ResponseEnd(size)
    response = module.fetch("PUT", tls_server.url("/echo"), body=b"secret", tls=tls)
    assert response.body == b"secret"


def test_https_with_the_wrong_ca(rig, module, tls_server):
    _, side, _ = rig
    name = install_ca(side.fs, make_ca(), "certs/other-ca.pem")
    failure = failure_of(module, Request(Method.GET, tls_server.url("/blob/10?seed=1"),
                                         tls=TlsSettings(verify=VerifyMode.SERVER, ca=name)))
    assert failure.kind is ErrorKind.TLS_FAILED


# ---- downloads into the module's file system ------------------------------------------------------


def test_download_a_range_to_a_module_file(rig, module, server):
    _, _, root = rig
    request = Request(Method.GET, server.url("/blob/1000000?seed=6"), byte_range=ByteRange(1000, 400999), save_to="/dl/part.bin")
    events = list(module.request(request))
    assert events == [Progress(400000, 400000), ResponseEnd(400000)]
    assert file_sha(root / "dl" / "part.bin") == blob_sha256(1000000, 6, 1000, 401000)


def test_download_without_a_size_to_a_module_file(rig, module, server):
    _, _, root = rig
    events = list(module.request(Request(Method.GET, server.url("/blob/70000?seed=2"), save_to="/dl/whole.bin")))
    assert events == [Progress(70000, None), ResponseEnd(70000)]
    assert file_sha(root / "dl" / "whole.bin") == blob_sha256(70000, 2)


# ---- failures -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "blob.test"])
def test_a_refused_port(module, host):
    """Also for a name the module resolves (AT+CDNSGIP): the connect failed, not the lookup."""
    failure = failure_of(module, Request(Method.GET, f"http://{host}:{RefusedPort()}/x"))
    assert failure.kind is ErrorKind.CONNECT_FAILED


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_name_missing_from_the_hosts_map(module, scheme):
    """AT+HTTPSETUP says ERROR for a failed lookup and a failed connect alike; the host side asks
    AT+CDNSGIP, whose "+CDNSGIP: 0,8" says the lookup failed."""
    with pytest.raises(ModuleError) as caught:
        module.fetch("GET", f"{scheme}://missing.test/x")
    assert caught.value.kind is ErrorKind.DNS_FAILED
    assert "cannot resolve missing.test" in str(caught.value)


def test_the_module_works_after_failures(module, server):
    assert module.fetch("GET", server.url("/blob/5?seed=3")).body == blob_bytes(5, 3)
