"""Hostile lines: every framer of both dialects, in both directions, takes pathological lines
(100 k spaces, commas, quotes, 5000-digit numbers, non-ASCII digits, NULs, lone CRs) after
every declared prefix in time linear in their length, never raises, and frames the next line.

CPU time (process_time: a test descheduled on a busy machine is not charged for the wait) is
compared with a benign line of the same length through the same framer (the best of a few runs
each), never with a clock budget: a backtracking regex is 1000x or more slower on these lines, a
linear one about as fast."""
from __future__ import annotations

import time

import pytest

from bridge.at.dialect import Dialect, load
from bridge.at.frames import Command, Final, FramingError
from bridge.at import CommandFramer, ResponseFramer

RATIO = 50  # a pathological line may take this many times a benign line of the same length
READ = 4096  # fed as a serial port delivers it, and in one piece

FILLERS = {
    "spaces": b" ", "tabs": b"\t", "commas": b",", "quotes": b'"', "space-commas": b" ,",
    "quote-commas": b'",', "parens": b"(,", "digits": b"9", "superscript-2": "²".encode(),
    "nuls": b"\x00", "lone-crs": b"\r", "backslashes": b'\\"', "colons": b":",
}


def module_prefixes(dialect: Dialect) -> list[bytes]:
    """Each declared response/URC prefix, with each variant's discriminator, and the finals."""
    out = [b"+CME ERROR: ", b"+CMS ERROR: ", b"OK", b"ERROR", b"AT+HTTPACTION=", b"", b">"]
    for frame in dialect.frames.values():
        out.append(frame.name.encode() + b":")
        for variant, _shape in frame.shapes():
            if variant is not None:
                out.append(b'%s: "%s",' % (frame.name.encode(), variant.encode()))
    return out


def host_prefixes(dialect: Dialect) -> list[bytes]:
    out = [b"AT", b"ATE", b"AT+", b""]
    out += [b"AT+%s=" % name.encode() for name in dialect.commands]
    return out


def _framer(dialect: Dialect, source: str):
    return CommandFramer(dialect) if source == "host" else ResponseFramer(dialect)


def _cost(dialect: Dialect, source: str, stream: bytes, chunked: bool) -> float:
    best = float("inf")
    for _ in range(3):
        framer = _framer(dialect, source)
        start = time.process_time()
        if chunked:
            for offset in range(0, len(stream), READ):
                framer.feed(stream[offset:offset + READ])
        else:
            framer.feed(stream)
        framer.feed(b"\x1b\r\n")  # ends a data mode the line may have entered
        best = min(best, time.process_time() - start)
    return best


