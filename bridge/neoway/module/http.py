"""The link and the request on it (9.1-9.3, 9.9, 9.11-9.14): AT+HTTPPARA sets a context's url,
port, keepalive and recvmode; AT+HTTPSETUP connects (a :class:`~bridge.neoway.module.jobs.Probe`);
AT+HTTPACTION sends the request (an :class:`~bridge.neoway.module.jobs.Exchange`, answered with
+HTTPRECV); AT+HTTPCLOSE takes the link down -- each for the HTTP context and, as the HTTPS
twins, for the HTTPS one.
"""
from __future__ import annotations

import functools
from typing import Optional, Protocol

from bridge.at.dialect import CommandSpec
from bridge.at.frames import Command
from bridge.model import ErrorKind, Method, Request
from bridge.neoway.module.channel import Channel, Settings
from bridge.neoway.module.jobs import Exchange, Job, Probe, Runner
from bridge.neoway.module.plans import Action, read_action
from bridge.neoway.module.probe import probe_request
from bridge.neoway.module.rawrequest import parse_raw_request
from bridge.neoway.module.recv import RecvWriter
from bridge.neoway.module.tlscfg import TlsCommands
from bridge.neoway.module.url import parse_port, parse_target
from bridge.neoway.params import ParamError, checked, in_enum


class Side(Runner, Protocol):
    """What the link commands use of the module side: what starts a job, and these."""

    tls: TlsCommands
    setup_timeout: float
    piece_max: int

    def watch(self, job: Job, now: float) -> None: ...


class HttpCommands:
    def __init__(self, side: Side) -> None:
        self.side = side

    # ---- HTTPPARA / HTTPSPARA ----------------------------------------------------------------

    def para(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        para, value = checked(command, spec)
        assert value is not None
        settings, dialect = channel.settings, self.side.dialect
        if para == "url":
            settings.target = parse_target(value)
        elif para == "port":
            settings.port = parse_port(value)
        elif para == "keepalive":
            settings.keepalive = dialect.means("keepalive").meaning(in_enum(value.strip(), dialect.enums["keepalive"], para)) is True
        elif para == "recvmode":
            settings.recvmode = in_enum(value.strip(), dialect.enums["recvmode"], para)
        self.side.ok()

    # ---- HTTPSETUP / HTTPSSETUP ---------------------------------------------------------------

    def setup(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        side = self.side
        checked(command, spec)
        url = channel.url()
        refusal = self._link_refusal(channel, url)
        if refusal is not None:
            side.fail(refusal)
            return
        assert url is not None
        if channel.secure and not side.executor_capabilities.shares_file_system:
            # Certificates go as PEM (TlsCommands.carried): one that cannot fails here; the
            # network executor reads them, and finds out, when it connects.
            try:
                side.tls.check_carried()
            except (OSError, ValueError):
                side.fail(ErrorKind.TLS_FAILED)
                return
        side.run(Probe(side, channel), probe_request(url, side.tls.settings(channel), side.setup_timeout), now)
        side.hold_until_answered()

    def _link_refusal(self, channel: Channel, url: Optional[str]) -> Optional[ErrorKind]:
        if url is None:
            return ErrorKind.NOT_ALLOWED
        if not self.side.link.up:
            return ErrorKind.NO_DATA_LINK
        if channel.link_up:
            return ErrorKind.NO_FREE_INSTANCE
        if channel.job is not None:
            return ErrorKind.BUSY
        return None

    # ---- HTTPACTION / HTTPSACTION -------------------------------------------------------------

    def action(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        side = self.side
        mode, first, second = checked(command, spec)
        action = read_action(mode, first, second, spec.data_max(), side.dialect.enums["post_type"],
                             side.dialect.means("action_mode"))
        if channel.job is not None:
            side.fail(ErrorKind.BUSY)
            return
        if not (side.link.up and channel.link_up):
            kind = ErrorKind.NOT_ALLOWED if side.link.up else ErrorKind.NO_DATA_LINK
            side.fail_token(side.reports.instead_of_ok(kind, channel.secure))
            return
        side.hold_until_answered()
        if action.data_length is None:
            self._exchange(channel, self._request(channel, action, b""), now)
            return
        on_data = functools.partial(self._action_data, channel, action)
        side.prompt_for_data(action.data_length, on_data, now, side.input_timeout, action.data_length)

    def _action_data(self, channel: Channel, action: Action, data: bytes, how: str, now: float) -> None:
        side = self.side
        if how != "length":
            side.fail_token(side.reports.instead_of_ok(ErrorKind.INPUT_TIMEOUT, channel.secure))
            side.answered(now)
            return
        try:
            request = self._request(channel, action, data)
        except ParamError:
            side.fail(ErrorKind.INVALID_PARAMETER)
            side.answered(now)
            return
        self._exchange(channel, request, now)

    def _request(self, channel: Channel, action: Action, data: bytes) -> Request:
        side = self.side
        if action.raw:
            raw = parse_raw_request(data)
            request = side.request_for(channel, raw.method, raw.headers, raw.body or None, path=raw.target)
            request.keep_alive = raw.keep_alive
            return request
        headers = [("Content-Type", action.content_type)] if action.content_type else []
        if side.executor_capabilities.keep_alive_in_headers and channel.settings.keepalive:
            headers.append(("Connection", "keep-alive"))
        body = data if action.method is Method.POST else None
        return side.request_for(channel, action.method, headers, body, byte_range=action.byte_range)

    def _exchange(self, channel: Channel, request: Request, now: float) -> None:
        side = self.side
        prefix = side.reports.name("+HTTPRECV", channel.secure)
        writer = RecvWriter(prefix, channel.settings.recvmode, request.method.value, side.piece_max)
        request.report_sent = True  # OK once it has gone out: other commands are served meanwhile
        channel.job = side.run(Exchange(side, channel, request, writer), request, now)

    # ---- HTTPCLOSE / HTTPSCLOSE ---------------------------------------------------------------

    def close(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        checked(command, spec)
        if channel.job is not None:  # a response is still arriving: answer when it has
            channel.close_waiting = True
            self.side.hold_until_answered()
            self.side.watch(channel.job, now)
            return
        self.answer_close(channel)

    def answer_close(self, channel: Channel) -> None:
        was_up = channel.link_up
        channel.link_up = False
        channel.settings = Settings()
        self.side.ok()
        if was_up:
            self.side.line(self.side.reports.urc(ErrorKind.CANCELLED, channel.secure)[0])
