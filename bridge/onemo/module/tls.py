"""The OneMO SSL subset (AT+MSSLCERTWR, AT+MSSLCFG; dialect-facts): SSL contexts by <ssl_id>,
certificates as files of the module file system, and the TlsSettings a context stands for."""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import CommandSpec, Dialect
from bridge.at.frames import Command
from bridge.model import ErrorKind, TlsSettings, TlsVersion, VerifyMode
from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.onemo.encoding import ESCAPED
from bridge.onemo.module.reply import CommandReply
from bridge.onemo.params import CommandError, bad, parse_params, present, with_limits

CERT_DIR = "/ssl/"


def cert_path(name: str) -> str:
    return CERT_DIR + name


class SslContexts:
    """MSSLCFG settings by <ssl_id>, starting at the YAML defaults."""

    def __init__(self, dialect: Dialect, accepted: Optional[frozenset[str]] = None) -> None:
        spec = dialect.command("MSSLCFG")
        # Settings only some models have (MSSLCFG model_settings) need the profile's ssl_settings.
        only_some = set(spec.raw.get("model_settings") or ()) if spec else set()
        self.specs = {name: params for name, params in (spec.settings if spec else {}).items()
                      if name not in only_some or name in (accepted or ())}
        self.versions = dialect.means("ssl_version")  # MSSLCFG "version" <ssl_version>: a TlsVersion, or all
        self.verify_modes = dialect.means("cert_verify")  # MSSLCFG "auth" <cert_verify> in the model's terms
        self.flags = {name: dialect.means(name) for name in ("ignore_verify", "sni_enable")}
        self._contexts: dict[int, dict[str, dict[str, Optional[str]]]] = {}

    def values(self, ssl_id: int, setting: str) -> dict[str, Optional[str]]:
        context = self._contexts.get(ssl_id)
        if context is None:
            context = {name: {p.name: p.default for p in params[1:]} for name, params in self.specs.items()}
            self._contexts[ssl_id] = context
        return context[setting]

    def tls(self, ssl_id: int) -> TlsSettings:
        verify = self.verify_modes.meaning(self.values(ssl_id, "auth").get("cert_verify") or "", VerifyMode.NONE)
        if self._on(ssl_id, "ignoreverify", "ignore_verify"):
            verify = VerifyMode.NONE
        certs = self.values(ssl_id, "cert")
        version = self.versions.meaning(self.values(ssl_id, "version").get("ssl_version") or "")
        return TlsSettings(
            version=version.value if isinstance(version, TlsVersion) else None,
            verify=verify,
            ca=cert_path(certs["srv_cert"]) if certs.get("srv_cert") else None,
            client_cert=cert_path(certs["cli_cert"]) if certs.get("cli_cert") else None,
            client_key=cert_path(certs["prv_key"]) if certs.get("prv_key") else None,
            sni=self._sni(ssl_id),
        )

    def _sni(self, ssl_id: int) -> Optional[str]:
        """None: the request's host name is sent as SNI (models without the "sni" setting; what
        they do is not stated, and servers need it); "": no SNI (the setting's default 0)."""
        if "sni" not in self.specs or self._on(ssl_id, "sni", "sni_enable"):
            return None
        return ""

    def _on(self, ssl_id: int, setting: str, name: str) -> bool:
        """Whether the on/off value `name` of `setting` is on."""
        return self.flags[name].meaning(self.values(ssl_id, setting).get(name) or "") is True


