"""The tables of dialects/onemo.yaml the OneMO host side needs, with the model's limits applied
(:class:`Limits`): method codes, the enums requests are written with, instance count, data-mode
sizes, SSL context ids, the MHTTPCFG "timeout" ranges and the TLS version names.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Optional

from bridge.at.dialect import Dialect, ModelProfile, ParamSpec
from bridge.at.meaning import EnumMeanings
from bridge.model import Method, Request


@dataclass(frozen=True)
class Limits:
    """Tables of dialects/onemo.yaml the host side needs, with the model's limits applied."""

    methods: dict[str, str]  # "GET" ... -> <method>
    codes: dict[str, EnumMeanings]  # the enums the requests are written with, by name
    instances: int
    header_max: int
    content_max: int
    content_total: int  # content collected before MHTTPREQUEST (Content-Length mode)
    cert_max: int
    ssl_ids: tuple[int, ...]
    timeout_specs: tuple[ParamSpec, ParamSpec, ParamSpec]
    ssl_versions: dict[str, str]

    @classmethod
    def read(cls, dialect: Dialect, profile: ModelProfile) -> "Limits":
        def data_max(name: str) -> int:
            rule = dialect.commands[name].forms["set"].data_mode
            return rule.max_len if rule else 4096

        def bounded(spec: ParamSpec) -> ParamSpec:
            limit = (profile.get("limits") or {}).get(spec.name)
            return dataclasses.replace(spec, range=tuple(limit)) if isinstance(limit, list) else spec

        timeout = tuple(bounded(p) for p in dialect.commands["MHTTPCFG"].settings["timeout"][1:4])
        ssl_spec = bounded(dialect.commands["MSSLCFG"].settings["auth"][0])
        low, high = ssl_spec.range or (0, 5)
        versions = {text.replace(" ", "").lower(): key for key, text in dialect.enums.get("ssl_version", {}).items()}
        return cls(
            methods={method.value: code for code, method in dialect.means("method").of_type(Method).items()},
            codes={name: dialect.means(name) for name in ("cert_verify", "dlfile_eof", "header_eof", "content_eof",
                                                           "ssl_enable", "chunked_mode")},
            instances=int(profile.get("instances", 4)), header_max=data_max("MHTTPHEADER"),
            content_max=data_max("MHTTPCONTENT"), content_total=dialect.payload_max, cert_max=data_max("MSSLCERTWR"),
            ssl_ids=tuple(range(low, high + 1)), timeout_specs=timeout, ssl_versions=versions,  # type: ignore[arg-type]
        )

    def code(self, enum: str, meaning: object) -> int:
        """The code of onemo.yaml's enum `enum` that means `meaning` (an int parameter)."""
        return int(self.codes[enum].token(meaning))  # type: ignore[arg-type]

    def defaults(self) -> tuple[int, int, int]:
        return tuple(int(s.default or 0) for s in self.timeout_specs)  # type: ignore[return-value]

    def timeouts(self, request: Request) -> tuple[int, int, int]:
        """MHTTPCFG "timeout" values for the request: connect and input None mean the longest
        the module allows, response None means 0 (the manual's "no timeout")."""
        t = request.timeouts
        return (self._seconds(t.connect, self.timeout_specs[0], 1),
                self._seconds(t.response, self.timeout_specs[1], 0),
                self._seconds(t.input, self.timeout_specs[2], 1))

    @staticmethod
    def _seconds(value: Optional[float], spec: ParamSpec, none_low: int) -> int:
        low, high = spec.range or (0, 180)
        if value is None:
            return high if none_low else 0
        return min(max(math.ceil(value), low, 1), high)
