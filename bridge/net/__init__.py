"""The network executor: a request of the shared model made real over TCP/TLS (HTTP/1.1 via h11)."""
from bridge.net.executor import NetworkExecutor

__all__ = ["NetworkExecutor"]
