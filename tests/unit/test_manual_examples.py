"""Every example of both manuals, as data (tests/data/examples_*.yaml), parses into the frames the
manual shows, with the byte counts it states."""

import pytest
import yaml

from bridge.at import framer_for
from bridge.at.responses import ResponseFramer
from support.framecheck import merged, parse_chunked, parse_whole
from support.paths import DATA


def _examples():
    for dialect in ("onemo", "neoway"):
        path = DATA / f"examples_{dialect}.yaml"
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            yield pytest.param(dialect, entry, id=f"{dialect}:{entry['name']}")


def _stream(entry) -> bytes:
    stream = entry["stream"].encode("utf-8")
    fill = entry.get("body_fill")
    if fill:
        stream = stream.replace(b"{BODY}", fill.get("byte", "x").encode() * fill["length"])
    return stream


def _framer(dialect, entry):
    framer = framer_for(dialect, entry["direction"])
    if isinstance(framer, ResponseFramer) and entry.get("method_hint"):
        framer.expect_http(entry["method_hint"])
    return framer


def _check(frame: dict, want: dict) -> None:
    for key, value in want.items():
        if key == "payload_len":
            assert frame.get("payload") is not None and len(frame["payload"]) == value, (key, frame)
        elif key == "data_len":
            assert len(frame["data"]) == value, (key, frame)
        elif key == "fields":
            assert {k: frame["fields"].get(k) for k in value} == value, (frame["fields"], value)
        elif key == "params":
            got = frame["params"]
            assert len(got) == len(value), (got, value)
            for have, expected in zip(got, value):
                assert {k: have[k] for k in expected} == expected, (have, expected)
        elif key == "length" and frame["type"] == "HttpBodyTotal":
            assert len(frame["data"]) == value
        elif isinstance(value, dict) and "text" in value:  # bytes written as text in the YAML
            assert frame.get(key) == value["text"].encode(), (key, frame.get(key), value)
        else:
            assert frame.get(key) == value, (key, frame.get(key), value)


@pytest.mark.parametrize("dialect,entry", list(_examples()))
def test_manual_example(dialect, entry):
    stream = _stream(entry)
    frames = parse_whole(_framer(dialect, entry), stream)
    actual = [f | {"type": "HttpBodyTotal"} if f["type"] == "HttpBody" else f for f in merged(frames)]
    expected = entry["expect"]
    assert [f["type"] for f in actual] == [e["type"] for e in expected], actual
    for frame, want in zip(actual, expected):
        _check(frame, want)
    # the same frames however the bytes arrive: here, one byte at a time
    assert parse_chunked(_framer(dialect, entry), stream, list(range(len(stream)))) == frames
