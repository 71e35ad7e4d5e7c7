"""Chunk-proof framing: any chunking of a stream gives exactly the frames that feeding it at once
gives, and those frames are the ones the stream was generated from."""
import pytest
from hypothesis import given, strategies as st

from bridge.at import framer_for
from support.framecheck import assert_frames_match, parse_chunked, parse_whole
from support.streams import host_items, module_items

ITEMS = {"host": (host_items, 12), "module": (module_items, 10)}


@pytest.mark.parametrize("source", ["host", "module"])
@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
@given(data=st.data())
def test_any_chunking_gives_the_generated_frames(dialect, source, data):
    strategy, most = ITEMS[source]
    items = data.draw(st.lists(strategy(dialect), min_size=1, max_size=most))
    stream = b"".join(chunk for chunk, _ in items)
    cuts = data.draw(st.one_of(
        st.lists(st.integers(0, len(stream)), max_size=64),
        st.just(list(range(0, len(stream), 1 if len(stream) < 600 else 7))),
    ))
    whole = parse_whole(framer_for(dialect, source), stream)
    chunked = parse_chunked(framer_for(dialect, source), stream, cuts)
    assert chunked == whole
    assert_frames_match(whole, [frame for _, frames in items for frame in frames])
