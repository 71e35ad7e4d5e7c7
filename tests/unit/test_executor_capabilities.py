"""What a module side knows of its executor comes from the executor's declared capabilities
(model.ExecutorCapabilities): the network executor's by default, a host side's in a bridge.
The module sides act on what is declared, not on whether they sit in a bridge."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from bridge.at.dialect import load
from bridge.bridging.engine import BridgeEngine
from bridge.device.fs import ModuleFileSystem
from bridge.model import Connected, ExecutorCapabilities, Method, Request
from bridge.net.executor import NetworkExecutor
from bridge.registry import make_host_side, make_module_side
from bridge.roles.module import StartRequest

GET_FILE = "/http/download.bin"  # where the N58 keeps an AT+HTTPGET download (manual 9.15)


@dataclass
class Declared:
    """An executor that only declares (no requests run here)."""

    capabilities: ExecutorCapabilities


def started(side) -> Request:
    actions = side.take_actions()
    assert len(actions) == 1 and isinstance(actions[0], StartRequest), actions
    return actions[0].request


def neoway_with_link(tmp_path, capabilities=None, keepalive: int = 0):
    side = make_module_side("neoway", ModuleFileSystem(tmp_path), link_up=True)
    if capabilities is not None:
        side.adapt_to_executor(Declared(capabilities))
    side.receive_data(b"ATE0\rAT+HTTPPARA=url,www.neoway.com.cn/x\r"
                      b"AT+HTTPPARA=keepalive,%d\rAT+HTTPSETUP\r" % keepalive, 0.0)
    token = side.take_actions()[0].token
    side.handle_event(token, Connected(), 0.0)
    assert side.data_to_send().endswith(b"\r\nOK\r\n")
    return side


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_a_module_side_starts_with_the_network_executors_capabilities(dialect, tmp_path):
    side = make_module_side(dialect, ModuleFileSystem(tmp_path))
    assert side.executor_capabilities == NetworkExecutor.capabilities == ExecutorCapabilities()
    assert side.executor_capabilities.shares_file_system and not side.executor_capabilities.one_request_at_a_time


def test_a_bridge_hands_the_module_side_what_the_neoway_host_side_declares(tmp_path):
    module_side = make_module_side("onemo", ModuleFileSystem(tmp_path))
    host_side = make_host_side("neoway")
    BridgeEngine(module_side, host_side)
    declared = module_side.executor_capabilities
    assert declared == host_side.capabilities
    # One HTTP context; AT+HTTPACTION takes the body whole after '>', at most 2048 bytes (manual 9.3).
    assert declared.one_request_at_a_time and not declared.streams_request_body
    assert declared.request_body_max == 2048
    assert declared.files_on_module and not declared.shares_file_system
    assert declared.refusal is not None
    too_large = Request(Method.POST, "http://example.com/", body=b"x" * 4096)
    assert declared.refusal(too_large) is not None
    assert declared.refusal(Request(Method.GET, "http://example.com/")) is None


def test_a_module_coming_back_with_a_fresh_host_side_is_adapted_to_again(tmp_path):
    module_side = make_module_side("onemo", ModuleFileSystem(tmp_path))
    engine = BridgeEngine(module_side, make_host_side("onemo"))
    assert not module_side.executor_capabilities.one_request_at_a_time
    engine.module_lost(1.0)
    fresh = make_host_side("neoway")
    engine.module_back(fresh, 2.0)
    assert engine.host_side is fresh and module_side.executor_capabilities.one_request_at_a_time
    engine.module_lost(3.0)
    engine.module_back(None, 4.0)  # no fresh one: the one there was goes on
    assert engine.host_side is fresh and engine.module_present


def test_neoway_asks_for_keep_alive_in_the_head_when_the_executor_keeps_links_only_then(tmp_path):
    side = neoway_with_link(tmp_path, ExecutorCapabilities(keep_alive_in_headers=True), keepalive=1)
    side.receive_data(b"AT+HTTPACTION=0\r", 0.0)
    request = started(side)
    assert request.keep_alive and request.header("Connection") == "keep-alive"


def test_neoway_leaves_keep_alive_to_the_request_for_the_network_executor(tmp_path):
    side = neoway_with_link(tmp_path, keepalive=1)
    side.receive_data(b"AT+HTTPACTION=0\r", 0.0)
    request = started(side)
    assert request.keep_alive and request.header("Connection") is None


def test_neoway_httpget_saves_through_the_executor_that_shares_its_files(tmp_path):
    side = neoway_with_link(tmp_path)
    side.receive_data(b"AT+HTTPGET=0\r", 0.0)
    assert started(side).save_to == GET_FILE


def test_neoway_httpget_writes_the_file_itself_for_an_executor_with_files_of_its_own(tmp_path):
    side = neoway_with_link(tmp_path, ExecutorCapabilities(shares_file_system=False))
    side.receive_data(b"AT+HTTPGET=0\r", 0.0)
    request = started(side)
    assert request.save_to is None and not request.keep_alive


def test_neoway_carries_certificates_as_pem_to_an_executor_with_files_of_its_own(tmp_path):
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    fs = ModuleFileSystem(tmp_path)
    fs.write_file("ca.pem", pem)
    for capabilities, expected in ((None, "ca.pem"), (ExecutorCapabilities(shares_file_system=False), pem.decode())):
        side = make_module_side("neoway", fs, link_up=True)
        if capabilities is not None:
            side.adapt_to_executor(Declared(capabilities))
        side.receive_data(b"ATE0\rAT+HTTPSCFG=authmode,1\rAT+HTTPSCFG=cacert,ca.pem\r"
                          b"AT+HTTPSPARA=url,www.neoway.com.cn/x\rAT+HTTPSPARA=port,443\rAT+HTTPSSETUP\r", 0.0)
        tls = started(side).tls
        assert tls is not None and tls.ca == expected
