"""Real networking for the emulators: hosts-map resolution, the module file system,
and the network executor (HTTP/1.1 via h11 over TCP/TLS)."""
from .executor import NetworkExecutor
from .fs import ModuleFileSystem, PathEscapeError
from .resolver import HostNotFound, HostsResolver, ip_literal

__all__ = [
    "HostNotFound",
    "HostsResolver",
    "ModuleFileSystem",
    "NetworkExecutor",
    "PathEscapeError",
    "ip_literal",
]
