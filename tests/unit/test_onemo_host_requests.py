"""The OneMO host side, sans-I/O: RequestSent once the module has taken the whole request (issue 9),
methods AT+MHTTPREQUEST has no code for, and how many module commands a request costs (issue 12)."""
from __future__ import annotations

import pytest

from bridge.model import ErrorKind, Failure, Method, Request, RequestSent, ResponseEnd, Timeouts, TlsSettings, VerifyMode
from bridge.onemo.host.side import SENT_GRACE
from support.hostside import events_of, feed, kinds, lines
from support.onemo_hostside import OK, FakeModule, head_urc, ok_response, started

URL = "http://h.example/a"


# ---- RequestSent ------------------------------------------------------------------------------------


def test_request_sent_after_mhttprequest_ok_and_the_grace():
    """The module answers MHTTPREQUEST OK before it connects: a failure it reports at once (a
    refused connection) must win, so RequestSent comes SENT_GRACE after the OK."""
    host = started()
    token = host.submit(Request(Method.GET, URL, report_sent=True))
    assert lines(host.data_to_send()) == [b'AT+MHTTPCREATE="http://h.example:80"']
    assert lines(feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK)) == [b'AT+MHTTPREQUEST=0,1,0,"/a"']
    assert events_of(host, token) == []  # not before the module said OK
    feed(host, OK, now=5.0)
    assert host.next_deadline() == 5.0 + SENT_GRACE
    host.on_time(5.0 + SENT_GRACE / 2)
    assert events_of(host, token) == []
    host.on_time(5.0 + SENT_GRACE)
    assert events_of(host, token) == [RequestSent()]
    feed(host, ok_response(b"hi"), now=9.0)
    assert kinds(events_of(host, token)) == ["ResponseHead", "BodyChunk", "ResponseEnd"]


@pytest.mark.parametrize("report", [b'\r\n+MHTTPURC: "err",0,3\r\n', ok_response(b"hi")])
def test_no_request_sent_when_the_module_reports_within_the_grace(report):
    host = started()
    fake = FakeModule(host, lambda c: report)
    token = host.submit(Request(Method.GET, URL, report_sent=True))
    fake.pump()
    host.on_time(fake.now + SENT_GRACE)
    assert "RequestSent" not in kinds(events_of(host, token))


def test_no_request_sent_unless_asked():
    host = started()
    fake = FakeModule(host, lambda c: ok_response(b"hi"))
    token = host.submit(Request(Method.GET, URL))
    fake.pump()
    assert "RequestSent" not in kinds(events_of(host, token))


def test_request_sent_after_the_last_chunked_content_piece():
    host = started()
    token = host.submit(Request(Method.POST, URL, body=iter([b"a" * 10, b"b" * 5]), report_sent=True))
    host.data_to_send()
    assert lines(feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK))[-1].startswith(b"AT+MHTTPREQUEST=0,2,")
    sent = feed(host, OK + b'\r\n+MHTTPURC: "ind",0\r\n')  # MHTTPREQUEST taken, content may come
    assert events_of(host, token) == []  # the body has not gone yet
    assert lines(sent) == [b"AT+MHTTPCONTENT=0,1,10"]
    assert feed(host, b"\r\n>") == b"a" * 10
    assert lines(feed(host, OK)) == [b"AT+MHTTPCONTENT=0,0,5"]
    assert feed(host, b"\r\n>") == b"b" * 5
    assert events_of(host, token) == []  # the last piece is not taken yet
    feed(host, OK)  # "ind" said connected: no grace needed
    assert events_of(host, token) == [RequestSent()]


def test_request_sent_after_content_length_body_and_request():
    host = started()
    fake = FakeModule(host, lambda c: b"")
    token = host.submit(Request(Method.POST, URL, body=b"x" * 5000, report_sent=True))
    fake.pump()
    assert [c.split(b"=")[0] for c in fake.commands][-3:] == [b"AT+MHTTPCONTENT"] * 2 + [b"AT+MHTTPREQUEST"]
    host.on_time(fake.now + SENT_GRACE)
    assert events_of(host, token) == [RequestSent()]


# ---- methods MHTTPREQUEST has no code for --------------------------------------------------------------


@pytest.mark.parametrize("method", [Method.PATCH, Method.OPTIONS])
def test_methods_without_a_code_fail_unsupported_before_any_command(method):
    host = started()
    token = host.submit(Request(method, URL, headers=[("X-A", "1")], body=b"{}", report_sent=True))
    events = events_of(host, token)
    assert len(events) == 1 and isinstance(events[0], Failure) and events[0].kind is ErrorKind.UNSUPPORTED
    assert host.data_to_send() == b"" and host.idle
    fake = FakeModule(host, lambda c: ok_response(b"ok"))  # and the next request runs
    after = host.submit(Request(Method.GET, URL))
    fake.pump()
    assert events_of(host, after)[-1] == ResponseEnd(2)


