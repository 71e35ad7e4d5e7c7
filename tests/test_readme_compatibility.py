"""The README's compatibility tables name every command and URC of both dialect files, so a
command added to a dialect cannot go unmentioned there.  (They do not yet check each row's status
against the bridge's behaviour: see issue 5.)"""
from pathlib import Path

import pytest

from bridge.dialect import COMMON, load

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Compatibility"):README.index("## Looking inside")]
HALVES = {
    "neoway": SECTION[:SECTION.index("### OneMO firmware on a Neoway module")],
    "onemo": SECTION[SECTION.index("### OneMO firmware on a Neoway module"):],
}


def _own_names(dialect: str) -> tuple[list[str], list[str]]:
    spec, basics = load(dialect), load(COMMON)
    commands = [name for name in spec.commands if name not in basics.commands]
    urcs = [name for name, frame in spec.frames.items() if frame.unsolicited and name not in basics.frames]
    return commands, urcs


@pytest.mark.parametrize("dialect", ["neoway", "onemo"])
def test_every_command_and_urc_has_a_row(dialect):
    commands, urcs = _own_names(dialect)
    assert len(commands) >= 11 and urcs  # the dialect's own, not the 3GPP basics
    table = HALVES[dialect]
    missing = [f"AT+{c}" for c in commands if c not in table] + [u for u in urcs if u not in table]
    assert not missing, f"README compatibility table for {dialect} firmware lacks {missing}"
