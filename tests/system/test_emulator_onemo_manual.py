"""The OneMO emulator replays every example of the manual (tests/data/examples_onemo.yaml) over a
real pty against a real loopback server, and answers byte for byte as the manual shows.

The server answers each request with the response the manual shows for it: the header block of
its +MHTTPURC "header" data and the body of its content (or +MHTTPREAD) data.  The manual's hosts
are never contacted: its IP literal is rewritten to the loopback server, its names are mapped to
127.0.0.1 by the emulator's hosts map, and its ports are rewritten to the server's.
"""
from __future__ import annotations

import json

import pytest

from support.emulated import emulator
from support.servers import make_ca, server_context
from support.onemo_emulated import OK, Module, ScriptedServer
from support.onemo_manual import (EXAMPLES, NAMES, SCENARIOS, check_example, check_requests, replay, served_responses,
                                  setup)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scenario_name", list(SCENARIOS))
def test_manual_example(scenario_name, tmp_path):
    scenario = SCENARIOS[scenario_name]
    ca = make_ca()
    context = server_context(ca) if scenario.tls else None
    with ScriptedServer(context) as server, emulator("onemo", tmp_path, hosts=NAMES, model=scenario.model) as (host, runner):
        server.script(*served_responses(scenario))
        module = Module(host)
        for name in scenario.entries:
            for step in scenario.before.get(name, []):
                setup(module, step, server, ca)
            got, actual = replay(module, name, server)
            check_example(name, got, actual)
        check_requests(scenario_name, server, runner.side.fs)


def test_quoted_strings_are_refused_where_the_manual_says(tmp_path):
    """fn 16/20: on ML30x a string parameter cannot hold '"' (the 3.4 and 4.1 POST examples)."""
    with emulator("onemo", tmp_path) as (host, runner):
        module = Module(host)
        module.ok('AT+MHTTPCREATE="http://127.0.0.1:1"')
        inline = EXAMPLES["3.4 content in the command (host)"]["stream"].rstrip("\r")
        module.fails(inline, 50)
        module.ok('AT+MHTTPCFG="encoding",0,2')  # escaped input: \" is data, not a quote
        module.ok('AT+MHTTPCONTENT=0,0,0,"{\\"id\\":1}"')
        assert module.command("AT+MHTTPCONTENT=0")[0].payload == b'{"id":1}'


@pytest.mark.timeout(60)
def test_real_httpbin_get_and_post(httpbin, tmp_path):
    """Against a real httpbin: the headers the module sends (general, specific, Host) and the body."""
    with emulator("onemo", tmp_path) as (host, runner):
        module = Module(host)
        module.ok(f'AT+MHTTPCREATE="{httpbin.url}"')
        module.ok('AT+MHTTPCFG="header",0,"X-Trace: general"')
        module.ok('AT+MHTTPCFG="header",0,"X-Override: general"')
        module.ok('AT+MHTTPHEADER=0,0,0,"X-Override: specific"')
        module.ok('AT+MHTTPREQUEST=0,1,0,"/get?a=1"')
        head, body = module.response(0)
        echoed = json.loads(body)
        assert echoed["args"] == {"a": "1"}
        assert echoed["headers"]["X-Trace"] == "general" and echoed["headers"]["X-Override"] == "specific"
        assert echoed["headers"]["Host"] == httpbin.url.split("//")[1]
        module.send("AT+MHTTPCONTENT=0,0,11\r")  # data mode: 11 raw bytes, quotes and all
        module.prompt()
        module.send(b'{"k":"v,1"}')
        assert module.until_final() == [OK]
        module.ok('AT+MHTTPREQUEST=0,2,0,"/post"')
        head, body = module.response(0, "POST")
        echoed = json.loads(body)
        assert echoed["data"] == '{"k":"v,1"}' and echoed["headers"]["Content-Length"] == "11"
        assert echoed["headers"]["X-Override"] == "general"  # the specific header lasted one request
