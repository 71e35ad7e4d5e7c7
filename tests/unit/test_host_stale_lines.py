"""Both host sides: a final result in a line the module began long before a command was written,
and never ended, is not that command's answer (the wedge the sans-I/O fuzzer found behind both
engines, issue 10).  A module writes a line at once and every answer starts with CR LF (V.25ter
6.2.6; both manuals' transcripts), so such a fragment -- left by a module that reset mid-line --
is ended by the CR of the next answer, and without this check "+CME ERROR:" would answer AT."""
from __future__ import annotations

import pytest

from bridge.registry import make_host_side
from bridge.roles.host_commands import SETTLE

OK = b"\r\nOK\r\n"


def ready(dialect: str):
    """A host side past its start-up: every command it writes is answered OK."""
    host = make_host_side(dialect)
    for now in range(20):
        written = host.data_to_send()
        if not written and host.ready:
            return host
        host.receive_data(OK * written.count(b"\r"), float(now))
    raise AssertionError("start-up did not finish")


def answer_of(host, token: int) -> bytes:
    answers = dict(host.take_passthrough())
    assert token in answers, answers
    return answers[token]


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
@pytest.mark.parametrize("fragment", [b"\r\n+CME ERROR:", b"\r\n+CMS ERROR: 30", b"\r\nERR", b"\r\nERROR"])
def test_a_stale_fragment_does_not_answer_the_next_command(dialect, fragment):
    host = ready(dialect)
    host.receive_data(fragment, 100.0)  # then the module goes quiet
    host.on_time(100.0 + 10 * SETTLE)
    token = host.passthrough(b"AT")
    assert host.data_to_send() == b"AT\r"
    host.receive_data(OK, 100.0 + 10 * SETTLE)
    assert answer_of(host, token) == OK


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_an_answer_cut_across_reads_still_answers(dialect):
    """The answer's own line, begun in the read before and ended now, is the answer."""
    host = ready(dialect)
    token = host.passthrough(b"AT+CSQ")
    assert host.data_to_send() == b"AT+CSQ\r"
    host.receive_data(b"\r\n+CSQ: 25,99\r\n\r\n+CME ERR", 50.0)
    host.receive_data(b"OR: 4\r\n", 50.0 + 10 * SETTLE)
    assert answer_of(host, token) == b"\r\n+CSQ: 25,99\r\n\r\n+CME ERROR: 4\r\n"
