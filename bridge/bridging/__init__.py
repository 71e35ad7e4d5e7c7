"""The bridge: the module side of the host's dialect joined to the host side of the module's."""
from __future__ import annotations

import importlib
from typing import Any, Optional

from ..dialect import load

HOST_SIDES = {
    "onemo": "bridge.onemo.host_side:OnemoHostSide",
    "neoway": "bridge.neoway.host_side:NeowayHostSide",
}


def make_host_side(dialect: str, model: Optional[str] = None) -> Any:
    """The host side (client role) of `dialect`."""
    try:
        module_name, class_name = HOST_SIDES[dialect].split(":")
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(HOST_SIDES)}") from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        raise NotImplementedError(f"driving a {dialect} module is not implemented yet") from None
    return getattr(module, class_name)(load(dialect), model=model)
