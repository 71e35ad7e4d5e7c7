"""Which sides each dialect has: dialect -> (module side, host side), by plain imports.  The
emulator, the bridge and the library build their sides here and nowhere else."""
from __future__ import annotations

from typing import Any, Optional, Union

from bridge.at.dialect import Dialect, available, load
from bridge.device.fs import ModuleFileSystem
from bridge.device.hosts import HostsResolver
from bridge.neoway.host.side import NeowayHostSide
from bridge.neoway.module.side import NeowayModuleSide
from bridge.onemo.host.side import OnemoHostSide
from bridge.onemo.module.side import OnemoModuleSide
from bridge.roles.host import HostSide
from bridge.roles.module import ModuleSide

MODULE_SIDES: dict[str, type] = {"onemo": OnemoModuleSide, "neoway": NeowayModuleSide}
HOST_SIDES: dict[str, type] = {"onemo": OnemoHostSide, "neoway": NeowayHostSide}


def make_module_side(dialect: str, fs: ModuleFileSystem, model: Optional[str] = None,
                     resolver: Optional[HostsResolver] = None, **options: Any) -> ModuleSide:
    """The module side of `dialect` for `model` (the dialect's default model when None).  An
    emulator passes the `resolver` of its executor: a module's own DNS query answers from it.
    `options` are further keywords of that dialect's module side (Neoway: link_up)."""
    try:
        side_class = MODULE_SIDES[dialect]
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(MODULE_SIDES)}") from None
    side = side_class(load(dialect), model=model, fs=fs, **options)
    side.resolver = resolver
    return side


def make_host_side(dialect: Union[str, Dialect] = "onemo", model: Optional[str] = None) -> HostSide:
    """The host side of `dialect` for `model` (the dialect's default model when None)."""
    spec = load(dialect) if isinstance(dialect, str) else dialect
    side_class = HOST_SIDES.get(spec.name)
    if side_class is None:
        raise ValueError(f"unknown dialect {spec.name!r}; known: {', '.join(available())}")
    return side_class(spec, model=model)
