"""The firmware corpus (tests/firmware/*.yaml): command sequences of public firmware, replayed
byte for byte (a) against the emulator of the firmware's dialect and (b) through `atbridge bridge`
logic to an emulator of the other dialect.  Behind both, a real loopback HTTP(S) server answers,
and what it received is checked against the script.  Format: tests/firmware/README.md."""
from __future__ import annotations

import contextlib
import os

import pytest

from support.bridged import bridged
from support.emulated import emulator
from support.firmware import Replay, RouteServer, check_received, hosts_map, load_scripts, other_dialect
from support.servers import server_context

pytestmark = pytest.mark.timeout(60)

SCRIPTS = load_scripts()
# Marks only for failures caused by product features not landed yet; strict, so each turns into a
# failure (remove the mark) once the feature lands.  FIRMWARE_KEEP_GOING=1 lists every failing step.
XFAIL: dict[tuple[str, str], str] = {}


def cases():
    for name, script in SCRIPTS:
        for mode in ("direct", "bridged"):
            reason = XFAIL.get((name, mode))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, script, mode, id=f"{name}-{mode}", marks=marks)


def test_corpus_shape():
    """At least eight scripts from at least six sources, both dialects, each naming its source
    and saying how the firmware checks answers."""
    assert len(SCRIPTS) >= 8
    assert {s["dialect"] for _, s in SCRIPTS} == {"onemo", "neoway"}
    assert len({s["source"]["repo"] for _, s in SCRIPTS}) >= 6
    for name, script in SCRIPTS:
        assert script["source"]["files"] and script["checks"].strip(), name
        assert any("send" in step and "HTTP" in step["send"] for step in script["steps"]), f"{name}: no HTTP"
        assert script["server"]["expect"], f"{name}: the server side is not checked"


@contextlib.contextmanager
def module_for(script: dict, mode: str, tmp_path):
    """The firmware's end of the port: an emulator of its dialect, or the bridge to the other."""
    dialect, hosts, model = script["dialect"], hosts_map(script), script.get("model")
    if mode == "direct":
        with emulator(dialect, tmp_path, hosts=hosts, model=model, echo=True) as (host, _runner):
            yield host.port
    else:
        with bridged(dialect, other_dialect(dialect), tmp_path, hosts=hosts, echo=True, host_model=model) as (firmware, _b, _m):
            yield firmware.port


@pytest.mark.parametrize("name,script,mode", list(cases()))
def test_firmware_replays(name, script, mode, tmp_path, ca):
    """Every step answers as the firmware requires, and the server receives exactly the requests
    the firmware meant to send."""
    tls = server_context(ca, names=tuple(script.get("hosts", [])) + ("127.0.0.1",)) if script.get("tls") else None
    variables: dict[str, str] = {}
    with RouteServer(script["server"].get("routes", []), variables, tls_context=tls) as server:
        variables["port"] = str(server.port)
        variables["ca_pem"] = ca.cert_pem.bytes().decode()  # for firmware that writes its CA to the module
        with module_for(script, mode, tmp_path) as port:
            replay = Replay(port, variables)
            try:
                replay.run(script["steps"], keep_going=os.environ.get("FIRMWARE_KEEP_GOING") == "1")
            except AssertionError as failure:
                raise AssertionError(f"{failure}\n--- conversation tail ---\n" + "\n".join(replay.log[-12:])) from None
        check_received(script["server"]["expect"], server.received, variables)


def test_the_server_check_catches_merged_header_lines():
    """The corpus would notice the header bug of the issue: two per-call headers merged into one
    line reach the server as one header, and the check refuses it."""
    from support.firmware import Received

    expected = [{"method": "POST", "path": "/post", "headers": ["User-Agent: MyCustomAgent/1.0", "mam: i am hera"]}]
    merged = Received("POST", "/post", [("Host", "httpbin.org"), ("User-Agent", "MyCustomAgent/1.0mam: i am hera")], b"")
    with pytest.raises(AssertionError, match="User-Agent"):
        check_received(expected, [merged], {})
    separate = Received("POST", "/post", [("User-Agent", "MyCustomAgent/1.0"), ("mam", "i am hera")], b"")
    check_received(expected, [separate], {})


def test_a_step_fails_when_the_answer_is_not_what_the_firmware_accepts(tmp_path):
    """The engine holds the module to the firmware's matching: a firmware that looks for
    "+CREG: 2," fails on a module that was never told AT+CREG=2, after its retries."""
    from support.firmware import StepFailed

    steps = [{"send": "AT+CREG?\r\n", "expect": {"lines": [r"\+CREG: 2,"], "final": "OK"}, "retry": {"times": 2}}]
    with emulator("neoway", tmp_path) as (host, _runner):
        replay = Replay(host.port, {})
        with pytest.raises(StepFailed, match=r"after 2 attempts"):
            replay.run(steps)
        replay.run([{"send": "AT+CREG=2\r\n", "expect": {"final": "OK"}}] + steps)
