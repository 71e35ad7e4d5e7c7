"""AT+HTTPSCFG (9.10): the SSL options of the HTTPS context, and the TlsSettings they stand for.

<type> is a key of enum https_cfg_type; where an enum of the same name exists (sslversion,
authmode) the value must be one of its keys.  Certificate and key values are file names in the
module's file system: checked to be valid paths here, read at HTTPSSETUP.
"""
from __future__ import annotations

import dataclasses
import ssl
from typing import Optional, Protocol, Union

from bridge.at.dialect import CommandSpec, Dialect
from bridge.at.frames import Command
from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.model import ExecutorCapabilities, TlsSettings, VerifyMode
from bridge.neoway.module.channel import Channel, TlsConfig
from bridge.neoway.params import ParamError, checked, in_enum

FILE_OPTIONS = ("cacert", "clientcert", "clientkey")
_STORED = frozenset(option.name for option in dataclasses.fields(TlsConfig))  # the options kept


class Side(Protocol):
    dialect: Dialect
    fs: ModuleFileSystem
    executor_capabilities: ExecutorCapabilities

    def line(self, text: Union[str, bytes]) -> None: ...
    def ok(self) -> None: ...


def set_option(config: TlsConfig, option: str, value: str, enums: dict[str, dict[str, str]],
               fs: ModuleFileSystem) -> None:
    """Store `value` for `option`; raises :class:`ParamError`."""
    if option not in _STORED:
        raise ParamError(f"HTTPSCFG: {option!r} is not supported")
    if option in enums:
        value = in_enum(value, enums[option], option)
    elif option in FILE_OPTIONS and value:
        try:
            fs.resolve(value)
        except PathEscapeError as exc:
            raise ParamError(str(exc)) from None
    setattr(config, option, value)


class TlsCommands:
    """AT+HTTPSCFG for one module side, and the TLS of its HTTPS requests."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.config = TlsConfig()

    def httpscfg(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        side = self.side
        if command.form == "read":
            side.line("+HTTPSCFG: " + ",".join(self.config.fields()))
        elif command.form == "test":
            side.line(spec.forms["test"].answer or "")  # the manual's example prints its format line
        else:
            option, value = checked(command, spec)
            assert option is not None and value is not None
            set_option(self.config, option, value.strip(), side.dialect.enums, side.fs)
        side.ok()

    def settings(self, channel: Channel) -> Optional[TlsSettings]:
        """The TLS of a request on `channel` (None for the HTTP one)."""
        if not channel.secure:
            return None
        settings = self.config.settings(self.side.dialect)
        if not self.side.executor_capabilities.shares_file_system:
            try:
                return self.carried(settings)
            except (OSError, ValueError):  # HTTPSSETUP said ERROR; the module behind fails the handshake
                return settings
        return settings

    def check_carried(self) -> None:
        """Raises OSError or ValueError when a file the options name cannot be carried (:meth:`carried`)."""
        self.carried(self.config.settings(self.side.dialect))

    def carried(self, settings: TlsSettings) -> TlsSettings:
        """The settings with the contents of their files (PEM) in place of the names: the module
        behind a bridge has a file system of its own (a OneMO host side writes a PEM with
        AT+MSSLCERTWR / AT+MSSLKEYWR).  A name this side's file system does not hold stays a name:
        the module behind is assumed to hold it.  Raises OSError or ValueError (including
        PathEscapeError) when a file that is there cannot be read or used."""
        ca = settings.ca if settings.verify is not VerifyMode.NONE else None
        return dataclasses.replace(
            settings,
            ca=self._pem(ca, certificate=True) if ca else None,
            client_cert=self._pem(settings.client_cert, certificate=True) if settings.client_cert else None,
            client_key=self._pem(settings.client_key, certificate=False) if settings.client_key else None,
        )

    def _pem(self, name: str, certificate: bool) -> str:
        fs = self.side.fs
        if not fs.exists(name):
            return name  # not ours: a name the module behind knows
        data = fs.read_bytes(name)
        if b"-----BEGIN" in data:
            return data.decode("ascii")
        if certificate:  # DER: one certificate
            return ssl.DER_cert_to_PEM_cert(data)
        raise ValueError(f"{name}: a key must be PEM")
