"""Credentials kept out of traces and decoded output: the one list of secret header names, and
masking of a byte stream line by line.

- :func:`is_secret_header` -- is a header name a credential (Authorization, Cookie, ``*-token``...)?
- :func:`mask_line` -- one complete line (or any bytes) with every credential replaced by ``***``:
  secret header values (to the end of the line: Digest values hold quotes), the same inside
  HEX-encoded data (OneMO input format 1), passwords in URL userinfo, query parameters named like
  tokens or keys, the password of the data-link commands (SECRET_PARAMS: AT+CGAUTH, AT+XGAUTH,
  AT+NETAPN, AT+MIPCALL, AT$MYNETCON, and the read answers that repeat it), and PEM blocks
  (certificates, private keys: only their length and a hash stay).
- :class:`StreamMasker` -- one direction of a byte stream: it masks whole lines however the stream
  was cut into reads, and replaces the body of a certificate or key write (AT+MSSLCERTWR /
  AT+MSSLKEYWR data mode) with its length and hash.
(bridge/at/masking.py masks decoded frames with these, for `atbridge decode`.)

Every regular expression here is linear on any input: no nested quantifiers.
"""
from __future__ import annotations

import hashlib
import re
from typing import Optional


MASK = b"***"

# The one list: exact names, and patterns every name is also checked against (lower case).
SECRET_HEADER_NAMES = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "api-key", "apikey", "x-api-key",
    "private-token", "x-amz-security-token", "token", "x-auth-token", "x-csrf-token", "password",
})
SECRET_NAME_PATTERN = r"[\w-]*-token|[\w-]*-key|[\w-]*secret[\w-]*"

# The one list of commands whose parameters carry a data-link password: command (or answer)
# name -> (position of the password, the value the parameter before it must have, if any).  The
# password is each command's last parameter; from it to the end of the line is masked.  User names
# stay readable: the manuals call them user names, the password the credential.
SECRET_PARAMS: dict[str, tuple[int, Optional[str]]] = {
    "+CGAUTH": (3, None),        # 27.007 10.1.31 AT+CGAUTH=<cid>,<auth_prot>,<userid>,<password> (OneMO 4.13)
    "+XGAUTH": (3, None),        # N58 4.21 AT+XGAUTH=<cid>,<auth>,<name>,<pwd>
    "+NETAPN": (2, None),        # N58 6.1 AT+NETAPN=<apn>,<username>,<password>; its read answer repeats them
    "+MIPCALL": (3, None),       # AT+MIPCALL=1,<apn>,<user>,<password> (the older OneMO/Fibocom form)
    "$MYNETCON": (2, "USERPWD"),  # N720 AT$MYNETCON=<cid>,"USERPWD","<user>,<pwd>": both in one value
}

_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_HEADER_NAMES, key=len, reverse=True))
_NAME_RE = re.compile(rf"(?i)(?:{_NAMES}|{SECRET_NAME_PATTERN})")
_HEADER = re.compile(rb"(?i)(?<![\w-])((?:" + _NAMES.encode() + rb"|" + SECRET_NAME_PATTERN.encode()
                     + rb")[ \t]*:[ \t]*)[^\r\n]+")
_USERINFO = re.compile(rb"(?i)(\b[a-z][a-z0-9+.-]{0,15}://[^/@\s:\"]{0,256}:)[^@/\s\"]{1,256}(?=@)")
_QUERY = re.compile(rb"(?i)([?&;][\w.-]{0,64}(?:token|key|secret|passw|pwd|signature|auth)[\w.-]{0,64}=)[^&#\s\"]+")
_HEX_RUN = re.compile(rb"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){8,}(?![0-9A-Fa-f])")
_PEM = re.compile(rb"-----BEGIN [A-Z0-9 ]{1,64}-----[^-]{0,65536}-----END [A-Z0-9 ]{1,64}-----")
_PEM_BEGIN = b"-----BEGIN "
_PEM_END = re.compile(rb"-----END [A-Z0-9 ]{1,64}-----")
# A certificate or key write whose data follows the ">" prompt: the data is <length> bytes.
_CERT_WRITE = re.compile(rb'(?i)AT\+MSSL(?:CERT|KEY)WR="[^"\r\n]{0,64}",\d{1,6},(\d{1,6})[ \t]*\r')

