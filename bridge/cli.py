"""The `atbridge` command line: a thin layer over the library."""
from __future__ import annotations

import sys

import click

from . import dialect as dialect_files
from .decode import decode_stream
from .describe import describe
from .frames import to_json


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="atbridge")
def main() -> None:
    """Translate between cellular modules' HTTP AT-command dialects.

    Dialects: onemo (China Mobile ML307R, ML302, ML305, MN316 ...) and neoway (N58/N720).
    """


@main.command("dialects")
@click.argument("name", required=False)
def dialects_command(name: str | None) -> None:
    """List the dialects, or describe dialect NAME: commands, URCs, error codes, models."""
    try:
        if name is None:
            for known in dialect_files.available():
                spec = dialect_files.load(known)
                click.echo(f"{known:<8} {spec.title}  ({len(spec.commands)} commands, {len(spec.models)} models)")
            return
        for line in describe(dialect_files.load(name)):
            click.echo(line)
    except dialect_files.DialectError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("decode")
@click.option("--dialect", "dialect", required=True, help="onemo or neoway")
@click.option("--from", "source", type=click.Choice(["host", "module"]), required=True,
              help="who wrote the bytes: the host (commands) or the module (responses, URCs)")
@click.argument("capture", type=click.File("rb"), default="-")
def decode_command(dialect: str, source: str, capture) -> None:
    """Print the frames of a captured byte stream (CAPTURE, or - for stdin) as JSON lines."""
    try:
        for frame in decode_stream(capture, dialect, source):
            click.echo(to_json(frame))
    except dialect_files.DialectError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
