"""The manual's chapter 9 conversations through the bridge, unchanged: the byte-exact tests that
tests/system/test_emulator_neoway_manual.py holds against the Neoway emulator run here with the bridge (and a
OneMO emulator doing the HTTP) in its place.  Every example with an HTTP response must come out
byte for byte as the manual prints it, and the server must have received the same request."""
from __future__ import annotations

import pytest

from support import neoway_manual as manual
from support.neoway_bridged import through_the_bridge


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", list(manual.RESPONSE_EXAMPLES))
def test_response_example(tmp_path, ca, name):
    manual.response_example_byte_exact(tmp_path, ca, name, neoway=through_the_bridge)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", ["9.1 HTTPPARA", "9.3 other errors", "9.3 socket open failed", "9.11 HTTPSPARA"])
def test_command_example(tmp_path, name):
    manual.command_example_byte_exact(tmp_path, name, neoway=through_the_bridge)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", ["9.2 HTTPSETUP", "9.4 HTTPCLOSE", "9.12 HTTPSSETUP", "9.14 HTTPSCLOSE"])
def test_link_example(tmp_path, ca, name):
    manual.link_example_byte_exact(tmp_path, ca, name, neoway=through_the_bridge)


@pytest.mark.timeout(10)
def test_httpscfg_example(tmp_path):
    manual.httpscfg_example(tmp_path, neoway=through_the_bridge)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_httpget_examples(tmp_path, ca, family):
    """9.6-9.8, 9.16-9.18 with a real MD5 check: the bridge streams the download into its own
    file system (bridge-fs/<family>/download.bin) and checks the bytes that arrived."""
    manual.httpget_examples(tmp_path, ca, family, neoway=through_the_bridge, fs_root=lambda tmp: tmp / "bridge-fs")
