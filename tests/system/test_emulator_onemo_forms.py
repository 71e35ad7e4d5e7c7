"""Every MHTTPCFG setting and every command form of the OneMO emulator, over a real pty, with
the errors the manual's chapter 5 gives for wrong use, and the per-model limits."""
from __future__ import annotations

import pytest

from bridge.at.frames import Final
from support.emulated import emulator
from support.servers import BlobServer
from support.onemo_emulated import OK, Module, cme

PEM_EXAMPLE = ("-----BEGIN CERTIFICATE-----\\r\\nMIIB\\r\\n-----END CERTIFICATE-----\\r\\n")


@pytest.fixture
def module(tmp_path):
    with emulator("onemo", tmp_path) as (host, runner):
        yield Module(host)


def cfg(module: Module, query: str) -> list[bytes]:
    return [bytes(f.raw) + (f.payload or b"") for f in module.ok(query)]


def test_test_forms(module):
    expected = {
        "AT+MHTTPCFG=?": '+MHTTPCFG: ("header","chunked","cached","timeout","encoding","ssl","cid","fragment","urlencode"),(0-3),',
        "AT+MHTTPHEADER=?": "+MHTTPHEADER: (0-3),(0-2),(0-4096),",
        "AT+MHTTPCONTENT=?": "+MHTTPCONTENT: (0-3),(0-2),(0-4096),",
        "AT+MHTTPREQUEST=?": "+MHTTPREQUEST: (0-3),(1-5),(0-4096),",
        "AT+MHTTPREAD=?": "+MHTTPREAD: (0-3),(0-1),(0-65535)",
        "AT+MHTTPDEL=?": "+MHTTPDEL: (0-3)",
        "AT+MHTTPTERM=?": "+MHTTPTERM: (0-3)",
    }
    for command, line in expected.items():
        assert [f.raw for f in module.ok(command)] == [line.encode()], command
    for command in ("AT+MHTTPCREATE=?", "AT+MHTTPDLFILE=?", "AT+MSSLCERTWR=?"):
        assert module.ok(command) == []
    assert module.ok("AT+MSSLCFG=?")[0].raw.startswith(b'+MSSLCFG: ("auth","cert"')


def test_create_takes_the_lowest_free_id_up_to_the_model_count(module):
    for expected in range(4):
        assert module.ok(f'AT+MHTTPCREATE="http://example.com:{8000 + expected}"')[0].get("httpid") == str(expected)
    module.fails('AT+MHTTPCREATE="http://example.com"', 651)
    module.ok("AT+MHTTPDEL=1")
    assert module.ok('AT+MHTTPCREATE="https://example.com/base/"')[0].get("httpid") == "1"
    module.fails("AT+MHTTPDEL=1,2", 50)
    module.fails('AT+MHTTPCREATE="ftp://example.com"', 654)
    module.fails('AT+MHTTPCREATE="http://"', 654)
    module.fails('AT+MHTTPCREATE="http://example.com:99999"', 654)
    module.fails("AT+MHTTPCREATE=http://example.com", 50)  # <host> must be quoted
    module.fails("AT+MHTTPCREATE", 50)  # no execute form
    module.ok("AT+MHTTPDEL=3")
    module.fails("AT+MHTTPDEL=3", 652)
    module.fails("AT+MHTTPDEL=4", 50)


