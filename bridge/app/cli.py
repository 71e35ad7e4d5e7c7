"""The `atbridge` command line: a thin layer over the library."""
from __future__ import annotations

import sys

import click

from bridge.at import dialect as dialect_files
from bridge.app.decode import decode_stream
from bridge.app.describe import describe
from bridge.at.frames import to_json


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
@click.option("--dialect", "dialect", required=True, help="onemo or neoway (a bridge trace: the firmware's dialect)")
@click.option("--from", "source", type=click.Choice(["host", "module"]), default=None,
              help="raw bytes: who wrote them, the host (commands) or the module (responses, URCs)")
@click.option("--module-dialect", default=None,
              help="a bridge trace: the module's dialect (default: the other one)")
@click.argument("capture", type=click.File("rb"), default="-")
def decode_command(dialect: str, source: str | None, module_dialect: str | None, capture) -> None:
    """Print the frames of CAPTURE (or - for stdin) as JSON lines.

    CAPTURE is raw bytes (give --from), or a tap capture or bridge trace (JSON lines): then both
    sides' frames and the model events are printed in time order.
    """
    from bridge.app.migration.timeline import is_records, timeline

    head = capture.peek(64)[:64] if hasattr(capture, "peek") else b""
    try:
        if is_records(head):
            for line in timeline(capture, dialect, module_dialect):
                click.echo(line)
            return
        if source is None:
            raise click.UsageError("raw bytes: say who wrote them with --from host|module")
        for frame in decode_stream(capture, dialect, source):
            click.echo(to_json(frame))
    except (dialect_files.DialectError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command("emulate")
@click.argument("dialect", type=click.Choice(["onemo", "neoway"]))
@click.option("--port", "port_spec", required=True, metavar="PORT",
              help="pty:PATH (a pseudo-terminal linked at PATH) or any pyserial URL")
@click.option("--model", default=None, help="module model (default: the dialect's default, e.g. ML307R, N58)")
@click.option("--fs-root", type=click.Path(file_okay=False), default=None,
              help="directory holding the module's file system (default: a temporary directory)")
@click.option("--hosts", "hosts_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="hosts file ('127.0.0.1 name ...') the emulator resolves names with; no DNS query is made")
@click.option("--baud", default=115200, show_default=True, help="baud rate for serial devices")
@click.option("--link", type=click.Choice(["up", "down"]), default=None,
              help="neoway only: the data link's state at power-on (default: down, like a freshly powered N58; "
                   "firmware brings it up with AT+XIIC=1). 'up': AT+XIIC? reports an address at once")
@click.option("--allow-net", "allow_net", multiple=True, metavar="CIDR",
              help="the only networks the emulator may connect to, e.g. 127.0.0.0/8 (repeatable; default: any "
                   "address the hosts map gives); others fail as a refused connection")
def emulate_command(dialect: str, port_spec: str, model: str | None, fs_root: str | None, hosts_file: str | None,
                    baud: int, link: str | None, allow_net: tuple[str, ...]) -> None:
    """Emulate a DIALECT module on PORT, making real HTTP(S) requests.

    \b
    Example:
      atbridge emulate onemo --port pty:/tmp/onemo
      picocom /tmp/onemo      (or any terminal; type AT+MHTTPCREATE="http://127.0.0.1:8080")
      atbridge emulate neoway --port pty:/tmp/n58 --link up
    """
    from bridge.registry import make_module_side
    from bridge.io.emulator import ModuleRunner, run_until_signalled
    from bridge.device.hosts import HostsResolver
    from bridge.device.fs import ModuleFileSystem
    from bridge.net import NetworkExecutor
    from bridge.io.ports import open_port

    try:
        resolver = HostsResolver.from_file(hosts_file) if hosts_file else HostsResolver({})
        fs = ModuleFileSystem(fs_root)
        side = make_module_side(dialect, fs, model, resolver=resolver, **_side_options(dialect, link))
        executor = NetworkExecutor(resolver, fs, allow_net=list(allow_net) or None)
        port = open_port(port_spec, baud)
    except (dialect_files.DialectError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"atbridge: emulating {dialect} {side.profile.name} on {port.name}; file system at {fs.root}; Ctrl-C stops", err=True)
    try:
        run_until_signalled(ModuleRunner(side, port, executor.single))
    finally:
        executor.close()
        fs.close()
    click.echo("atbridge: emulator stopped", err=True)


def _side_options(dialect: str, link: str | None) -> dict:
    """Constructor keywords of the emulated module side for the command-line options given."""
    if link is None:
        return {}
    if dialect != "neoway":
        raise click.UsageError("--link applies to the neoway emulator only (a OneMO module brings its link up with AT+MIPCALL)")
    return {"link_up": link == "up"}


@main.command("bridge")
@click.option("--host", "host_spec", required=True, metavar="PORT", help="the port the host firmware is on: pty:PATH or a pyserial URL")
@click.option("--host-dialect", required=True, type=click.Choice(["onemo", "neoway"]), help="the dialect the firmware speaks")
@click.option("--module", "module_spec", required=True, metavar="PORT", help="the port the module is on: a device, a pyserial URL or pty:PATH")
@click.option("--module-dialect", required=True, type=click.Choice(["onemo", "neoway"]), help="the dialect the module speaks")
@click.option("--host-model", default=None, help="the model the firmware was written for (default: the dialect's default)")
@click.option("--module-model", default=None, help="the module's model (default: the dialect's default)")
@click.option("--baud", default=115200, show_default=True, help="baud rate of serial devices")
@click.option("--trace", "trace_file", type=click.File("wb"), default=None, help="write JSON lines of both sides' bytes and the model events here")
@click.option("--trace-secrets", is_flag=True, help="do not mask Authorization, api-key and similar header values in the trace")
@click.option("--fs-root", type=click.Path(file_okay=False), default=None,
              help="directory of the bridge's own file system, created if missing and kept: the files it holds for "
                   "the firmware under the module paths the firmware names -- OneMO AT+MHTTPDLFILE targets "
                   "(relative names under etc/http_file/) and AT+MSSLCERTWR certificates when the module is a Neoway; Neoway AT+HTTPGET downloads "
                   "(http/download.bin, https/download.bin) and the certificate/key files AT+HTTPSCFG names when "
                   "the module is a OneMO (default: a temporary directory, removed when the bridge stops)")
def bridge_command(host_spec: str, host_dialect: str, module_spec: str, module_dialect: str, host_model: str | None,
                   module_model: str | None, baud: int, trace_file, trace_secrets: bool, fs_root: str | None) -> None:
    """Translate between firmware on --host and a module on --module.

    \b
    Example (firmware written for a Neoway N58, module an ML307R on /dev/ttyUSB0):
      atbridge bridge --host pty:/tmp/n58 --host-dialect neoway --module /dev/ttyUSB0 --module-dialect onemo --fs-root ./n58-files
    """
    from bridge.registry import make_host_side
    from bridge.bridging.engine import BridgeEngine
    from bridge.io.bridge import BridgeFileSystem, BridgeRunner, run_until_signalled
    from bridge.bridging.trace import Trace
    from bridge.registry import make_module_side
    from bridge.io.ports import open_port

    def announce(module_path: str, host_path) -> None:
        click.echo(f"atbridge: file {module_path} -> {host_path}", err=True)

    try:
        fs = BridgeFileSystem(fs_root, announce)
        module_side = make_module_side(host_dialect, fs, host_model)
        host_side = make_host_side(module_dialect, module_model)
        host_port = open_port(host_spec, baud)
        module_port = open_port(module_spec, baud)
    except (dialect_files.DialectError, OSError, ValueError, NotImplementedError) as exc:
        raise click.ClickException(str(exc)) from None
    engine = BridgeEngine(module_side, host_side, Trace(trace_file, secrets=trace_secrets))
    kept = "" if fs_root else ", removed on exit"
    click.echo(f"atbridge: {host_dialect} host on {host_port.name} <-> {module_dialect} module on {module_port.name}; "
               f"bridge file system at {fs.root}{kept}; Ctrl-C stops", err=True)
    try:
        run_until_signalled(BridgeRunner(engine, host_port, module_port,
                                         reopen_host=lambda: open_port(host_spec, baud),
                                         reopen_module=lambda: open_port(module_spec, baud),
                                         new_host_side=lambda: make_host_side(module_dialect, module_model)))
    finally:
        engine.trace.close()
        fs.close()
    click.echo("atbridge: bridge stopped", err=True)


@main.command("request")
@click.option("--dialect", required=True, type=click.Choice(["onemo", "neoway"]), help="the module's dialect")
@click.option("--port", required=True, metavar="PORT", help="the module's serial device or pyserial URL (e.g. /tmp/onemo for an emulator)")
@click.option("-X", "--request", "method", default=None, help="GET, POST, PUT, DELETE or HEAD (default GET, POST with -d)")
@click.option("-H", "--header", "headers", multiple=True, help="a request header 'Name: value' (repeatable)")
@click.option("-d", "--data", default=None, help="request body, or @FILE for a file's bytes")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="write the body here (default: standard output)")
@click.option("-i", "--include", is_flag=True, help="write the response head before the body")
@click.option("--model", default=None, help="the module's model (default: the dialect's default)")
@click.option("--baud", default=115200, show_default=True)
@click.option("--cacert", type=click.Path(dir_okay=False, exists=True), default=None,
              help="https: verify the server with this CA (PEM), which is written to the module")
@click.option("-k", "--insecure", is_flag=True, help="https: do not verify the server")
@click.argument("url")
def request_command(dialect: str, port: str, method: str | None, headers: tuple[str, ...], data: str | None, output,
                    include: bool, model: str | None, baud: int, cacert: str | None, insecure: bool, url: str) -> None:
    """Send one HTTP request through the module on PORT, like curl.

    \b
    HTTPS is verified, as with curl: --cacert FILE, or -k to skip verification.

    \b
    Example:
      atbridge request --dialect onemo --port /tmp/onemo http://127.0.0.1:8080/get
      atbridge request --dialect onemo --port /tmp/onemo --cacert ca.pem https://127.0.0.1:8443/get
      atbridge request --dialect neoway --port /dev/ttyUSB0 -X PUT -H 'Content-Type: text/plain' -d @note.txt http://example.com/notes/1
    """
    from bridge.io.client import ModuleError
    from bridge.app.request import body_from, parse_headers, run_request, tls_for

    try:
        tls = tls_for(url, cacert, insecure)
        body = body_from(data)
        status = run_request(port, dialect, method or ("POST" if data is not None else "GET"), url,
                             parse_headers(headers), body, output, model, include, baud, tls)
    except ModuleError as exc:
        raise click.ClickException(f"request failed: {exc.kind.value}: {exc.detail}") from None
    except (OSError, ValueError, NotImplementedError) as exc:
        raise click.ClickException(str(exc)) from None
    if status >= 400:
        click.echo(f"atbridge: HTTP {status}", err=True)
        sys.exit(22)  # like curl --fail


@main.command("demo")
@click.option("--quiet", is_flag=True, help="print only the steps and the summary, not the conversations")
def demo_command(quiet: bool) -> None:
    """Run the bridge in both directions on virtual ports, with no hardware.

    A local HTTP(S) server, an emulated module, the bridge and scripted firmware: GET, HEAD, a
    typed POST, a raw PUT, a ranged GET and an HTTPS GET.  Prints both sides of every
    conversation and a pass/fail summary; exits 0 only if everything passed.
    """
    from bridge.app.demo.run import run_demo

    if not run_demo(click.echo, verbose=not quiet):
        sys.exit(1)


def _migration_commands() -> None:
    from bridge.app.migration.commands import check_command, replay_command, tap_command

    for command in (tap_command, check_command, replay_command):
        main.add_command(command)


_migration_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
