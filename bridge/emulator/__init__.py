"""Module emulators: a dialect's module side driven by the network executor on a serial port."""
from __future__ import annotations

import importlib
from typing import Any, Optional

from ..dialect import load
from ..moduleside import ModuleSide
from ..net import HostsResolver, ModuleFileSystem

MODULE_SIDES = {
    "onemo": "bridge.onemo.module_side:OnemoModuleSide",
    "neoway": "bridge.neoway.module_side:NeowayModuleSide",
}


def make_module_side(dialect: str, fs: ModuleFileSystem, model: Optional[str] = None,
                     resolver: Optional[HostsResolver] = None, **options: Any) -> ModuleSide:
    """The module side of `dialect` for `model` (the dialect's default model when None).  An
    emulator passes the `resolver` of its executor: a module's own DNS query answers from it.
    `options` are further keywords of that dialect's module side (Neoway: link_up)."""
    try:
        module_name, class_name = MODULE_SIDES[dialect].split(":")
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(MODULE_SIDES)}") from None
    side_class = getattr(importlib.import_module(module_name), class_name)
    side = side_class(load(dialect), model=model, fs=fs, **options)
    side.resolver = resolver
    return side