def test_every_setting_queried_and_set(module):
    module.ok('AT+MHTTPCREATE="http://example.com"')
    module.ok('AT+MHTTPCREATE="http://example.org"')
    assert cfg(module, 'AT+MHTTPCFG="header",0') == [b'+MHTTPCFG: "header",0']
    module.ok('AT+MHTTPCFG="header",0,"Connection: close"')
    module.ok('AT+MHTTPCFG="header",0,"X-A: 1"')
    module.ok('AT+MHTTPCFG="header",0,"connection: keep-alive"')  # same field: replaced
    assert cfg(module, 'AT+MHTTPCFG="header",0') == [b'+MHTTPCFG: "header",0,32,X-A: 1\r\nconnection: keep-alive\r\n']
    settings = {
        "chunked": ('"chunked",1,1', '+MHTTPCFG: "chunked",1,1'),
        "cached": ('"cached",1,1,2048', '+MHTTPCFG: "cached",1,1,2048'),
        "timeout": ('"timeout",1,5,6,7', '+MHTTPCFG: "timeout",1,5,6,7'),
        "encoding": ('"encoding",1,2,1', '+MHTTPCFG: "encoding",1,2,1'),
        "ssl": ('"ssl",1,1,2', '+MHTTPCFG: "ssl",1,1,2'),
        "cid": ('"cid",1,1', '+MHTTPCFG: "cid",1,1'),
        "fragment": ('"fragment",1,100,50', '+MHTTPCFG: "fragment",1,100,50'),
        "urlencode": ('"urlencode",1,1', '+MHTTPCFG: "urlencode",1,1'),
    }
    defaults = {"chunked": "0", "cached": "0", "timeout": "60,0,10", "encoding": "0,0", "ssl": "0", "cid": None,
                "fragment": "0,0", "urlencode": "0"}
    for name, (setting, answer) in settings.items():
        module.ok(f"AT+MHTTPCFG={setting}")
        assert cfg(module, f'AT+MHTTPCFG="{name}",1') == [answer.encode()], name
        default = f'+MHTTPCFG: "{name}",0' + (f",{defaults[name]}" if defaults[name] else "")
        assert cfg(module, f'AT+MHTTPCFG="{name}"') == [default.encode(), answer.encode()], name
    everything = cfg(module, "AT+MHTTPCFG?")
    assert len(everything) == 18 and everything[9] == b'+MHTTPCFG: "header",1'
    assert [line.split(b",")[0] for line in everything[:9]] == [f'+MHTTPCFG: "{n}"'.encode() for n in ["header", *settings]]


def test_partial_and_refused_settings(module):
    module.fails('AT+MHTTPCFG="chunked",0,1', 652)
    module.fails('AT+MHTTPCFG="chunked",0', 652)
    assert cfg(module, 'AT+MHTTPCFG="chunked"') == []  # no instance: nothing to list
    module.ok('AT+MHTTPCREATE="http://example.com"')
    module.ok('AT+MHTTPCFG="timeout",0,5')
    assert cfg(module, 'AT+MHTTPCFG="timeout",0') == [b'+MHTTPCFG: "timeout",0,5,0,10']
    module.ok('AT+MHTTPCFG="cached",0,1')
    assert cfg(module, 'AT+MHTTPCFG="cached",0') == [b'+MHTTPCFG: "cached",0,1,4096']
    module.ok('AT+MHTTPCFG="cached",0,0')
    assert cfg(module, 'AT+MHTTPCFG="cached",0') == [b'+MHTTPCFG: "cached",0,0']  # fn 4
    for bad in ['"timeout",0,181', '"timeout",0,1,61', '"timeout",0,1,1,0', '"timeout",0,1,1,121', '"cached",0,1,0',
                '"cached",0,1,8193', '"cached",0,2', '"encoding",0,3', '"encoding",0,0,2', '"ssl",0,1,6', '"ssl",0,2',
                '"cid",0,0', '"cid",0,25', '"fragment",0,1025', '"fragment",0,0,2001', '"urlencode",0,2',
                '"foo",0', 'chunked,0,1', '"chunked","0",1', '"chunked",0,1,1', '"header",0,"no colon"', '"chunked",x',
                '"timeout",,5', '"header",0,""']:
        module.fails(f"AT+MHTTPCFG={bad}", 50)
    module.fails('AT+MHTTPCFG="cid",0,2', 3)  # a PDP context that is not defined
    module.ok("AT+CGDCONT=2,\"IP\",\"apn\"")
    module.ok('AT+MHTTPCFG="cid",0,2')


