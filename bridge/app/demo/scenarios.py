"""What the demo's scripted firmware does, in each dialect, and how each step is checked.

A step talks to the bridge exactly as firmware for that dialect would and raises StepFailed
with the reason when what comes back is not what a module would have said.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from bridge.at.dialect import load
from bridge.at.frames import Final, Frame, HttpBody, HttpEnd, HttpHead, Info
from bridge.at import ResponseFramer
from bridge.app.demo.firmware import HostEnd
from bridge.app.demo.server import DemoServer, demo_bytes


class StepFailed(AssertionError):
    pass


@dataclass
class Context:
    firmware: HostEnd
    server: DemoServer
    write_ca: Callable[[str, bytes], None]  # puts the CA where the firmware's dialect expects it
    httpid: int = -1  # the OneMO instance the steps share


Step = tuple[str, Callable[[Context], str]]


def check(condition: bool, reason: str) -> None:
    if not condition:
        raise StepFailed(reason)


def body_of(frames: list[Frame]) -> bytes:
    return b"".join(f.data for f in frames if isinstance(f, HttpBody))


# ---- firmware written for a Neoway N58 -----------------------------------------------------


def _neoway_exchange(ctx: Context, action: str, method: str = "GET", data: bytes = b"", secure: bool = False) -> list[Frame]:
    """HTTP(S)ACTION, then the response as recvmode 0 delivers it, up to the link's close."""
    closed = "+HTTPSCLOSED" if secure else "+HTTPCLOSED"
    framer = ResponseFramer(load("neoway"), prompts=False)
    framer.expect_http(method)
    ctx.firmware.command(action)
    if data:
        ctx.firmware.expect(rb"\r\n> ?")
        ctx.firmware.send(data)
    frames = ctx.firmware.frames_until(framer, lambda f: isinstance(f, Info) and f.name == closed, timeout=30)
    check(Final("OK") in frames, f"{action} was not answered OK: {frames[:3]}")
    check(any(isinstance(f, HttpEnd) for f in frames), "the response did not end")
    return frames


def _neoway_link(ctx: Context, path: str, port: int, family: str = "HTTP") -> None:
    ctx.firmware.transact(f"AT+{family}PARA=url,127.0.0.1{path}")
    ctx.firmware.transact(f"AT+{family}PARA=port,{port}")
    answer = ctx.firmware.transact(f"AT+{family}SETUP", timeout=30)
    check(answer.endswith(b"OK\r\n"), f"{family}SETUP: {answer!r}")


def _head(frames: list[Frame]) -> HttpHead:
    heads = [f for f in frames if isinstance(f, HttpHead)]
    check(len(heads) == 1, "no response head")
    return heads[0]


def neoway_data_link(ctx: Context) -> str:
    answer = ctx.firmware.transact("AT+XIIC=1")
    check(answer.endswith(b"OK\r\n"), f"AT+XIIC=1: {answer!r}")
    state = ctx.firmware.transact("AT+XIIC?")
    check(b"+XIIC:    1," in state, f"AT+XIIC?: {state!r}")
    return state.split(b"\r\n")[1].decode()


def neoway_get(ctx: Context) -> str:
    _neoway_link(ctx, "/data/20000?seed=1", ctx.server.http_port)
    frames = _neoway_exchange(ctx, "AT+HTTPACTION=0")
    check(body_of(frames) == demo_bytes(20000, 1), "the body differs from the server's")
    return "20000-byte binary body identical"


def neoway_head(ctx: Context) -> str:
    _neoway_link(ctx, "/data/20000?seed=1", ctx.server.http_port)
    frames = _neoway_exchange(ctx, "AT+HTTPACTION=1", method="HEAD")
    head = _head(frames)
    check(dict(head.headers).get("Content-Length") == "20000" and not body_of(frames), "HEAD answer wrong")
    return "status 200, Content-Length 20000, no body"


