"""The library's public entry point, kept where the README has always shown it:

    from bridge.client import ModuleError, open_module

The client itself is bridge.io.client; the sides it builds come from bridge.registry."""
from bridge.io.client import ModuleClient, ModuleError, Response, open_module
from bridge.registry import make_host_side
from bridge.roles.host import HostSide

__all__ = ["HostSide", "ModuleClient", "ModuleError", "Response", "make_host_side", "open_module"]
