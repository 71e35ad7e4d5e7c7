"""The Neoway emulator against the manual (chapter 9): every example replayed over a real pty
against real loopback servers, the manual's host names mapped to 127.0.0.1 by the hosts map.

Where the example shows an HTTP response, the loopback server sends exactly that response (cut
out of the example's module stream) and the emulator's output must equal the example's module
stream byte for byte: OKs, prompt, "+HTTPRECV:" framing, lengths, closing URCs.
"""
from __future__ import annotations

import hashlib

import pytest

from support.servers import BlobServer, blob_bytes, blob_sha256, server_context
from test_emulator_neoway_support import (
    OK,
    Canned,
    ask,
    example_stream,
    file_sha256,
    fs_root,
    neoway,
    output,
    raw_response,
    replay,
    wait_for,
)

HTTPS_HEAD = ["AT+HTTPSPARA=url,support.cdmatech.com/login/", "AT+HTTPSPARA=port,443", "AT+HTTPSSETUP", "AT+HTTPSACTION=1"]
RANGED = ["AT+HTTPPARA=recvmode,1", "AT+HTTPPARA=keepalive,1", "AT+HTTPPARA=url,www.neoway.com.cn/en/index.aspx",
          "AT+HTTPSETUP", "AT+HTTPACTION=0,0,10"]
HTTPS_RANGED = ["AT+HTTPSPARA=recvmode,1", "AT+HTTPSPARA=keepalive,1", "AT+HTTPSPARA=url,www.alipay.com/index.html",
                "AT+HTTPSPARA=port,443", "AT+HTTPSSETUP", "AT+HTTPSACTION=0,0,10"]

# module example -> the host example that produces it, or the commands that do (module-only examples)
RESPONSE_EXAMPLES = {
    "9.3 GET request (module)": "9.3 GET request (host)",
    "9.3 HEAD request (module)": "9.3 HEAD request (host)",
    "9.3 POST request (module)": "9.3 POST request (host)",
    "9.3 raw request, mode 99 (module)": "9.3 raw request, mode 99 (host)",
    "9.5 recvmode 0 (module)": ["AT+HTTPPARA=url,www.neoway.com.cn/en/index.aspx", "AT+HTTPSETUP", "AT+HTTPACTION=1"],
    "9.5 recvmode 1 (module)": RANGED,
    "9.13 GET request (module)": "9.13 GET request (host)",
    "9.13 HEAD request (module)": "9.13 HEAD request (host)",
    "9.13 raw POST, mode 99 (module)": "9.13 raw POST, mode 99 (host)",
    "9.15 recvmode 0 (module)": HTTPS_HEAD,
    "9.15 recvmode 1 (module)": HTTPS_RANGED,
}

# what the loopback server must have received for each
REQUESTS = {
    "9.3 GET request (module)": ("GET", "/en/index.aspx", {"Connection": "close"}),
    "9.3 HEAD request (module)": ("HEAD", "/en/index.aspx", {}),
    "9.3 POST request (module)": ("POST", "/Service1.asmx/GetNote", {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "23"}),
    "9.3 raw request, mode 99 (module)": ("HEAD", "/en/index.aspx", {"connection": "close", "HOST": "www.neoway.com.cn"}),
    "9.5 recvmode 0 (module)": ("HEAD", "/en/index.aspx", {}),
    "9.5 recvmode 1 (module)": ("GET", "/en/index.aspx", {"Range": "bytes=0-9"}),
    "9.13 GET request (module)": ("GET", "/login/", {}),
    "9.13 HEAD request (module)": ("HEAD", "/login/", {}),
    "9.13 raw POST, mode 99 (module)": ("POST", "/icbc/perbank/index.jsp", {"Host": "mybank.icbc.com.cn", "Content-Length": "10"}),
    "9.15 recvmode 0 (module)": ("HEAD", "/login/", {}),
    "9.15 recvmode 1 (module)": ("GET", "/index.html", {"Range": "bytes=0-9"}),
}


def host_stream(source) -> bytes:
    if isinstance(source, str):
        return example_stream(source)
    return "".join(line + "\r" for line in source).encode()


def expected_output(name: str, source) -> bytes:
    stream = example_stream(name).replace(b"+HTTPSRECV: \r\n", b"+HTTPSRECV:\r\n")  # 9.15 prints a space there
    return stream if isinstance(source, str) else OK * len(source) + stream


# ---- the examples with an HTTP response: byte-exact ---------------------------------------------


