"""The OneMO manual's examples as scenarios to replay: what the loopback server answers to each
request (the header block and body the manual shows), the firmware's commands with the manual's
hosts and ports rewritten to the server, and the checks of what the firmware got (byte for byte,
modulo the manual's typography) and of what the server received.  Held against the OneMO
emulator (tests/system/test_emulator_onemo_manual.py) and the bridge to a Neoway emulator
(tests/system/test_bridge_onemo_manual.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import yaml

from bridge.at import CommandFramer, ResponseFramer
from bridge.at.frames import DataInput, Final, Frame, Info, Line
from support.onemo_emulated import DIALECT, STALL, Module, ScriptedServer, head_fields, raw_response
from support.paths import DATA
from support.servers import blob_bytes

EXAMPLES = {e["name"]: e for e in yaml.safe_load((DATA / "examples_onemo.yaml").read_text("utf-8"))}
NAMES = {"www.baidu.com": ["127.0.0.1"], "api.heclouds.com": ["127.0.0.1"]}
# The manual's typesetting varies ("+MHTTPCREATE:0", +MHTTPURC:"header", spaces after commas);
# the module writes one form: a space after the colon (2.2 note), none after commas.
TYPOGRAPHY = [(b'+MHTTPURC:"', b'+MHTTPURC: "'), (b"+MHTTPCREATE:0", b"+MHTTPCREATE: 0"), (b'+MHTTPCFG:"', b'+MHTTPCFG: "'),
              (b'"header", 2, 200, 225,', b'"header",2,200,225,'), (b"+MHTTPDLFILE: 189, 189, 100", b"+MHTTPDLFILE: 189,189,100")]
# Intermediate download progress depends on how TCP splits the body; the final report does not.
PROGRESS = re.compile(rb"\r\n\+MHTTPDLFILE: \d+,\d+,(?!100[,\r])\d+(?:,\d+)?\r\n")
CHUNKED_BODY = b'{"id":"speed1"\\r,"tags":["mobile"],"unit":"m/s"\\r,"unit_symbol":"m/s"}'  # 70 bytes, as 4.1 counts


@dataclass
class Scenario:
    entries: list[str]
    model: Optional[str] = None
    before: dict[str, list[str]] = field(default_factory=dict)  # setup commands (answered OK) before an entry
    tls: bool = False
SCENARIOS = {
    "3.1": Scenario(["3.1 test command", "3.1 header set", "3.1 header query"], before={"3.1 header set": ["create"]}),
    "3.2": Scenario(["3.2 create instance"]),
    "3.3": Scenario(["3.3 set request header"], before={"3.3 set request header": ["create"]}),
    # The JSON typed with bare quotes: models whose strings may hold quotes (fn 20).
    "3.4 inline": Scenario(["3.4 content in the command"], model="MN316", before={"3.4 content in the command": ["create"]}),
    "3.4 data mode": Scenario(["3.4 content in data mode"], before={"3.4 content in data mode": ["create"]}),
    "3.5": Scenario(["3.5 GET request"]),
    "3.6": Scenario(["3.6 read cached data"]),
    "3.7": Scenario(["3.7 delete instance"], before={"3.7 delete instance": ["create"]}),
    "3.8": Scenario(["3.8 terminate transfer"], before={"3.8 terminate transfer": ["create"]}),
    "3.9 file": Scenario(["3.9 download to file"]),
    # Its header URC carries id 2: two instances exist, the download takes the next free id.
    "3.9 path": Scenario(["3.9 download to the given path"], before={"3.9 download to the given path": ["create", "create"]}),
    "3.9 http_file": Scenario(["3.9 download to /etc/http_file"], before={"3.9 download to /etc/http_file": ["create", "create"]}),
    "3.10 normal": Scenario(["3.10 request in normal mode"]),
    "3.10 cached": Scenario(["3.10 request in cached mode"]),
    # The PUT body uses escaped input (\" and \\); the manual's flow never sets "encoding" 2, so it is set first.
    "4.1": Scenario(["4.1 create instance and configure", "4.1 GET request", "4.1 PUT request",
                     "4.1 terminate during a request", "4.1 delete instance"],
                    before={"4.1 PUT request": ['AT+MHTTPCFG="encoding",0,2']}),
    "4.1 POST": Scenario(["4.1 POST request"], model="MN316", before={"4.1 POST request": ["create"]}),
    "4.1 chunked": Scenario(["4.1 chunked POST request"]),
    # The manual's certificate is written as printed (1310 bytes once its \r\n are line breaks);
    # the server's CA is then written under the same name, so that verification can succeed.
    "4.2": Scenario(["4.2 write SSL certificate", "4.2 select certificate and authentication",
                     "4.2 create HTTPS instance", "4.2 HTTPS GET request"],
                    before={"4.2 select certificate and authentication": ["ca"]}, tls=True),
    "4.3": Scenario(["4.3 create instance in cached mode", "4.3 cached GET request", "4.3 read cached data"]),
    "4.4": Scenario(["4.4 download to file", "4.4 ranged download", "4.4 resume download"]),
}


def frames_of(stream: bytes) -> list[Frame]:
    framer = ResponseFramer(DIALECT)
    frames = framer.feed(stream)
    framer.close()
    return frames + framer.feed()


def comparable(frame: Frame) -> tuple:
    if isinstance(frame, Info):
        return ("Info", frame.name, frame.variant, dict(frame.fields), frame.payload)
    if isinstance(frame, Final):
        return ("Final", frame.result, frame.code)
    if isinstance(frame, Line):
        return ("Line", frame.raw)
    return (type(frame).__name__,)


def is_progress(frame: Frame) -> bool:
    return isinstance(frame, Info) and frame.name == "+MHTTPDLFILE" and frame.get("percent") != "100"


def without_mflist(host: bytes, module: bytes) -> tuple[bytes, bytes]:
    """AT+MFLIST belongs to the file-system manual, which this emulator does not implement."""
    if b"AT+MFLIST" in host:
        host = host[:host.find(b"AT+MFLIST")]
    if b"\r\n+MFLIST" in module:
        module = module[:module.find(b"\r\n+MFLIST")]
    return host, module


def served_responses(scenario: Scenario) -> list:
    """The responses the manual shows, in order: each header block with its body (from the
    content URCs, or from +MHTTPREAD in cached mode; seeded filler where the manual shows none)."""
    frames: list = []
    for name in scenario.entries:
        if name == "4.1 terminate during a request":
            frames.append(STALL)
        else:
            frames += frames_of(EXAMPLES[f"{name} (module)"]["stream"].encode())
    responses = []
    for index, frame in enumerate(frames):
        if frame is STALL:
            responses.append(STALL)
        elif _is(frame, "+MHTTPURC", "header"):
            body = b"".join(f.payload for f in _until_next_head(frames[index + 1:]) if _is(f, "+MHTTPURC", "content") and f.payload)
            responses.append(raw_response(frame.payload, body or _filler(frame.payload)))
        elif _is(frame, "+MHTTPURC", "recv"):
            later = frames[index + 1:]
            head = next((f.payload for f in later if _is(f, "+MHTTPREAD") and f.get("type") == "0"), None) or _manual_head()
            body = next((f.payload for f in later if _is(f, "+MHTTPREAD") and f.get("type") == "1"), None)
            responses.append(raw_response(head, body or _filler(head)))
    return responses


def _is(frame, name: str, variant: Optional[str] = None) -> bool:
    return isinstance(frame, Info) and frame.name == name and (variant is None or frame.variant == variant)


def _until_next_head(frames: list) -> list:
    for index, frame in enumerate(frames):
        if frame is STALL or _is(frame, "+MHTTPURC", "header") or _is(frame, "+MHTTPURC", "recv"):
            return frames[:index]
    return frames


def _filler(head: bytes) -> bytes:
    """Seeded bytes for a body the manual does not print (a Content-Range picks its slice)."""
    fields = head_fields(head)
    ranged = re.match(r"bytes (\d+)-(\d+)/(\d+)", fields.get("content-range", ""))
    if ranged:
        first, last, total = (int(g) for g in ranged.groups())
        return blob_bytes(total, total, first, last + 1)
    length = int(fields["content-length"])
    return blob_bytes(length, length)


def _manual_head() -> bytes:
    """The 225-byte header of 3.5 (Content-Length 145), for 3.10's cached request that shows none."""
    frames = frames_of(EXAMPLES["3.5 GET request (module)"]["stream"].encode())
    return next(f.payload for f in frames if _is(f, "+MHTTPURC", "header"))


