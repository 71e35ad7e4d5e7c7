"""The TLS settings of a Neoway request: AT+HTTPSCFG options (set only when they change), and
certificates or keys given as PEM text, written to the module's file system with AT+FSWF (N58
manual 28.1) once per session, under a name of their role and content (:func:`pem_name`).
"""
from __future__ import annotations

import hashlib
from typing import Generator, Optional, Union

from bridge.model import ErrorKind, TlsSettings, VerifyMode
from bridge.roles.host_commands import Answer
from bridge.neoway.host.context import Cmd, Context, Op
from bridge.roles.host import Fail
from bridge.neoway.host.plan import at
from bridge.neoway.host.tables import Limits, newest_version_code, version_code

FSWF_WAIT_MS = 10000  # AT+FSWF <time>: how long the module waits for the data after the prompt


def tls_options(limits: Limits, tls: Optional[TlsSettings]) -> tuple[tuple[str, Union[int, str]], ...]:
    """AT+HTTPSCFG options for `tls`: version, authmode, then the certificate files given."""
    tls = tls or TlsSettings()
    versions = limits.ssl_versions
    code = version_code(limits, tls.version) if tls.version else newest_version_code(limits)
    if code is None:
        raise Fail(ErrorKind.UNSUPPORTED, f"TLS version {tls.version}; the module knows {', '.join(versions)}")
    options: list[tuple[str, Union[int, str]]] = [("sslversion", int(code)), ("authmode", int(limits.authmode.token(VerifyMode(tls.verify))))]
    for option, value in _cert_values(tls):
        if _is_pem(value) and not limits.file_write:
            raise Fail(ErrorKind.UNSUPPORTED, f"{option}: Neoway modules take certificate file names; put the PEM in the module's file system")
        options.append((option, pem_name(option, value) if _is_pem(value) else str(value)))
    missing = [option for option, _ in options if option not in limits.cfg_types]
    assert not missing, f"neoway.yaml: enum https_cfg_type lacks {missing}"
    return tuple(options)


def _cert_values(tls: TlsSettings) -> list[tuple[str, Union[str, bytes]]]:
    pairs = (("cacert", tls.ca), ("clientcert", tls.client_cert), ("clientkey", tls.client_key))
    return [(option, value) for option, value in pairs if value is not None]


def _is_pem(value: Union[str, bytes]) -> bool:
    return "-----BEGIN" in (value.decode("latin-1") if isinstance(value, bytes) else value)


def _pem_bytes(value: Union[str, bytes]) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def pem_name(option: str, value: Union[str, bytes]) -> str:
    """The module file a certificate or key given as PEM is written to (AT+FSWF): named by its
    role and content, so that the same PEM is written once and another never overwrites it."""
    return f"atb-{option}-{hashlib.sha256(_pem_bytes(value)).hexdigest()[:16]}.pem"


def write_pems(ctx: Context, tls: Optional[TlsSettings]) -> Generator[Op, Optional[Answer], None]:
    """AT+FSWF for each certificate or key given as PEM that this session has not written yet."""
    for option, value in _cert_values(tls or TlsSettings()):
        if not _is_pem(value):
            continue
        name, data = pem_name(option, value), _pem_bytes(value)
        if name in ctx.link.files:
            continue
        yield Cmd(at("FSWF", name, 0, len(data), FSWF_WAIT_MS), data=data)
        ctx.link.files.add(name)



def configure(ctx: Context, options: tuple) -> Generator[Op, Optional[Answer], None]:
    for option, value in options:
        if ctx.link.tls.get(option) == str(value):
            continue
        ctx.link.tls.pop(option, None)
        yield Cmd(at("HTTPSCFG", option, value))
        ctx.link.tls[option] = str(value)

