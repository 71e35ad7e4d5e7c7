"""Which line reports what, read from neoway.yaml (errors.report, errors.sync/async, urcs).

The YAML's report table speaks for the HTTP family.  The HTTPS family has the same lines with
"HTTPS" in them where the dialect declares such a prefix (+HTTPSCLOSED, +HTTPSCLOSE,
+HTTPSGETRPT, +HTTPSRECV); lines it lacks (+HTTPACTION:, +HTTPSEND:) fall back to the final
result the sync table gives -- as the YAML's report comment prescribes for HTTPSACTION.
"""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import Dialect
from bridge.model import ErrorKind

_HTTP, _HTTPS = "+HTTP", "+HTTPS"
_FILE_STAT = "+FILEHTTPSTAT"
FILE_FAILED = "0"  # <stat> "download/upload failed" (enum file_stat)


class Reports:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        names = set(dialect.frames)
        self._to_https = {
            name: _HTTPS + name[len(_HTTP):]
            for name in names
            if name.startswith(_HTTP) and _HTTPS + name[len(_HTTP):] in names
        }
        self._to_http = {https: http for http, https in self._to_https.items()}

    # ---- names ---------------------------------------------------------------------

    def name(self, http_name: str, secure: bool) -> str:
        """A URC prefix of the HTTP family ("+HTTPRECV") for the channel's family."""
        return self._to_https[http_name] if secure else http_name

    def variant(self, token: str, secure: bool) -> Optional[str]:
        """`token` for the channel's family; None if that family has no such line."""
        prefix, colon, text = token.partition(":")
        if not secure:
            if prefix in self._to_http:
                return self._to_http[prefix] + colon + text.replace("HTTPS Link", "HTTP Link")
            return token
        if prefix in self._to_https:
            return self._to_https[prefix] + colon + text.replace("HTTP Link", "HTTPS Link")
        if prefix in self._to_http or not prefix.startswith(_HTTP):
            return token
        return None  # an HTTP-only line (+HTTPACTION, +HTTPSEND)

    # ---- error reports ---------------------------------------------------------------

    def sync(self, kind: ErrorKind) -> str:
        """The final result for `kind` (ERROR for everything but FILEHTTP codes)."""
        return self.dialect.report_token("sync", kind)

    def cme(self, kind: ErrorKind) -> str:
        """FILEHTTP(S)ACTION: the first +CME code declared for `kind`, else the sync token."""
        for token, spec in self.dialect.sync_errors.items():
            if token.isdigit() and spec.kind is kind:
                return token
        return self.sync(kind)

    def urc(self, kind: ErrorKind, secure: bool) -> tuple[str, bool]:
        """(line, is_final): the line reporting `kind` after (or in place of) OK."""
        token = self.variant(self.dialect.report_token("async", kind), secure)
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
        this mode ("<mode>,0") or with an <errcode> ("0,<errcode>") wins; else "<mode>,0"."""
        for token, spec in self.dialect.async_errors.items():
            prefix, _, text = token.partition(":")
            fields = [field.strip() for field in text.split(",")]
            if prefix != _FILE_STAT or spec.kind is not kind or len(fields) != 2:
                continue
            if fields == [mode, FILE_FAILED] or fields[1] not in (FILE_FAILED, "1"):
                return token
        return f"{_FILE_STAT}: {mode},{FILE_FAILED}"
