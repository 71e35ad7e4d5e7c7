"""Readable text about a dialect, for `atbridge dialects NAME`."""
from __future__ import annotations

from typing import Iterator

from bridge.at.dialect import COMMON, CommandSpec, Dialect, FrameSpec, ParamSpec, load


def describe(dialect: Dialect) -> Iterator[str]:
    yield f"{dialect.name}: {dialect.title}"
    if dialect.manual:
        yield f"  manual: {dialect.manual}"
    yield ""
    basics = set(load(COMMON).commands)
    yield "Commands"
    for spec in sorted(dialect.commands.values(), key=lambda c: (c.name in basics, c.section, c.name)):
        if spec.name in basics and spec.name == min(basics & set(dialect.commands)):
            yield ""
            yield "Basic commands (3GPP TS 27.007 / V.25ter, answered by every module)"
        yield from _command(spec)
    yield ""
    yield "Responses and URCs"
    for frame in dialect.frames.values():
        yield from _frame(frame)
    yield ""
    yield "Error codes"
    for channel, table in (("sync", dialect.sync_errors), ("async", dialect.async_errors)):
        for token, spec in table.items():
            yield f"  [{channel}] {token:<40} {spec.kind.value:<20} {spec.text}"
    yield ""
    yield "Model profiles"
    for name, profile in dialect.models.items():
        default = " (default)" if name == dialect.default_model else ""
        facts = ", ".join(f"{k}={v}" for k, v in profile.data.items() if k not in ("text", "notes"))
        yield f"  {name}{default}: {facts}"


def _command(spec: CommandSpec) -> Iterator[str]:
    section = f" [{spec.section}]" if spec.section else ""
    timeout = f" (timeout {spec.timeout:g} s)" if spec.timeout else ""
    yield f"  AT+{spec.name}{section} {spec.title}{timeout}".replace("AT+E ", "ATE ").replace("AT+I ", "ATI ")
    for form in spec.forms.values():
        yield f"    {form.name:<8} {_syntax(spec, form.name, form.params)}"
        for param in form.params:
            yield f"             {_param(param)}"
        if form.data_mode:
            mode = form.data_mode
            ends = f"after <{mode.length_param}> bytes" if mode.length_param else ""
            ends += (" or " if ends else "") + "at Ctrl-Z" if mode.ctrl_z else ""
            yield f"             data mode: prompt '>', data ends {ends} (max {mode.max_len}), ESC cancels"
    for setting, params in spec.settings.items():
        yield f"    setting \"{setting}\": " + ", ".join(f"<{p.name}>" for p in params)
        for param in params:
            yield f"             {_param(param)}"


def _syntax(spec: CommandSpec, form: str, params: tuple[ParamSpec, ...]) -> str:
    base = f"AT+{spec.name}"
    if form == "test":
        return base + "=?"
    if form == "read":
        return base + "?"
    if form == "execute":
        return base
    parts = [f"[<{p.name}>]" if p.optional else f"<{p.name}>" for p in params]
    return base + "=" + ",".join(parts)


def _param(param: ParamSpec) -> str:
    bits = [f"<{param.name}> {param.type}"]
    if param.range:
        bits.append(f"{param.range[0]}..{param.range[1]}")
    if param.max_len:
        bits.append(f"max {param.max_len} chars")
    if param.default is not None:
        bits.append(f"default {param.default}")
    if param.values:
        bits.append("; ".join(f"{k}={v}" for k, v in param.values.items()))
    if param.text:
        bits.append(param.text)
    return " | ".join(bits)


def _frame(frame: FrameSpec) -> Iterator[str]:
    kind = "URC" if frame.unsolicited else "response"
    for variant, shape in frame.shapes() or [(None, None)]:
        label = f'{frame.name}: "{variant}"' if variant else frame.name
        fields = ",".join(f"<{f}>" for f in shape.fields) if shape else ""
        framing = ""
        if shape and shape.payload:
            framing = f"  <{shape.payload.field}> is <{shape.payload.length}> bytes" + (" (or 2x hex digits)" if shape.payload.hex else "")
        if shape and shape.unterminated:
            framing = "  may arrive without CR LF"
        yield f"  {kind:<8} {label} {fields}{framing}"
    if frame.bare:
        yield f"  {kind:<8} {frame.name}: (bare) a raw HTTP response follows; ends by HTTP framing or {', '.join(frame.closed_by)}"
