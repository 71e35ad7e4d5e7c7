"""bridge/http.py: the HTTP/1.1 facts every layer takes from one place (RFC 9112, RFC 9110)."""
from __future__ import annotations

import pytest
import h11

from bridge.http import Target, basic_authorization, content_length, entity_length, framing_header, has_body, response_parser


@pytest.mark.parametrize("method,status,body", [
    ("GET", 200, True), ("HEAD", 200, False), ("head", 200, False), ("GET", 101, False), ("GET", 199, False),
    ("GET", 204, False), ("GET", 304, False), ("POST", 205, True), ("GET", 404, True),
])
def test_which_responses_have_a_body(method, status, body):
    assert has_body(method, status) is body  # RFC 9112 6.3 items 1 and 2


@pytest.mark.parametrize("headers,length", [
    ([("Content-Length", "12")], 12), ([("content-length", " 0 ")], 0), ([], None),
    ([("Content-Length", "12"), ("Transfer-Encoding", "chunked")], None),  # RFC 9112 6.3 item 3
    ([("Content-Length", "²")], None), ([("Content-Length", "1" * 5000)], None), ([("Content-Length", "-1")], None),
])
def test_the_length_content_length_states(headers, length):
    assert content_length(headers) == length


@pytest.mark.parametrize("headers,length", [
    ([("Content-Range", "bytes 0-99/5000")], 5000), ([("content-range", "bytes */77")], 77), ([], None),
    ([("Content-Range", "bytes 0-99/*")], None), ([("Content-Range", "bytes 0-1/" + "9" * 5000)], None),
])
def test_the_complete_length_content_range_states(headers, length):
    assert entity_length(headers) == length  # RFC 9110 14.4


@pytest.mark.parametrize("method,body,header", [
    ("GET", None, None), ("POST", None, ("Content-Length", "0")), ("PUT", None, ("Content-Length", "0")),
    ("GET", b"abc", ("Content-Length", "3")), ("POST", memoryview(b"abcd"), ("Content-Length", "4")),
    ("POST", iter([b"a"]), ("Transfer-Encoding", "chunked")),
])
def test_the_framing_header_a_sender_adds(method, body, header):
    assert framing_header(method, body) == header


def test_basic_credentials():
    assert basic_authorization(("Aladdin", "open sesame")) == ("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")


def test_a_response_parser_knows_head_has_no_body():
    parser = response_parser("HEAD")
    parser.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    assert isinstance(parser.next_event(), h11.Response) and isinstance(parser.next_event(), h11.EndOfMessage)


@pytest.mark.parametrize("url", ["ftp://h/", "http://", "http://h:0/", "http://h:70000/", 'http://a"b/', "http://[::1"])
def test_urls_that_are_no_target(url):
    with pytest.raises(ValueError):
        Target.parse(url)


def test_a_target():
    target = Target.parse('HTTP://u:p%40@[::1]:8080/a b?q="x"')
    assert (target.scheme, target.host, target.port, target.credentials) == ("http", "::1", 8080, ("u", "p@"))
    assert target.path == "/a%20b?q=%22x%22" and target.host_header == "[::1]:8080"
    assert Target.parse("https://h.example/").host_header == "h.example"  # the default port is left out
