"""How a OneMO request fails: :class:`Fail` (both host sides', bridge/roles/host.py) ends it with a
kind of the shared model.  Which kind a module's answer or "err" report stands for is the one
error table's (bridge/at/errors.py)."""
from __future__ import annotations

from bridge.at.errors import ErrorTable
from bridge.roles.host import Fail

__all__ = ["ErrorTable", "Fail"]
