"""What AT+HTTPACTION and AT+FILEHTTPACTION ask for, read from the parameters the firmware gave.

Both commands give their 2nd and 3rd parameters different meanings by <mode> (the YAML names
them length_or_offset / type_or_size); these functions sort that out and check what the form
alone cannot: which combinations a mode takes, and the limits that depend on the mode.  (The host
side's twins, which write these parameters for a request, are neoway/host/plan.py's action_for
and download_for.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from bridge.at.meaning import EnumMeanings
from bridge.model import ByteRange, Method
from bridge.neoway.params import ParamError, in_enum, parse_int

DEFAULT_POST_MIME = "application/x-www-form-urlencoded"  # when <type> is left out, as an HTML form posts


@dataclass(frozen=True)
class Action:
    method: Method
    data_length: Optional[int] = None        # bytes to read after '>' (POST, raw request)
    byte_range: Optional[ByteRange] = None   # ranged GET
    content_type: Optional[str] = None       # POST
    raw: bool = False                        # the data is the whole request (mode 99)


@dataclass(frozen=True)
class FileAction:
    mode: str                                # <mode> as given
    method: Method                           # what it means: GET into a file, or POST of one
    length: int                              # bytes to GET (<size>) or to POST (<length>)
    name: Optional[str]                      # the module file (None: the default download file)
    byte_range: Optional[ByteRange] = None
    content_type: Optional[str] = None


def read_action(mode: Optional[str], first: Optional[str], second: Optional[str], max_len: int,
                post_types: dict[str, str], modes: EnumMeanings) -> Action:
    """AT+HTTPACTION=<mode>[,<length>[,<type>]] / =<mode>[,<offset>,<size>]; raises ParamError.
    `modes`: what enum action_mode's values mean."""
    meaning = modes.meaning(mode or "")
    if meaning is Method.GET and first is None and second is None:
        return Action(Method.GET)
    if meaning is Method.GET and first is not None and second is not None:
        return Action(Method.GET, byte_range=_span(first, second))
    if meaning is Method.HEAD and first is None:
        return Action(Method.HEAD)
    if meaning is Method.POST and first is not None:
        default = next((code for code, mime in post_types.items() if mime == DEFAULT_POST_MIME), None)
        mime = post_types[in_enum(second or default, post_types, "type")]
        return Action(Method.POST, parse_int(first, 1, max_len), content_type=mime)
    if meaning == "raw_request" and first is not None and second is None:
        return Action(Method.GET, parse_int(first, 1, max_len), raw=True)  # the method comes with the data
    raise ParamError(f"AT+HTTPACTION={mode}: wrong parameters for this mode")


def read_file_action(mode: Optional[str], first: Optional[str], second: Optional[str], name: Optional[str],
                     size_max: int, post_types: dict[str, str], modes: EnumMeanings) -> FileAction:
    """AT+FILEHTTPACTION=0,<offset>,<size>[,<file>] / =1,<length>,<type>,<file>; raises ParamError.
    `modes`: what enum file_mode's values mean."""
    assert first is not None and second is not None and mode is not None
    if modes.meaning(mode) is Method.GET:
        return FileAction(mode, Method.GET, parse_int(second, 1, size_max), name or None, byte_range=_span(first, second))
    if not name:
        raise ParamError("a POST needs <dir&filename>")
    mime = post_types[in_enum(second, post_types, "type")]
    return FileAction(mode, Method.POST, parse_int(first, 1, size_max), name, content_type=mime)


def _span(offset: str, size: str) -> ByteRange:
    start = parse_int(offset)
    return ByteRange(start, start + parse_int(size, 1) - 1)
