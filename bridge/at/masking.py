"""Decoded frames with their credentials masked, for `atbridge decode` (raw captures and traces):
the frame-by-frame counterpart of bridge/secrets.py's StreamMasker, with its one list."""
from __future__ import annotations

import dataclasses

from bridge.at.frames import Command, DataInput, Echo, Frame, FramingError, HttpBody, HttpHead, Info, Line, Param
from bridge.secrets import MASK, digest, is_secret_header, mask_line, mask_text, secret_param

_KEY_WRITES = ("MSSLCERTWR", "MSSLKEYWR")  # OneMO SSL manual 3.2 / 3.3: their data is a certificate or key


class FrameMasker:
    """Decoded frames with every credential masked, as bridge/secrets.py's StreamMasker masks the bytes they
    came from: the raw text of each frame, command parameters (secret headers, URL passwords,
    token query parameters, the SECRET_PARAMS password), answer fields, header blocks and data.
    The data typed after a certificate or key write keeps only its length and hash.  One masker
    per direction: it remembers the command whose data follows."""

    def __init__(self) -> None:
        self._key_write = False

    def mask(self, frame: Frame) -> Frame:
        if isinstance(frame, Command):
            self._key_write = frame.name in _KEY_WRITES
            return dataclasses.replace(frame, raw=mask_line(frame.raw), params=_masked_params(frame.name, frame.params))
        if isinstance(frame, DataInput):
            secret, self._key_write = self._key_write, False
            return dataclasses.replace(frame, data=digest(frame.data) if secret and frame.data else mask_line(frame.data))
        if isinstance(frame, Info):
            return dataclasses.replace(frame, raw=mask_line(frame.raw), fields=_masked_fields(frame.name, frame.fields),
                                       payload=None if frame.payload is None else mask_line(frame.payload))
        if isinstance(frame, HttpHead):
            headers = tuple((n, MASK.decode() if is_secret_header(n) else mask_text(v)) for n, v in frame.headers)
            return dataclasses.replace(frame, headers=headers, raw=mask_line(frame.raw))
        if isinstance(frame, HttpBody):
            return dataclasses.replace(frame, data=mask_line(frame.data))
        if isinstance(frame, (Echo, Line)):
            return dataclasses.replace(frame, raw=mask_line(frame.raw))
        if isinstance(frame, FramingError):
            return dataclasses.replace(frame, reason=mask_text(frame.reason), raw=mask_line(frame.raw))
        return frame  # Final, Prompt, HttpEnd: nothing secret


def _masked_params(name: str, params: tuple[Param, ...]) -> tuple[Param, ...]:
    where = secret_param(name)
    out = []
    for index, param in enumerate(params):
        secret = where is not None and index >= where[0] and (
            where[1] is None or params[where[0] - 1].text.strip().upper() == where[1])
        out.append(Param(MASK.decode(), param.quoted) if secret else Param(mask_text(param.text), param.quoted))
    return tuple(out)


def _masked_fields(name: str, fields: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    where = secret_param(name)
    return tuple((key, MASK.decode() if where is not None and index >= where[0] else mask_text(value))
                 for index, (key, value) in enumerate(fields))
