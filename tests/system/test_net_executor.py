"""The network executor against real loopback servers, real TLS and a real file system.

Every failure kind is provoked by a real fault: a refused port, a name missing from
the hosts map, a wrong CA, a server that stalls, one that closes mid-body, ...
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import socket
import ssl
import threading
import time
import tracemalloc
from typing import Iterator

import pytest

from bridge.model import (
    BodyChunk,
    ByteRange,
    ConnectionClosed,
    ErrorKind,
    Event,
    Failure,
    Method,
    Progress,
    Request,
    ResponseEnd,
    ResponseHead,
    Timeouts,
    TlsSettings,
    VerifyMode,
)
from bridge.device.hosts import HostNotFound, HostsResolver, ip_literal
from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.net import NetworkExecutor
from support.servers import (
    BacklogFullServer,
    BlobServer,
    CloseMidBodyServer,
    RawServer,
    RefusedPort,
    StallServer,
    blob_bytes,
    blob_pieces,
    blob_sha256,
    install_ca,
    install_client_cert,
    make_ca,
    server_context,
)

MiB = 1024 * 1024
SHORT = Timeouts(connect=5.0, response=5.0)


# ---- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
def fs() -> Iterator[ModuleFileSystem]:
    with ModuleFileSystem() as filesystem:
        yield filesystem


@pytest.fixture
def resolver() -> HostsResolver:
    return HostsResolver({"blob.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})


@pytest.fixture
def executor(resolver: HostsResolver, fs: ModuleFileSystem) -> Iterator[NetworkExecutor]:
    with NetworkExecutor(resolver, fs) as ex:
        yield ex


@pytest.fixture
def server() -> Iterator[BlobServer]:
    with BlobServer() as srv:
        yield srv


def request(method: str, url: str, **kw) -> Request:
    kw.setdefault("timeouts", SHORT)
    return Request(Method(method), url, **kw)


def run(executor: NetworkExecutor, req: Request) -> list[Event]:
    return list(executor.execute(req))


def head_of(events: list[Event]) -> ResponseHead:
    heads = [e for e in events if isinstance(e, ResponseHead)]
    assert len(heads) == 1, events
    return heads[0]


def body_of(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, BodyChunk))


def the_failure(events: list[Event]) -> Failure:
    failures = [e for e in events if isinstance(e, Failure)]
    assert len(failures) == 1 and events[-1] is failures[0], events
    return failures[0]


def assert_ok(events: list[Event], status: int = 200) -> None:
    assert not any(isinstance(e, Failure) for e in events), events
    assert head_of(events).status == status
    assert any(isinstance(e, ResponseEnd) for e in events)


def zeros(total: int, piece: int = 256 * 1024) -> Iterator[bytes]:
    block = bytes(piece)
    for start in range(0, total, piece):
        yield block[: min(piece, total - start)]


# ---- GET / HEAD / uploads ------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("size", [0, 1, MiB, 10 * MiB], ids=["0B", "1B", "1MiB", "10MiB"])
def test_get_blob_digest(executor, server, size, chunked):
    url = server.url(f"/blob/{size}?seed=7" + ("&chunked=1" if chunked else ""))
    digest, offset = hashlib.sha256(), 0
    events = []
    for event in executor.execute(request("GET", url)):
        if isinstance(event, BodyChunk):
            assert event.offset == offset and event.total == (None if chunked else size)
            digest.update(event.data)
            offset += len(event.data)
        else:
            events.append(event)
    assert isinstance(events[0], ResponseHead) and events[0].status == 200
    assert events[1:] == [ResponseEnd(size), ConnectionClosed(by_peer=False)]
    assert digest.hexdigest() == blob_sha256(size, 7)


def test_large_body_memory_is_bounded(executor, server):
    size = 10 * MiB
    digest = hashlib.sha256()
    already = tracemalloc.is_tracing()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        for event in executor.execute(request("GET", server.url(f"/blob/{size}?seed=3"))):
            if isinstance(event, BodyChunk):
                digest.update(event.data)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not already:
            tracemalloc.stop()
    assert digest.hexdigest() == blob_sha256(size, 3)
    assert peak < 2 * MiB, f"peak {peak} bytes above the baseline while streaming {size}"


def test_head_has_no_body(executor, server):
    events = run(executor, request("HEAD", server.url("/blob/5000")))
    assert_ok(events)
    assert ("Content-Length", "5000") in head_of(events).headers
    assert body_of(events) == b"" and ResponseEnd(0) in events


def test_post_bytes_is_echoed(executor, server):
    payload = blob_bytes(200_000, 11)
    events = run(executor, request("POST", server.url("/echo"), body=payload))
    assert_ok(events)
    assert body_of(events) == payload


def test_put_streamed_upload_uses_chunked(executor, server):
    size = 3 * MiB
    events = run(executor, request("PUT", server.url("/echo/sha256"), body=blob_pieces(size, 5)))
    assert_ok(events)
    assert json.loads(body_of(events)) == {"length": size, "sha256": blob_sha256(size, 5)}
    method, _, headers = server.requests[-1]
    assert method == "PUT" and ("Transfer-Encoding", "chunked") in headers


def test_streamed_upload_with_caller_content_length(executor, server):
    body = [b"abc", b"", b"defg"]
    events = run(executor, request("POST", server.url("/echo"), body=iter(body), headers=[("Content-Length", "7")]))
    assert body_of(events) == b"abcdefg"
    names = [name.lower() for name, _ in server.requests[-1][2]]
    assert "transfer-encoding" not in names and names.count("content-length") == 1


def test_delete(executor, server):
    events = run(executor, request("DELETE", server.url("/status/204")))
    assert_ok(events, 204)
    assert ResponseEnd(0) in events


def test_redirect_is_reported_not_followed(executor, server):
    events = run(executor, request("GET", server.url("/redirect?to=http://blob.test/x")))
    assert_ok(events, 302)
    assert ("Location", "http://blob.test/x") in head_of(events).headers


def test_added_headers_and_no_duplicates(executor, server):
    events = run(executor, request("POST", server.url("/echo/headers"), body=b"12345", byte_range=ByteRange(2)))
    sent = dict(json.loads(body_of(events))["headers"])
    assert sent["Host"] == f"127.0.0.1:{server.port}"
    assert sent["Content-Length"] == "5" and sent["Connection"] == "close" and sent["Range"] == "bytes=2-"

    given = [("host", "custom.example"), ("content-length", "5"), ("connection", "keep-alive"), ("range", "bytes=0-0")]
    events = run(executor, request("POST", server.url("/echo/headers"), body=b"12345", headers=given,
                                   byte_range=ByteRange(2)))
    names = [name.lower() for name, _ in json.loads(body_of(events))["headers"]]
    for name in ("host", "content-length", "connection", "range"):
        assert names.count(name) == 1, names


def test_raw_head_is_rebuilt_exactly(executor, server):
    head = head_of(run(executor, request("GET", server.url("/status/200"))))
    assert head.raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"X-Mixed-Case: yes\r\n" in head.raw
    assert head.raw.endswith(b"\r\n") and not head.raw.endswith(b"\r\n\r\n")
    lines = [b"HTTP/1.1 200 OK"] + [f"{n}: {v}".encode() for n, v in head.headers]
    assert head.raw == b"".join(line + b"\r\n" for line in lines)
    assert ("X-Mixed-Case", "yes") in head.headers and head.reason == "OK"


def test_ranged_get(executor, server):
    events = run(executor, request("GET", server.url("/blob/100000?seed=2"), byte_range=ByteRange(1000, 1999)))
    assert_ok(events, 206)
    assert ("Content-Range", "bytes 1000-1999/100000") in head_of(events).headers
    assert body_of(events) == blob_bytes(100000, 2, 1000, 2000)
    tail = run(executor, request("GET", server.url("/blob/100000?seed=2"), byte_range=ByteRange(99990)))
    assert body_of(tail) == blob_bytes(100000, 2, 99990)


def test_ipv6_literal(fs, resolver):
    try:
        srv = BlobServer(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    with srv, NetworkExecutor(resolver, fs) as ex:
        events = run(ex, request("GET", f"http://[::1]:{srv.port}/echo/headers"))
        assert_ok(events)
        assert dict(json.loads(body_of(events))["headers"])["Host"] == f"[::1]:{srv.port}"


def test_pytest_httpbin_server(executor, httpbin):
    """An independent server implementation (pytest-httpbin) agrees with BlobServer's view."""
    events = run(executor, request("GET", httpbin.url + "/bytes/4096?seed=1"))
    assert_ok(events)
    assert len(body_of(events)) == 4096
    posted = run(executor, request("POST", httpbin.url + "/post", body=b"hello"))
    assert json.loads(body_of(posted))["data"] == "hello"


