"""Serial ports: any pyserial URL, or `pty:PATH` -- a pseudo-terminal in raw mode whose slave
end is reachable at PATH (a symbolic link, removed on close).

The loop waits on a port's descriptor and reads it with :meth:`Port.read_ready`; a port with no
descriptor is read by a thread blocked in :meth:`Port.read`.  Nothing here polls or sleeps.
"""
from __future__ import annotations

import os
import select
import threading
import tty
from typing import Optional, Protocol

import serial

READ_SIZE = 65536


class Port(Protocol):
    name: str

    def read(self) -> bytes:
        """Block until bytes arrive; b"" once the port is closed."""
        ...

    def fileno(self) -> int:
        """A descriptor the loop can wait on, or -1 (the port is then read by a thread)."""
        ...

    def read_ready(self) -> bytes:
        """The bytes there are now, after the loop saw the descriptor readable; b"" when closed."""
        ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class PtyPort:
    """The master end of a raw-mode pseudo-terminal; the slave is linked at `path`."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline: bytes pass unchanged
        tty.setraw(self.master)
        self.slave_name = os.ttyname(self._slave)
        if os.path.islink(self.path):
            os.unlink(self.path)
        os.symlink(self.slave_name, self.path)
        self.name = f"pty:{self.path} -> {self.slave_name}"
        self._closed = threading.Event()
        self._wake_r, self._wake_w = os.pipe()

    def read(self) -> bytes:
        while not self._closed.is_set():
            try:
                ready, _, _ = select.select([self.master, self._wake_r], [], [])
                if self._wake_r in ready or self._closed.is_set():
                    return b""
                return os.read(self.master, READ_SIZE)
            except (OSError, ValueError):  # close() raced us and closed the descriptors
                return b""
        return b""

    def fileno(self) -> int:
        return self.master

    def read_ready(self) -> bytes:
        """What is there now (the loop's selector said the port is readable); b"" when closed."""
        try:
            return os.read(self.master, READ_SIZE)
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._closed.is_set():
            try:
                written = os.write(self.master, view)
            except OSError:  # closed under us while stopping: the bytes have nowhere to go
                return
            view = view[written:]

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        os.write(self._wake_w, b"x")
        try:
            if os.path.islink(self.path) and os.readlink(self.path) == self.slave_name:
                os.unlink(self.path)
        except OSError:
            pass
        for fd in (self.master, self._slave, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass


class SerialPort:
    """Any pyserial URL or device ("/dev/ttyUSB0", "socket://127.0.0.1:7000", "loop://")."""

    def __init__(self, url: str, baudrate: int = 115200):
        self._serial = serial.serial_for_url(url, baudrate=baudrate, timeout=None)
        self.name = url
        self._closed = False

    def read(self) -> bytes:
        try:
            first = self._serial.read(1)  # blocks until a byte arrives
            if not first:
                return b""
            waiting = self._serial.in_waiting
            return first + (self._serial.read(waiting) if waiting else b"")
        except (serial.SerialException, OSError, TypeError, AttributeError):
            return b""  # closed under us

    def fileno(self) -> int:
        """The device's descriptor, or -1 for a URL handler without one (it is then read by a thread)."""
        try:
            return self._serial.fileno()
        except (AttributeError, NotImplementedError, serial.SerialException):
            return -1

    def read_ready(self) -> bytes:
        try:
            return os.read(self._serial.fileno(), READ_SIZE)
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        if self._closed:
            return
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError, TypeError):
            if not self._closed:
                raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._serial.cancel_read()
            except (AttributeError, NotImplementedError, serial.SerialException):
                pass
            self._serial.close()


def open_port(spec: str, baudrate: int = 115200) -> Port:
    """`pty:PATH` or a pyserial URL/device name."""
    if spec.startswith("pty:"):
        return PtyPort(spec[4:])
    return SerialPort(spec, baudrate)


def open_host_end(path: str, baudrate: int = 115200, timeout: Optional[float] = 5.0) -> serial.Serial:
    """The other end of a `pty:PATH` port, as firmware (or a test) would open it."""
    port = serial.Serial(path, baudrate=baudrate, timeout=timeout)
    tty.setraw(port.fileno())
    return port