@pytest.mark.parametrize("name", list(RESPONSE_EXAMPLES))
def test_response_example_byte_exact(tmp_path, ca, name):
    source = RESPONSE_EXAMPLES[name]
    expected = expected_output(name, source)
    secure = b"+HTTPSRECV" in expected
    response = raw_response(example_stream(name))
    keep_alive = b"keep-alive" in response.lower()
    tls = server_context(ca) if secure else None
    with Canned(response, hold=keep_alive, tls_context=tls) as server, neoway(tmp_path) as (host, side):
        start = replay(host, host_stream(source), server.port)
        got = output(host, start, len(expected))
        assert got == expected
        assert server.done.wait(5) and len(server.seen) == 1
        method, target, headers = REQUESTS[name]
        seen = server.seen[0]
        assert (seen.method, seen.target) == (method, target)
        assert set(headers.items()) <= set(seen.headers)
    if name.startswith("9.3 POST"):
        assert seen.body == b"MAC=NEOWAY&DATA=0123456"
    if "raw POST" in name:
        assert seen.body == b"userId=123"
        assert [n for n, _ in seen.headers][:2] == ["Host", "Connection"]  # h11 writes Host first


# ---- the other examples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["9.1 HTTPPARA", "9.3 other errors", "9.3 socket open failed", "9.11 HTTPSPARA"])
def test_command_example_byte_exact(tmp_path, name):
    expected = example_stream(f"{name} (module)")
    with neoway(tmp_path) as (host, side):
        start = replay(host, example_stream(f"{name} (host)"), 8080)
        assert output(host, start, len(expected)) == expected


@pytest.mark.parametrize("name", ["9.2 HTTPSETUP", "9.4 HTTPCLOSE", "9.12 HTTPSSETUP", "9.14 HTTPSCLOSE"])
def test_link_example_byte_exact(tmp_path, ca, name):
    """9.2 / 9.12 show OK then ERROR; the second ERROR here is a second setup while the link is up
    (the manual's DNS failure is test_setup_unknown_name_is_error)."""
    secure = name.startswith("9.1")  # 9.12, 9.14 ("HTTPSETUP" contains "HTTPS" too)
    expected = example_stream(f"{name} (module)")
    with BlobServer(server_context(ca) if secure else None) as server, neoway(tmp_path) as (host, side):
        family = "HTTPS" if secure else "HTTP"
        assert ask(host, f"AT+{family}PARA=url,www.neoway.com.cn:{server.port}/blob/1").endswith(OK)
        if "CLOSE" in name:
            assert ask(host, f"AT+{family}SETUP").endswith(OK)
        start = replay(host, example_stream(f"{name} (host)"), server.port)
        assert output(host, start, len(expected)) == expected


def test_httpscfg_example(tmp_path):
    """9.10.  The manual sets authmode 0 and then reads 1 back; the emulator reads back what was set."""
    expected = example_stream("9.10 HTTPSCFG (module)").replace(b"0,1,,", b"0,0,,")
    with neoway(tmp_path) as (host, side):
        for option, value in (("cacert", "ca.pem"), ("clientcert", "cc.pem"), ("clientkey", "ck.pem")):
            assert ask(host, f'AT+HTTPSCFG="{option}","{value}"').endswith(OK)
        start = replay(host, example_stream("9.10 HTTPSCFG (host)"), 443)
        assert output(host, start, len(expected)) == expected


@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
def test_httpget_examples(tmp_path, ca, family):
    """9.6-9.8 and 9.16-9.18: one report per HTTPGET, for the last stage reached.  <type> 1 (zip)
    is unsupported: the manual's "20" and "30,303" become 21 (decompression failed)."""
    size, seed = 200_000, 3
    md5 = hashlib.md5(blob_bytes(size, seed)).hexdigest()
    tls = server_context(ca) if family == "HTTPS" else None
    with BlobServer(tls) as server, neoway(tmp_path) as (host, side):
        rpt = f"+{family}GETRPT"
        assert ask(host, f"AT+{family}PARA=url,mybank.icbc.com.cn:{server.port}/blob/{size}?seed={seed}").endswith(OK)
        assert ask(host, f"AT+{family}GETSTAT?") == f"\r\n+{family}GETSTAT: 0\r\n".encode() + OK
        steps = [("0", "10"), ("1", "21"), ("1,0,eaf84487e190bc79af55c972bbc63e3f", "21"),
                 (f"0,0,{md5}", "30"), (f"0,0,{md5.upper()}", "30"), ("0,0,eaf84487e190bc79af55c972bbc63e3f", "31")]
        for params, state in steps:
            assert ask(host, f"AT+{family}GET={params}") == OK
            assert wait_for(host, rf"\r\n\{rpt}: \d+\r\n") == f"\r\n{rpt}: {state}\r\n".encode()
            assert ask(host, f"AT+{family}GETSTAT?") == f"\r\n+{family}GETSTAT: {state}\r\n".encode() + OK
        download = fs_root(tmp_path) / family.lower() / "download.bin"
        assert file_sha256(download) == blob_sha256(size, seed)
        assert ask(host, f"AT+AP{family}GET=1") == b"\r\nERROR\r\n"  # printed so in 9.7 / 9.18: not a command


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
