"""Load and validate the dialect definitions in `dialects/*.yaml` (schema: dialects/SCHEMA.md).

The files ship inside the package as `bridge.dialects`.  Loading checks the structure and
fails with a :class:`DialectError` naming the file, the key path and what is wrong.  Longer than
~400 lines because it is the schema: one shape and one checker per key; the checks of `means:`
and `families:` live with their mappers (meaning.py, families.py).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Optional

import yaml

from bridge.at.families import Families, parse_families
from bridge.at.meaning import EnumMeanings, parse_enum
from bridge.model import ErrorKind

COMMON = "common"
_FORMS = ("test", "read", "set", "execute")
_PARAM_TYPES = ("string", "int", "hex", "token")
_QUOTED = ("required", "optional", "never")
_KINDS = {kind.value for kind in ErrorKind}


class DialectError(ValueError):
    """A dialect file is missing or malformed."""


# ---- the loaded shapes ------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str = "string"
    quoted: str = "optional"
    optional: bool = False
    range: Optional[tuple[int, int]] = None
    max_len: Optional[int] = None
    default: Optional[str] = None
    values: dict[str, str] = field(default_factory=dict)
    text: str = ""
    enum: Optional[str] = None  # the name of the enum `values` come from


@dataclass(frozen=True)
class DataModeSpec:
    when_param: Optional[str] = None
    when_in: tuple[str, ...] = ()
    unless_param: Optional[str] = None
    length_param: Optional[str] = None
    ctrl_z: bool = True
    max_len: int = 4096


@dataclass(frozen=True)
class FormSpec:
    name: str
    params: tuple[ParamSpec, ...] = ()
    response: Optional[str] = None  # prose: what the answer looks like
    responses: tuple[str, ...] = ()
    answer: Optional[str] = None  # the exact answer lines ("\n" between them; "": OK only)
    data_mode: Optional[DataModeSpec] = None


@dataclass(frozen=True)
class CommandSpec:
    name: str
    title: str
    section: str
    forms: dict[str, FormSpec]
    timeout: Optional[float] = None
    settings: dict[str, tuple[ParamSpec, ...]] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    error_means: Optional[str] = None  # the error token a bare ERROR to this command stands for

    def param_index(self, form: str, name: str) -> Optional[int]:
        spec = self.forms.get(form)
        if spec is None:
            return None
        for index, param in enumerate(spec.params):
            if param.name == name:
                return index
        return None

    def data_max(self, form: str = "set") -> int:
        """The most bytes `form` reads after the prompt; DialectError if it reads none."""
        rule = self.forms[form].data_mode if form in self.forms else None
        if rule is None:
            raise DialectError(f"commands.{self.name}.forms.{form}: no data_mode")
        return rule.max_len

    def required_timeout(self) -> float:
        """`timeout`, for a caller that cannot do without one; DialectError if the YAML gives none."""
        if not self.timeout:
            raise DialectError(f"commands.{self.name}: no timeout")
        return float(self.timeout)


@dataclass(frozen=True)
class PayloadSpec:
    field: str
    length: str
    hex: bool = False


@dataclass(frozen=True)
class ShapeSpec:
    """The fields of one response/URC shape (or one variant of it)."""

    fields: tuple[str, ...]
    required: int  # how many leading fields must be present
    payload: Optional[PayloadSpec] = None
    unterminated: bool = False


@dataclass(frozen=True)
class FrameSpec:
    """A response or URC prefix such as "+MHTTPURC"."""

    name: str
    unsolicited: bool
    shape: Optional[ShapeSpec] = None
    variants: dict[str, ShapeSpec] = field(default_factory=dict)
    bare: Optional[str] = None
    closed_by: tuple[str, ...] = ()
    next_line: bool = False

    def shapes(self) -> list[tuple[Optional[str], ShapeSpec]]:
        if self.variants:
            return list(self.variants.items())
        return [(None, self.shape)] if self.shape else []


@dataclass(frozen=True)
class ErrorSpec:
    token: str
    text: str
    kind: ErrorKind


@dataclass(frozen=True)
class ModelProfile:
    name: str
    data: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass
class Dialect:
    name: str
    title: str
    manual: str
    line_max: int
    payload_max: int
    prompt: str
    enums: dict[str, dict[str, str]]
    commands: dict[str, CommandSpec]
    frames: dict[str, FrameSpec]
    lines: tuple[str, ...]
    final: dict[str, str]
    sync_errors: dict[str, ErrorSpec]
    async_errors: dict[str, ErrorSpec]
    report: dict[str, dict[str, str]]
    models: dict[str, ModelProfile]
    default_model: Optional[str]
    timeouts: dict[str, float] = field(default_factory=dict)
    meanings: dict[str, EnumMeanings] = field(default_factory=dict)
    families: Families = field(default_factory=Families)

    def command(self, name: str) -> Optional[CommandSpec]:
        return self.commands.get(name.upper())

    def means(self, enum: str) -> EnumMeanings:
        """What the values of enum `enum` mean in the model (bridge/at/meaning.py)."""
        found = self.meanings.get(enum)
        if found is None:
            raise DialectError(f"dialects/{self.name}.yaml: enums.{enum}: no such enum, or none of its values says what it `means`")
        return found

    def model(self, name: Optional[str] = None) -> ModelProfile:
        key = name or self.default_model
        if key not in self.models:
            raise DialectError(f"{self.name}: unknown model {key!r}; known: {', '.join(self.models)}")
        return self.models[key]

    def report_token(self, channel: str, kind: ErrorKind) -> str:
        """The token this dialect uses to report `kind` on `channel` ("sync" or "async")."""
        table = self.report[channel]
        return table.get(kind.value, table["default"])

    def error_kind(self, channel: str, token: str) -> ErrorKind:
        table = self.sync_errors if channel == "sync" else self.async_errors
        spec = table.get(token)
        return spec.kind if spec else ErrorKind.UNKNOWN


# ---- validation helpers ----------------------------------------------------------


class _Ctx:
    def __init__(self, file: str):
        self.file = file

    def fail(self, path: str, message: str) -> DialectError:
        return DialectError(f"{self.file}: {path}: {message}")

    def mapping(self, node: Any, path: str, required: bool = True) -> dict:
        if node is None and not required:
            return {}
        if not isinstance(node, dict):
            raise self.fail(path, f"expected a mapping, got {type(node).__name__}")
        for key in node:
            if not isinstance(key, str):
                raise self.fail(path, f"key {key!r} must be a quoted string (YAML read it as {type(key).__name__})")
        return node

    def text(self, node: Any, path: str, required: bool = True) -> Optional[str]:
        if node is None and not required:
            return None
        if not isinstance(node, str):
            raise self.fail(path, f"expected a quoted string, got {type(node).__name__} {node!r}")
        return node

    def number(self, node: Any, path: str, required: bool = True) -> Optional[float]:
        if node is None and not required:
            return None
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            raise self.fail(path, f"expected a number, got {node!r}")
        return node

    def strings(self, node: Any, path: str) -> tuple[str, ...]:
        if node is None:
            return ()
        if not isinstance(node, list):
            raise self.fail(path, "expected a list")
        return tuple(self.text(item, f"{path}[{i}]") for i, item in enumerate(node))  # type: ignore[misc]

    def string_table(self, node: Any, path: str) -> dict[str, str]:
        table = self.mapping(node, path, required=False)
        return {key: str(self.text(value, f"{path}.{key}")) for key, value in table.items()}


def _param(ctx: _Ctx, node: Any, path: str, enums: dict[str, dict[str, str]]) -> ParamSpec:
    node = ctx.mapping(node, path)
    name = ctx.text(node.get("name"), f"{path}.name")
    ptype = node.get("type", "string")
    if ptype not in _PARAM_TYPES:
        raise ctx.fail(f"{path}.type", f"must be one of {_PARAM_TYPES}, got {ptype!r}")
    quoted = node.get("quoted", "optional")
    if quoted not in _QUOTED:
        raise ctx.fail(f"{path}.quoted", f"must be one of {_QUOTED}, got {quoted!r}")
    bounds = node.get("range")
    if bounds is not None:
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)):
            raise ctx.fail(f"{path}.range", f"must be [low, high] integers, got {bounds!r}")
        if bounds[0] > bounds[1]:
            raise ctx.fail(f"{path}.range", f"low {bounds[0]} is above high {bounds[1]}")
    values = _values(ctx, node, path, enums)
    default = node.get("default")
    if default is not None and not isinstance(default, str):
        raise ctx.fail(f"{path}.default", f"must be a quoted string, got {default!r}")
    max_len = ctx.number(node.get("max_len"), f"{path}.max_len", required=False)
    return ParamSpec(
        name=str(name), type=ptype, quoted=quoted, optional=bool(node.get("optional", False)),
        range=tuple(bounds) if bounds else None, max_len=int(max_len) if max_len is not None else None,
        default=default, values=values, text=str(node.get("text", "")), enum=node.get("enum"),
    )


def _values(ctx: _Ctx, node: dict, path: str, enums: dict[str, dict[str, str]]) -> dict[str, str]:
    if "enum" in node:
        enum_name = node["enum"]
        if enum_name not in enums:
            raise ctx.fail(f"{path}.enum", f"no enum named {enum_name!r} under `enums`")
        return enums[enum_name]
    raw = ctx.mapping(node.get("values"), f"{path}.values", required=False)
    values = {}
    for key, value in raw.items():
        if isinstance(value, dict):  # {text: ..., text_zh: ...}
            value = value.get("text", "")
        values[key] = str(value)
    return values


def _params(ctx: _Ctx, node: Any, path: str, enums: dict[str, dict[str, str]]) -> tuple[ParamSpec, ...]:
    if node is None:
        return ()
    if not isinstance(node, list):
        raise ctx.fail(path, "expected a list of parameters")
    return tuple(_param(ctx, item, f"{path}[{i}]", enums) for i, item in enumerate(node))


def _data_mode(ctx: _Ctx, node: Any, path: str, params: tuple[ParamSpec, ...]) -> Optional[DataModeSpec]:
    if node is None:
        return None
    node = ctx.mapping(node, path)
    names = {p.name for p in params}
    when = ctx.mapping(node.get("when"), f"{path}.when", required=False)
    spec = DataModeSpec(
        when_param=when.get("param"), when_in=ctx.strings(when.get("in"), f"{path}.when.in"),
        unless_param=node.get("unless_param"), length_param=node.get("length_param"),
        ctrl_z=bool(node.get("ctrl_z", True)), max_len=int(ctx.number(node.get("max_len", 4096), f"{path}.max_len") or 0),
    )
    for key in ("when_param", "unless_param", "length_param"):
        value = getattr(spec, key)
        if value is not None and value not in names:
            raise ctx.fail(path, f"{key.replace('_param', '')} names parameter {value!r}, which the form does not declare")
    return spec


def _command(ctx: _Ctx, name: str, node: Any, path: str, enums: dict[str, dict[str, str]]) -> CommandSpec:
    node = ctx.mapping(node, path)
    forms_node = ctx.mapping(node.get("forms"), f"{path}.forms")
    if not forms_node:
        raise ctx.fail(f"{path}.forms", "declares no form")
    forms = {}
    for form_name, form in forms_node.items():
        fpath = f"{path}.forms.{form_name}"
        if form_name not in _FORMS:
            raise ctx.fail(fpath, f"unknown form; use one of {_FORMS}")
        form = ctx.mapping(form, fpath, required=False)
        params = _params(ctx, form.get("params"), f"{fpath}.params", enums)
        response = form.get("response")
        responses = ctx.strings(form.get("responses"), f"{fpath}.responses")
        forms[form_name] = FormSpec(
            name=form_name, params=params,
            response=str(response) if response is not None else None, responses=responses,
            answer=_answer(ctx, form.get("answer"), f"{fpath}.answer", responses),
            data_mode=_data_mode(ctx, form.get("data_mode"), f"{fpath}.data_mode", params),
        )
    settings = {}
    for setting, snode in ctx.mapping(node.get("settings"), f"{path}.settings", required=False).items():
        spath = f"{path}.settings.{setting}"
        snode = ctx.mapping(snode, spath, required=False)
        settings[setting] = _params(ctx, snode.get("params"), f"{spath}.params", enums)
    timeout = ctx.number(node.get("timeout"), f"{path}.timeout", required=False)
    return CommandSpec(
        name=name, title=str(node.get("title", "")), section=str(node.get("section", "")),
        forms=forms, timeout=timeout, settings=settings,
        models=ctx.strings(node.get("models"), f"{path}.models"), raw=node,
        error_means=ctx.text(node.get("error_means"), f"{path}.error_means", required=False),
    )


def _answer(ctx: _Ctx, node: Any, path: str, responses: tuple[str, ...]) -> Optional[str]:
    """An exact answer: lines that each start with a prefix the form declares under `responses`
    (prose goes under `response`)."""
    text = ctx.text(node, path, required=False)
    for line in filter(None, (text or "").split("\n")):
        prefix = line.partition(":")[0]
        if prefix not in responses or ":" not in line:
            raise ctx.fail(path, f"line {line!r} does not start with a prefix of `responses` ({', '.join(responses) or 'none'}) and ':'")
    return text


def _shape(ctx: _Ctx, node: Any, path: str) -> ShapeSpec:
    node = ctx.mapping(node, path)
    raw_fields = ctx.strings(node.get("fields"), f"{path}.fields")
    names = tuple(f.rstrip("?") for f in raw_fields)
    required = 0
    for i, f in enumerate(raw_fields):
        if f.endswith("?"):
            if any(not later.endswith("?") for later in raw_fields[i:]):
                raise ctx.fail(f"{path}.fields", "optional fields (ending in '?') must come last")
            break
        required = i + 1
    payload = None
    if node.get("payload") is not None:
        pnode = ctx.mapping(node["payload"], f"{path}.payload")
        payload = PayloadSpec(
            field=str(ctx.text(pnode.get("field"), f"{path}.payload.field")),
            length=str(ctx.text(pnode.get("length"), f"{path}.payload.length")),
            hex=bool(pnode.get("hex", False)),
        )
        if payload.field not in names or payload.length not in names:
            raise ctx.fail(f"{path}.payload", "field and length must name declared fields")
        if names[-1] != payload.field:
            raise ctx.fail(f"{path}.payload", f"the payload field {payload.field!r} must be the last field")
        if names.index(payload.length) >= names.index(payload.field):
            raise ctx.fail(f"{path}.payload", "the length field must come before the payload")
    return ShapeSpec(fields=names, required=required, payload=payload, unterminated=bool(node.get("unterminated", False)))


def _frame(ctx: _Ctx, name: str, node: Any, path: str, unsolicited: bool) -> FrameSpec:
    if not name.startswith("+") and not name[:1].isalpha():
        raise ctx.fail(path, "a response/URC prefix starts with '+' or a letter")
    node = ctx.mapping(node, path, required=False)
    variants = {key: _shape(ctx, value, f"{path}.variants.{key}") for key, value in ctx.mapping(node.get("variants"), f"{path}.variants", required=False).items()}
    shape = _shape(ctx, node, path) if "fields" in node else None
    bare = node.get("bare")
    if bare not in (None, "raw_http"):
        raise ctx.fail(f"{path}.bare", f"only 'raw_http' is known, got {bare!r}")
    return FrameSpec(
        name=name, unsolicited=unsolicited, shape=shape, variants=variants, bare=bare,
        closed_by=ctx.strings(node.get("closed_by"), f"{path}.closed_by"), next_line=bool(node.get("next_line", False)),
    )


def _errors(ctx: _Ctx, node: Any, path: str, channel: str) -> dict[str, ErrorSpec]:
    table = {}
    for token, spec in ctx.mapping(node, path, required=False).items():
        spec = ctx.mapping(spec, f"{path}.{token}")
        kind = spec.get("kind")
        if kind not in _KINDS:
            raise ctx.fail(f"{path}.{token}.kind", f"{kind!r} is not an error kind; known: {', '.join(sorted(_KINDS))}")
        table[token] = ErrorSpec(token=token, text=str(spec.get("text", "")), kind=ErrorKind(kind))
    return table


def _report(ctx: _Ctx, node: Any, path: str, sync: dict, asyn: dict) -> dict[str, dict[str, str]]:
    node = ctx.mapping(node, path)
    out = {}
    for channel, known in (("sync", sync), ("async", asyn)):
        table = ctx.string_table(node.get(channel), f"{path}.{channel}")
        if "default" not in table:
            raise ctx.fail(f"{path}.{channel}", "needs a `default` token for kinds not listed")
        for kind, token in table.items():
            if kind != "default" and kind not in _KINDS:
                raise ctx.fail(f"{path}.{channel}.{kind}", "is not an error kind")
            if token not in known:
                raise ctx.fail(f"{path}.{channel}.{kind}", f"token {token!r} is not declared under errors.{channel}")
        out[channel] = table
    return out


def _models(ctx: _Ctx, node: Any, path: str, commands: dict[str, CommandSpec]) -> tuple[dict[str, ModelProfile], Optional[str]]:
    node = ctx.mapping(node, path, required=False)
    profiles = {}
    for model, data in ctx.mapping(node.get("profiles"), f"{path}.profiles", required=False).items():
        mpath = f"{path}.profiles.{model}"
        data = ctx.mapping(data, mpath)
        for missing in ctx.strings(data.get("commands_missing"), f"{mpath}.commands_missing"):
            if missing not in commands:
                raise ctx.fail(f"{mpath}.commands_missing", f"names {missing!r}, which is not a declared command")
        instances = data.get("instances")
        if instances is not None and (isinstance(instances, bool) or not isinstance(instances, int) or instances < 1):
            raise ctx.fail(f"{mpath}.instances", f"must be a positive integer, got {instances!r}")
        profiles[model] = ModelProfile(model, data)
    default = node.get("default")
    if profiles and default not in profiles:
        raise ctx.fail(f"{path}.default", f"{default!r} is not one of the profiles")
    return profiles, default


# ---- loading -----------------------------------------------------------------------


# safe_load's own loader (SafeLoader's constructor and resolver), its parser in C when PyYAML has
# libyaml: the dialect files load in 15 ms instead of 135, at every start of atbridge.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(name: str) -> tuple[str, Any]:
    file = f"dialects/{name}.yaml"
    try:
        text = resources.files("bridge.dialects").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialectError(f"{file}: no such dialect; known: {', '.join(available())}") from None
    try:
        return file, yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, as safe_load's
    except yaml.YAMLError as exc:
        raise DialectError(f"{file}: not valid YAML: {exc}") from None


def available() -> list[str]:
    """Names of the shipped dialects (common.yaml is not a dialect of its own)."""
    names = [p.name[:-5] for p in resources.files("bridge.dialects").iterdir() if p.name.endswith(".yaml")]
    return sorted(n for n in names if n != COMMON)


def parse(name: str, data: Any, file: str) -> Dialect:
    ctx = _Ctx(file)
    root = ctx.mapping(data, "(top)")
    enums, meanings = {}, {}
    for key, value in ctx.mapping(root.get("enums"), "enums", required=False).items():
        enums[key], means = parse_enum(ctx, value, f"enums.{key}")
        if means:
            meanings[key] = EnumMeanings(f"{file}: enums.{key}", means)
    commands = {key.upper(): _command(ctx, key.upper(), value, f"commands.{key}", enums)
                for key, value in ctx.mapping(root.get("commands"), "commands", required=False).items()}
    frames = {}
    for section, unsolicited in (("responses", False), ("urcs", True)):
        for key, value in ctx.mapping(root.get(section), section, required=False).items():
            if key in frames and not unsolicited:
                raise ctx.fail(f"{section}.{key}", "declared twice")
            frames[key] = _frame(ctx, key, value, f"{section}.{key}", unsolicited)
    errors = ctx.mapping(root.get("errors"), "errors", required=False)
    final = ctx.string_table(errors.get("final"), "errors.final")
    sync = _errors(ctx, errors.get("sync"), "errors.sync", "sync")
    asyn = _errors(ctx, errors.get("async"), "errors.async", "async")
    report = _report(ctx, errors["report"], "errors.report", sync, asyn) if "report" in errors else {}
    models, default_model = _models(ctx, root.get("models"), "models", commands)
    timeouts = {k: float(ctx.number(v, f"timeouts.{k}") or 0) for k, v in ctx.mapping(root.get("timeouts"), "timeouts", required=False).items()}
    families = parse_families(ctx, root.get("families"), "families", {"commands": commands, "lines": frames, "tokens": {**sync, **asyn}})
    for key, spec in commands.items():
        if spec.error_means is not None and spec.error_means not in sync and spec.error_means not in asyn:
            raise ctx.fail(f"commands.{key}.error_means", f"{spec.error_means!r} is not declared under errors.sync or errors.async")
    return Dialect(
        name=name, title=str(root.get("title", name)), manual=str(root.get("manual", "")),
        line_max=int(root.get("line_max", 8192)), payload_max=int(root.get("payload_max", 1 << 20)),
        prompt=str(root.get("prompt", ">")), enums=enums, commands=commands, frames=frames,
        lines=ctx.strings(root.get("lines"), "lines"), final=final, sync_errors=sync, async_errors=asyn,
        report=report, models=models, default_model=default_model, timeouts=timeouts,
        meanings=meanings, families=families,
    )


_FINAL_KEYS = ("ok", "error", "cme")


def _with_common(dialect: Dialect, common: Dialect) -> Dialect:
    """Commands, frames, lines, enums and final results of common.yaml, under the dialect's own."""
    dialect.commands = {**common.commands, **dialect.commands}
    dialect.frames = {**common.frames, **dialect.frames}
    dialect.lines = tuple(dict.fromkeys(common.lines + dialect.lines))
    dialect.final = {**common.final, **dialect.final}
    dialect.enums = {**common.enums, **dialect.enums}
    dialect.meanings = {**common.meanings, **dialect.meanings}
    missing = [key for key in _FINAL_KEYS if key not in dialect.final]
    if missing:
        raise DialectError(f"dialects/{dialect.name}.yaml: errors.final: missing {missing} (nor in common.yaml)")
    return dialect


@functools.lru_cache(maxsize=None)
def load(name: str) -> Dialect:
    """The dialect `name`, validated, with the common basics merged in.  Raises DialectError."""
    name = name.lower()
    file, data = _read(name)
    dialect = parse(name, data, file)
    if name == COMMON:
        return dialect
    if not dialect.report:
        raise DialectError(f"{file}: errors.report: missing; every dialect must say how it reports each error kind")
    common_file, common_data = _read(COMMON)
    return _with_common(dialect, parse(COMMON, common_data, common_file))


def load_all() -> dict[str, Dialect]:
    return {name: load(name) for name in available()}
