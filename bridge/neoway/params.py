"""Checking a command's parameters against its declared form in dialects/neoway.yaml.

The value checks are the shared ones (:func:`bridge.at.params.check_value`); what is Neoway's own
is here: the count (required..declared, omitted ones take their default), a stray quote in an
unquoted value, blanks around a number, and enum tokens matched in any case.
"""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import CommandSpec, ParamSpec
from bridge.at.frames import Command, Param
from bridge.at.params import INT_MAX, ParamError, check_quoting, check_value as _check, read_int

_INT_DIGITS = 10
_CHECKED_KEPT = 256  # parameter lists whose values are kept: firmware repeats its commands
# (id(spec), form, params) -> (spec, values): the spec is held, so that its id stays its own
_checked: dict[tuple[int, str, tuple[Param, ...]], tuple[CommandSpec, tuple[Optional[str], ...]]] = {}


def checked(command: Command, spec: CommandSpec) -> list[Optional[str]]:
    """The values of `command` in declared order, normalised; omitted optional ones are their
    default (or None).  Raises :class:`ParamError`."""
    key = (id(spec), command.form, command.params)
    kept = _checked.get(key)
    if kept is not None and kept[0] is spec:
        return list(kept[1])
    values = _checked_values(command, spec)
    if len(_checked) >= _CHECKED_KEPT:
        _checked.clear()
    _checked[key] = (spec, tuple(values))
    return values


def _checked_values(command: Command, spec: CommandSpec) -> list[Optional[str]]:
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
    if spec.type == "token":
        check_quoting(param, spec)
        return _token(param.text, spec)
    if spec.type == "int":
        param = Param(param.text.strip(), param.quoted)
    return str(_check(param, spec, _INT_DIGITS))


def parse_int(text: str, low: int = 0, high: int = INT_MAX) -> int:
    """A decimal int in [low, high], blanks around it allowed; raises :class:`ParamError`."""
    return read_int(text.strip(), low, high, _INT_DIGITS)


def in_enum(value: Optional[str], table: dict[str, str], what: str) -> str:
    """`value` if it is a key of the YAML enum `table`; raises :class:`ParamError`."""
    if value is None or value not in table:
        raise ParamError(f"{what}: {value!r} is not one of {sorted(table)}")
    return value


def _token(text: str, spec: ParamSpec) -> str:
    if not spec.values:
        if not text:
            raise ParamError(f"{spec.name}: empty")
        return text
    for key in spec.values:
        if key.lower() == text.lower():
            return key
    raise ParamError(f"{spec.name}: {text!r} is not one of {sorted(spec.values)}")
