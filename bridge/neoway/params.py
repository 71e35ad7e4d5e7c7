"""Checking a command's parameters against its declared form in dialects/neoway.yaml.

Counts, int syntax and ranges, enum membership, string lengths and quoting rules all come
from the :class:`~bridge.at.dialect.ParamSpec` entries; nothing here knows a Neoway command.
"""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import CommandSpec, ParamSpec
from bridge.at.frames import Command, Param

INT_MAX = 2**31 - 1  # larger numbers are not a module's ints
_INT_DIGITS = 10


class ParamError(ValueError):
    """A parameter (or their count) does not fit the command's declaration."""


def checked(command: Command, spec: CommandSpec) -> list[Optional[str]]:
    """The values of `command` in declared order, normalised; omitted optional ones are their
    default (or None).  Raises :class:`ParamError`."""
    form = spec.forms.get(command.form)
    if form is None:
        raise ParamError(f"AT+{command.name} has no {command.form} form")
    declared = form.params
    required = sum(1 for param in declared if not param.optional)
    if not required <= len(command.params) <= len(declared):
        raise ParamError(f"AT+{command.name}: {len(command.params)} parameters, {required}..{len(declared)} expected")
    values: list[Optional[str]] = [check_value(given, want) for given, want in zip(command.params, declared)]
    values += [want.default for want in declared[len(command.params):]]
    return values


def check_value(param: Param, spec: ParamSpec) -> str:
    """One value checked against `spec`; ints come back without leading zeros, tokens as the
    enum key they match (case-insensitively)."""
    if not param.quoted and '"' in param.text:
        raise ParamError(f"{spec.name}: unterminated or stray quote")
    if spec.quoted == "required" and not param.quoted:
        raise ParamError(f"{spec.name}: must be quoted")
    if spec.quoted == "never" and param.quoted:
        raise ParamError(f"{spec.name}: must not be quoted")
    if spec.type == "int":
        return _int(param.text, spec)
    if spec.type == "token":
        return _token(param.text, spec)
    if spec.max_len is not None and len(param.text.encode("utf-8", "surrogateescape")) > spec.max_len:
        raise ParamError(f"{spec.name}: longer than {spec.max_len} bytes")
    if spec.values and param.text not in spec.values:
        raise ParamError(f"{spec.name}: {param.text!r} is not one of {sorted(spec.values)}")
    return param.text


def parse_int(text: str, low: int = 0, high: int = INT_MAX) -> int:
    """A decimal int in [low, high]; raises :class:`ParamError`."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _INT_DIGITS:
        raise ParamError(f"{text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise ParamError(f"{value} is outside {low}..{high}")
    return value


def in_enum(value: Optional[str], table: dict[str, str], what: str) -> str:
    """`value` if it is a key of the YAML enum `table`; raises :class:`ParamError`."""
    if value is None or value not in table:
        raise ParamError(f"{what}: {value!r} is not one of {sorted(table)}")
    return value


def _int(text: str, spec: ParamSpec) -> str:
    low, high = spec.range if spec.range else (0, INT_MAX)
    key = str(parse_int(text, low, high))
    if spec.values and key not in spec.values:
        raise ParamError(f"{spec.name}: {key} is not one of {sorted(spec.values)}")
    return key


def _token(text: str, spec: ParamSpec) -> str:
    if not spec.values:
        if not text:
            raise ParamError(f"{spec.name}: empty")
        return text
    for key in spec.values:
        if key.lower() == text.lower():
            return key
    raise ParamError(f"{spec.name}: {text!r} is not one of {sorted(spec.values)}")
