"""The Neoway manual's chapter 9 conversations, held against whatever plays the Neoway module: the
Neoway emulator by default (tests/system/test_emulator_neoway_manual.py), or the bridge to a
OneMO emulator (`neoway=through_the_bridge`, tests/system/test_bridge_neoway_manual.py).  Where
an example shows an HTTP response, the output must equal the example's module stream byte for
byte, and the loopback server must have received the request the example sends."""
from __future__ import annotations

import hashlib

from support.neoway_emulated import (OK, Canned, ask, example_stream, file_sha256, fs_root, neoway, output,
                                     raw_response, replay, wait_for)
from support.servers import BlobServer, blob_bytes, blob_sha256, server_context

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


def response_example_byte_exact(tmp_path, ca, name, neoway=neoway):
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


def command_example_byte_exact(tmp_path, name, neoway=neoway):
    expected = example_stream(f"{name} (module)")
    with neoway(tmp_path) as (host, side):
        start = replay(host, example_stream(f"{name} (host)"), 8080)
        assert output(host, start, len(expected)) == expected


def link_example_byte_exact(tmp_path, ca, name, neoway=neoway):
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


def httpscfg_example(tmp_path, neoway=neoway):
    """9.10.  The manual sets authmode 0 and then reads 1 back; the emulator reads back what was set."""
    expected = example_stream("9.10 HTTPSCFG (module)").replace(b"0,1,,", b"0,0,,")
    with neoway(tmp_path) as (host, side):
        for option, value in (("cacert", "ca.pem"), ("clientcert", "cc.pem"), ("clientkey", "ck.pem")):
            assert ask(host, f'AT+HTTPSCFG="{option}","{value}"').endswith(OK)
        start = replay(host, example_stream("9.10 HTTPSCFG (host)"), 443)
        assert output(host, start, len(expected)) == expected


def httpget_examples(tmp_path, ca, family, neoway=neoway, fs_root=fs_root):
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
