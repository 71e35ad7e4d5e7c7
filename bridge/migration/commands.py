"""`atbridge check`: the migration report of a capture or of firmware sources."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..dialect import DialectError
from .captures import collect
from .check import NOT_CARRIED, UNKNOWN, check
from .report import FORMATS, render

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