def test_header_and_content_collection(module):
    module.ok('AT+MHTTPCREATE="http://example.com"')
    assert module.ok("AT+MHTTPHEADER=0") == []
    module.ok('AT+MHTTPHEADER=0,1,0,"X-A: 1"')  # ASCII, <length> 0: not checked
    module.fails('AT+MHTTPHEADER=0,1,3,"X-B: 2"', 50)  # <length> > 0 must match
    module.ok('AT+MHTTPCFG="encoding",0,2')
    module.ok('AT+MHTTPHEADER=0,1,8,"\\r\\nX-B: 2"')  # escaped: <length> counts the decoded bytes
    module.ok('AT+MHTTPCFG="encoding",0,1')
    module.ok('AT+MHTTPHEADER=0,0,8,"0D0A582D433A2033"')  # HEX, quoted ...
    module.fails("AT+MHTTPHEADER=0,1,0,582D", 3)  # after <eof> 0 no more input
    [query] = module.ok("AT+MHTTPHEADER=0")
    assert query.payload == b"X-A: 1\r\nX-B: 2\r\nX-C: 3" and query.int("length") == 22
    module.ok("AT+MHTTPHEADER=0,2")
    assert module.ok("AT+MHTTPHEADER=0") == []
    module.ok("AT+MHTTPHEADER=0,1,0,582D443A2034")  # ... and unquoted
    module.fails("AT+MHTTPHEADER=0,1,0,58Z", 50)
    module.fails("AT+MHTTPHEADER=0,1,0,123", 50)
    module.fails("AT+MHTTPHEADER=0,3", 50)
    module.fails("AT+MHTTPHEADER=0,1,4097", 50)
    module.fails("AT+MHTTPHEADER=1,1", 652)
    module.fails("AT+MHTTPHEADER=0,,5", 50)
    module.ok('AT+MHTTPCFG="encoding",0,0')
    module.send("AT+MHTTPCONTENT=0,1\r")  # data mode up to Ctrl-Z: raw bytes, any of them
    module.prompt()
    module.send(b'a"b,\r\n\x00c\x1a')
    assert module.until_final() == [OK]
    module.send("AT+MHTTPCONTENT=0,0,5\r")  # data mode by length; after ">" a leading LF is data too
    module.prompt()
    module.send(b"\n\x1a\x1bxy")
    assert module.until_final() == [OK]
    [query] = module.ok("AT+MHTTPCONTENT=0")
    assert query.payload == b'a"b,\r\n\x00c\n\x1a\x1bxy'
    module.ok("AT+MHTTPCONTENT=0,2")
    module.fails("AT+MHTTPCONTENT=0,1,2,abc", 50)  # length check


def test_read_delete_terminate_forms(module):
    module.fails("AT+MHTTPREAD=0,0", 652)
    module.ok('AT+MHTTPCREATE="http://example.com"')
    assert [f.raw for f in module.ok("AT+MHTTPREAD=0,0")] == [b"+MHTTPREAD: 0,0,0"]
    [empty] = module.ok("AT+MHTTPREAD=0,1,0")
    assert empty.int("data_len") == 0 and empty.payload == b""
    module.fails("AT+MHTTPREAD=0,2", 50)
    module.fails("AT+MHTTPREAD=0,0,65536", 50)
    module.fails("AT+MHTTPREAD=0", 50)
    module.ok("AT+MHTTPTERM")
    module.ok("AT+MHTTPTERM=0")
    module.fails("AT+MHTTPTERM=1", 652)
    module.fails("AT+MHTTPTERM=4", 50)
    module.fails("AT+MHTTPDEL", 50)
    module.ok("AT+MHTTPDEL=0")


def test_ssl_settings_and_certificates(module, tmp_path):
    for setting, value, answer in [("auth", "2", "2"), ("cert", '"ca.pem","cli.pem","key.pem"', '"ca.pem","cli.pem","key.pem"'),
                                   ("encoding", "1", "1"), ("negotime", "30", "30"), ("version", "3", "3"),
                                   ("ignorestamp", "0", "0"), ("ignoreverify", "1", "1")]:
        module.ok(f'AT+MSSLCFG="{setting}",2,{value}')
        assert [f.raw for f in module.ok(f'AT+MSSLCFG="{setting}",2')] == [f'+MSSLCFG: "{setting}",2,{answer}'.encode()]
        assert len(module.ok(f'AT+MSSLCFG="{setting}"')) == 6  # ssl_id 0..5
    assert [f.raw for f in module.ok('AT+MSSLCFG="cert",0')] == [b'+MSSLCFG: "cert",0,""']
    for bad in ['"auth",6,1', '"auth",0,3', '"version",0,4', '"negotime",0,9', '"negotime",0,301', '"nope",0', '"auth",,1']:
        module.fails(f"AT+MSSLCFG={bad}", 50)
    # The manual's example: \r\n in the PEM are line breaks; <length> counts them as 2 bytes.
    module.ok(f'AT+MSSLCERTWR="a.pem",0,{len(PEM_EXAMPLE) - 6},"{PEM_EXAMPLE}"')
    fs = tmp_path / "fs"
    assert (fs / "ssl" / "a.pem").read_bytes() == b"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n"
    module.fails(f'AT+MSSLCERTWR="a.pem",0,10,"{PEM_EXAMPLE}"', 50)
    module.fails('AT+MSSLCERTWR="a.pem",0,0,"not a PEM"', 50)
    module.fails('AT+MSSLCERTWR="../x",0,0,"-----BEGIN X"', 50)
    module.ok('AT+MSSLCERTWR="b.pem",20,0,"-----BEGIN CERT\\r\\n"')  # in parts: <remain_length> > 0
    module.send('AT+MSSLCERTWR="b.pem",0,5\r')  # the last part in data mode
    module.prompt()
    module.send(b"MIIB\n")
    assert module.until_final() == [OK]
    assert (fs / "ssl" / "b.pem").read_bytes() == b"-----BEGIN CERT\r\nMIIB\n"
    module.fails('AT+MSSLCERTWR="c.pem",0,0', 50)  # data mode needs a length


