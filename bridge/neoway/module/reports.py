"""Which line reports what, read from neoway.yaml (errors.report, errors.sync/async, families).

The YAML's report table speaks for the HTTP family; the HTTPS family writes each line as its twin
under `families` (+HTTPSCLOSED, +HTTPSCLOSE, +HTTPSGETRPT, +HTTPSRECV); lines it lacks
(+HTTPACTION:, +HTTPSEND:) fall back to the final result the sync table gives -- as the YAML's
report comment prescribes for HTTPSACTION.  The lookups are the one error table's
(bridge/at/errors.py).
"""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import Dialect
from bridge.at.errors import ErrorTable
from bridge.model import ErrorKind

_FILE_STAT = "+FILEHTTPSTAT"


class Reports:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.errors = ErrorTable(dialect)
        self._file_stat = dialect.means("file_stat")
        self._urcs: dict[tuple[ErrorKind, bool], tuple[str, bool]] = {}

    # ---- names ---------------------------------------------------------------------

    def name(self, http_name: str, secure: bool) -> str:
        """A URC prefix of the HTTP family ("+HTTPRECV") for the channel's family."""
        name = self.dialect.families.line(http_name, secure)
        assert name is not None, f"neoway.yaml: families.lines gives {http_name} no HTTPS twin"
        return name

    def variant(self, token: str, secure: bool) -> Optional[str]:
        """`token` for the channel's family; None if that family has no such line."""
        return self.dialect.families.token(token, secure)

    # ---- error reports ---------------------------------------------------------------

    def sync(self, kind: ErrorKind) -> str:
        """The final result for `kind` (ERROR for everything but FILEHTTP codes)."""
        return self.errors.sync_token(kind)

    def cme(self, kind: ErrorKind) -> str:
        """FILEHTTP(S)ACTION: the first +CME code declared for `kind`, else the sync token."""
        return self.errors.cme_code(kind)

    def urc(self, kind: ErrorKind, secure: bool) -> tuple[str, bool]:
        """(line, is_final): the line reporting `kind` after (or in place of) OK."""
        found = self._urcs.get((kind, secure))
        if found is None:
            found = self._urcs[(kind, secure)] = self._urc(kind, secure)
        return found

    def _urc(self, kind: ErrorKind, secure: bool) -> tuple[str, bool]:
        token = self.errors.report_line(kind, secure)
        if token is None:
            return self.sync(kind), True
        return token, False

    def instead_of_ok(self, kind: ErrorKind, secure: bool) -> str:
        """What HTTPACTION answers in place of OK (no socket, send failed, data too late):
        the async line for HTTP (+HTTPACTION: SOCKET ID OPEN FAILED, ...); for HTTPSACTION,
        whose manual knows only OK / ERROR, the sync token."""
        return self.sync(kind) if secure else self.urc(kind, False)[0]

    def file_stat(self, mode: str, kind: ErrorKind) -> str:
        """+FILEHTTPSTAT for a failed transfer of `mode`.  A declared line of this kind for
        this mode ("<mode>,<failed>") or with an <errcode> ("0,<errcode>") wins; else "<mode>,<failed>"."""
        failed = self._file_stat.token("failed")
        for token, spec in self.dialect.async_errors.items():
            prefix, _, text = token.partition(":")
            fields = [field.strip() for field in text.split(",")]
            if prefix != _FILE_STAT or spec.kind is not kind or len(fields) != 2:
                continue
            if fields == [mode, failed] or fields[1] not in self._file_stat:
                return token
        return f"{_FILE_STAT}: {mode},{failed}"
