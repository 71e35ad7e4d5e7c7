"""Which error kind a Neoway module's answer stands for, read from dialects/neoway.yaml.

Final results (ERROR, +CME ERROR: <n>, +CME ERROR: <text>) are looked up in errors.sync; report
lines ("+HTTPACTION: SOCKET ID OPEN FAILED", "+FILEHTTPSTAT: 0,1413", "+HTTPSETUP: FAIL") in the
tokens of errors.async and errors.sync that name a prefix.  A token matches on whole fields, as
the YAML says: "+HTTPGETRPT: 11" matches "+HTTPGETRPT: 11,404"; the token with the most fields
wins.  An HTTPS line that the YAML lists only in its HTTP form ("+HTTPSSETUP: FAIL") is looked
up as that form.
"""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import Dialect
from bridge.at.frames import Final, Info
from bridge.model import ErrorKind

_HTTPS, _HTTP = "+HTTPS", "+HTTP"


class Fail(Exception):
    """Ends a request with Failure(kind)."""

    def __init__(self, kind: ErrorKind, detail: str = "") -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def _fields(text: str) -> tuple[str, ...]:
    return tuple(part.strip().upper() for part in text.split(","))


class ErrorTable:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._lines: dict[str, list[tuple[tuple[str, ...], ErrorKind]]] = {}
        for table in (dialect.sync_errors, dialect.async_errors):
            for token, spec in table.items():
                prefix, colon, text = token.partition(":")
                if colon and prefix.startswith("+"):
                    self._lines.setdefault(prefix.strip(), []).append((_fields(text), spec.kind))
        for entries in self._lines.values():
            entries.sort(key=lambda entry: -len(entry[0]))

    def line_kind(self, info: Info) -> Optional[ErrorKind]:
        """The kind of a report line, or None if the YAML lists no such line."""
        text = info.raw.decode("latin-1").partition(":")[2]
        fields = _fields(text)
        for name in (info.name, _HTTP + info.name[len(_HTTPS):] if info.name.startswith(_HTTPS) else None):
            for token_fields, kind in self._lines.get(name or "", ()):
                if fields[:len(token_fields)] == token_fields:
                    return kind
        return None

    def token_kind(self, token: str) -> ErrorKind:
        """The kind of a token of errors.sync or errors.async ("+HTTPSETUP: FAIL")."""
        spec = self.dialect.sync_errors.get(token) or self.dialect.async_errors.get(token)
        return spec.kind if spec else ErrorKind.UNKNOWN

    def final_kind(self, final: Final) -> ErrorKind:
        """The kind of a final result that is no OK."""
        if final.result == "CME" and final.code is not None:
            return self.dialect.error_kind("sync", str(final.code))
        if final.result == "CME":
            text = (final.text or "").strip().lower()
            matches = (s.kind for s in self.dialect.sync_errors.values() if text and s.text.lower().startswith(text))
            return next(matches, ErrorKind.UNKNOWN)
        return self.dialect.error_kind("sync", final.result)

    def code_kind(self, code: str) -> Optional[ErrorKind]:
        """The kind of an Appendix A code (+FILEHTTPSTAT's <errcode>), or None."""
        spec = self.dialect.sync_errors.get(code.strip())
        return spec.kind if spec and code.strip().isdigit() else None