# ---- keep-alive ----------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(executor, server):
    for _ in range(2):
        events = run(executor, request("GET", server.url("/blob/70000"), keep_alive=True))
        assert_ok(events)
        assert not any(isinstance(e, ConnectionClosed) for e in events)
    assert server.connections == 1
    events = run(executor, request("GET", server.url("/blob/10"), keep_alive=False))
    assert events[-1] == ConnectionClosed(by_peer=False)
    assert server.connections == 1  # the pooled connection was reused, then closed by us
    run(executor, request("GET", server.url("/blob/10"), keep_alive=True))
    assert server.connections == 2


def test_server_close_is_reported_by_peer(executor, server):
    events = run(executor, request("GET", server.url("/status/200?close=1"), keep_alive=True))
    assert events[-1] == ConnectionClosed(by_peer=True)
    assert_ok(run(executor, request("GET", server.url("/blob/10"), keep_alive=True)))
    assert server.connections == 2


def test_dead_pooled_connection_is_retried_once(executor, server):
    assert_ok(run(executor, request("GET", server.url("/status/200?drop_next=1"), keep_alive=True)))
    events = run(executor, request("GET", server.url("/blob/1000?seed=4"), keep_alive=True))
    assert_ok(events)
    assert body_of(events) == blob_bytes(1000, 4)
    assert server.connections == 2 and len(server.requests) == 3


