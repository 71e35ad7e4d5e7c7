"""What the OneMO host side's scripts work with: the commands they yield (:class:`Cmd`,
:data:`WAIT_IND`, :data:`WAIT_END`), a request on its way (:class:`Job`), the module's instances
and SSL contexts as the host side keeps them (:class:`Instance`, :class:`SslContexts`), and the
host side as the scripts see it (:class:`Context`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generator, Optional, Protocol, Union

from bridge.at.dialect import Dialect, ModelProfile
from bridge.at.frames import Final
from bridge.model import ErrorKind, Request
from bridge.onemo.host.plan import method_of
from bridge.onemo.host.reception import Reception
from bridge.onemo.host.tables import Limits
from bridge.roles.host_commands import Answer, Timer


@dataclass(frozen=True)
class Cmd:
    """What a script yields to send a command; the script is resumed with its Answer."""

    line: bytes
    data: Optional[Union[bytes, memoryview]] = None
    tolerate: bool = False  # an error result goes to the script instead of failing the request
    creates: bool = False  # an AT+MHTTPCREATE: its answer names the instance


WAIT_IND, WAIT_END = "ind", "end"  # what else a script yields: wait for these URCs
Op = Union[Cmd, str]
Script = Generator[Op, Optional[Answer], None]


@dataclass
class Instance:
    """A module instance (AT+MHTTPCREATE) and the settings it has."""

    httpid: int
    key: tuple
    ssl_id: Optional[int]
    timeouts: tuple[int, int, int]
    chunked: bool = False


@dataclass
class SslContexts:
    """The module's SSL contexts: which are free, how each was set up, which PEMs it has."""

    free: list[int]
    config: dict[int, tuple] = field(default_factory=dict)
    certs: set[str] = field(default_factory=set)


class Job:
    """One request on its way through the module."""

    def __init__(self, token: int, request: Request) -> None:
        self.token = token
        self.request = request
        self.file = request.save_to is not None
        self.script: Optional[Script] = None
        self.httpid: Optional[int] = None
        self.instance: Optional[Instance] = None
        self.ssl_id: Optional[int] = None
        self.sent = False  # the request went out: stopping it needs MHTTPTERM
        self.over = False
        self.ind = False
        self.waiting: Optional[str] = None
        self.timer = Timer()
        self.report = Timer()  # RequestSent's grace (report_sent)
        self.method = method_of(request)
        self.reception = Reception("GET" if self.file else self.method)


class Context(Protocol):
    """What the scripts use of the host side."""

    dialect: Dialect
    profile: ModelProfile
    limits: Limits
    progress_step: int
    pool: list[Instance]  # instances kept for the next request, oldest first
    by_id: dict[int, Job]
    ssl: SslContexts

    def sync_kind(self, final: Final) -> ErrorKind: ...

    def taken(self, job: Job) -> None: ...

    def sent(self, job: Job) -> None: ...
