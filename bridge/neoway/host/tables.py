"""The tables of dialects/neoway.yaml as the Neoway host side uses them: the HTTP and HTTPS command
families (AT+HTTPPARA or AT+HTTPSPARA, +HTTPRECV or +HTTPSRECV, ...), and the modes, types,
lengths, TLS versions and timeouts of the commands (:class:`Limits`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bridge.at.dialect import Dialect


@dataclass(frozen=True)
class Family:
    """The HTTP or the HTTPS command family: AT+HTTPPARA or AT+HTTPSPARA, +HTTPRECV or +HTTPSRECV."""

    secure: bool

    @property
    def tag(self) -> str:
        return "HTTPS" if self.secure else "HTTP"

    def command(self, verb: str) -> str:
        return self.tag + verb  # PARA, SETUP, ACTION, CLOSE

    @property
    def file_action(self) -> str:
        return f"FILE{self.tag}ACTION"

    def urc(self, verb: str) -> str:
        return f"+{self.tag}{verb}"  # RECV, CLOSED, CLOSE


FAMILIES = (Family(False), Family(True))


@dataclass(frozen=True)
class Limits:
    action_modes: dict[str, str]  # "GET" / "HEAD" / "POST" / "OPEN_MODE" -> <mode>
    post_types: dict[str, str]  # MIME type (lower case) -> <type>
    data_max: int  # bytes after '>' of AT+HTTPACTION (POST body or raw request)
    url_max: dict[bool, int]  # per family
    file_max: int  # <size> of AT+FILEHTTPACTION
    file_get: str  # <mode> GET of AT+FILEHTTPACTION
    timeouts: dict[str, float]  # command name -> seconds
    ssl_versions: dict[str, str]  # "tls1.2" -> <sslversion>
    cfg_types: frozenset[str]  # <type> of AT+HTTPSCFG
    file_write: bool = False  # the YAML declares AT+FSWF: a certificate given as PEM can be written to the module

    @classmethod
    def read(cls, dialect: Dialect) -> "Limits":
        enums, commands = dialect.enums, dialect.commands
        for family in FAMILIES:
            for verb in ("PARA", "SETUP", "ACTION", "CLOSE"):
                assert family.command(verb) in commands, f"neoway.yaml declares no {family.command(verb)}"
            for verb in ("RECV", "CLOSED", "CLOSE"):
                assert family.urc(verb) in dialect.frames, f"neoway.yaml declares no {family.urc(verb)}"
        rule = commands["HTTPACTION"].forms["set"].data_mode
        file_size = commands["FILEHTTPACTION"].forms["set"].params[2]
        return cls(
            action_modes={_first_word(text): code for code, text in enums["action_mode"].items()},
            post_types={text.lower(): code for code, text in enums["post_type"].items()},
            data_max=rule.max_len if rule else 2048,
            url_max={f.secure: commands[f.command("PARA")].forms["set"].params[1].max_len or 2048 for f in FAMILIES},
            file_max=file_size.range[1] if file_size.range else 524288,
            file_get=next(code for code, text in enums["file_mode"].items() if _first_word(text) == "GET"),
            timeouts={name: float(spec.timeout) for name, spec in commands.items() if spec.timeout},
            ssl_versions={_version_key(text): code for code, text in enums["sslversion"].items()},
            cfg_types=frozenset(enums["https_cfg_type"]),
            file_write="FSWF" in commands,
        )


def _first_word(text: str) -> str:
    return re.split(r"[\s:(]", text.strip(), maxsplit=1)[0].upper()


def _version_key(text: str) -> str:
    return text.replace(" ", "").replace("v", "").replace("V", "").lower()


def version_code(limits: Limits, version: str) -> Optional[str]:
    """The <sslversion> of "TLSv1.2" (or "TLS1.2"), None if the module has none."""
    return limits.ssl_versions.get(_version_key(version))