# ---- saving to the module file system ---------------------------------------------------------


def test_save_to_file_then_append_resumes(executor, server, fs):
    size, url = 300_000, server.url("/blob/300000?seed=9")
    first = run(executor, request("GET", url, save_to="/downloads/f.bin", byte_range=ByteRange(0, 99_999)))
    assert_ok(first, 206)
    assert not any(isinstance(e, BodyChunk) for e in first)
    progress = [e for e in first if isinstance(e, Progress)]
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert progress[-1] == Progress(100_000, 100_000, size)
    assert ResponseEnd(100_000) in first

    second = run(executor, request("GET", url, save_to="downloads/f.bin", append=True,
                                   byte_range=ByteRange(fs.size("/downloads/f.bin"))))
    assert [e for e in second if isinstance(e, Progress)][-1] == Progress(200_000, 200_000, size)
    assert hashlib.sha256(fs.read_bytes("/downloads/f.bin")).hexdigest() == blob_sha256(size, 9)


def test_save_to_truncates(executor, server, fs):
    fs.write_file("/test.txt", b"x" * 5000)
    events = run(executor, request("GET", server.url("/blob/100?seed=1"), save_to="/test.txt"))
    assert [e for e in events if isinstance(e, Progress)] == [Progress(100, 100, None)]
    assert fs.read_bytes("test.txt") == blob_bytes(100, 1)


