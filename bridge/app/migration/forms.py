"""What a firmware sends and consumes, as distinct forms: from a capture's bytes or its C sources.

A command form is its name plus the parameters whose values the dialect file enumerates (a method
code, a setting name, a mode); every other parameter becomes `<name>`.  So `AT+HTTPACTION=99,22`
and `AT+HTTPACTION=99,140` are one form, `AT+HTTPACTION=0` another.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from bridge.at.dialect import COMMON, CommandSpec, Dialect, ParamSpec, load
from bridge.at.frames import Command, Final, Info, Param
from bridge.at import CommandFramer, ResponseFramer
from bridge.at.commands import parse_command

SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".h", ".hpp", ".ino", ".py")
# A C/C++/Python string literal that starts an AT command; adjacent literals are not joined.
_AT_LITERAL = re.compile(rb'"(AT[+$^#%*&A-Za-z][^"\\\n]{0,400}(?:\\.[^"\\\n]{0,400}){0,40})"')
# printf conversions: %d, %s, %.*s, %lu, %02X, %%
_PRINTF = re.compile(r"%(?:%|[-+ #0]{0,4}(?:\d{1,3}|\*)?(?:\.(?:\d{1,3}|\*))?(?:hh|h|ll|l|z|j|t)?[diouxXcsfeEgGp])")


@dataclass
class Seen:
    """One distinct form, how often it was seen and where first."""

    kind: str  # "command" | "urc" | "error"
    form: str
    name: str  # the dialect name a compatibility row covers: HTTPPARA, MHTTPCFG "ssl", +MHTTPURC "err"
    literals: tuple[Optional[str], ...] = ()  # per parameter: its enumerated value, or None
    count: int = 0
    first_at: str = ""


class Inventory:
    """Distinct forms in first-seen order."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], Seen] = {}

    def add(self, seen: Seen, where: str) -> None:
        entry = self._seen.setdefault((seen.kind, seen.form), seen)
        if entry.count == 0:
            entry.first_at = where
        entry.count += 1

    def __iter__(self) -> Iterator[Seen]:
        return iter(self._seen.values())


def command_form(command: Command, dialect: Dialect) -> Seen:
    spec = dialect.command(command.name) or load(COMMON).command(command.name)
    declared = _declared(spec, command)
    setting = command.params[0].text if spec and spec.settings and command.params else None
    parts, literals = [], []
    for index, param in enumerate(command.params):
        pspec = declared[index] if index < len(declared) else None
        literal = _literal(param, pspec, index == 0 and setting is not None)
        literals.append(literal)
        shown = literal if literal is not None else f"<{pspec.name if pspec else f'p{index + 1}'}>"
        parts.append(f'"{shown}"' if literal is not None and param.quoted else shown)
    if _basic(command.name):  # AT, ATE0, ATI (common.yaml names the bare "AT" so)
        return Seen("command", f"AT{command.name}{''.join(parts)}", command.name or "AT", tuple(literals))
    suffix = {"read": "?", "test": "=?", "execute": ""}.get(command.form, "=" + ",".join(parts))
    name = f'{command.name} "{setting}"' if setting and setting in spec.settings else command.name
    return Seen("command", f"AT{_prefix(command.name)}{command.name}{suffix}", name, tuple(literals))


def _declared(spec: Optional[CommandSpec], command: Command) -> tuple[ParamSpec, ...]:
    form = spec.forms.get(command.form) if spec else None
    if form is None:
        return ()
    if spec.settings and command.params and command.params[0].text in spec.settings:
        return (form.params[0],) + spec.settings[command.params[0].text]
    return form.params


def _literal(param: Param, spec: Optional[ParamSpec], is_setting: bool) -> Optional[str]:
    if _PRINTF.search(param.text):
        return None
    if is_setting or (spec is not None and spec.values and param.text in spec.values):
        return param.text
    return None


def _basic(name: str) -> bool:
    return len(name) <= 1 or not (name[:1].isalpha() or name[:1] in "$^#%*")


def _prefix(name: str) -> str:
    return "+" if name[:1].isalpha() else ""


def response_forms(frame: object) -> Optional[Seen]:
    """A URC or an error result the firmware had to handle; None for everything else."""
    if isinstance(frame, Info) and frame.unsolicited:
        name = f'{frame.name} "{frame.variant}"' if frame.variant else frame.name
        return Seen("urc", name, name)
    if isinstance(frame, Final) and frame.result != "OK":
        shown = "ERROR" if frame.result == "ERROR" else f"+CME ERROR: {frame.code if frame.code is not None else frame.text}"
        return Seen("error", shown, "+CME ERROR" if frame.result == "CME" else "ERROR")
    return None


def from_host_bytes(chunks: Iterable[tuple[str, bytes]], dialect: Dialect, inventory: Inventory) -> None:
    """The commands in what the firmware wrote; each chunk comes with where it was captured."""
    framer = CommandFramer(dialect)
    for where, data in chunks:
        for frame in framer.feed(data):
            if isinstance(frame, Command):
                inventory.add(command_form(frame, dialect), where)


def from_module_bytes(chunks: Iterable[tuple[str, bytes]], dialect: Dialect, inventory: Inventory) -> None:
    """The URCs and errors in what the module wrote to the firmware."""
    framer = ResponseFramer(dialect)
    for where, data in chunks:
        for frame in framer.feed(data):
            seen = response_forms(frame)
            if seen is not None:
                inventory.add(seen, where)


def from_sources(root: Path, dialect: Dialect, inventory: Inventory) -> None:
    """AT command templates in C/C++/Python string literals under `root` (file or folder)."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES)
    for path in files:
        text = path.read_bytes()
        for match in _AT_LITERAL.finditer(text):
            line = text.count(b"\n", 0, match.start()) + 1
            template = _unescape(match.group(1).decode("latin-1"))
            try:
                command = parse_command(template, dialect, template.encode("latin-1"))
            except ValueError:
                continue
            inventory.add(command_form(command, dialect), f"{path.name}:{line}")


def _unescape(literal: str) -> str:
    """The command line a C literal holds, without its line end (\\r, \\n)."""
    return re.sub(r"\\[rn]", "", literal).replace('\\"', '"').strip()
