"""The TLS settings of a OneMO request: an SSL context picked (one set up the same way first) and
set up with AT+MSSLCFG "cert", "auth" and "version" only when its settings differ; certificates
and keys given as PEM text are written once per session (AT+MSSLCERTWR / AT+MSSLKEYWR) under a
name of their role and content.
"""
from __future__ import annotations

import hashlib
from typing import Generator, Optional, Union

from bridge.http import Target
from bridge.model import ErrorKind, Request, TlsSettings, VerifyMode
from bridge.onemo.host.context import Cmd, Context, Job, Op, SslContexts
from bridge.onemo.host.errors import Fail
from bridge.onemo.host.plan import at, need_data_mode
from bridge.roles.host_commands import Answer

CERT_ROLES = ("ca", "cli", "key")  # MSSLCFG "cert" <srv_cert>, <cli_cert>, <prv_key>


def tls_key(request: Request) -> tuple:
    """What an SSL context set up for `request` must match to serve another."""
    tls = request.tls or TlsSettings()
    return (tls.ca, tls.client_cert, tls.client_key, VerifyMode(tls.verify), tls.version, tls.version_is_minimum)


def set_up(ctx: Context, job: Job, target: Target) -> Generator[Op, Optional[Answer], int]:
    """An SSL context set up for the request: certificates, authentication, version."""
    tls = job.request.tls or TlsSettings()
    want = tls_key(job.request)
    ssl_id = job.ssl_id = _pick(ctx.ssl, want)
    if ctx.ssl.config.get(ssl_id) == want:
        return ssl_id
    ctx.ssl.config.pop(ssl_id, None)
    names = []
    for role, value in zip(CERT_ROLES, (tls.ca, tls.client_cert, tls.client_key)):
        names.append((yield from _cert(ctx, value, role)))
    if any(names):
        while names and names[-1] is None:
            names.pop()
        yield Cmd(at("MSSLCFG", "cert", ssl_id, *(n or "" for n in names)))
    yield Cmd(at("MSSLCFG", "auth", ssl_id, ctx.limits.code("cert_verify", VerifyMode(tls.verify))))
    if tls.version:
        code = version_code(ctx, tls)
        if code is None:
            raise Fail(ErrorKind.UNSUPPORTED, f"TLS version {tls.version}", terminate=False)
        yield Cmd(at("MSSLCFG", "version", ssl_id, int(code)))
    ctx.ssl.config[ssl_id] = want
    return ssl_id


def version_code(ctx: Context, tls: TlsSettings) -> Optional[str]:
    """MSSLCFG "version" for `tls.version`: a pin as such; a lowest version offered
    (version_is_minimum) is "all versions" unless it is the newest the enum has -- OneMO can
    pin a version or offer all, not state a floor, so the floor is not enforced there."""
    code = ctx.limits.ssl_versions.get((tls.version or "").replace(" ", "").lower().replace("v", ""))
    enum = ctx.dialect.enums.get("ssl_version", {})
    pins = [key for key, text in enum.items() if text.startswith(("SSL ", "TLS "))]
    everything = next((key for key in enum if key not in pins), None)
    if tls.version_is_minimum and code is not None and pins and code != max(pins, key=int) and everything:
        return everything
    return code


def _pick(ssl: SslContexts, want: tuple) -> int:
    """A free SSL context: one set up the same way, else a clean one, else any."""
    if not ssl.free:
        raise Fail(ErrorKind.NO_FREE_INSTANCE, "no free SSL context", terminate=False)
    same = [i for i in ssl.free if ssl.config.get(i) == want]
    clean = [i for i in ssl.free if i not in ssl.config]
    ssl_id = (same or clean or ssl.free)[0]
    ssl.free.remove(ssl_id)
    return ssl_id


def _cert(ctx: Context, value: Union[str, bytes, None], role: str) -> Generator[Op, Optional[Answer], Optional[str]]:
    """The module's name for a certificate or key: a PEM is written in data mode (once per
    session) under a name that says its role and content (atb_ca_<sha256 prefix>.pem, atb_cli_...,
    atb_key_<...>.key) -- a key with AT+MSSLKEYWR, the others with AT+MSSLCERTWR; anything
    else is a name the module already knows."""
    if value is None:
        return None
    data = value.encode("latin-1") if isinstance(value, str) else bytes(value)
    if b"-----BEGIN" not in data:
        return str(value)
    command = "MSSLKEYWR" if role == "key" else "MSSLCERTWR"
    name = f"atb_{role}_{hashlib.sha256(data).hexdigest()[:16]}.{'key' if role == 'key' else 'pem'}"
    if name not in ctx.ssl.certs:
        need_data_mode(ctx.profile, "certificates given as PEM")
        if len(data) > ctx.limits.cert_max:
            raise Fail(ErrorKind.INVALID_PARAMETER, f"a PEM of {len(data)} bytes; the module takes {ctx.limits.cert_max}", terminate=False)
        yield Cmd(at(command, name, 0, len(data)), data)
        ctx.ssl.certs.add(name)
    return name
