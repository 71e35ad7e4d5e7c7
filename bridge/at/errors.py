"""The one error table: a dialect's error tokens <-> the model's ErrorKind, for both roles.

Read from `errors:` of dialects/*.yaml.  A host side asks what a module's answer means: a final
result (ERROR, +CME ERROR: <code>, +CME ERROR: <text>), a report line ("+HTTPACTION: SOCKET ID
OPEN FAILED", "+FILEHTTPSTAT: 0,1413"), an err code.  A module side asks what to print for a
kind: the final result, a +CME code, a report line (in the command's family, see families.py).

Report tokens that name a line match on whole fields, as neoway.yaml says: "+HTTPGETRPT: 11"
matches "+HTTPGETRPT: 11,404", not "+HTTPGETRPT: 110"; the token with the most fields wins, and
an HTTPS line the YAML lists only in its HTTP form ("+HTTPSSETUP: FAIL") is looked up as that.
"""
from __future__ import annotations

import re
from typing import Optional

from bridge.at.dialect import Dialect
from bridge.at.frames import Final, Info
from bridge.model import ErrorKind

_CODE = re.compile(r"[0-9]{1,10}")  # ASCII digits only: str.isdigit() takes "²"


def _fields(text: str) -> tuple[str, ...]:
    return tuple(part.strip().upper() for part in text.split(","))


class ErrorTable:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.families = dialect.families
        self._lines: dict[str, list[tuple[tuple[str, ...], ErrorKind]]] = {}
        tokens = {token: spec.kind for table in (dialect.sync_errors, dialect.async_errors) for token, spec in table.items()}
        twins = {secure: tokens[plain] for plain, secure in self.families.tokens.items() if plain in tokens}
        for token, kind in {**twins, **tokens}.items():  # an HTTPS report has its HTTP twin's kind
            prefix, colon, text = token.partition(":")
            if colon and prefix.startswith("+"):
                self._lines.setdefault(prefix.strip(), []).append((_fields(text), kind))
        for entries in self._lines.values():
            entries.sort(key=lambda entry: -len(entry[0]))

    # ---- what a module's answer means (host role) ---------------------------------------------

    def final_kind(self, final: Final) -> ErrorKind:
        """The kind of a final result that is no OK: ERROR, a +CME code, or a +CME text (the
        YAML's text of a sync error, exactly or as its beginning)."""
        if final.result == "CME" and final.code is not None:
            return self.dialect.error_kind("sync", str(final.code))
        if final.result == "CME":
            text = (final.text or "").strip().lower()
            if not text:
                return ErrorKind.UNKNOWN
            specs = self.dialect.sync_errors.values()
            exact = (s.kind for s in specs if s.text.lower() == text)
            return next(exact, next((s.kind for s in specs if s.text.lower().startswith(text)), ErrorKind.UNKNOWN))
        return self.dialect.error_kind("sync", final.result)

    def line_kind(self, info: Info) -> Optional[ErrorKind]:
        """The kind of a report line, or None if the YAML lists no such line."""
        fields = _fields(info.raw.decode("latin-1").partition(":")[2])
        for name in dict.fromkeys((info.name, self.families.plain_line(info.name))):
            for token_fields, kind in self._lines.get(name, ()):
                if fields[:len(token_fields)] == token_fields:
                    return kind
        return None

    def command_error_kind(self, command: str) -> ErrorKind:
        """The kind of a bare ERROR to `command` (either family): its `error_means` token's kind,
        else the kind of ERROR."""
        spec = self.dialect.command(self.families.plain_command(command))
        if spec is not None and spec.error_means is not None:
            return self.token_kind(spec.error_means)
        return self.dialect.error_kind("sync", self.dialect.final["error"])

    def token_kind(self, token: str) -> ErrorKind:
        """The kind of a token of errors.sync or errors.async ("+HTTPSETUP: FAIL")."""
        spec = self.dialect.sync_errors.get(token) or self.dialect.async_errors.get(token)
        return spec.kind if spec else ErrorKind.UNKNOWN

    def first_kind(self, prefix: str) -> Optional[ErrorKind]:
        """The kind of the first report the YAML lists for line `prefix` ("+HTTPCLOSED"), or None."""
        prefix = self.families.plain_line(prefix) + ":"
        return next((s.kind for t, s in self.dialect.async_errors.items() if t.startswith(prefix)), None)

    def code_kind(self, code: str) -> Optional[ErrorKind]:
        """The kind of a numeric code of errors.sync (+FILEHTTPSTAT's <errcode>), or None."""
        spec = self.dialect.sync_errors.get(code.strip())
        return spec.kind if spec and _CODE.fullmatch(code.strip()) else None

    def async_kind(self, code: str) -> ErrorKind:
        """The kind of an errors.async code (a OneMO "err" URC's <error_code>)."""
        return self.dialect.error_kind("async", code.strip())

    # ---- what to print for a kind (module role) ---------------------------------------------------

    def sync_token(self, kind: ErrorKind) -> str:
        """The final result for `kind` (errors.report.sync)."""
        return self.dialect.report_token("sync", kind)

    def cme_code(self, kind: ErrorKind) -> str:
        """The first numeric (+CME) code errors.sync declares for `kind`, else the sync token."""
        for token, spec in self.dialect.sync_errors.items():
            if _CODE.fullmatch(token) and spec.kind is kind:
                return token
        return self.sync_token(kind)

    def report_line(self, kind: ErrorKind, secure: bool = False) -> Optional[str]:
        """The line reporting `kind` after (or in place of) OK, as the command's family writes it
        (errors.report.async); None when that family has no such line."""
        return self.families.token(self.dialect.report_token("async", kind), secure)
