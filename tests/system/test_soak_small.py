"""The soak (benchmarks/soak.py) at a small size, in CI: 40 requests per direction (GET, POST,
HEAD, 0 B to 64 KiB, a fifth HTTPS) through `atbridge bridge` run as a subprocess, every body
checked by SHA-256, none lost, and the bridge's RSS not growing by more than 5 MB."""
from __future__ import annotations

import importlib.util
import sys

import pytest
from support.paths import REPO

SOAK = REPO / "benchmarks" / "soak.py"


def load_soak():
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(120)
@pytest.mark.parametrize("firmware,module", [("onemo", "neoway"), ("neoway", "onemo")])
def test_small_soak(firmware, module):
    soak = load_soak()
    items = soak.plan(40, 64 * 1024, 0.2, seed=3)
    assert {i.method for i in items} == {"GET", "POST", "HEAD"} and any(i.https for i in items)
    assert min(i.size for i in items) == 0 and max(i.size for i in items) == 64 * 1024
    figures = soak.run_direction(firmware, module, items, timeout=20.0)
    print(figures.line())
    assert figures.requests == 40 and not figures.lost, figures.lost
    assert figures.ok == 40
    assert figures.body_bytes > 0
    assert figures.rss_end_kb - figures.rss_start_kb < 5 * 1024
