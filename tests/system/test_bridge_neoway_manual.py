"""The manual's chapter 9 conversations through the bridge, unchanged: the byte-exact tests that
tests/test_emulator_neoway.py holds against the Neoway emulator run here with the bridge (and a
OneMO emulator doing the HTTP) in its place.  Every example with an HTTP response must come out
byte for byte as the manual prints it, and the server must have received the same request."""
from __future__ import annotations

import pytest

import test_emulator_neoway as manual
from test_bridge_neoway_support import through_the_bridge


@pytest.fixture(autouse=True)
def bridged_module(monkeypatch):
    monkeypatch.setattr(manual, "neoway", through_the_bridge)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", list(manual.RESPONSE_EXAMPLES))
def test_response_example(tmp_path, ca, name):
    manual.test_response_example_byte_exact(tmp_path, ca, name)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", ["9.1 HTTPPARA", "9.3 other errors", "9.3 socket open failed", "9.11 HTTPSPARA"])
def test_command_example(tmp_path, name):
    manual.test_command_example_byte_exact(tmp_path, name)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", ["9.2 HTTPSETUP", "9.4 HTTPCLOSE", "9.12 HTTPSSETUP", "9.14 HTTPSCLOSE"])
def test_link_example(tmp_path, ca, name):
    manual.test_link_example_byte_exact(tmp_path, ca, name)


@pytest.mark.timeout(10)
def test_httpscfg_example(tmp_path):
    manual.test_httpscfg_example(tmp_path)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_httpget_examples(tmp_path, ca, family, monkeypatch):
    """9.6-9.8, 9.16-9.18 with a real MD5 check: the bridge streams the download into its own
    file system (bridge-fs/<family>/download.bin) and checks the bytes that arrived."""
    monkeypatch.setattr(manual, "fs_root", lambda tmp: tmp / "bridge-fs")
    manual.test_httpget_examples(tmp_path, ca, family)
