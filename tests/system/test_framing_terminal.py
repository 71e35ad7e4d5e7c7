"""A person at a terminal: backspace (V.250 S5, and DEL) edits the line being typed, and `A/`
repeats the last command line (V.250 6.2.2) -- in the framer and on a real emulator pty."""
from __future__ import annotations

import pytest

from bridge.at.dialect import load
from bridge.at.frames import Command, FramingError
from bridge.at import CommandFramer
from support.emulated import emulator


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_backspace_and_del_edit_the_line(dialect):
    framer = CommandFramer(load(dialect))
    [command] = framer.feed(b"AT+CSX\x08Q\r")
    assert isinstance(command, Command) and (command.name, command.form) == ("CSQ", "execute")
    [command] = framer.feed(b"AT+CGMX\x7f\x7fMM\r")
    assert command.name == "CGMM"


def test_a_slash_repeats_the_last_command_line_without_a_terminator():
    framer = CommandFramer(load("onemo"))
    assert isinstance(framer.feed(b"A/")[0], FramingError)  # nothing to repeat yet
    framer.feed(b"AT+CGSN=1\r")
    [again] = framer.feed(b"A/")
    assert (again.name, again.form, [p.text for p in again.params]) == ("CGSN", "set", ["1"])


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_a_corrected_command_and_a_repeat_at_the_emulator(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, _):
        answer = host.transact("AT+CSX\x08Q")
        assert b"+CSQ: " in answer and answer.rstrip().endswith(b"OK")
        host.send(b"A/")
        host.expect(rb"\+CSQ: \d+,\d+\r\n\r\nOK\r\n")
