"""AT+HTTPSCFG=<type>,<type_name>: one SSL option of the HTTPS context.

<type> is a key of enum https_cfg_type; where an enum of the same name exists (sslversion,
authmode) the value must be one of its keys.  Certificate and key values are file names in the
module's file system: checked to be valid paths here, read at HTTPSSETUP.
"""
from __future__ import annotations

from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.neoway.module.channel import TlsConfig
from bridge.neoway.params import ParamError, in_enum

FILE_OPTIONS = ("cacert", "clientcert", "clientkey")


def set_option(config: TlsConfig, option: str, value: str, enums: dict[str, dict[str, str]],
               fs: ModuleFileSystem) -> None:
    """Store `value` for `option`; raises :class:`ParamError`."""
    if not hasattr(config, option):
        raise ParamError(f"HTTPSCFG: {option!r} is not supported")
    if option in enums:
        value = in_enum(value, enums[option], option)
    elif option in FILE_OPTIONS and value:
        try:
            fs.resolve(value)
        except PathEscapeError as exc:
            raise ParamError(str(exc)) from None
    setattr(config, option, value)
