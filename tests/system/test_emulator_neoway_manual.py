"""The Neoway emulator against the manual (chapter 9): every example replayed over a real pty
against real loopback servers, the manual's host names mapped to 127.0.0.1 by the hosts map.

Where the example shows an HTTP response, the loopback server sends exactly that response (cut
out of the example's module stream) and the emulator's output must equal the example's module
stream byte for byte: OKs, prompt, "+HTTPRECV:" framing, lengths, closing URCs.
"""
from __future__ import annotations

import pytest

from support import neoway_manual as manual
from support.servers import BlobServer, blob_bytes, blob_sha256, server_context
from support.neoway_emulated import OK, ask, example_stream, file_sha256, fs_root, neoway, wait_for
from support.neoway_manual import RESPONSE_EXAMPLES


# ---- the examples with an HTTP response: byte-exact ---------------------------------------------


@pytest.mark.parametrize("name", list(RESPONSE_EXAMPLES))
def test_response_example_byte_exact(tmp_path, ca, name):
    manual.response_example_byte_exact(tmp_path, ca, name)


# ---- the other examples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["9.1 HTTPPARA", "9.3 other errors", "9.3 socket open failed", "9.11 HTTPSPARA"])
def test_command_example_byte_exact(tmp_path, name):
    manual.command_example_byte_exact(tmp_path, name)


@pytest.mark.parametrize("name", ["9.2 HTTPSETUP", "9.4 HTTPCLOSE", "9.12 HTTPSSETUP", "9.14 HTTPSCLOSE"])
def test_link_example_byte_exact(tmp_path, ca, name):
    manual.link_example_byte_exact(tmp_path, ca, name)


def test_httpscfg_example(tmp_path):
    manual.httpscfg_example(tmp_path)


@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_httpget_examples(tmp_path, ca, family):
    manual.httpget_examples(tmp_path, ca, family)


@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_filehttpaction_examples(tmp_path, ca, family):
    """9.19-9.21: a 512 KiB ranged GET into a file, a 512 KiB file POSTed, then +CME ERROR: 1001
    once the data link is down (AT+CGATT=0 between, not part of the example)."""
    size, seed, piece = 1 << 20, 9, 524288
    expected = example_stream(f"9.{19 if family == 'HTTP' else 20} FILE{family}ACTION (module)")
    commands = example_stream(f"9.{19 if family == 'HTTP' else 20} FILE{family}ACTION (host)").decode().split("\r")[:3]
    fs_root(tmp_path).mkdir(parents=True, exist_ok=True)
    (fs_root(tmp_path) / "text.txt").write_bytes(blob_bytes(piece, 5))
    tls = server_context(ca) if family == "HTTPS" else None
    with BlobServer(tls) as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+{family}PARA=url,www.neoway.com.cn:{server.port}/blob/{size}?seed={seed}").endswith(OK)
        assert ask(host, f"AT+{family}SETUP").endswith(OK)
        got = b""
        for command in commands[:2]:
            got += ask(host, command) + wait_for(host, r"\+FILEHTTPSTAT: [^\r]*\r\n")
        assert ask(host, "AT+CGATT=0") == OK
        got += ask(host, commands[2])
        assert got == expected
        get, post = [(method, dict(headers)) for method, path, headers in server.requests]
    assert get[0] == "GET" and get[1]["Range"] == "bytes=0-524287"
    assert post[0] == "POST" and post[1]["Content-Length"] == "524288"
    assert post[1]["Content-Type"] == "application/x-www-form-urlencoded"
    assert file_sha256(fs_root(tmp_path) / "http" / "filehttp.bin") == blob_sha256(size, seed, 0, piece)
