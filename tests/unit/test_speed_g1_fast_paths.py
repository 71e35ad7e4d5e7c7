"""The fast paths of issue 12 on the Neoway firmware -> bridge -> OneMO module direction, against
the slow paths they stand in for:

- bridge.http.plain_response_head reads a plainly written head exactly as the h11 reader of
  response_parser does, and declines (None) whatever it does not read so -- and
  onemo.host.reception.parse_head gives the same ResponseHead (or Fail) either way.
"""
from __future__ import annotations

from typing import Optional

import h11
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.http import plain_response_head, response_parser
from bridge.onemo.host import reception
from bridge.onemo.host.errors import Fail


def _by_h11(block: bytes, method: str = "GET") -> Optional[tuple]:
    """What h11 reads of `block` as parse_head feeds it: (status, reason, [(name, value)]),
    ("1xx", ...) for an informational response, or None where it raises."""
    connection = response_parser(method)
    try:
        connection.receive_data(block + b"\r\n\r\n")
        event = connection.next_event()
    except h11.RemoteProtocolError:
        return None
    return (event.status_code, bytes(event.reason), [(bytes(n), bytes(v)) for n, v in event.headers.raw_items()])


PLAIN = [
    b"HTTP/1.1 200 OK\r\nServer: BaseHTTP/0.6 Python/3.11.7\r\nDate: Wed, 02 Dec 2026 12:55:02 GMT\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Length: 100",
    b"HTTP/1.1 200 OK",
    b"HTTP/1.0 404",
    b"HTTP/1.1 204 ",
    b"HTTP/1.1 500 Internal\tServer  Error \r\nX-Empty:\r\nX-Blank: \t \r\nX-Pad:  a  b  \r\nx-Low:\xe9t\xe9",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain",
    b"HTTP/2.0 999 Odd",
]
DECLINED = [
    b"HTTP/1.1 100 Continue",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6",
    b"HTTP/1.1 200 OK\r\nContent-Length: x",
    b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 21,
    b"HTTP/1.1 200 OK\r\nA: b\r\n folded",
    b"HTTP/1.1 200 OK\r\n\r\nA: after a blank line",
    b"\r\nHTTP/1.1 200 OK",
    b"HTTP/1.1 200 OK\nA: bare LF",
    b"HTTP/1.1 200 OK\r\nA: b\rc",
    b"HTTP/1.1 200 OK\r\nA: \x01control",
    b"HTTP/1.1 200 OK\r\nA: nul\x00",
    b"HTTP/1.1 200 O\x7fK",
    b"HTTP/1.1 200 OK\r\nBad Name: x",
    b"HTTP/1.1 200 OK\r\n: no name",
    b"HTTP/1.1 20 OK",
    b"HTTP/11 200 OK",
    b"http/1.1 200 OK",
    b"",
]


@pytest.mark.parametrize("block", PLAIN)
def test_a_plain_head_is_read_as_h11_reads_it(block: bytes) -> None:
    assert plain_response_head(block) is not None
    assert plain_response_head(block) == _by_h11(block)


@pytest.mark.parametrize("block", DECLINED)
def test_anything_else_is_left_to_h11(block: bytes) -> None:
    assert plain_response_head(block) is None


def _parse_head(raw: bytes, method: str):
    try:
        return reception.parse_head(raw, method)
    except Fail as fail:
        return ("fail", fail.kind)


def _slow(raw: bytes, method: str):
    """parse_head with the fast path turned off."""
    original = reception.plain_response_head
    reception.plain_response_head = lambda block: None
    try:
        return _parse_head(raw, method)
    finally:
        reception.plain_response_head = original


@pytest.mark.parametrize("block", PLAIN + DECLINED)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_parse_head_gives_the_same_head_either_way(block: bytes, method: str) -> None:
    for raw in (block, block + b"\r\n", block + b"\r\n\r\n"):
        assert _parse_head(raw, method) == _slow(raw, method)


_NAME = st.text("-!#$%&'*+.^_`|~0aZ:", min_size=0, max_size=6).map(str.encode)
_VALUE = st.binary(max_size=8) | st.sampled_from([b"chunked", b"12", b"", b" 7 ", b"1,1", b"a b"])
_FIELD_NAME = _NAME | st.sampled_from([b"Content-Length", b"content-length", b"Transfer-Encoding", b"Host"])
_STATUS = st.sampled_from([b"HTTP/1.1 200 OK", b"HTTP/1.0 304", b"HTTP/1.1 101 Up", b"HTTP/1.1 199 x",
                           b"HTTP/1.1 200 ", b"HTTP/1.1 2000 OK"]) | st.binary(max_size=12)
_SEPARATOR = st.sampled_from([b":", b": ", b":\t", b" :", b""])
_LINE_END = st.sampled_from([b"\r\n"] * 6 + [b"\n", b"\r", b"\r\n ", b"\r\n\t", b"\r\n\r\n"])


@settings(max_examples=400)
@given(_STATUS, st.lists(st.tuples(_LINE_END, _FIELD_NAME, _SEPARATOR, _VALUE), max_size=5), st.sampled_from(["GET", "HEAD"]))
@example(b"HTTP/1.1 200 OK", [(b"\r\n", b"Content-Length", b": ", b"12")], "GET")
def test_any_head_the_fast_path_reads_h11_reads_alike(status: bytes, fields: list, method: str) -> None:
    block = status + b"".join(end + name + sep + value for end, name, sep, value in fields)
    plain = plain_response_head(block)
    if plain is not None:
        assert plain == _by_h11(block)
    raw = block + b"\r\n"
    assert _parse_head(raw, method) == _slow(raw, method)
