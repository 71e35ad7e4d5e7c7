"""Hypothesis strategies for AT byte streams, each item with the frames it must parse into.

An item is (bytes, [expected frame dicts]).  Expected frames are compared without `raw` (the
framer's copy of the input) and with consecutive HttpBody frames merged, since the block size
they are cut in is a delivery detail.
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

Item = tuple[bytes, list[dict[str, Any]]]

ENDINGS = st.sampled_from([b"\r\n", b"\r", b"\n"])
SAFE_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:= ", min_size=1, max_size=24).map(str.strip).filter(bool)
BINARY = st.binary(max_size=2048)
ID = st.integers(0, 3)


def info(name: str, fields: dict[str, str], variant: str | None = None, payload: bytes | None = None, unsolicited: bool = True) -> dict[str, Any]:
    return {"type": "Info", "name": name, "variant": variant, "fields": fields, "payload": payload, "unsolicited": unsolicited}


def final(result: str, code: int | None = None, text: str | None = None) -> dict[str, Any]:
    return {"type": "Final", "result": result, "code": code, "text": text}


# ---- shared by both dialects ----------------------------------------------------------


@st.composite
def final_results(draw) -> Item:
    end = draw(ENDINGS)
    choice = draw(st.sampled_from(["OK", "ERROR", "CME", "CMEtext"]))
    if choice in ("OK", "ERROR"):
        return b"\r\n" + choice.encode() + end, [final(choice)]
    if choice == "CME":
        code = draw(st.integers(0, 9999))
        return b"\r\n+CME ERROR: %d" % code + end, [final("CME", code=code)]
    text = draw(SAFE_TEXT.filter(lambda t: not t.isdigit()))
    return b"\r\n+CME ERROR: " + text.encode() + end, [final("CME", text=text)]


@st.composite
def unrelated_urcs(draw) -> Item:
    end = draw(ENDINGS)
    kind = draw(st.sampled_from(["RING", "CEREG", "CMT", "CLIP", "CSQ"]))
    if kind == "RING":
        return b"\r\nRING" + end, [{"type": "Line"}]
    if kind == "CEREG":
        stat = draw(st.integers(0, 5))
        return b'\r\n+CEREG: %d,"1A2B","01234567",7' % stat + end, [{"type": "Info", "name": "+CEREG"}]
    if kind == "CLIP":
        return b'\r\n+CLIP: "13800138000",129' + end, [{"type": "Info", "name": "+CLIP"}]
    if kind == "CSQ":
        return b"\r\n+CSQ: 20,99" + end, [{"type": "Info", "name": "+CSQ"}]
    pdu = draw(st.text(alphabet="0123456789ABCDEF", min_size=2, max_size=80)).encode()
    return b'\r\n+CMT: "",%d' % (len(pdu) // 2) + end + pdu + end, [{"type": "Info", "name": "+CMT", "payload": pdu}]


@st.composite
def prompts(draw) -> Item:
    return b"\r\n" + draw(st.sampled_from([b">", b"> "])), [{"type": "Prompt"}]


@st.composite
def echoes(draw) -> Item:
    line = draw(st.sampled_from([b"AT+CSQ", b"AT+CEREG?", b"ATE1", b"AT"]))
    return line + b"\r", [{"type": "Echo", "raw": line}]


# ---- OneMO, module -> host --------------------------------------------------------------


@st.composite
def http_head(draw) -> bytes:
    status = draw(st.sampled_from([(200, b"OK"), (206, b"Partial Content"), (404, b"Not Found"), (500, b"Internal Server Error")]))
    headers = draw(st.lists(st.tuples(st.sampled_from(["Server", "Content-Type", "X-Thing", "Set-Cookie"]), SAFE_TEXT), max_size=6))
    head = b"HTTP/1.1 %d %s\r\n" % status
    for name, value in headers:
        head += name.encode() + b": " + value.encode() + b"\r\n"
    return head


@st.composite
def onemo_header_urcs(draw) -> Item:
    hid, head = draw(ID), draw(http_head())
    hexed = draw(st.booleans())
    data = head.hex().upper().encode() if hexed else head
    status = head.split(b" ")[1].decode()
    stream = b'\r\n+MHTTPURC: "header",%d,%s,%d,' % (hid, status.encode(), len(head)) + data + (b"\r\n" if hexed else b"")
    return stream, [info("+MHTTPURC", {"httpid": str(hid), "code": status, "header_len": str(len(head))}, "header", head)]


@st.composite
def onemo_content_urcs(draw) -> Item:
    hid, body = draw(ID), draw(BINARY)
    total = draw(st.integers(len(body), len(body) + 5000))
    hexed = draw(st.booleans())
    data = body.hex().encode() if hexed else body
    fields = {"httpid": str(hid), "content_len": str(total), "sum_len": str(total), "cur_len": str(len(body))}
    stream = b'\r\n+MHTTPURC: "content",%d,%d,%d,%d,' % (hid, total, total, len(body)) + data + b"\r\n"
    return stream, [info("+MHTTPURC", fields, "content", body)]


@st.composite
def onemo_content_last(draw) -> Item:
    hid, total = draw(ID), draw(st.integers(0, 99999))
    fields = {"httpid": str(hid), "content_len": "0", "sum_len": str(total), "cur_len": "0"}
    return b'\r\n+MHTTPURC: "content",%d,0,%d,0' % (hid, total) + draw(ENDINGS), [info("+MHTTPURC", fields, "content")]


@st.composite
def onemo_short_urcs(draw) -> Item:
    hid, end = draw(ID), draw(ENDINGS)
    kind = draw(st.sampled_from(["err", "recv", "ind"]))
    if kind == "err":
        code = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]))
        return b'\r\n+MHTTPURC: "err",%d,%d' % (hid, code) + end, [info("+MHTTPURC", {"httpid": str(hid), "error_code": str(code)}, "err")]
    if kind == "recv":
        h, c = draw(st.integers(0, 4096)), draw(st.integers(0, 8192))
        fields = {"httpid": str(hid), "code": "200", "recv_header_len": str(h), "recv_content_len": str(c)}
        return b'\r\n+MHTTPURC: "recv",%d,200,%d,%d' % (hid, h, c) + end, [info("+MHTTPURC", fields, "recv")]
    # "ind" sometimes comes without its CR LF, glued to the next frame (which starts with '+')
    ind = b'\r\n+MHTTPURC: "ind",%d' % hid, [info("+MHTTPURC", {"httpid": str(hid)}, "ind")]
    if not draw(st.booleans()):
        return ind[0] + end, ind[1]
    glued_bytes, glued_frames = draw(st.one_of(onemo_header_urcs(), onemo_content_urcs()))
    return ind[0] + glued_bytes[2:], ind[1] + glued_frames


@st.composite
def onemo_read_responses(draw) -> Item:
    hid, kind, body = draw(ID), draw(st.integers(0, 1)), draw(BINARY)
    unread = draw(st.integers(0, 4096))
    fields = {"httpid": str(hid), "type": str(kind), "unread_length": str(unread), "data_len": str(len(body))}
    stream = b"\r\n+MHTTPREAD: %d,%d,%d,%d," % (hid, kind, unread, len(body)) + body + b"\r\n\r\nOK\r\n"
    return stream, [info("+MHTTPREAD", fields, None, body, unsolicited=False), final("OK")]


def onemo_module_items() -> st.SearchStrategy[Item]:
    return st.one_of(onemo_header_urcs(), onemo_content_urcs(), onemo_content_last(), onemo_short_urcs(),
                     onemo_read_responses(), final_results(), unrelated_urcs(), prompts(), echoes())


# ---- Neoway, module -> host ----------------------------------------------------------------


@st.composite
def neoway_framed_recv(draw) -> Item:
    name = draw(st.sampled_from([b"+HTTPRECV", b"+HTTPSRECV"]))
    data = draw(BINARY.filter(bool))
    return b"\r\n" + name + b": %d," % len(data) + data + b"\r\n", [info(name.decode(), {"length": str(len(data))}, None, data)]


@st.composite
def neoway_raw_recv(draw) -> Item:
    https = draw(st.booleans())
    recv, closed = (b"+HTTPSRECV", b"+HTTPSCLOSED: HTTPS Link Closed") if https else (b"+HTTPRECV", b"+HTTPCLOSED: HTTP Link Closed")
    head = draw(http_head())
    body = draw(st.binary(max_size=40000))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    if framing == "length":
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    elif framing == "chunked":
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        pieces = [body[a:b] for a, b in zip([0] + cuts, cuts + [len(body)]) if body[a:b]]
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
    else:
        body = body.replace(b"+HTTP", b"-HTTP")  # a close-delimited body cannot hold the closing URC
        raw = head + b"\r\n" + body
    expected = [info(recv.decode(), {}, None, None), {"type": "HttpHead", "status": int(head.split(b" ")[1])}]
    if body:
        expected.append({"type": "HttpBody", "data": body})
    by = "length" if framing != "close" else closed.split(b":")[0].decode()
    expected.append({"type": "HttpEnd", "length": len(body), "by": by})
    expected.append(info(closed.split(b":")[0].decode(), {"text": closed.split(b": ")[1].decode()}))
    return b"\r\n" + recv + b":\r\n" + raw + b"\r\n" + closed + b"\r\n", expected


@st.composite
def neoway_short_urcs(draw) -> Item:
    end = draw(ENDINGS)
    kind = draw(st.sampled_from(["getrpt", "getrpt2", "filestat", "action", "send", "close"]))
    if kind == "getrpt":
        state = draw(st.sampled_from([10, 11, 20, 21, 30, 31]))
        return b"\r\n+HTTPGETRPT: %d" % state + end, [{"type": "Info", "name": "+HTTPGETRPT", "fields": {"state_type": str(state)}}]
    if kind == "getrpt2":
        state, err = draw(st.sampled_from([11, 31])), draw(st.sampled_from([303, 404, 500]))
        return b"\r\n+HTTPSGETRPT: %d,%d" % (state, err) + end, [{"type": "Info", "name": "+HTTPSGETRPT", "fields": {"state_type": str(state), "err_code": str(err)}}]
    if kind == "filestat":
        n = draw(st.integers(0, 524288))
        return b"\r\n+FILEHTTPSTAT: 0,1,%d" % n + end, [{"type": "Info", "name": "+FILEHTTPSTAT"}]
    if kind == "action":
        text = draw(st.sampled_from(["SOCKET ID OPEN FAILED", "OPERATION EXPIRED"]))
        return b"\r\n+HTTPACTION: " + text.encode() + end, [{"type": "Info", "name": "+HTTPACTION"}]
    if kind == "send":
        return b"\r\n+HTTPSEND: ERROR" + end, [{"type": "Info", "name": "+HTTPSEND"}]
    return b"\r\n+HTTPCLOSE: HTTP Link Closed" + end, [{"type": "Info", "name": "+HTTPCLOSE"}]


def neoway_module_items() -> st.SearchStrategy[Item]:
    return st.one_of(neoway_framed_recv(), neoway_raw_recv(), neoway_short_urcs(), final_results(),
                     unrelated_urcs(), prompts(), echoes())


# ---- host -> module, both dialects ----------------------------------------------------------


def command(name: str, form: str, params: list[tuple[str, bool]] = ()) -> dict[str, Any]:
    return {"type": "Command", "name": name, "form": form, "params": [{"text": t, "quoted": q} for t, q in params]}


def data_input(data: bytes, ended_by: str) -> dict[str, Any]:
    return {"type": "DataInput", "data": data, "ended_by": ended_by}


def data_line(line: bytes, data: bytes) -> bytes:
    """A command line that enters data mode, then its data.  An LF right after the line's CR is
    the framer's CR LF terminator (firmware ends lines with CR LF), so data that starts with LF
    comes after a full CR LF."""
    return line + (b"\r\n" if data.startswith(b"\n") else b"\r") + data


QUOTED_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ,:/.-=;", min_size=0, max_size=30)
DATA_NO_CTRL = BINARY.map(lambda b: b.replace(b"\x1a", b"").replace(b"\x1b", b""))


@st.composite
def basic_commands(draw) -> Item:
    end = draw(st.sampled_from([b"\r", b"\r\n", b"\n"]))
    choice = draw(st.sampled_from(["AT", "ATE0", "ATE1", "ATI", "AT+CSQ", "AT+CEREG?", "AT+CGATT?", "AT+CMEE=2"]))
    expected = {
        "AT": command("", "execute"), "ATE0": command("E", "set", [("0", False)]), "ATE1": command("E", "set", [("1", False)]),
        "ATI": command("I", "execute"), "AT+CSQ": command("CSQ", "execute"), "AT+CEREG?": command("CEREG", "read"),
        "AT+CGATT?": command("CGATT", "read"), "AT+CMEE=2": command("CMEE", "set", [("2", False)]),
    }[choice]
    return choice.encode() + end, [expected]


@st.composite
def onemo_commands(draw) -> Item:
    end = draw(st.sampled_from([b"\r", b"\r\n"]))
    hid = str(draw(ID))
    kind = draw(st.sampled_from(["create", "request", "cfg", "content_inline", "content_len", "content_ctrlz", "test"]))
    if kind == "create":
        url = "http://" + draw(SAFE_TEXT).replace(" ", "") + ":8080"
        return b'AT+MHTTPCREATE="%s"' % url.encode() + end, [command("MHTTPCREATE", "set", [(url, True)])]
    if kind == "request":
        method, path = str(draw(st.integers(1, 5))), "/" + draw(QUOTED_TEXT)
        line = f'AT+MHTTPREQUEST={hid},{method},0,"{path}"'
        return line.encode() + end, [command("MHTTPREQUEST", "set", [(hid, False), (method, False), ("0", False), (path, True)])]
    if kind == "cfg":
        value = draw(QUOTED_TEXT)
        line = f'AT+MHTTPCFG="header",{hid},"{value}"'
        return line.encode() + end, [command("MHTTPCFG", "set", [("header", True), (hid, False), (value, True)])]
    if kind == "content_inline":
        value = '{"a":' + str(draw(st.integers())) + ',"b":"x,y"}'
        line = f"AT+MHTTPCONTENT={hid},0,0,{value}"
        return line.encode() + end, [command("MHTTPCONTENT", "set", [(hid, False), ("0", False), ("0", False), (value, False)])]
    if kind == "content_len":
        data = draw(BINARY.filter(bool))
        line = f"AT+MHTTPCONTENT={hid},0,{len(data)}"
        return data_line(line.encode(), data), [command("MHTTPCONTENT", "set", [(hid, False), ("0", False), (str(len(data)), False)]), data_input(data, "length")]
    if kind == "content_ctrlz":
        data, stop = draw(DATA_NO_CTRL), draw(st.sampled_from([b"\x1a", b"\x1b"]))
        line = f"AT+MHTTPCONTENT={hid},1"
        ended = "ctrl_z" if stop == b"\x1a" else "esc"
        return data_line(line.encode(), data) + stop, [command("MHTTPCONTENT", "set", [(hid, False), ("1", False)]), data_input(data, ended)]
    name = draw(st.sampled_from(["MHTTPCFG", "MHTTPCREATE", "MHTTPREQUEST", "MHTTPDEL", "MHTTPTERM"]))
    return f"AT+{name}=?".encode() + end, [command(name, "test")]


@st.composite
def neoway_commands(draw) -> Item:
    end = draw(st.sampled_from([b"\r", b"\r\n"]))
    kind = draw(st.sampled_from(["url", "port", "setup", "get", "ranged", "post", "raw", "close", "md5", "stat", "xiic"]))
    if kind == "url":
        url = draw(SAFE_TEXT).replace(" ", "") + "/p"
        quoted = draw(st.booleans())
        value = f'"{url}"' if quoted else f" {url}"
        return f"AT+HTTPPARA=url,{value}".encode() + end, [command("HTTPPARA", "set", [("url", False), (url, quoted)])]
    if kind == "port":
        port = str(draw(st.integers(1, 65535)))
        return f"AT+HTTPPARA=port,{port}".encode() + end, [command("HTTPPARA", "set", [("port", False), (port, False)])]
    if kind in ("setup", "close"):
        name = {"setup": "HTTPSETUP", "close": "HTTPCLOSE"}[kind]
        return f"AT+{name}".encode() + end, [command(name, "execute")]
    if kind == "get":
        return b"AT+HTTPACTION=0" + end, [command("HTTPACTION", "set", [("0", False)])]
    if kind == "ranged":
        a, b = str(draw(st.integers(0, 9999))), str(draw(st.integers(1, 9999)))
        return f"AT+HTTPACTION=0,{a},{b}".encode() + end, [command("HTTPACTION", "set", [("0", False), (a, False), (b, False)])]
    if kind in ("post", "raw"):
        data = draw(st.binary(min_size=1, max_size=2048))
        params = [("2", False), (str(len(data)), False), (str(draw(st.integers(0, 4))), False)] if kind == "post" else [("99", False), (str(len(data)), False)]
        line = "AT+HTTPACTION=" + ",".join(t for t, _ in params)
        return data_line(line.encode(), data), [command("HTTPACTION", "set", params), data_input(data, "length")]
    if kind == "md5":
        digest = draw(st.binary(min_size=16, max_size=16)).hex()
        return f"AT+HTTPGET=0,0,{digest}".encode() + end, [command("HTTPGET", "set", [("0", False), ("0", False), (digest, False)])]
    if kind == "stat":
        return b"AT+HTTPGETSTAT?" + end, [command("HTTPGETSTAT", "read")]
    return b"AT+XIIC?" + end, [command("XIIC", "read")]


def host_items(dialect: str) -> st.SearchStrategy[Item]:
    own = onemo_commands() if dialect == "onemo" else neoway_commands()
    return st.one_of(own, basic_commands())


def module_items(dialect: str) -> st.SearchStrategy[Item]:
    return onemo_module_items() if dialect == "onemo" else neoway_module_items()
