"""The sans-I/O fuzzer (benchmarks/fuzz.py) at CI size: 2,000 seeded mutations of the manuals'
examples per target -- every framer, both module sides, both host sides, the engine both ways.
No input may raise out of a target or run past the hang bound; after every batch of 100 inputs,
`AT` must still get `OK`.  Full size: python benchmarks/fuzz.py --inputs 1000000 --seed 1"""
from __future__ import annotations

import importlib.util
import io
import random
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("atbridge_fuzz", Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz.py")
fuzz = sys.modules.setdefault(SPEC.name, importlib.util.module_from_spec(SPEC))
if not hasattr(fuzz, "targets"):
    SPEC.loader.exec_module(fuzz)

INPUTS = 2000
SEED = 1
NAMES = [make().name for make, _ in fuzz.targets("/nonexistent")]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Each target fuzzed once, on first use."""
    done: dict = {}

    def stats_of(name: str) -> "fuzz.Stats":
        if name not in done:
            root = str(tmp_path_factory.mktemp("fuzz-fs"))
            make, pool = next((m, p) for m, p in fuzz.targets(root) if m().name == name)
            done[name] = fuzz.fuzz_target(make, pool, INPUTS, SEED, hang=5.0, shrink=False)
        return done[name]
    return stats_of


def _text(stats) -> str:
    out = io.StringIO()
    fuzz.report([stats], out)
    return out.getvalue()


@pytest.mark.parametrize("name", NAMES)
def test_no_input_raises_or_hangs(name, run):
    stats = run(name)
    print(_text(stats))
    assert stats.inputs == INPUTS
    assert stats.crashes == 0 and stats.hangs == 0, _text(stats)


@pytest.mark.parametrize("name", NAMES)
def test_at_still_gets_ok_after_every_batch(name, run):
    stats = run(name)
    assert stats.wedged == 0 and stats.logged == 0, _text(stats)


def test_the_fuzzer_sees_a_wedge():
    """The harness's own check: a ResponseFramer left inside a payload that never completes, and
    never abandoned, does not frame the next OK -- which is what `recovers` must catch."""
    target = fuzz.FramerTarget("onemo", "module")
    target.framer.feed(b'\r\n+MHTTPURC: "content",0,5000,5000,5000,abc\r\n')
    frames = target.framer.feed(b"\r\nOK\r\n")
    assert frames == []  # swallowed as payload
    assert target.recovers()  # recovers() abandons the payload, as an owner's deadline does


def test_mutations_are_seeded():
    pool = fuzz.corpus("onemo", "host")
    first = [fuzz.mutate(random.Random(seed), pool[0], pool) for seed in range(3)]
    again = [fuzz.mutate(random.Random(seed), pool[0], pool) for seed in range(3)]
    assert first == again and any(m != pool[0] for m in first)


class _Toy(fuzz.Target):
    """A target that an input with "WEDGE" in it wedges until reset."""

    name = "toy"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.wedged = False

    def feed(self, data: bytes, rng: random.Random) -> None:
        self.wedged = self.wedged or b"WEDGE" in data

    def recovers(self) -> bool:
        return not self.wedged


def test_a_wedged_batch_fails_the_run_and_is_cut_down_to_what_does_it():
    pool = [b"harmless input " * 4, b"a WEDGE in the middle"]
    stats = fuzz.fuzz_target(_Toy, pool, 300, SEED)
    assert stats.inputs == 300 and 0 < stats.wedged <= 3 and stats.failed
    for wedge in stats.wedges:
        assert [data for data, _seed, _extra in wedge.inputs] == [b"WEDGE"]  # one input, shrunk
    text = _text(stats)
    assert "result: FAIL (toy)" in text and "1 of its inputs do it" in text


def test_a_clean_run_passes():
    stats = fuzz.fuzz_target(_Toy, [b"harmless input"], 200, SEED)
    assert stats.wedged == 0 and not stats.failed
    assert "result: PASS" in _text(stats)
