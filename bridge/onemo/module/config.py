"""AT+MHTTPCFG (3.1): query and set the nine settings of created instances."""
from __future__ import annotations

from typing import Optional, Protocol

from bridge.at.dialect import CommandSpec, ParamSpec
from bridge.at.frames import Command
from bridge.model import ErrorKind
from bridge.onemo.module.instance import Instance
from bridge.onemo.module.reply import CommandReply
from bridge.onemo.params import CommandError, bad, parse_params, with_limits
from bridge.onemo.module.request import header_lines
from bridge.roles.identity import Identity

PREFIX = "+MHTTPCFG"


class Side(CommandReply, Protocol):
    identity: Identity

    def param_spec(self, command: str, name: str) -> Optional[ParamSpec]: ...

    def instance(self, httpid: int) -> Instance: ...

    def created(self) -> list[Instance]: ...


class ConfigCommand:
    def __init__(self, side: Side, spec: CommandSpec) -> None:
        self.side = side
        self.spec = spec
        profile = side.profile
        missing = set(profile.get("cfg_missing") or ())
        if not profile.get("ssl", True):
            missing.add("ssl")
        self.settings = [name for name in spec.settings if name not in missing]
        self.specs = {name: self._with_fallbacks(spec.settings[name]) for name in self.settings}

    def _with_fallbacks(self, params: tuple[ParamSpec, ...]) -> tuple[ParamSpec, ...]:
        """<ssl_id> and <cid> have no range in the HTTP manual: the SSL manual's and +CGDCONT's apply."""
        fallbacks = {"ssl_id": self.side.param_spec("MSSLCFG", "ssl_id"), "cid": self.side.param_spec("CGDCONT", "cid")}
        return tuple(with_limits(p, self.side.profile, fallbacks.get(p.name)) for p in params)

    # -- the command ---------------------------------------------------------------------

    def run(self, command: Command, now: float) -> None:
        side = self.side
        if command.form == "read":
            for instance in side.created():
                for setting in self.settings:
                    side.line(self.query_line(instance, setting))
            side.ok()
            return
        head = parse_params(command.params[:1], self.spec.forms["set"].params, side.profile)
        setting = str(head["setting"])
        if setting not in self.settings:
            raise CommandError(ErrorKind.UNSUPPORTED, f"this model has no {setting!r} setting")
        self._setting(setting, command)
        side.ok()

    def _setting(self, setting: str, command: Command) -> None:
        specs, rest = self.specs[setting], command.params[1:]
        httpid = parse_params(rest[:1], specs[:1], self.side.profile)[specs[0].name]
        if httpid is None:
            if len(rest) > 1:
                raise bad("values need an <httpid>")
            for instance in self.side.created():
                self.side.line(self.query_line(instance, setting))
            return
        instance = self.side.instance(int(httpid))
        formats = {"header": instance.settings.int("encoding", "input_format")} if setting == "header" else None
        values = parse_params(rest, specs, self.side.profile, formats)
        given = {p.name: values[p.name] for p in specs[1:] if values[p.name] is not None}
        if not given:
            self.side.line(self.query_line(instance, setting))
        elif setting == "header":
            self._set_header(instance, str(given["header"]), specs[1])
        else:
            self._set(instance, setting, given)

    def _set_header(self, instance: Instance, text: str, spec: ParamSpec) -> None:
        data = self.side.inline_data(text, spec, instance.settings.int("encoding", "input_format"), None)
        lines = header_lines(data)
        if not lines or any(b":" not in line for line in lines):
            raise bad("a header is set as key: value")
        for line in lines:
            instance.set_general(line)

    def _set(self, instance: Instance, setting: str, given: dict) -> None:
        if "input_timeout" in given and not self.side.profile.get("data_mode", True):
            raise bad("this model has no data mode, so no <input_timeout> (fn 5)")
        if "cid" in given and int(given["cid"]) not in self.side.identity.pdp:
            raise CommandError(ErrorKind.NOT_ALLOWED, "the PDP context is not defined")
        for name, value in given.items():
            instance.settings.set(setting, name, str(value))

    # -- query lines ---------------------------------------------------------------------

    def query_line(self, instance: Instance, setting: str) -> bytes:
        head = f'{PREFIX}: "{setting}",{instance.id}'
        if setting == "header":
            data = instance.general_bytes()
            return head.encode() + (f",{len(data)},".encode() + data if data else b"")
        hidden = self._hidden(instance, setting)
        names = [p.name for p in self.specs[setting][1:]]
        values: list[Optional[str]] = [v for n, v in zip(names, instance.settings.values(setting)) if n not in hidden]
        while values and values[-1] is None:
            values.pop()
        return (head + "".join(f",{'' if v is None else v}" for v in values)).encode()

    def _hidden(self, instance: Instance, setting: str) -> set[str]:
        if setting == "cached" and not instance.settings.on("cached", "cached"):
            return {"cache_length"}  # fn 4
        if setting == "timeout" and not self.side.profile.get("data_mode", True):
            return {"input_timeout"}  # fn 5
        return set()

    def test_settings(self, text: str) -> str:
        """The test answer with this model's settings only."""
        declared = ",".join(f'"{name}"' for name in self.spec.settings)
        return text.replace(declared, ",".join(f'"{name}"' for name in self.settings), 1)
