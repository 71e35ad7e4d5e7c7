"""Checking a command's parameters against their ParamSpecs (dialects/onemo.yaml) with the shared
checks (bridge.at.params), and OneMO's own rules: an empty value counts as omitted, the model
profile's limits; every refusal carries the ErrorKind the module answers with."""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence, Union

from bridge.at.dialect import ModelProfile, ParamSpec
from bridge.at.frames import Param
from bridge.at.params import ParamError, check_value
from bridge.model import ErrorKind
from bridge.onemo.encoding import ASCII, has_bare_quote

Value = Union[int, str, None]
_INT_DIGITS = 9  # the longest number a OneMO parameter is read as


class CommandError(Exception):
    """A command refused with `kind` (answered on the sync channel)."""

    def __init__(self, kind: ErrorKind, why: str = "", token: Optional[str] = None) -> None:
        super().__init__(why or kind.value)
        self.kind = kind
        self.token = token  # a command's own error code (dialect file), where it has one for this refusal


def bad(why: str) -> CommandError:
    return CommandError(ErrorKind.INVALID_PARAMETER, why)


def with_limits(spec: ParamSpec, profile: ModelProfile, fallback: Optional[ParamSpec] = None) -> ParamSpec:
    """`spec` with the model's limit for its name applied (an int range, or a string's longest
    length); without either, `fallback`'s range (a parameter the manual defers to another table)."""
    limit = (profile.get("limits") or {}).get(spec.name)
    if isinstance(limit, list) and len(limit) == 2:
        return dataclasses.replace(spec, range=(int(limit[0]), int(limit[1])))
    if isinstance(limit, int) and not isinstance(limit, bool):
        return dataclasses.replace(spec, max_len=limit)
    if spec.range is None and fallback is not None and fallback.range is not None:
        return dataclasses.replace(spec, range=fallback.range)
    return spec


def present(param: Optional[Param]) -> bool:
    """Given at all: an empty unquoted value (",,") counts as omitted."""
    return param is not None and (param.text != "" or param.quoted)


def parse_params(params: Sequence[Param], specs: Sequence[ParamSpec], profile: ModelProfile,
                 formats: Optional[dict[str, int]] = None) -> dict[str, Value]:
    """Values by parameter name (None when omitted): ints as int, strings as typed.
    `formats` names the string parameters that carry data, with their input format: the quote
    rule depends on it, and their length is checked once decoded (:func:`check_length`)."""
    if len(params) > len(specs):
        raise bad(f"{len(params)} parameters, at most {len(specs)}")
    values: dict[str, Value] = {}
    for index, spec in enumerate(specs):
        param = params[index] if index < len(params) else None
        if not present(param):
            if not spec.optional:
                raise bad(f"<{spec.name}> is missing")
            values[spec.name] = None
            continue
        assert param is not None
        values[spec.name] = _one(param, with_limits(spec, profile), profile, formats or {})
    return values


def _one(param: Param, spec: ParamSpec, profile: ModelProfile, formats: dict[str, int]) -> Value:
    """The shared checks (:func:`bridge.at.params.check_value`; a data parameter's length is
    checked once decoded), then the model's: the longest parameter, quotes inside strings."""
    max_param = profile.get("param_max_len")
    if max_param and len(param.text) > int(max_param):
        raise bad(f"<{spec.name}> is longer than {max_param}")
    try:
        value = check_value(param, dataclasses.replace(spec, max_len=None) if spec.name in formats else spec, _INT_DIGITS)
    except ParamError as exc:
        raise bad(f"<{spec.name}> {exc}") from None
    if isinstance(value, str) and not profile.get("quotes_in_strings", True) and has_bare_quote(value, formats.get(spec.name, ASCII)):
        raise bad(f"<{spec.name}> contains a quote")
    return value


def check_length(data: bytes, spec: ParamSpec, profile: ModelProfile) -> None:
    """A decoded string value against its longest length (the model's limit first)."""
    limit = with_limits(spec, profile).max_len
    if limit is not None and len(data) > limit:
        raise bad(f"<{spec.name}> is {len(data)} bytes, at most {limit}")