def test_module_paths_map_into_root(fs):
    assert fs.resolve("/test.txt") == fs.resolve("test.txt") == fs.root / "test.txt"
    assert fs.resolve("/etc/http_file/x") == fs.root / "etc" / "http_file" / "x"
    fs.write_file("/etc/http_file/x", b"abc")
    assert fs.list("/etc/http_file") == ["x"] and fs.size("/etc/http_file/x") == 3


@pytest.mark.parametrize("path", ["../x", "/../x", "a/../../x", "..\\x", "certs/../../x", "x\x00y"])
def test_path_escapes_are_refused(fs, path):
    with pytest.raises(PathEscapeError):
        fs.resolve(path)


def test_symlink_out_of_root_is_refused(fs, tmp_path):
    (fs.root / "out").symlink_to(tmp_path)
    with pytest.raises(PathEscapeError):
        fs.open_write("/out/evil.bin")
    assert not (tmp_path / "evil.bin").exists()


def test_escaping_save_to_fails_before_connecting(executor, server):
    failure = the_failure(run(executor, request("GET", server.url("/blob/10"), save_to="../../escape.bin")))
    assert failure.kind is ErrorKind.FILE_OPEN_FAILED
    assert server.connections == 0


def test_save_to_a_full_device_fails_to_write(executor, server, fs):
    try:  # a /dev/full node inside the module root: every write gets ENOSPC
        os.mknod(fs.root / "full", stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except (PermissionError, AttributeError):
        pytest.skip("cannot create a /dev/full device node here")
    events = run(executor, request("GET", server.url("/blob/1000"), save_to="/full"))
    assert the_failure(events).kind is ErrorKind.FILE_WRITE_FAILED


def test_save_to_a_directory_fails_to_open(executor, server, fs):
    (fs.root / "dir").mkdir()
    events = run(executor, request("GET", server.url("/blob/10"), save_to="/dir"))
    assert the_failure(events).kind is ErrorKind.FILE_OPEN_FAILED


# ---- failures from real faults ------------------------------------------------------------------


def test_refused_port(executor):
    with RefusedPort() as port:
        failure = the_failure(run(executor, request("GET", f"http://127.0.0.1:{port}/")))
    assert failure.kind is ErrorKind.CONNECT_FAILED


def test_name_not_in_hosts_map(executor):
    failure = the_failure(run(executor, request("GET", "http://absent.test/")))
    assert failure.kind is ErrorKind.DNS_FAILED and "absent.test" in failure.detail


@pytest.mark.parametrize("url", ["ftp://blob.test/", "http://", "http://[::1", "http://blob.test:99999/",
                                 "not a url", "http://blob.test:0/", 'http://a"b/'])
def test_invalid_url(executor, url):
    assert the_failure(run(executor, request("GET", url))).kind is ErrorKind.URL_INVALID


def test_response_timeout_when_server_stalls(executor):
    with StallServer() as stall:
        start = time.monotonic()
        events = run(executor, request("GET", stall.url("/"), timeouts=Timeouts(connect=5, response=0.3)))
        elapsed = time.monotonic() - start
    assert the_failure(events).kind is ErrorKind.RESPONSE_TIMEOUT
    assert 0.25 < elapsed < 3


def test_response_timeout_on_silence_mid_body(executor):
    with RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", hold=True) as srv:
        events = run(executor, request("GET", srv.url("/"), timeouts=Timeouts(connect=5, response=0.3)))
    assert body_of(events) == b"0123456789"
    assert the_failure(events).kind is ErrorKind.RESPONSE_TIMEOUT


def test_connection_closed_mid_body(executor):
    with CloseMidBodyServer(total=1000, sent=300) as srv:
        events = run(executor, request("GET", srv.url("/")))
    assert head_of(events).status == 200
    assert body_of(events) == b"\xab" * 300
    assert the_failure(events).kind is ErrorKind.CONNECTION_CLOSED


def test_body_delimited_by_close(executor):
    with RawServer(b"HTTP/1.0 200 OK\r\nX-A: b\r\n\r\nhello") as srv:
        events = run(executor, request("GET", srv.url("/"), keep_alive=True))
    assert head_of(events).raw == b"HTTP/1.0 200 OK\r\nX-A: b\r\n"
    assert events[1:] == [BodyChunk(b"hello", 0, None), ResponseEnd(5), ConnectionClosed(by_peer=True)]


def test_closed_before_any_response(executor):
    with RawServer(b"") as srv:
        assert the_failure(run(executor, request("GET", srv.url("/")))).kind is ErrorKind.CONNECTION_CLOSED


def test_malformed_response(executor):
    with RawServer(b"NOT HTTP AT ALL\r\n\r\n") as srv:
        assert the_failure(run(executor, request("GET", srv.url("/")))).kind is ErrorKind.RESPONSE_INVALID


def test_send_failed_when_peer_resets_during_upload(executor):
    with RawServer(b"", reset=True) as srv:
        events = run(executor, request("POST", srv.url("/"), body=zeros(64 * MiB)))
    assert the_failure(events).kind is ErrorKind.SEND_FAILED


def test_cancel_from_another_thread(executor):
    with StallServer() as stall:
        def cancel_when_request_arrives() -> None:
            assert stall.received.wait(5)
            executor.cancel()

        helper = threading.Thread(target=cancel_when_request_arrives)
        helper.start()
        start = time.monotonic()
        events = run(executor, request("GET", stall.url("/"), timeouts=Timeouts(connect=5, response=None)))
        helper.join()
    assert the_failure(events).kind is ErrorKind.CANCELLED
    assert time.monotonic() - start < 3


def test_cancel_during_tls_handshake(executor):
    with StallServer() as stall:
        helper = threading.Thread(target=lambda: stall.received.wait(5) and executor.cancel())
        helper.start()
        req = request("GET", f"https://127.0.0.1:{stall.port}/", timeouts=Timeouts(connect=None), tls=TlsSettings())
        events = run(executor, req)
        helper.join()
    assert the_failure(events).kind is ErrorKind.CANCELLED


def test_cancel_before_iterating_and_when_idle(executor, server):
    events = executor.execute(request("GET", server.url("/blob/10")))
    executor.cancel()
    assert the_failure(list(events)).kind is ErrorKind.CANCELLED
    executor.cancel()  # nothing in flight: no effect on the next request
    assert_ok(run(executor, request("GET", server.url("/blob/10"))))


def test_connect_timeout_covers_tls_handshake(executor):
    with StallServer() as stall:
        req = request("GET", f"https://127.0.0.1:{stall.port}/", timeouts=Timeouts(connect=0.3, response=5))
        assert the_failure(run(executor, req)).kind is ErrorKind.CONNECT_TIMEOUT


def test_connect_timeout_on_full_backlog(executor):
    with BacklogFullServer() as srv:
        if srv.port is None:
            pytest.skip("this kernel completes connects to a full accept queue")
        req = request("GET", f"http://127.0.0.1:{srv.port}/", timeouts=Timeouts(connect=0.3))
        assert the_failure(run(executor, req)).kind is ErrorKind.CONNECT_TIMEOUT


# ---- TLS ------------------------------------------------------------------------------------------


def https_get(executor: NetworkExecutor, url: str, **tls) -> list[Event]:
    return run(executor, request("GET", url, tls=TlsSettings(**tls)))


def test_https_verify_server_by_name_and_by_ip(executor, fs, ca):
    sni: list = []
    with BlobServer(server_context(ca, sni_log=sni)) as srv:
        ca_path = install_ca(fs, ca)
        by_name = https_get(executor, f"https://localhost:{srv.port}/blob/{MiB}?seed=8",
                            verify=VerifyMode.SERVER, ca=ca_path)
        by_ip = https_get(executor, srv.url("/blob/10"), verify=VerifyMode.SERVER, ca=ca_path)
    assert_ok(by_name)
    assert hashlib.sha256(body_of(by_name)).hexdigest() == blob_sha256(MiB, 8)
    assert_ok(by_ip)
    assert sni == ["localhost", None]  # no SNI for an IP literal


def test_https_explicit_sni(executor, fs, ca):
    sni: list = []
    with BlobServer(server_context(ca, sni_log=sni)) as srv:
        events = https_get(executor, f"https://other.test:{srv.port}/blob/10", verify="server",
                           ca=install_ca(fs, ca), sni="localhost")
    assert_ok(events)
    assert sni == ["localhost"]


def test_https_default_ca_from_constructor(resolver, fs, ca):
    with BlobServer(server_context(ca)) as srv, NetworkExecutor(resolver, fs, default_ca=ca.cert_pem.bytes()) as ex:
        assert_ok(https_get(ex, srv.url("/blob/10"), verify=VerifyMode.SERVER))


def test_https_verify_none_accepts_untrusted(executor, ca):
    with BlobServer(server_context(ca)) as srv:
        assert_ok(https_get(executor, srv.url("/blob/10"), verify=VerifyMode.NONE))


def test_https_keep_alive(executor, ca):
    with BlobServer(server_context(ca)) as srv:
        for _ in range(3):
            events = run(executor, request("GET", srv.url("/blob/1000"), keep_alive=True, tls=TlsSettings()))
            assert_ok(events)
        assert srv.connections == 1


@pytest.mark.parametrize("case", ["wrong_ca", "wrong_host", "no_ca", "version", "missing_ca_file"])
def test_tls_failures(executor, fs, ca, case):
    ctx = server_context(ca, max_version=ssl.TLSVersion.TLSv1_2 if case == "version" else None)
    with BlobServer(ctx) as srv:
        tls = {"verify": VerifyMode.SERVER, "ca": install_ca(fs, ca)}
        url = srv.url("/blob/10")
        if case == "wrong_ca":
            tls["ca"] = install_ca(fs, make_ca(), "certs/other.pem")
        elif case == "wrong_host":
            url = f"https://other.test:{srv.port}/blob/10"
        elif case == "no_ca":
            del tls["ca"]
        elif case == "version":
            tls["version"] = "TLSv1.3"
        else:
            tls["ca"] = "certs/absent.pem"
        failure = the_failure(https_get(executor, url, **tls))
    assert failure.kind is ErrorKind.TLS_FAILED, failure


def test_mutual_tls(executor, fs, ca):
    with BlobServer(server_context(ca, require_client_cert=True)) as srv:
        cert, key = install_client_cert(fs, ca)
        events = https_get(executor, srv.url("/blob/1000"), verify=VerifyMode.MUTUAL,
                           ca=install_ca(fs, ca), client_cert=cert, client_key=key)
    assert_ok(events)
    assert ("DNS", "client.example") in srv.peer_certs[0]["subjectAltName"]


def test_mutual_tls_without_client_cert_is_refused(executor, fs, ca):
    # TLS 1.2: the server's refusal arrives inside the client's handshake (deterministic).
    with BlobServer(server_context(ca, require_client_cert=True)) as srv:
        events = https_get(executor, srv.url("/blob/10"), verify=VerifyMode.SERVER,
                           ca=install_ca(fs, ca), version="TLSv1.2")
    assert the_failure(events).kind is ErrorKind.TLS_FAILED


# ---- the resolver ------------------------------------------------------------------------------------


@pytest.fixture
def no_dns(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a DNS lookup was attempted: {args}")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse)


def test_resolver_never_queries_dns(no_dns):
    resolver = HostsResolver({"Blob.Test": ["127.0.0.1", "::1"]})
    assert resolver.resolve("blob.test") == ["127.0.0.1", "::1"]
    assert resolver.resolve("BLOB.TEST.") == ["127.0.0.1", "::1"]
    assert resolver.resolve("localhost") == ["127.0.0.1"]
    assert resolver.resolve("10.1.2.3") == ["10.1.2.3"]
    assert resolver.resolve("[::1]") == ["::1"] and resolver.resolve("::1") == ["::1"]
    with pytest.raises(HostNotFound, match="example.com"):
        resolver.resolve("example.com")


def test_executor_uses_only_the_hosts_map(no_dns, executor, server):
    assert_ok(run(executor, request("GET", f"http://blob.test:{server.port}/blob/10")))
    assert dict(server.requests[-1][2])["Host"] == f"blob.test:{server.port}"


def test_hosts_file_loader(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# comment\n127.0.0.1  a.test b.test  # trailing\n\n::1 b.test\n127.0.0.2 a.test\n")
    resolver = HostsResolver.from_file(hosts, localhost=False)
    assert resolver.resolve("a.test") == ["127.0.0.1", "127.0.0.2"]
    assert resolver.resolve("b.test") == ["127.0.0.1", "::1"]
    with pytest.raises(HostNotFound):
        resolver.resolve("localhost")
    with pytest.raises(ValueError):
        HostsResolver.from_text("not-an-address name\n")
    assert ip_literal("[::1]") == "::1" and ip_literal("name") is None


def test_connect_only_opens_a_connection_the_next_request_reuses(tmp_path):
    """AT+HTTPSETUP's semantics: connect and send nothing; the next request uses that connection."""
    from bridge.model import Connected

    fs = ModuleFileSystem(str(tmp_path / "fs"))
    with BlobServer() as server, NetworkExecutor(HostsResolver({}), fs) as executor:
        events = list(executor.execute(Request(Method.GET, server.url("/blob/10"), connect_only=True)))
        assert events == [Connected()]
        assert server.requests == []  # nothing was sent
        body = b"".join(e.data for e in executor.execute(Request(Method.GET, server.url("/blob/10"), keep_alive=True)) if isinstance(e, BodyChunk))
        assert len(body) == 10 and server.connections == 1


def test_connect_only_reports_the_real_fault(tmp_path):
    fs = ModuleFileSystem(str(tmp_path / "fs"))
    with NetworkExecutor(HostsResolver({}), fs) as executor:
        events = list(executor.execute(Request(Method.GET, "http://nowhere.invalid/", connect_only=True)))
    assert len(events) == 1 and events[0].kind is ErrorKind.DNS_FAILED


def test_allow_net_keeps_requests_inside_the_given_networks(tmp_path):
    """`atbridge emulate --allow-net`: an address outside the allowed networks is never connected to."""
    from bridge.model import ConnectionClosed, Failure, Method, Request, ResponseHead
    from bridge.device.hosts import HostsResolver
    from bridge.device.fs import ModuleFileSystem
    from bridge.net import NetworkExecutor
    from support.servers import BlobServer

    fs = ModuleFileSystem(str(tmp_path / "fs"))
    with BlobServer() as server:
        resolver = HostsResolver({"inside.test": ["127.0.0.1"], "outside.test": ["::1"]})
        allowed = NetworkExecutor(resolver, fs, allow_net=["127.0.0.0/8"])
        try:
            inside = list(allowed.execute(Request(Method.GET, f"http://inside.test:{server.port}/blob/10")))
            assert isinstance(inside[0], ResponseHead) and inside[0].status == 200
            before = len(server.requests)
            outside = list(allowed.execute(Request(Method.GET, f"http://outside.test:{server.port}/blob/10")))
            assert [type(e) for e in outside if not isinstance(e, ConnectionClosed)] == [Failure]
            assert outside[-1].kind.value == "connect_failed" and "--allow-net" in outside[-1].detail
            assert len(server.requests) == before
        finally:
            allowed.close()
