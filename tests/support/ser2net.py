"""Debian's ser2net as a module farm's RFC 2217 server: the configuration the README shows, and a
bounded wait until the daemon accepts."""
from __future__ import annotations

import socket
import time


def connectable(port: int, limit: float = 10.0) -> None:
    """Until a daemon without a readiness signal (ser2net) accepts on `port`: bounded retries."""
    deadline, pause = time.monotonic() + limit, 0.01
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


# The configuration the README's "Modules on other machines" shows (ser2net 4, YAML).
SER2NET_CONFIG = """\
%YAML 1.1
---
connection: &module
  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}
  connector: serialdev,{device},115200n81,local
  options:
    kickolduser: true
"""