def rewrite(host_stream: bytes, port: int) -> bytes:
    """The manual's servers, pointed at the loopback server (its names go through the hosts map)."""
    stream = host_stream.replace(b"http://120.27.12.119:10080", f"http://127.0.0.1:{port}".encode())
    stream = stream.replace(b"https://120.27.12.119:10443", f"https://127.0.0.1:{port}".encode())
    stream = stream.replace(b"www.baidu.com:80", f"www.baidu.com:{port}".encode())
    return stream.replace(b"api.heclouds.com/", f"api.heclouds.com:{port}/".encode())


def setup(module: Module, step: str, server: ScriptedServer, ca) -> None:
    if step == "create":
        module.ok(f'AT+MHTTPCREATE="http://127.0.0.1:{server.port}"')
    elif step == "ca":
        pem = ca.cert_pem.bytes().replace(b"\n", b"\r\n")
        escaped = pem.decode().replace("\r\n", "\\r\\n")  # written as the manual writes its PEM
        module.ok(f'AT+MSSLCERTWR="s.ca",0,{len(pem)},"{escaped}"')
    else:
        module.ok(step)


def replay(module: Module, name: str, server: ScriptedServer) -> tuple[list[Frame], bytes]:
    """Send the host side of example `name` as firmware would: each command once the URCs the
    manual shows before its answer have come, data after the prompt.  Returns the module's
    frames and bytes for it."""
    host, expected = without_mflist(EXAMPLES[f"{name} (host)"]["stream"].encode(), EXAMPLES[f"{name} (module)"]["stream"].encode())
    steps = CommandFramer(DIALECT).feed(rewrite(host, server.port))
    wanted = [f for f in frames_of(expected) if not is_progress(f)]
    start, got, pos = len(module.log), [], 0

    def take(count: int) -> None:
        while len([f for f in got if not is_progress(f)]) < count:
            got.append(module.next(timeout=15))

    for index, step in enumerate(steps):
        if isinstance(step, DataInput):
            continue
        while pos < len(wanted) and isinstance(wanted[pos], Info) and wanted[pos].unsolicited:
            pos += 1
        take(pos)
        module.send(step.raw + b"\r")
        following = steps[index + 1] if index + 1 < len(steps) else None
        if isinstance(following, DataInput):
            pos += 1  # the prompt
            take(pos)
            module.send(following.data)
        while not isinstance(wanted[pos], Final):
            pos += 1
        take(pos + 1)
        pos += 1
    take(len(wanted))
    module.alive()  # nothing more comes for this example
    actual = bytes(module.log[start:])
    assert actual.endswith(b"\r\nOK\r\n")
    return got, actual[: -len(b"\r\nOK\r\n")]


