"""What the Neoway host side's scripts work with: the commands they yield (:class:`Cmd`, :data:`WAIT`,
:data:`CONNECTED`), what the host side knows of the module's one link and its settings
(:class:`Link`), how long each command and report may take (:class:`Spans`), and the host side as
the scripts see it (:class:`Context`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Generator, Optional, Protocol, Union

from bridge.at.frames import Info
from bridge.model import Request
from bridge.roles.host_commands import Answer, never
from bridge.neoway.host.errors import ErrorTable
from bridge.neoway.host.tables import Family, Limits

COMMAND_TIMEOUT = 10.0  # commands the YAML gives no timeout (ATE0, AT+XIIC?, pass-through)
COMMAND_FLOOR = 2.0  # the least any command gets: the YAML's 300 ms is the module's, not the UART's and host's
WAIT_MARGIN = 5.0  # beyond the module's own timeouts, so that its report comes first
_NAME = re.compile(rb"^\s*AT\+?([A-Za-z0-9_$&]+)", re.I)


@dataclass(frozen=True)
class Cmd:
    """What a script yields to send a command; it is resumed with the Answer."""

    line: bytes
    data: Optional[bytes] = None
    span: Optional[float] = None  # None: the command's own timeout
    tolerate: bool = False  # an error answer goes to the script instead of failing the request
    tolerate_silence: bool = False  # no answer in time goes to the script too
    ends: Callable[[Info], bool] = never  # lines that answer in place of a final result
    after_ok: bool = False  # the answer is an `ends` line that follows the OK
    receives: bool = False  # the response may come once this is written (AT+HTTPACTION)


WAIT = "wait"  # the script waits for the response (or +FILEHTTPSTAT)
CONNECTED = "connected"  # a connect-only request: the link is up, nothing is sent
Op = Union[Cmd, str]
Script = Generator[Op, Optional[Answer], None]


@dataclass
class Link:
    """The module's link (one at a time) and settings, as far as this host side set them."""

    up: bool = False
    key: Optional[tuple] = None  # (secure, host, port, TLS options) of the link that is up
    closing: bool = False  # not kept (keepalive 0): the module closes it; +HTTPCLOSED not seen yet
    close_reported: bool = False  # "+HTTPCLOSE: HTTP Link Closed" came: a link was up when closed
    params: dict[bool, dict[str, Union[int, str]]] = field(default_factory=lambda: {False: {}, True: {}})
    tls: dict[str, str] = field(default_factory=dict)  # AT+HTTPSCFG options set
    files: set[str] = field(default_factory=set)  # certificate files written with AT+FSWF this session

    def closed(self, family: Family, cleared: bool) -> None:
        """The family's link is down; `cleared`: HTTPCLOSE cleared its HTTPPARA settings too."""
        if self.key is not None and self.key[0] == family.secure:
            self.up = self.closing = False
            self.key = None
        if cleared:
            self.params[family.secure].clear()


class Spans:
    """How long to wait, from the YAML's command timeouts and the request's own."""

    def __init__(self, limits: Limits, floor: float) -> None:
        self.timeouts = limits.timeouts
        self.floor = floor

    def command(self, line: bytes) -> float:
        match = _NAME.match(line)
        name = match.group(1).decode().upper() if match else ""
        return max(self.timeouts.get(name, COMMAND_TIMEOUT), self.floor)

    def setup(self, request: Request, family: Family) -> float:
        return max(self.timeouts.get(family.command("HTTPSETUP"), 0.0), request.timeouts.connect or 0.0) + WAIT_MARGIN

    def silence(self, request: Request, family: Family) -> float:
        """Between two reports of a response (and until the first).  A response timeout of the
        request shorter than the module's own is kept here, to the second: the module would
        wait longer."""
        own = self._shorter(request, family)
        if own is not None:
            return own
        return max(self.timeouts.get(family.command("HTTPACTION"), 0.0), request.timeouts.response or 0.0) + WAIT_MARGIN

    def busy(self, family: Family) -> float:
        """How long a module still busy with a request may leave a command unanswered: as long as
        its HTTPACTION may take (connect, then its own response time; see :meth:`action`),
        whatever the request's shorter response timeout was."""
        setup, action = (self.timeouts.get(family.command(verb), 0.0) for verb in ("HTTPSETUP", "HTTPACTION"))
        return setup + action + 2 * WAIT_MARGIN

    def action(self, request: Request, family: Family) -> float:
        """AT+HTTPACTION's answer: a module may connect and await the response head first (with a
        request's shorter response timeout: the link is up, only the response is awaited)."""
        own = self._shorter(request, family)
        if own is not None:
            return own
        return self.setup(request, family) + self.silence(request, family)

    def _shorter(self, request: Request, family: Family) -> Optional[float]:
        own = request.timeouts.response
        module = self.timeouts.get(family.command("HTTPACTION"), 0.0)
        return float(own) if own and module and own < module else None


class Context(Protocol):
    """What the scripts use of the host side."""

    limits: Limits
    errors: ErrorTable
    spans: Spans
    link: Link
    data_link: str  # "XIIC" or MYNETACT
    families: tuple[Family, ...]
    dns_query: bool  # the model has AT+CDNSGIP