# ---- module commands per request (issue 12) --------------------------------------------------------------


def commands_per_request(requests) -> tuple[list[int], FakeModule]:
    """Run `requests` one after another against a fake module; the command lines each cost."""
    host = started()
    fake = FakeModule(host, lambda c: ok_response(b"x", httpid=int(c.params[0].text)))
    counts = []
    for request in requests:
        before = len(fake.commands)
        token = host.submit(request)
        fake.pump()
        assert events_of(host, token)[-1] == ResponseEnd(1)
        counts.append(len(fake.commands) - before)
    return counts, fake


def test_identical_gets_cost_one_request_command_each_after_the_first():
    timeouts = Timeouts(connect=30, response=30, input=10)  # not the module's defaults: MHTTPCFG "timeout" once
    counts, fake = commands_per_request(Request(Method.GET, URL, headers=[("Accept", "*/*")], timeouts=timeouts)
                                        for _ in range(4))
    assert counts == [4, 2, 2, 2]  # CREATE, CFG timeout, HEADER, REQUEST; then HEADER (per request) + REQUEST
    assert fake.commands[4:6] == [b"AT+MHTTPHEADER=0,0,11", b'AT+MHTTPREQUEST=0,1,0,"/a"']
    assert not any(c.startswith((b"AT+MHTTPDEL", b"AT+MHTTPCREATE")) for c in fake.commands[4:])


def test_identical_https_gets_cost_one_command_each_after_the_first():
    tls = TlsSettings(version="TLSv1.2")
    counts, fake = commands_per_request(Request(Method.GET, "https://h.example/a", tls=tls) for _ in range(3))
    assert counts[1:] == [1, 1] and fake.commands[-1] == b'AT+MHTTPREQUEST=0,1,0,"/a"'


def test_only_changed_settings_are_sent_on_a_kept_instance():
    requests = [Request(Method.GET, URL), Request(Method.GET, URL, timeouts=Timeouts(connect=20, response=5)),
                Request(Method.GET, URL, timeouts=Timeouts(connect=20, response=5))]
    counts, fake = commands_per_request(requests)
    assert fake.commands[2:] == [b'AT+MHTTPCFG="timeout",0,20,5,10', b'AT+MHTTPREQUEST=0,1,0,"/a"',
                                 b'AT+MHTTPREQUEST=0,1,0,"/a"']


def test_other_tls_settings_or_servers_get_their_own_instance():
    requests = [Request(Method.GET, URL), Request(Method.GET, "http://other.example/a"),
                Request(Method.GET, "https://h.example/a"), Request(Method.GET, "https://h.example/a",
                                                                   tls=TlsSettings(verify=VerifyMode.SERVER, ca="c.pem"))]
    counts, fake = commands_per_request(requests)
    creates = [c for c in fake.commands if c.startswith(b"AT+MHTTPCREATE")]
    assert creates == [b'AT+MHTTPCREATE="http://h.example:80"', b'AT+MHTTPCREATE="http://other.example:80"',
                       b'AT+MHTTPCREATE="https://h.example:443"', b'AT+MHTTPCREATE="https://h.example:443"']
    assert fake.ids == {0, 1, 2, 3}


def test_a_failed_request_does_not_keep_its_instance():
    host = started()
    token = host.submit(Request(Method.GET, URL))
    host.data_to_send()
    feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK)
    assert lines(feed(host, b'\r\n+MHTTPURC: "err",0,3\r\n')) == [b"AT+MHTTPDEL=0"]
    assert isinstance(events_of(host, token)[-1], Failure)


def test_a_download_without_a_free_slot_deletes_the_oldest_kept_instance():
    host = started()
    fake = FakeModule(host, lambda c: ok_response(b"x", httpid=int(c.params[0].text)))
    host.submit(Request(Method.GET, URL))
    fake.pump()
    host.take_events()
    token = host.submit(Request(Method.GET, URL, save_to="/f"))
    assert host.data_to_send() == b'AT+MHTTPDLFILE="http://h.example:80/a","/f",65536\r'
    assert lines(feed(host, b"\r\n+CME ERROR: 651\r\n")) == [b"AT+MHTTPDEL=0"]
    assert lines(feed(host, OK)) == [b'AT+MHTTPDLFILE="http://h.example:80/a","/f",65536']
    feed(host, OK + head_urc(1, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n") + b"\r\n+MHTTPDLFILE: 5,5,100\r\n")
    assert events_of(host, token)[-1] == ResponseEnd(5)
