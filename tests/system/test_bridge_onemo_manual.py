"""Every example of the OneMO manual, replayed by OneMO firmware through the bridge to an emulated
Neoway module, over real ptys, against a real loopback server: the firmware gets byte for byte
what the manual shows (and what the OneMO emulator gives, tests/system/test_emulator_onemo_manual.py), and the
server gets the requests a OneMO module would send.

Left out, each tested on its own elsewhere: the MN316 examples (a model choice of the module side,
not of the bridge); 4.1's "terminate during a request" (a Neoway module answers nothing while an
unanswered AT+HTTPACTION waits for a server that never answers: test_bridge_onemo_transfer.py
terminates a download that streams instead); 4.2 (server verification with a CA written by
AT+MSSLCERTWR cannot reach a Neoway module: test_bridge_onemo_faults.py).
"""
from __future__ import annotations

import dataclasses

import pytest

from support.bridged import bridged
from support.servers import make_ca
from support.onemo_manual import SCENARIOS, NAMES, check_example, check_requests, replay, served_responses, setup
from support.onemo_emulated import Module, ScriptedServer

BRIDGED = {name: scenario for name, scenario in SCENARIOS.items() if scenario.model is None and name not in ("4.1", "4.2")}
BRIDGED["4.1 without terminate"] = dataclasses.replace(
    SCENARIOS["4.1"], entries=[e for e in SCENARIOS["4.1"].entries if e != "4.1 terminate during a request"])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scenario_name", list(BRIDGED))
def test_manual_example_through_the_bridge(scenario_name, tmp_path):
    scenario = BRIDGED[scenario_name]
    ca = make_ca()
    with ScriptedServer() as server, bridged("onemo", "neoway", tmp_path, hosts=NAMES) as (firmware, bridge, module):
        server.script(*served_responses(scenario))
        onemo = Module(firmware)
        for name in scenario.entries:
            for step in scenario.before.get(name, []):
                setup(onemo, step, server, ca)
            got, actual = replay(onemo, name, server)
            check_example(name, got, actual)
        # The requests the server saw; files are the OneMO module side's own (the bridge's).
        check_requests(scenario_name.replace(" without terminate", ""), server, bridge.engine.module_side.fs)