def test_error_report_levels_and_echo(module):
    module.ok("AT+CMEE=0")
    assert module.command("AT+MHTTPDEL=0") == [Final("ERROR")]
    module.ok("AT+CMEE=2")
    assert module.command("AT+MHTTPDEL=0") == [Final("CME", text="client instance not created")]
    module.ok("AT+CMEE=1")
    module.ok("ATE1")
    frames = module.command("AT+MHTTPDEL=0")
    assert frames[0].raw == b"AT+MHTTPDEL=0" and frames[-1] == cme(652)


@pytest.mark.parametrize("model", ["MN316A", "MN319"])
def test_models_without_ssl_or_data_mode(model, tmp_path):
    with emulator("onemo", tmp_path, model=model) as (host, runner):
        module = Module(host)
        [line] = module.ok("AT+MHTTPCFG=?")
        assert line.raw == b'+MHTTPCFG: ("header","chunked","cached","timeout","encoding","fragment","urlencode"),(0-1),'
        assert module.ok("AT+MHTTPCREATE=\"http://a.example\"")[0].get("httpid") == "0"
        module.ok('AT+MHTTPCREATE="http://b.example"')
        module.fails('AT+MHTTPCREATE="http://c.example"', 651)  # two instances (fn 11)
        module.fails("AT+MHTTPDEL=2", 50)  # <httpid> 0..1 (fn 2)
        module.ok("AT+MHTTPDEL=1")
        module.fails('AT+MHTTPCREATE="https://c.example"', 655)
        module.fails('AT+MHTTPCFG="ssl",0,1', 3)
        module.fails('AT+MHTTPCFG="cid",0,1', 3)
        module.fails('AT+MHTTPCFG="timeout",0,1,1,5', 50)  # no <input_timeout> without data mode (fn 5)
        assert [f.raw for f in module.ok('AT+MHTTPCFG="timeout",0')] == [b'+MHTTPCFG: "timeout",0,60,0']
        module.fails("AT+MHTTPCONTENT=0,0,5", 50)  # no ">" data mode
        module.ok('AT+MHTTPCONTENT=0,0,0,{"quotes":"allowed"}')
        assert module.command('AT+MHTTPDLFILE="http://a.example/x","x"') == [Final("ERROR")]
        assert module.command('AT+MSSLCFG="auth",0,1') == [Final("ERROR")]
        if model == "MN316A":
            module.fails('AT+MHTTPCFG="cached",0,1,4097', 50)  # fn 4
        else:
            module.fails('AT+MHTTPHEADER=0,0,0,"X-Long: ' + "x" * 1560 + '"', 50)  # 1560-byte parameters (3.3 note)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("model,given,stored", [
    ("ML307R", "/a/x.bin", "a/x.bin"), ("ML307R", "a/x.bin", "etc/http_file/a/x.bin"),
    ("ML305U", "a/x.bin", "a/x.bin"), ("ML305U", "x.bin", "etc/http_file/x.bin"),
    ("ML305U", "a\\x.bin", "etc/http_file/a/x.bin"),
])
def test_local_path_rules(tmp_path, model, given, stored):
    """fn 26/33: ML307R stores a path without a leading "/" under /etc/http_file/; ML305U stores a
    path with only forward slashes as given, and one with none or with backslashes there."""
    with BlobServer() as server, emulator("onemo", tmp_path, model=model) as (host, runner):
        module = Module(host)
        module.ok(f'AT+MHTTPDLFILE="{server.url("/blob/100")}","{given}"')
        module.urc("header")
        assert module.next().name == "+MHTTPDLFILE"
        assert runner.side.fs.root.joinpath(stored).stat().st_size == 100
        module.fails(f'AT+MHTTPDLFILE="{server.url("/blob/100")}","../../x"', 50)
