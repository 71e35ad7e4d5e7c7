"""`atbridge demo` runs both directions on virtual ports and reports honestly."""
import subprocess
import sys

import pytest


@pytest.mark.timeout(120)
def test_demo_passes_and_prints_both_sides():
    result = subprocess.run([sys.executable, "-m", "bridge.app.cli", "demo"], capture_output=True, timeout=120)
    out = result.stdout.decode()
    assert "firmware -> bridge" in out and "bridge -> module" in out  # both sides of the conversation
    assert "0 failed" in out, out[-3000:]
    assert result.returncode == 0


def test_a_failing_step_fails_the_demo(monkeypatch):
    from bridge.app.demo import run as demo_run, scenarios

    def broken(ctx):
        raise scenarios.StepFailed("on purpose")

    monkeypatch.setitem(scenarios.FIRMWARE, "neoway", [("broken", broken)])
    monkeypatch.setitem(scenarios.FIRMWARE, "onemo", [])
    lines = []
    assert demo_run.run_demo(lines.append) is False
    assert any("FAIL" in line and "on purpose" in line for line in lines)