def _secret_param_pattern(name: str, position: int, before: Optional[str]) -> "re.Pattern[bytes]":
    """`name=` or `name:` (spaced as V.250 allows) and the parameters before the password (counted
    by every comma, also one inside quotes: a comma in a user name masks more, never less), then
    the rest of the line."""
    lead = rb"(?:[^,\r\n]*,){%d}" % (position - 1)
    lead += rb"[^,\r\n]*," if before is None else rb'[ \t]*"?' + re.escape(before.encode()) + rb'"?[ \t]*,'
    spaced = rb"[ \t]*".join(re.escape(bytes([c])) for c in name.encode())  # V.250: spaces are ignored
    return re.compile(rb"(?i)(" + spaced + rb"[ \t]*(?:=|:[ \t]*)" + lead + rb")[^\r\n]+")


_SECRET_PARAMS = [_secret_param_pattern(name, *where) for name, where in SECRET_PARAMS.items()]

HOLD_MAX = 16384  # bytes of an unterminated line held back for masking before it is written anyway
_LINE_END = re.compile(rb"[\r\n]")


def is_secret_header(name: str) -> bool:
    """True when header `name` carries a credential (case-insensitive)."""
    return _NAME_RE.fullmatch(name.strip()) is not None


def digest(data: bytes) -> bytes:
    """What replaces a secret body: its length and a short hash."""
    return b"<%d bytes sha256:%s>" % (len(data), hashlib.sha256(data).hexdigest()[:16].encode())


def _unhex_masked(match: "re.Match[bytes]") -> bytes:
    run = match.group(0)
    decoded = bytes.fromhex(run.decode("ascii"))
    masked = _mask_plain(decoded)
    if masked == decoded:
        return run
    text = masked.hex().encode()
    return text.upper() if run.upper() == run else text


def _mask_plain(data: bytes) -> bytes:
    data = _PEM.sub(lambda m: digest(m.group(0)), data)
    data = _HEADER.sub(lambda m: m.group(1) + MASK, data)
    for pattern in _SECRET_PARAMS:
        data = pattern.sub(lambda m: m.group(1) + MASK, data)
    data = _USERINFO.sub(lambda m: m.group(1) + MASK, data)
    return _QUERY.sub(lambda m: m.group(1) + MASK, data)


def mask_line(data: bytes) -> bytes:
    """`data` with every credential it holds masked (see the module's doc).  Meant for whole lines:
    a header cut in two is only masked by :class:`StreamMasker`."""
    data = _mask_plain(data)
    return _HEX_RUN.sub(_unhex_masked, data) if len(data) >= 16 else data


def mask_text(text: str) -> str:
    """:func:`mask_line` for text (URLs, header values in model events)."""
    data = text.encode("utf-8", "surrogateescape")
    masked = mask_line(data)
    return text if masked == data else masked.decode("utf-8", "surrogateescape")