def neoway_typed_post(ctx: Context) -> str:
    _neoway_link(ctx, "/echo", ctx.server.http_port)
    data = json.dumps({"sensor": "t1", "value": 21.5}).encode()
    frames = _neoway_exchange(ctx, f"AT+HTTPACTION=2,{len(data)},2", "POST", data)
    check(body_of(frames) == data, "the echoed body differs")
    received = dict(_head(frames).headers).get("X-Received-Content-Type", "")
    check(received.startswith("application/json"), f"the server saw Content-Type {received!r}")
    return f"type 2 reached the server as {received}"


def neoway_raw_put(ctx: Context) -> str:
    _neoway_link(ctx, "/echo", ctx.server.http_port)
    body = b"hello\r\n"
    raw = (f"PUT /echo HTTP/1.1\r\nHost: 127.0.0.1:{ctx.server.http_port}\r\nAuthorization: Bearer demo-token\r\n"
           f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    frames = _neoway_exchange(ctx, f"AT+HTTPACTION=99,{len(raw)}", "PUT", raw)
    check(body_of(frames) == body, "the echoed body differs")
    method, _, headers = ctx.server.seen[-1]
    check(method == "PUT" and headers.get("Authorization") == "Bearer demo-token", "the server did not see the PUT with its Authorization")
    return "PUT with Authorization reached the server"


def neoway_ranged_get(ctx: Context) -> str:
    _neoway_link(ctx, "/data/20000?seed=1", ctx.server.http_port)
    frames = _neoway_exchange(ctx, "AT+HTTPACTION=0,100,50")
    head = _head(frames)
    check(head.status == 206, f"status {head.status}")
    check(body_of(frames) == demo_bytes(20000, 1)[100:150], "the range differs")
    return f"206, {dict(head.headers).get('Content-Range')}"


def neoway_https_get(ctx: Context) -> str:
    ctx.write_ca("ca.pem", ctx.server.ca_pem)
    for setting in ('"sslversion",3', '"authmode",1', '"cacert","ca.pem"'):
        answer = ctx.firmware.transact(f"AT+HTTPSCFG={setting}")
        check(answer.endswith(b"OK\r\n"), f"AT+HTTPSCFG={setting}: {answer!r}")
    _neoway_link(ctx, "/data/5000?seed=2", ctx.server.https_port, "HTTPS")
    frames = _neoway_exchange(ctx, "AT+HTTPSACTION=0", secure=True)
    check(body_of(frames) == demo_bytes(5000, 2), "the body differs")
    return "server verified against the demo CA; 5000-byte body identical"


NEOWAY_FIRMWARE: list[Step] = [
    ("data link (AT+XIIC)", neoway_data_link), ("GET", neoway_get), ("HEAD", neoway_head),
    ("typed POST (json)", neoway_typed_post), ("raw PUT (mode 99)", neoway_raw_put),
    ("ranged GET", neoway_ranged_get), ("HTTPS GET", neoway_https_get),
]


# ---- firmware written for a OneMO ML307R --------------------------------------------------


def _onemo_request(ctx: Context, httpid: int, method: int, path: str, headers: list[str] = (), content: bytes = b"",
                   expect_body: bool = True) -> tuple[Info, bytes]:
    for header in headers:
        ctx.firmware.command(f"AT+MHTTPHEADER={httpid},1,{len(header) + 2}")
        ctx.firmware.expect(rb"\r\n> ?")
        ctx.firmware.send(header.encode() + b"\r\n")
        ctx.firmware.expect(rb"\r\nOK\r\n")
    if content:
        ctx.firmware.command(f"AT+MHTTPCONTENT={httpid},0,{len(content)}")
        ctx.firmware.expect(rb"\r\n> ?")
        ctx.firmware.send(content)
        ctx.firmware.expect(rb"\r\nOK\r\n")
    framer = ResponseFramer(load("onemo"), prompts=False)
    ctx.firmware.command(f'AT+MHTTPREQUEST={httpid},{method},0,"{path}"')

    def complete(frame: Frame) -> bool:
        if not isinstance(frame, Info) or frame.name != "+MHTTPURC":
            return False
        if frame.variant == "err":
            raise StepFailed(f"err URC {frame.get('error_code')}")
        if frame.variant == "header":
            return not expect_body
        return frame.variant == "content" and (frame.int("sum_len") == frame.int("content_len") != 0 or frame.int("cur_len") == 0)

    frames = ctx.firmware.frames_until(framer, complete, timeout=30)
    check(Final("OK") in frames, f"MHTTPREQUEST was not answered OK: {frames[:3]}")
    header = next(f for f in frames if isinstance(f, Info) and f.variant == "header")
    check(len(header.payload or b"") == header.int("header_len"), "header_len does not match its data")
    body = b"".join(f.payload or b"" for f in frames if isinstance(f, Info) and f.variant == "content")
    return header, body


def _onemo_create(ctx: Context, url: str) -> int:
    answer = ctx.firmware.transact(f'AT+MHTTPCREATE="{url}"')
    check(b"+MHTTPCREATE:" in answer and answer.endswith(b"OK\r\n"), f"MHTTPCREATE: {answer!r}")
    return int(answer.split(b"+MHTTPCREATE:")[1].split(b"\r\n")[0])


def onemo_get(ctx: Context) -> str:
    httpid = _onemo_create(ctx, f"http://127.0.0.1:{ctx.server.http_port}")
    ctx.httpid = httpid
    header, body = _onemo_request(ctx, httpid, 1, "/data/20000?seed=1")
    check(header.get("code") == "200" and body == demo_bytes(20000, 1), "status or body differs")
    return f"header_len {header.get('header_len')}, 20000-byte binary body identical"


def onemo_head(ctx: Context) -> str:
    header, _ = _onemo_request(ctx, ctx.httpid, 5, "/data/20000?seed=1", expect_body=False)
    check(b"Content-Length: 20000" in (header.payload or b""), "HEAD answer wrong")
    return "status 200, header only"


def onemo_typed_post(ctx: Context) -> str:
    data = json.dumps({"sensor": "t1", "value": 21.5}).encode()
    header, body = _onemo_request(ctx, ctx.httpid, 2, "/echo", ["Content-Type: application/json"], data)
    check(body == data and b"X-Received-Content-Type: application/json" in (header.payload or b""), "echo differs")
    return "json body and Content-Type reached the server"


def onemo_put(ctx: Context) -> str:
    header, body = _onemo_request(ctx, ctx.httpid, 3, "/echo", ["Authorization: Bearer demo-token"], b"hello")
    method, _, headers = ctx.server.seen[-1]
    check(body == b"hello" and method == "PUT" and headers.get("Authorization") == "Bearer demo-token", "PUT differs")
    return "PUT with Authorization reached the server"


def onemo_ranged_get(ctx: Context) -> str:
    header, body = _onemo_request(ctx, ctx.httpid, 1, "/data/20000?seed=1", ["Range: bytes=100-149"])
    check(header.get("code") == "206" and body == demo_bytes(20000, 1)[100:150], "the range differs")
    ctx.firmware.transact(f"AT+MHTTPDEL={ctx.httpid}")
    return "206 with the 50 bytes asked for"


def onemo_https_get(ctx: Context) -> str:
    httpid = _onemo_create(ctx, f"https://127.0.0.1:{ctx.server.https_port}")
    for command in (f'AT+MHTTPCFG="ssl",{httpid},1,1', 'AT+MSSLCFG="auth",1,0'):
        answer = ctx.firmware.transact(command)
        check(answer.endswith(b"OK\r\n"), f"{command}: {answer!r}")
    header, body = _onemo_request(ctx, httpid, 1, "/data/5000?seed=2")
    ctx.firmware.transact(f"AT+MHTTPDEL={httpid}")
    check(body == demo_bytes(5000, 2), "the body differs")
    return "TLS (no server verification: Neoway has no command to write a CA) ; 5000-byte body identical"


ONEMO_FIRMWARE: list[Step] = [
    ("GET", onemo_get), ("HEAD", onemo_head), ("typed POST (json)", onemo_typed_post),
    ("PUT with Authorization", onemo_put), ("ranged GET", onemo_ranged_get), ("HTTPS GET", onemo_https_get),
]

FIRMWARE = {"neoway": NEOWAY_FIRMWARE, "onemo": ONEMO_FIRMWARE}