def _worst(dialect: Dialect, source: str, prefixes: list[bytes], size: int) -> tuple[float, str]:
    worst, what = 0.0, ""
    for prefix in prefixes:
        for name, filler in FILLERS.items():
            body = (filler * (size // len(filler) + 1))[:size]
            hostile = b"\r\n" + prefix + body + b"\r\n"
            benign = b"\r\n" + prefix + b"x" * len(body) + b"\r\n"
            for chunked in (False, True) if size < dialect.line_max else (True,):  # longer: refused at once in one piece
                ratio = _cost(dialect, source, hostile, chunked) / max(_cost(dialect, source, benign, chunked), 1e-6)
                if ratio > worst:
                    worst, what = ratio, f"{prefix!r} + {size} x {name} ({'4 KiB reads' if chunked else 'one piece'})"
    return worst, what


@pytest.mark.parametrize("dialect_name", ["onemo", "neoway"])
@pytest.mark.parametrize("source", ["host", "module"])
@pytest.mark.parametrize("size", ["under line_max", 100_000])
def test_pathological_lines_cost_about_a_benign_line(dialect_name, source, size):
    dialect = load(dialect_name)
    prefixes = host_prefixes(dialect) if source == "host" else module_prefixes(dialect)
    length = dialect.line_max - 200 if size == "under line_max" else size
    worst, what = _worst(dialect, source, prefixes, length)
    print(f"{dialect_name} {source}: worst ratio {worst:.1f} for {what}")
    assert worst < RATIO, f"{what} took {worst:.0f}x a benign line of its length"


@pytest.mark.parametrize("dialect_name", ["onemo", "neoway"])
@pytest.mark.parametrize("source", ["host", "module"])
def test_framing_goes_on_after_each_pathological_line(dialect_name, source):
    dialect = load(dialect_name)
    prefixes = host_prefixes(dialect) if source == "host" else module_prefixes(dialect)
    after = b"\x1b\r\nAT+CGSN\r" if source == "host" else b"\r\n866123456789012\r\n\r\nOK\r\n"
    for prefix in prefixes:
        for filler in FILLERS.values():
            framer = _framer(dialect, source)
            framer.feed(b"\r\n" + prefix + filler * 5000 + b"\r\n")
            if source == "module" and framer.in_payload:  # a length that still waits: the owner's deadline
                assert isinstance(framer.abandon_payload(), FramingError)
            frames = framer.feed(after)
            expected = Command("CGSN", "execute", raw=b"AT+CGSN") if source == "host" else Final("OK")
            assert frames and frames[-1] == expected, (prefix, filler[:2], frames[-3:])


NUMBERS = [b"\xc2\xb2", b"\xd9\xa3", b"9" * 5000, b"-5", b"1_000", b"0x10", b"99999999999"]


@pytest.mark.parametrize("dialect_name", ["onemo", "neoway"])
@pytest.mark.parametrize("number", NUMBERS, ids=lambda n: repr(n[:6]))
def test_odd_numbers_in_every_field_are_frames_not_exceptions(dialect_name, number):
    """A number that is not 1-10 ASCII digits is never converted: +CME ERROR keeps it as text,
    a length field makes the line a FramingError, and the next line frames."""
    dialect = load(dialect_name)
    framer = ResponseFramer(dialect)
    frames = framer.feed(b"\r\n+CME ERROR: " + number + b"\r\n")
    assert frames[0].result == "CME" and frames[0].code is None and frames[0].text == number.decode().strip()
    for prefix in module_prefixes(dialect):
        for position in range(5):
            fields = [b"1"] * 5
            fields[position] = number
            framer.feed(b"\r\n" + prefix + b",".join(fields) + b"\r\n")
            if framer.in_payload:
                framer.abandon_payload()
            assert framer.feed(b"\r\nOK\r\n")[-1] == Final("OK"), (prefix, position)


def test_cme_code_of_ascii_digits_is_still_a_number():
    frames = ResponseFramer(load("onemo")).feed(b"\r\n+CME ERROR: 653\r\n\r\n+CME ERROR: 0000000042\r\n")
    assert frames == [Final("CME", code=653), Final("CME", code=42)]


@pytest.mark.parametrize("length", [b"\xc2\xb2", b"9" * 5000, b"99999999999"])
def test_command_data_length_that_is_no_number_enters_no_data_mode(length):
    framer = CommandFramer(load("onemo"))
    frames = framer.feed(b"AT+MHTTPCONTENT=0,0," + length + b"\rAT\r")
    assert not framer.in_data_mode
    assert frames[-1] == Command("", "execute", raw=b"AT")


def test_length_above_the_data_mode_maximum_enters_no_data_mode():
    dialect = load("onemo")
    framer = CommandFramer(dialect)
    frames = framer.feed(b"AT+MHTTPCONTENT=0,0,%d\rAT\r" % (10 ** 9))
    assert frames[-1] == Command("", "execute", raw=b"AT") and not framer.in_data_mode


@pytest.mark.parametrize("dialect_name", ["onemo", "neoway"])
def test_a_terminated_line_over_line_max_is_refused(dialect_name):
    dialect = load(dialect_name)
    framer = ResponseFramer(dialect)
    frames = framer.feed(b"\r\n+FOO: " + b"a," * dialect.line_max + b"\r\n\r\nOK\r\n")
    assert isinstance(frames[0], FramingError) and "longer" in frames[0].reason
    assert frames[1:] == [Final("OK")]


def test_payload_that_looks_hex_only_at_first_is_taken_raw():
    """Found by the fuzzer: HEX output was decided from the first <length> bytes, and
    bytes.fromhex raised on the rest."""
    framer = ResponseFramer(load("onemo"))
    frames = framer.feed(b'\r\n+MHTTPURC: "content",0,4,4,4,abcdXYZW\r\n\r\nOK\r\n')
    assert frames[0].payload == b"abcd" and frames[-1] == Final("OK")
    frames = framer.feed(b'\r\n+MHTTPURC: "content",0,4,8,4,61626364\r\n\r\nOK\r\n')
    assert frames[0].payload == b"abcd" and frames[-1] == Final("OK")  # real HEX output still decodes