def check_example(name: str, got: list[Frame], actual: bytes) -> None:
    _, expected = without_mflist(b"", EXAMPLES[f"{name} (module)"]["stream"].encode())
    wanted = [comparable(f) for f in frames_of(expected) if not is_progress(f)]
    assert [comparable(f) for f in got if not is_progress(f)] == wanted, name
    for old, new in TYPOGRAPHY:
        expected = expected.replace(old, new)
    assert PROGRESS.sub(b"", actual) == PROGRESS.sub(b"", expected), name
    check_progress([f for f in got if isinstance(f, Info) and f.name == "+MHTTPDLFILE"])


def check_progress(reports: list[Info]) -> None:
    """Every report: percent = downloaded * 100 // content_length, downloaded growing, 100 last."""
    done = [int(r.get("downloaded")) for r in reports]
    assert done == sorted(done)
    for report in reports:
        total = int(report.get("content_length"))
        assert int(report.get("percent")) == int(report.get("downloaded")) * 100 // total
    if reports:
        assert reports[-1].get("percent") == "100"


def check_requests(name: str, server: ScriptedServer, fs) -> None:
    """What reached the server, and what reached the module's files."""
    requests = server.requests
    if name == "4.1":
        get, put = requests[:2]
        assert len(requests) in (2, 3)  # the terminated GET may be cancelled before it connects
        assert get[:2] == ("GET", "/get") and get[2]["connection"] == "close"
        assert get[2]["api-key"] == "FC9B69m4prHH2j7ljBbA=hHlbMI="
        assert put[:2] == ("PUT", "/put") and put[3] == CHUNKED_BODY and put[2]["content-length"] == "70"
        assert "api-key" not in put[2]  # the specific header lasted one request (3.3)
    elif name == "4.1 POST":
        assert requests[0][0] == "POST" and requests[0][3] == CHUNKED_BODY and requests[0][2]["content-length"] == "70"
    elif name == "4.1 chunked":
        method, target, headers, body = requests[0]
        assert (method, target, body) == ("POST", "/devices/622957377/datastreams", CHUNKED_BODY)
        assert headers["transfer-encoding"] == "chunked" and headers["api-key"] == "2ATvkByTxig2uy55rlQPLf3xxVY="
        assert headers["host"] == f"api.heclouds.com:{server.port}"
    elif name == "4.4":
        assert [r[2].get("range") for r in requests] == [None, "bytes=0-4095", "bytes=4096-"]
        assert fs.read_bytes("/test.txt") == blob_bytes(9508, 9508)
    elif name == "3.9 path":
        assert fs.size("/test.txt") == 189
    elif name == "3.9 http_file":
        assert fs.size("/etc/http_file/test.txt") == 189
    elif name == "3.9 file":
        assert fs.read_bytes("/test.txt") == blob_bytes(145, 145)
    elif name == "3.3" or name == "3.4 inline":
        assert requests == []