class StreamMasker:
    """One direction of a byte stream, masked whole line by whole line.

    :meth:`feed` returns what may be recorded now: every complete line, masked.  An unterminated
    line is held back until its line end arrives (or it grows past HOLD_MAX); a data prompt ("> ")
    is not held.  The data of a certificate or key write is replaced by its length and hash."""

    def __init__(self) -> None:
        self._held = b""
        self._secret_left = 0  # bytes of certificate/key data still to come
        self._secret = hashlib.sha256()
        self._secret_len = 0
        self._in_pem = False  # inside a multi-line PEM block
        self._line_secret = False  # the rest of the current line belongs to a masked value

    def feed(self, data: bytes) -> bytes:
        out = []
        data = self._held + data
        self._held = b""
        while data:
            if self._secret_left:
                data = self._take_secret(data, out)
                continue
            end = _last_line_end(data)
            if end < 0:
                if len(data) <= HOLD_MAX and not data.endswith(b"> "):
                    self._held = data
                    break
                out.append(self._lines(data, terminated=False))
                break
            lines, data = data[:end + 1], data[end + 1:]
            cert = self._cert_write_in(lines)
            if cert is not None:
                lines, data = lines[:cert[0]], lines[cert[0]:] + data
                out.append(self._lines(lines, terminated=True))
                self._secret_left = cert[1]
                continue
            out.append(self._lines(lines, terminated=True))
        return b"".join(out)

    @property
    def holding(self) -> bool:
        """Whether an unterminated line is held back."""
        return bool(self._held)

    def flush(self) -> bytes:
        """The held unterminated line, masked: at the end of a capture nothing is lost."""
        held, self._held = self._held, b""
        return self._lines(held, terminated=False) if held else b""

    def _cert_write_in(self, lines: bytes) -> Optional[tuple[int, int]]:
        """(end of the command, data length) of a data-mode certificate write in `lines`."""
        match = _CERT_WRITE.search(lines)
        if match is None or int(match.group(1)) == 0:
            return None
        return match.end(), int(match.group(1))

    def _take_secret(self, data: bytes, out: list[bytes]) -> bytes:
        """Swallow certificate data (skipping the module's prompt echo is not needed: the prompt
        comes in the other direction); emit its digest once complete."""
        piece = data[:self._secret_left]
        self._secret.update(piece)
        self._secret_len += len(piece)
        self._secret_left -= len(piece)
        if not self._secret_left:
            out.append(b"<%d bytes sha256:%s>" % (self._secret_len, self._secret.hexdigest()[:16].encode()))
            self._secret, self._secret_len = hashlib.sha256(), 0
        return data[len(piece):]

    def _lines(self, text: bytes, terminated: bool) -> bytes:
        if self._line_secret:  # the value went out masked already: drop up to its line end
            end = _first_line_end(text)
            if end < 0:
                return b""
            text, self._line_secret = text[end:], False
        text = self._pem(text)
        masked = mask_line(text)
        if not terminated and masked.endswith(MASK) and not text.endswith(MASK):
            self._line_secret = True  # a long secret value: its rest is dropped too
        return masked

    def _pem(self, text: bytes) -> bytes:
        """Multi-line PEM blocks: only their length and hash are kept."""
        if self._in_pem:
            end = _PEM_END.search(text)
            if end is None:
                self._secret.update(text)
                self._secret_len += len(text)
                return b""
            self._secret.update(text[:end.end()])
            self._secret_len += end.end()
            self._in_pem = False
            kept = b"<%d bytes sha256:%s>" % (self._secret_len, self._secret.hexdigest()[:16].encode())
            self._secret, self._secret_len = hashlib.sha256(), 0
            return kept + self._pem(text[end.end():])
        text = _PEM.sub(lambda m: digest(m.group(0)), text)
        begin = text.find(_PEM_BEGIN)
        if begin < 0:
            return text
        self._in_pem = True
        return text[:begin] + self._pem(text[begin:])


def _last_line_end(data: bytes) -> int:
    return max(data.rfind(b"\n"), data.rfind(b"\r"))


def _first_line_end(data: bytes) -> int:
    match = _LINE_END.search(data)
    return -1 if match is None else match.start()


def secret_param(name: str) -> Optional[tuple[int, Optional[str]]]:
    """SECRET_PARAMS' entry for a command or answer named `name` ("CGAUTH", "+NETAPN", "$MYNETCON")."""
    return SECRET_PARAMS.get(name) or SECRET_PARAMS.get("+" + name)


def mask_json(value: object) -> object:
    """A JSON value (a model event as a trace records it) with its credentials masked: a
    [name, value] pair of strings is a header, every other string is masked as text."""
    if isinstance(value, dict):
        return {key: mask_json(item) for key, item in value.items()}
    if isinstance(value, list):
        if len(value) == 2 and all(isinstance(item, str) for item in value):
            return [value[0], MASK.decode() if is_secret_header(value[0]) else mask_text(value[1])]
        return [mask_json(item) for item in value]
    return mask_text(value) if isinstance(value, str) else value
