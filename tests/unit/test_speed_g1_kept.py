"""What the Neoway firmware -> bridge -> OneMO module direction keeps for a line, value or URL
seen again (issue 12) gives what working it out afresh gives:

- CommandFramer's Command of a line seen before: the same frames, in any chunking, as a framer
  that keeps nothing -- backspaces, A/, bad lines and data mode included;
- neoway.params.checked: the same values, or the same ParamError, for a parameter list seen before;
- neoway.module.url.parse_target and bridge.http.Target.parse: the same Target, or the same error.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.at import framer_for
from bridge.at.commands import CommandFramer
from bridge.at.dialect import load
from bridge.at.frames import Command, Param
from bridge.http import Target
from bridge.neoway import params
from bridge.neoway.module import url
from support.framecheck import parse_chunked, parse_whole
from support.streams import host_items


class _KeepsNothing(dict):
    def __setitem__(self, key, value) -> None:
        pass


def _fresh(framer: CommandFramer) -> CommandFramer:
    framer._parsed = _KeepsNothing()
    return framer


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
@settings(max_examples=150)
@given(data=st.data())
def test_a_line_seen_again_frames_as_a_fresh_framer_frames_it(dialect: str, data: st.DataObject) -> None:
    items = data.draw(st.lists(host_items(dialect), min_size=1, max_size=8))
    extra = data.draw(st.lists(st.sampled_from([b"A/", b"AT+CSQ\x08Q\r", b"ATX\r", b"xyz\r", b"AT+HTTPPARA=\"u\r",
                                                b"AT\r\n"]), max_size=4))
    stream = b"".join(chunk for chunk, _ in items) + b"".join(extra)
    stream = stream * 3
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=32))
    kept = parse_chunked(framer_for(dialect, "host"), stream, cuts)
    assert kept == parse_whole(_fresh(framer_for(dialect, "host")), stream)


NEOWAY = load("neoway")


def _values(command: Command, spec):
    try:
        return params.checked(command, spec)
    except params.ParamError as exc:
        return ("error", str(exc))


@settings(max_examples=200)
@given(st.sampled_from(["HTTPPARA", "HTTPSETUP", "HTTPACTION", "HTTPSPARA"]), st.sampled_from(["set", "execute", "read"]),
       st.lists(st.tuples(st.sampled_from(["url", "port", "recvmode", "keepalive", "0", "1", " 7 ", "x\"", "99999999999",
                                           "127.0.0.1/a", ""]), st.booleans()), max_size=4))
def test_checked_values_seen_again_are_the_same(name: str, form: str, given_params: list) -> None:
    spec = NEOWAY.commands[name]
    command = Command(name, form, tuple(Param(text, quoted) for text, quoted in given_params), b"")
    first = _values(command, spec)
    again = _values(command, spec)
    fresh = params._checked_values(command, spec) if not isinstance(first, tuple) else first
    assert first == again == fresh
    if isinstance(first, list):
        first.append("changed by the caller")
        assert _values(command, spec) == fresh  # the caller's list is its own


@pytest.mark.parametrize("text", ["127.0.0.1/data/100?seed=5", "host:80", "[::1]:8/x", "", "a b/c", "[::1", "h:99999"])
def test_a_url_seen_again_gives_the_same_target_or_error(text: str) -> None:
    def parse():
        try:
            return url.parse_target(text)
        except params.ParamError as exc:
            return ("error", str(exc))
    first = parse()
    assert parse() == first == (url.parse_target.__wrapped__(text) if not isinstance(first, tuple) else first)


@pytest.mark.parametrize("text", ["http://h/x", "https://u:p@h:8443/a?b", "ftp://h/", "http://h:0/", "http://[::1]/"])
def test_an_http_url_seen_again_gives_the_same_target_or_error(text: str) -> None:
    def parse():
        try:
            return Target.parse(text)
        except ValueError as exc:
            return ("error", str(exc))
    first = parse()
    assert parse() == first == (Target._parse(text) if not isinstance(first, tuple) else first)


def _as_module_side_reads(framer: CommandFramer, stream: bytes, cuts: list[int]) -> list:
    """The frames ModuleSide.receive_data takes out of `stream` read in pieces: a piece that is
    one whole command line by itself framed at once (whole_frame), any other received as usual."""
    frames: list = []
    start = 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        if cut <= start:
            continue
        piece, start = stream[start:cut], cut
        frame = framer.whole_frame(piece)
        if frame is not None:
            frames.append(frame)
            continue
        frames += framer.feed(piece)
    framer.close()
    return frames + framer.feed()


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
@settings(max_examples=200)
@given(data=st.data())
def test_a_line_read_alone_frames_as_receiving_it_does(dialect: str, data: st.DataObject) -> None:
    items = data.draw(st.lists(host_items(dialect), min_size=1, max_size=8))
    extra = data.draw(st.lists(st.sampled_from([b"A/", b"AT+CSQ\x08Q\r", b"AT\r\n", b"AT+CSQ\n", b"AT+CSQ\r\r",
                                                b" AT\r", b"\nAT\r", b"AT+X=\"open\r", b"AT" + b"X" * 600 + b"\r"]),
                                max_size=4))
    pieces = [chunk for chunk, _ in items] + extra
    pieces = data.draw(st.permutations(pieces))
    stream = b"".join(pieces)
    at_lines = [sum(len(p) for p in pieces[:i]) for i in range(len(pieces) + 1)]  # reads of whole items
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8)) + data.draw(st.lists(st.sampled_from(at_lines), max_size=8))
    framer = framer_for(dialect, "host")
    framer.auto_data_mode = False  # as a module side frames (it enters data mode itself)
    whole = parse_whole(_no_auto(framer_for(dialect, "host")), stream)
    assert _as_module_side_reads(framer, stream, cuts) == whole


def _no_auto(framer: CommandFramer) -> CommandFramer:
    framer.auto_data_mode = False
    return framer
