"""`atbridge check`: the migration report of a capture or of firmware sources."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from bridge.at.dialect import DialectError
from bridge.app.migration.captures import collect
from bridge.app.migration.check import NOT_CARRIED, UNKNOWN, check
from bridge.app.migration.report import FORMATS, render

DIALECTS = ("onemo", "neoway")


@click.command("check")
@click.argument("capture", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--from", "source", type=click.Choice(DIALECTS), required=True, help="the dialect the firmware speaks")
@click.option("--to", "target", type=click.Choice(DIALECTS), required=True, help="the dialect of the module to move to")
@click.option("--source", "source_dir", type=click.Path(exists=True, path_type=Path), default=None,
              help="firmware source code (file or folder): AT command strings in C/C++/Python, %d/%s included")
@click.option("--module-bytes", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="with a raw CAPTURE: the raw bytes the module wrote back (for URCs and errors)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the report here instead of standard output")
@click.option("--strict", is_flag=True, help="exit 1 when a form is not carried or unknown")
def check_command(capture: Optional[Path], source: str, target: str, source_dir: Optional[Path],
                  module_bytes: Optional[Path], fmt: str, output: Optional[Path], strict: bool) -> None:
    """Report which of the firmware's command forms, URCs and errors the bridge carries to TARGET.

    CAPTURE is a tap capture or bridge trace (JSON lines), or the raw bytes the firmware wrote.
    Statuses come from the same data as the README's compatibility tables.
    """
    if capture is None and source_dir is None:
        raise click.UsageError("give a CAPTURE, --source DIR, or both")
    if source == target:
        raise click.UsageError("--from and --to name the same dialect: nothing to translate")
    try:
        report = check(collect(capture, source_dir, source, module_bytes), source, target)
    except (DialectError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    text = render(report, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"report written to {output}: {report.verdict}", err=True)
    if strict and (report.count(NOT_CARRIED) or report.count(UNKNOWN)):
        raise SystemExit(1)


@click.command("tap")
@click.option("--host", "host_spec", required=True, metavar="PORT", help="the port the firmware is on: pty:PATH or a pyserial URL")
@click.option("--module", "module_spec", required=True, metavar="PORT", help="the port its current module is on")
@click.option("--dialect", type=click.Choice(DIALECTS), default=None,
              help="the dialect spoken (recorded in the first record; check and replay take it from --from)")
@click.option("-o", "--output", type=click.File("wb"), required=True, help="the capture file (JSON lines)")
@click.option("--baud", default=115200, show_default=True, help="baud rate of serial devices")
@click.option("--secrets", is_flag=True, help="do not mask credentials (Authorization, tokens, keys) in the capture")
def tap_command(host_spec: str, module_spec: str, dialect: Optional[str], output, baud: int, secrets: bool) -> None:
    """Record firmware and the module it has today: a transparent pass-through, both directions
    written with timestamps in the `bridge --trace` format.

    \b
    Example:
      atbridge tap --host pty:/tmp/fw --module /dev/ttyUSB0 --dialect neoway -o capture.jsonl
    """
    from bridge.io.bridge import BridgeRunner, run_until_signalled
    from bridge.bridging.trace import Trace
    from bridge.io.ports import open_port
    from bridge.app.migration.tap import TapEngine

    try:
        host_port, module_port = open_port(host_spec, baud), open_port(module_spec, baud)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    trace = Trace(output, secrets=secrets)
    if dialect:
        trace.event("tap", {"dialect": dialect})
    click.echo(f"atbridge: tapping {host_port.name} <-> {module_port.name} into {output.name}; Ctrl-C stops", err=True)
    run_until_signalled(BridgeRunner(TapEngine(trace), host_port, module_port))
    trace.close()
    click.echo("atbridge: tap stopped", err=True)


@click.command("replay")
@click.argument("capture", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "source", type=click.Choice(DIALECTS), required=True, help="the dialect of the captured firmware")
@click.option("--to", "target", type=click.Choice(DIALECTS), required=True, help="the dialect of the module to replay on")
@click.option("--module", "module_spec", default=None, metavar="PORT",
              help="a real module's port; without it, an emulated TARGET module is used (--emulate)")
@click.option("--emulate", is_flag=True, help="replay on an emulated module (the default)")
@click.option("--server-map", type=click.Path(exists=True, dir_okay=False), default=None,
              help="hosts file ('127.0.0.1 name ...') pointing the captured host names at local servers (emulated module)")
@click.option("--timeout", default=30.0, show_default=True, help="seconds to wait for each answer")
def replay_command(capture: Path, source: str, target: str, module_spec: Optional[str], emulate: bool,
                   server_map: Optional[str], timeout: float) -> None:
    """Send the firmware side of CAPTURE through the bridge and compare what the firmware sees now
    with what its original module said.  Exit 0 only when nothing diverged.

    What may differ (addresses, dates, instance ids, body lengths) is listed in
    bridge/migration/replay_rules.yaml.
    """
    import tempfile

    from bridge.device.hosts import HostsResolver
    from bridge.app.migration.captures import read_capture
    from bridge.app.migration.replay import replay_emulated, replay_on_port

    if module_spec and emulate:
        raise click.UsageError("--module and --emulate exclude each other")
    recorded = read_capture(capture)
    if not recorded.in_order:
        raise click.ClickException(f"{capture}: not a tap capture or bridge trace (no JSON-lines records)")
    with tempfile.TemporaryDirectory(prefix="atbridge-replay-") as workdir:
        if module_spec:
            divergences = replay_on_port(recorded, source, target, module_spec, Path(workdir), timeout=timeout)
        else:
            resolver = HostsResolver.from_file(server_map) if server_map else HostsResolver({})
            hosts = {name: resolver.resolve(name) for name in resolver.names()}
            divergences = replay_emulated(recorded, source, target, Path(workdir), hosts, timeout)
    for divergence in divergences:
        click.echo(divergence.describe())
    click.echo(f"atbridge: replay of {capture.name} ({source} firmware on {target}): "
               f"{len(divergences)} exchange(s) diverged", err=True)
    if divergences:
        raise SystemExit(1)
