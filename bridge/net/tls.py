"""The SSLContext of a request's TlsSettings: version, verify mode, CA and client certificate
(file names in the module's file system), and the settings as a keep-alive pool key."""
from __future__ import annotations

import dataclasses
import os
import ssl
from typing import Optional, Union

from bridge.device.fs import ModuleFileSystem
from bridge.model import ErrorKind, TlsSettings, VerifyMode
from bridge.net.failure import Fail

CaSource = Union[bytes, str, "os.PathLike[str]"]

_TLS_VERSIONS = {
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1.0": ssl.TLSVersion.TLSv1,
    "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}


def tls_context(tls: Optional[TlsSettings], fs: ModuleFileSystem, default_ca: Optional[CaSource]) -> ssl.SSLContext:
    tls = tls or TlsSettings()
    try:
        verify = VerifyMode(tls.verify)
    except ValueError:
        raise Fail(ErrorKind.INVALID_PARAMETER, f"unknown TLS verify mode {tls.verify!r}") from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _set_version(context, tls.version, tls.version_is_minimum)
    if tls.sni == "":  # no server name given to the TLS library: the chain is verified, not the name
        context.check_hostname = False
    try:
        if verify is VerifyMode.NONE:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            _load_ca(context, tls.ca, fs, default_ca)
        if verify is VerifyMode.MUTUAL and not tls.client_cert:
            raise Fail(ErrorKind.TLS_FAILED, "verify=mutual needs a client certificate")
        if tls.client_cert:
            key = str(fs.resolve(tls.client_key)) if tls.client_key else None
            context.load_cert_chain(str(fs.resolve(tls.client_cert)), key)
    except (OSError, ValueError) as exc:  # includes ssl.SSLError and PathEscapeError
        raise Fail(ErrorKind.TLS_FAILED, f"cannot load TLS certificates: {exc}") from None
    return context


def tls_key(tls: Optional[TlsSettings]) -> tuple:
    """The TLS settings as a hashable pool-key part ("server" and VerifyMode.SERVER alike)."""
    tls = tls or TlsSettings()
    return dataclasses.astuple(dataclasses.replace(tls, verify=VerifyMode(tls.verify).value))


def _load_ca(context: ssl.SSLContext, ca: Optional[str], fs: ModuleFileSystem, default_ca: Optional[CaSource]) -> None:
    if ca:
        _load_ca_data(context, fs.read_bytes(ca))
    elif isinstance(default_ca, (bytes, bytearray)):
        _load_ca_data(context, bytes(default_ca))
    elif default_ca is not None:
        context.load_verify_locations(cafile=os.fspath(default_ca))
    else:
        raise Fail(ErrorKind.TLS_FAILED, "verify needs a CA: the request names none and there is no default CA")


def _set_version(context: ssl.SSLContext, version: Optional[str], minimum_only: bool = False) -> None:
    if version is None:
        return
    wanted = _TLS_VERSIONS.get(version.strip().lower().replace("tls1", "tlsv1"))
    if wanted is None:
        raise Fail(ErrorKind.INVALID_PARAMETER, f"unknown TLS version {version!r}")
    try:
        if wanted < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = wanted
        if not minimum_only:
            context.maximum_version = wanted
    except (ValueError, ssl.SSLError) as exc:
        raise Fail(ErrorKind.TLS_FAILED, f"TLS version {version} is not available: {exc}") from None


def _load_ca_data(context: ssl.SSLContext, data: bytes) -> None:
    if b"-----BEGIN" in data:
        context.load_verify_locations(cadata=data.decode("ascii", "replace"))
    else:
        context.load_verify_locations(cadata=data)
