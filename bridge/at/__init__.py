"""Sans-I/O framers for both directions of every dialect.

- :class:`CommandFramer`: bytes a host writes (commands, data-mode input).
- :class:`ResponseFramer`: bytes a module writes (echo, prompts, results, responses, URCs).
"""
from __future__ import annotations

from bridge.at.dialect import Dialect, load
from bridge.at.framer import NEED_DATA, Framer
from bridge.at.commands import CommandFramer, parse_command
from bridge.at.responses import ResponseFramer

__all__ = ["NEED_DATA", "Framer", "CommandFramer", "ResponseFramer", "framer_for", "parse_command"]


def framer_for(dialect: "str | Dialect", source: str) -> Framer:
    """A framer for the bytes written by `source` ("host" or "module") in `dialect`."""
    spec = load(dialect) if isinstance(dialect, str) else dialect
    if source == "host":
        return CommandFramer(spec)
    if source == "module":
        return ResponseFramer(spec)
    raise ValueError(f"source must be 'host' or 'module', not {source!r}")
