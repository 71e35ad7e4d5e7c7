"""Command families of a dialect: Neoway keeps one HTTP and one HTTPS context, with the same
commands, lines and reports for each under other names (AT+HTTPPARA / AT+HTTPSPARA, +HTTPRECV /
+HTTPSRECV).  `families:` in the YAML pairs each HTTP member with its HTTPS twin
(dialects/SCHEMA.md); this is the one place that answers "what is X called in the other family".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from bridge.at.meaning import Checker

_PARTS = {"commands": "commands", "lines": "responses/urcs", "tokens": "errors"}  # part -> where its names are declared


@dataclass(frozen=True)
class Families:
    commands: dict[str, str] = field(default_factory=dict)         # HTTP command -> HTTPS command
    lines: dict[str, Optional[str]] = field(default_factory=dict)  # HTTP prefix -> HTTPS prefix (None: HTTP only)
    tokens: dict[str, str] = field(default_factory=dict)           # HTTP report -> HTTPS report, where the text differs

    def __bool__(self) -> bool:
        return bool(self.commands or self.lines)

    def command(self, name: str, secure: bool) -> str:
        """The HTTP command `name` of the family (`secure`: the HTTPS one)."""
        return self.commands[name] if secure else name

    def secure_of(self, name: str) -> Optional[bool]:
        """Which family command `name` belongs to (True: HTTPS), None: to none."""
        if name in self.commands:
            return False
        return True if name in self._plain_commands else None

    def plain_command(self, name: str) -> str:
        """The HTTP twin of an HTTPS command (an HTTP command: itself)."""
        return self._plain_commands.get(name, name)

    def line(self, prefix: str, secure: bool) -> Optional[str]:
        """The HTTP line `prefix` of the family; None: the HTTPS family has no such line."""
        return self.lines.get(prefix, prefix) if secure else prefix

    def plain_line(self, prefix: str) -> str:
        """The HTTP twin of an HTTPS line prefix (any other prefix: itself)."""
        return self._plain_lines.get(prefix, prefix)

    def token(self, token: str, secure: bool) -> Optional[str]:
        """A report line of either family ("+HTTPCLOSED: HTTP Link Closed", "+HTTPGETRPT: 11") as
        the family writes it: the declared twin, else the twin prefix with the same fields; None
        when the HTTPS family has no such line.  Lines of neither family are the same in both."""
        token = self.plain_token(token)
        if not secure:
            return token
        if token in self.tokens:
            return self.tokens[token]
        prefix, colon, rest = token.partition(":")
        if prefix not in self.lines:
            return token
        twin = self.lines[prefix]
        return None if twin is None else twin + colon + rest

    def plain_token(self, token: str) -> str:
        """The HTTP twin of a report line (an HTTP or family-less one: itself)."""
        for plain, secure in self.tokens.items():
            if secure == token:
                return plain
        prefix, colon, rest = token.partition(":")
        return self.plain_line(prefix) + colon + rest

    @property
    def _plain_commands(self) -> dict[str, str]:
        return {secure: plain for plain, secure in self.commands.items()}

    @property
    def _plain_lines(self) -> dict[str, str]:
        return {secure: plain for plain, secure in self.lines.items() if secure is not None}


def parse_families(ctx: "Checker", node: Any, path: str, declared: dict[str, Any]) -> Families:
    """`families:` checked against what the file declares (`declared`: part -> its names)."""
    node = ctx.mapping(node, path, required=False)
    unknown = set(node) - set(_PARTS)
    if unknown:
        raise ctx.fail(path, f"unknown keys {sorted(unknown)}; use {', '.join(_PARTS)}")
    tables: dict[str, dict[str, Optional[str]]] = {}
    for part, under in _PARTS.items():
        table = ctx.mapping(node.get(part), f"{path}.{part}", required=False)
        for plain, secure in table.items():
            where = f"{path}.{part}.{plain}"
            if secure is None and part == "lines":
                continue  # an HTTP-only line
            ctx.text(secure, where)
            for name in (plain, secure) if part != "tokens" else (plain,):  # an HTTPS report has its twin's kind
                if name not in declared[part]:
                    raise ctx.fail(where, f"{name!r} is not declared (under {under})")
        tables[part] = dict(table)
    for plain, secure in tables["tokens"].items():
        twin = tables["lines"].get(plain.partition(":")[0])
        if twin is None or str(secure).partition(":")[0] != twin:
            raise ctx.fail(f"{path}.tokens.{plain}", f"the twin {secure!r} must start with the twin of its line under {path}.lines")
    return Families(commands={k: str(v) for k, v in tables["commands"].items()}, lines=tables["lines"],
                    tokens={k: str(v) for k, v in tables["tokens"].items()})