class SslCommands:
    """AT+MSSLCFG and AT+MSSLCERTWR for one module side."""

    def __init__(self, side: CommandReply, fs: ModuleFileSystem) -> None:
        self.side = side
        self.fs = fs
        self.contexts = SslContexts(side.dialect, frozenset(side.profile.get("ssl_settings") or ()))
        self._parts: dict[str, bytearray] = {}  # certificates written in several parts

    # -- AT+MSSLCFG --------------------------------------------------------------------

    def cfg(self, command: Command, spec: CommandSpec, now: float) -> None:
        side = self.side
        head = parse_params(command.params[:1], spec.forms["set"].params, side.profile)
        setting = str(head["setting"])
        if setting not in self.contexts.specs:
            raise CommandError(ErrorKind.UNSUPPORTED, f"this model has no {setting!r} setting")
        specs = tuple(with_limits(p, side.profile) for p in self.contexts.specs[setting])
        values = parse_params(command.params[1:], specs, side.profile)
        ssl_id = values[specs[0].name]
        given = {p.name: values[p.name] for p in specs[1:] if values[p.name] is not None}
        if ssl_id is None:
            if given:
                raise bad("values need an <ssl_id>")
            low, high = specs[0].range or (0, 0)
            for one in range(low, high + 1):
                side.line(self._line(setting, one))
        elif not given:
            side.line(self._line(setting, int(ssl_id)))
        else:
            stored = self.contexts.values(int(ssl_id), setting)
            for name, value in given.items():
                stored[name] = str(value)
        side.ok()

    def _line(self, setting: str, ssl_id: int) -> str:
        stored = self.contexts.values(ssl_id, setting)
        kinds = {p.name: p.type for p in self.contexts.specs[setting][1:]}
        fields = [f'"{value or ""}"' if kinds[name] == "string" else str(value or 0) for name, value in stored.items()]
        while len(fields) > 1 and fields[-1] == '""':
            fields.pop()
        return f'+MSSLCFG: "{setting}",{ssl_id},' + ",".join(fields)

    # -- AT+MSSLCERTWR / AT+MSSLKEYWR ---------------------------------------------------

    def certwr(self, command: Command, spec: CommandSpec, now: float) -> None:
        """AT+MSSLCERTWR and AT+MSSLKEYWR (same parameters: name, remain_length, length, data)."""
        side = self.side
        params = spec.forms["set"].params
        values = parse_params(command.params, params, side.profile, formats={params[3].name: ESCAPED})
        name = self._name(str(values[params[0].name]))
        remain, length = int(values["remain_length"] or 0), int(values["length"] or 0)
        data_param = command.params[3] if len(command.params) > 3 else None
        if present(data_param):
            assert data_param is not None
            # Escaped input (the only format ML30x take): the \r\n of a PEM become line breaks.
            self._store(spec, name, remain, side.inline_data(data_param.text, params[3], ESCAPED, length))
            return
        rule = spec.forms["set"].data_mode
        if not length:
            raise bad("data mode needs a <length>")
        side.take_data(length, rule.max_len if rule else length, side.default_input_timeout(), now,
                       lambda data: self._store(spec, name, remain, data), partial=False)

    @staticmethod
    def _name(name: str) -> str:
        if not name or any(c in name for c in "/\\") or name in (".", ".."):
            raise bad("not a certificate name")
        return name

    def _store(self, spec: CommandSpec, name: str, remain: int, data: bytes) -> None:
        part = self._parts.setdefault(name, bytearray())
        part += data
        limit = with_limits(spec.forms["set"].params[3], self.side.profile).max_len
        if limit is not None and len(part) > limit:
            del self._parts[name]
            raise bad(f"certificate {name!r} is larger than {limit} bytes")
        if remain:
            self.side.ok()
            return
        del self._parts[name]
        if b"-----BEGIN" not in part:
            raise bad("a certificate must be PEM")
        try:
            self.fs.write_file(cert_path(name), bytes(part))
        except (OSError, PathEscapeError):
            raise CommandError(ErrorKind.FILE_WRITE_FAILED) from None
        self.side.ok()

    # -- AT+MSSLCERTRD / AT+MSSLLIST / AT+MSSLRM ----------------------------------------------

    def certrd(self, command: Command, spec: CommandSpec, now: float) -> None:
        name = self._name(str(parse_params(command.params, spec.forms["set"].params, self.side.profile)["cert_name"]))
        data = self._stored(spec, name)
        if _is_key(data):
            raise self._refused(spec, "not_found", f"{name} is a private key (fn 11: keys cannot be read)")
        self.side.line(f"+MSSLCERTRD: {len(data)},".encode() + data)
        self.side.ok()

    def listing(self, command: Command, spec: CommandSpec, now: float) -> None:
        kind = int(parse_params(command.params, spec.forms["set"].params, self.side.profile)["ca_type"])
        for name in self._names():
            data = self._read(name)
            if data is not None and kind == (2 if _is_key(data) else 1):  # 3 PSK: this module keeps none
                self.side.line(f'+MSSLLIST: "{name}",{len(data)}')
        self.side.ok()

    def remove(self, command: Command, spec: CommandSpec, now: float) -> None:
        name = self._name(str(parse_params(command.params, spec.forms["set"].params, self.side.profile)["cert_name"]))
        self._stored(spec, name)
        try:
            self.fs.resolve(cert_path(name)).unlink()
        except (OSError, PathEscapeError):
            raise CommandError(ErrorKind.FILE_WRITE_FAILED) from None
        self.side.ok()

    def _names(self) -> list[str]:
        try:
            folder = self.fs.resolve(CERT_DIR)
        except PathEscapeError:
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    def _read(self, name: str) -> Optional[bytes]:
        try:
            return self.fs.read_bytes(cert_path(name))
        except (OSError, ValueError, PathEscapeError):
            return None

    def _stored(self, spec: CommandSpec, name: str) -> bytes:
        data = self._read(name)
        if data is None:
            raise self._refused(spec, "not_found", f"no certificate or key {name!r}")
        return data

    @staticmethod
    def _refused(spec: CommandSpec, reason: str, why: str) -> CommandError:
        """The command's own code for `reason` (its `refusals` in onemo.yaml, SSL manual 5.2)."""
        token = (spec.raw.get("refusals") or {}).get(reason)
        return CommandError(ErrorKind.FILE_OPEN_FAILED, why, token=str(token) if token else None)


def _is_key(pem: bytes) -> bool:
    return b"PRIVATE KEY-----" in pem
