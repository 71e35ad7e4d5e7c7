"""Chunk-proof framing: any chunking of a stream gives exactly the frames that feeding it at once
gives, and those frames are the ones the stream was generated from."""
import pytest
from hypothesis import given, strategies as st

from bridge.framing import framer_for
from framecheck import assert_frames_match, parse_chunked, parse_whole
from streams import host_items, module_items

DIALECTS = ["onemo", "neoway"]


def _cuts(data, length: int):
    return data.draw(st.one_of(
        st.lists(st.integers(0, length), max_size=64),
        st.just(list(range(0, length, 1))) if length < 600 else st.just(list(range(0, length, 7))),
    ))


@pytest.mark.parametrize("dialect", DIALECTS)
@given(data=st.data())
def test_module_stream_any_chunking(dialect, data):
    items = data.draw(st.lists(module_items(dialect), min_size=1, max_size=10))
    stream = b"".join(chunk for chunk, _ in items)
    whole = parse_whole(framer_for(dialect, "module"), stream)
    chunked = parse_chunked(framer_for(dialect, "module"), stream, _cuts(data, len(stream)))
    assert chunked == whole
    assert_frames_match(whole, [frame for _, frames in items for frame in frames])


@pytest.mark.parametrize("dialect", DIALECTS)
@given(data=st.data())
def test_host_stream_any_chunking(dialect, data):
    items = data.draw(st.lists(host_items(dialect), min_size=1, max_size=12))
    stream = b"".join(chunk for chunk, _ in items)
    whole = parse_whole(framer_for(dialect, "host"), stream)
    chunked = parse_chunked(framer_for(dialect, "host"), stream, _cuts(data, len(stream)))
    assert chunked == whole
    assert_frames_match(whole, [frame for _, frames in items for frame in frames])
