"""Splitting the parameter text of a command or response line into values, and checking one
value against its declaration in the dialect file (:func:`check_value`).

Values are separated by commas; a value that starts with '"' runs to the closing quote (a
backslash escapes the next character, as OneMO's escaped input uses `\\"`).  Quotes inside an
unquoted value are literal; a value that starts with '(' runs to its ')' (test-command answers
list ranges as `("a","b"),(0-3)`).  The last value can be taken verbatim to the end of the line
(`rest_from`), because firmware writes JSON bodies and URLs there unquoted, commas and all.
"""
from __future__ import annotations

import re
from typing import Optional, Union

from bridge.at.dialect import ParamSpec
from bridge.at.frames import Param

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*+)"', re.S)
_BLANKS = re.compile(r"[ \t]*+")
MAX_VALUES = 64  # no AT command or response has more; value 64 takes the rest of a longer line
INT_MAX = 2**31 - 1  # larger numbers are not a module's ints


class ParamSyntaxError(ValueError):
    pass


class ParamError(ValueError):
    """A value (or the number of values) does not fit the command's declaration."""


def split_params(text: str, rest_from: Optional[int] = None) -> tuple[Param, ...]:
    """The values of `text`.  With `rest_from=k`, value k takes the rest of the line as written
    (without its surrounding quotes, if it both starts and ends with one)."""
    rest_from = MAX_VALUES - 1 if rest_from is None else min(rest_from, MAX_VALUES - 1)
    values: list[Param] = []
    pos = 0
    length = len(text)
    close = text.find(")")  # the next ')' at or after pos (-1: none left); one pass in all
    if not text.strip():
        return ()
    while True:
        if pos < length and text[pos] in " \t":
            pos = _BLANKS.match(text, pos).end()  # type: ignore[union-attr]
        if rest_from is not None and len(values) == rest_from:
            values.append(_verbatim(text[pos:]))
            return tuple(values)
        if pos < length and text[pos] == '"':
            match = _QUOTED.match(text, pos)
            if match is None:
                raise ParamSyntaxError(f"unterminated quote in parameter {len(values) + 1}")
            values.append(Param(match.group(1), quoted=True))
            pos = _BLANKS.match(text, match.end()).end()  # type: ignore[union-attr]
            if pos < length and text[pos] != ",":
                raise ParamSyntaxError(f"text after the closing quote of parameter {len(values)}")
        elif pos < length and text[pos] == "(" and (close := _next(text, ")", pos, close)) > 0:  # a test answer's range list
            end = close + 1
            values.append(Param(text[pos:end], quoted=False))
            pos = end
        else:
            comma = text.find(",", pos)
            end = length if comma < 0 else comma
            values.append(Param(text[pos:end].strip(" \t"), quoted=False))
            pos = end
        if pos >= length:
            return tuple(values)
        pos += 1  # the comma


def _next(text: str, char: str, pos: int, known: int) -> int:
    """The first `char` at or after `pos`, given `known`, the first one at or after an earlier pos."""
    return known if known < 0 or known >= pos else text.find(char, pos)


def _verbatim(text: str) -> Param:
    stripped = text.strip(" \t")
    if len(stripped) >= 2 and stripped[0] == '"' and stripped[-1] == '"':
        return Param(stripped[1:-1], quoted=True)
    return Param(stripped, quoted=False)


# ---- checking one value against its ParamSpec ---------------------------------------------------


def check_value(param: Param, spec: ParamSpec, max_digits: int) -> Union[int, str]:
    """`param` checked against `spec`: the quoting rule; an int's digits (at most `max_digits`,
    the dialect's longest number), range and value table; a string's value table and longest
    length in bytes.  Ints come back as int, strings as given.  Raises :class:`ParamError`."""
    check_quoting(param, spec)
    if spec.type == "int":
        low, high = spec.range if spec.range else (0, INT_MAX)
        value = read_int(param.text, low, high, max_digits)
        if spec.values and str(value) not in spec.values:
            raise ParamError(f"{spec.name}: {value} is not one of {sorted(spec.values)}")
        return value
    if spec.max_len is not None and len(param.text.encode("utf-8", "surrogateescape")) > spec.max_len:
        raise ParamError(f"{spec.name}: longer than {spec.max_len} bytes")
    if spec.values and param.text not in spec.values:
        raise ParamError(f"{spec.name}: {param.text!r} is not one of {sorted(spec.values)}")
    return param.text


def check_quoting(param: Param, spec: ParamSpec) -> None:
    if spec.quoted == "required" and not param.quoted:
        raise ParamError(f"{spec.name}: must be quoted")
    if spec.quoted == "never" and param.quoted:
        raise ParamError(f"{spec.name}: must not be quoted")


def read_int(text: str, low: int = 0, high: int = INT_MAX, max_digits: int = 10) -> int:
    """A decimal int in [low, high] written as 1..`max_digits` ASCII digits (no sign, no blanks:
    "²" and 5000 digits are refused, not converted); raises :class:`ParamError`."""
    if not (0 < len(text) <= max_digits and text.isascii() and text.isdigit()):
        raise ParamError(f"{text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise ParamError(f"{value} is outside {low}..{high}")
    return value
