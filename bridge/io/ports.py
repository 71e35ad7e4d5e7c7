"""Serial ports: any pyserial URL (a device, `socket://`, `rfc2217://` ...), or `pty:PATH` -- a
pseudo-terminal in raw mode whose slave end is reachable at PATH (a symbolic link, removed on close).

Two ways to use a port:
- blocking (the library client): :meth:`Port.read` blocks until bytes arrive, :meth:`Port.write`
  until they are written;
- owned by the loop (bridge/io/loop.py), after :meth:`Port.start_buffered`: the loop waits on the
  descriptor and reads what there is with :meth:`Port.read_ready` (large reads: up to READ_SIZE at
  once from a socket, a few full reads of a pty -- PTY_BATCH -- a wake-up); :meth:`Port.write`
  never blocks -- what the port cannot take now waits in a buffer the loop writes out with
  :meth:`Port.write_ready` when the descriptor is writable (the rest of a bytes object the
  descriptor took in part waits as a view of it, not a copy), and
  :meth:`Port.pending` tells the loop how much waits (it stops reading producers past a mark).
  A port without a descriptor (rfc2217) is read by a thread blocked in :meth:`Port.read` and
  written by a thread of its own.

A remote port that drops (an RFC 2217 server gone, a reset link) is lost the ordinary way: a write
that fails in the writer thread is logged as one line and ends the port's reads with b"" -- no
thread dies with a traceback.

Nothing here polls or sleeps.
"""
from __future__ import annotations

import logging
import os
import select
import threading
import tty
from typing import Callable, Optional, Protocol

import serial

from bridge.io.rfc2217 import Rfc2217Serial, short_reason

log = logging.getLogger(__name__)

READ_SIZE = 65536  # the most one read asks for (a socket may give that much at once)
PTY_READ = 4095  # the most one read of a pty master gives (its line discipline's buffer)
# What read_ready() gathers from a pty's full reads before the loop passes it on.  A pty holds
# about 12 KB; gathering 64 KB left the other side's pty empty while the loop read and translated,
# then flooded it -- the processes took turns instead of overlapping (bench_io: CPUs 32 % idle,
# 189 waits per MB, against 20 % and 100 with four reads; see OUT_HIGH in bridge/io/loop.py).
PTY_BATCH = 4 * PTY_READ  # four full reads; no fifth for what is left over (see _read_on)
_NOTHING = memoryview(b"")


class Port(Protocol):
    name: str

    def read(self) -> bytes:
        """Block until bytes arrive; b"" once the port is closed."""
        ...

    def fileno(self) -> int:
        """A descriptor the loop can wait on, or -1 (the port is then read by a thread)."""
        ...

    def read_ready(self) -> Optional[bytes]:
        """The bytes there are now (the loop saw the descriptor readable): None if none after all,
        b"" when the port closed or failed."""
        ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def start_buffered(self, wake: Callable[[], None]) -> None:
        """From now on the loop owns the port: writes never block (see the module's doc); `wake`
        is called (from any thread) when a port written by a thread has room again."""
        ...

    def pending(self) -> int:
        """Bytes written but not yet taken by the port."""
        ...

    def write_ready(self) -> None:
        """Write what waits, as much as the descriptor takes now (the loop saw it writable)."""
        ...


class _DescriptorIO:
    """Reads and writes of a port with a descriptor (a pty master, a tty device, a socket)."""

    def _init_io(self, fd: int) -> None:
        self._fd = fd
        # a pty (or tty) read gives at most PTY_READ bytes as a rule, but more when its buffer
        # refills during the copy: the batch bound holds from the first read on
        self._first_read = PTY_BATCH if fd >= 0 and os.isatty(fd) else READ_SIZE
        # what waits: first the unsent end of the bytes a write took in part (kept as a view, not
        # copied: bytes do not change), then whatever was written after it
        self._rest = _NOTHING
        self._out = bytearray()
        self._buffered = False
        self._closed = threading.Event()
        self._wake_r, self._wake_w = os.pipe()

    def fileno(self) -> int:
        return self._fd

    def read(self) -> bytes:
        """Block (in a reader thread) until bytes arrive; b"" once closed."""
        while not self._closed.is_set():
            try:
                ready, _, _ = select.select([self._fd, self._wake_r], [], [])
                if self._wake_r in ready or self._closed.is_set():
                    return b""
                return os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                continue
            except (OSError, ValueError):  # close() raced us and closed the descriptors
                return b""
        return b""

    def read_ready(self) -> Optional[bytes]:
        try:
            data = os.read(self._fd, self._first_read)
        except BlockingIOError:
            return None
        except OSError:
            return b""
        if len(data) < PTY_READ:
            return data  # a short read: the port is drained (or closed: b"")
        return self._read_on(data)

    def _read_on(self, first: bytes) -> bytes:
        """A pty gives at most PTY_READ bytes a read: take what else is there, up to PTY_BATCH --
        while a full read still fits (a read for the few bytes left would cost a syscall and the
        pty's refill of its line discipline for them, and misalign the reads after it)."""
        chunks = [first]
        total = len(first)
        fd, read = self._fd, os.read
        while total + PTY_READ <= PTY_BATCH:
            wanted = PTY_BATCH - total
            try:
                chunk = read(fd, wanted)
            except OSError:  # drained (EAGAIN), or failed: the next call says so
                break
            size = len(chunk)
            if not size:
                break  # closed after these bytes: the next call says so
            chunks.append(chunk)
            total += size
            if size < PTY_READ and size < wanted:
                break  # a short read: the port is drained (if not, epoll says so at once)
        return first if len(chunks) == 1 else b"".join(chunks)

    def start_buffered(self, wake: Callable[[], None]) -> None:
        self._buffered = True
        os.set_blocking(self._fd, False)

    def pending(self) -> int:
        return len(self._rest) + len(self._out)

    def write(self, data: bytes) -> None:
        if self._closed.is_set() or not data:
            return
        if not self._buffered:
            self._write_blocking(data)
        elif self._rest or self._out:
            self._out += data  # behind what waits already; the loop writes it when writable
        else:
            written = self._write_now(data)
            if written < len(data):
                if type(data) is bytes:
                    self._rest = memoryview(data)[written:]
                else:  # a bytearray (or a view of one) may change after this call: copy it
                    self._out += memoryview(data)[written:]

    def write_ready(self) -> None:
        rest = self._rest
        if rest:
            written = self._write_now(rest)
            if written < len(rest):
                self._rest = rest[written:]
                return
            self._rest = _NOTHING
        out = self._out
        if out:
            try:
                del out[:os.write(self._fd, out)]
            except BlockingIOError:
                pass
            except OSError:  # gone (closed while stopping, or the device vanished): nowhere to go
                out.clear()

    def _write_now(self, data) -> int:
        try:
            return os.write(self._fd, data)
        except BlockingIOError:
            return 0
        except OSError:  # gone (closed while stopping, or the device vanished): nowhere to go
            self._rest = _NOTHING
            self._out.clear()
            return len(data)

    def _write_blocking(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._closed.is_set():
            try:
                view = view[os.write(self._fd, view):]
            except BlockingIOError:
                select.select([], [self._fd], [])
            except OSError:  # closed under us while stopping: the bytes have nowhere to go
                return

    def _close_io(self) -> None:
        self._closed.set()
        self._rest = _NOTHING
        self._out.clear()
        os.write(self._wake_w, b"x")


class PtyPort(_DescriptorIO):
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
        self._init_io(self.master)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._close_io()
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


class SerialPort(_DescriptorIO):
    """Any pyserial URL or device ("/dev/ttyUSB0", "socket://127.0.0.1:7000", "rfc2217://host:port",
    "loop://").  With a descriptor (devices, socket://) the port is read and written on it directly,
    in large blocks; without one (rfc2217://, loop://) through pyserial in threads."""

    def __init__(self, url: str, baudrate: int = 115200):
        self._serial = _open_serial(url, baudrate)
        self.name = url
        self._init_io(_descriptor(self._serial))
        self._writer: Optional[threading.Thread] = None
        self._room = threading.Condition()
        self._writing = 0
        self._failed = False  # the writer thread found the link broken

    def read(self) -> bytes:
        if self._fd >= 0:
            return super().read()
        if self._failed:
            return b""
        try:
            first = self._serial.read(1)  # blocks until a byte (rfc2217: a whole block) arrives
            if not first:
                return b""
            waiting = self._serial.in_waiting
            return first + (self._serial.read(waiting) if waiting else b"")
        except (serial.SerialException, OSError, TypeError, AttributeError, ValueError):
            return b""  # closed under us

    def start_buffered(self, wake: Callable[[], None]) -> None:
        if self._fd >= 0:
            super().start_buffered(wake)
            return
        self._buffered = True
        self._writer = threading.Thread(target=self._write_out, args=(wake,), name=f"write-{self.name}", daemon=True)
        self._writer.start()

    def pending(self) -> int:
        return len(self._rest) + len(self._out) + self._writing

    def write(self, data: bytes) -> None:
        if self._fd >= 0 or not self._buffered:
            if self._fd < 0:
                self._write_pyserial(data)
            else:
                super().write(data)
            return
        with self._room:
            if not self._closed.is_set() and not self._failed:  # a broken link takes nothing more
                self._out += data
                self._room.notify()

    def write_ready(self) -> None:
        if self._fd >= 0:
            super().write_ready()

    def _write_out(self, wake: Callable[[], None]) -> None:
        """The writer thread of a port without a descriptor."""
        while True:
            with self._room:
                while not self._out and not self._closed.is_set():
                    self._room.wait()
                if self._closed.is_set():
                    return
                data, self._writing = bytes(self._out), len(self._out)
                self._out.clear()
            try:
                self._write_pyserial(data)
            except (serial.SerialException, OSError, TypeError) as exc:
                self._lost(exc)
                wake()
                return
            with self._room:
                self._writing = 0
            wake()

    def _lost(self, exc: BaseException) -> None:
        """The writer thread found the link broken: one line in the log, nothing more to write,
        and the reads end (b"") -- the loop's ordinary path for a port that is gone."""
        log.warning("%s: write failed (%s); the port is lost", self.name, short_reason(exc))
        with self._room:
            self._failed = True
            self._out.clear()
            self._writing = 0
        for end in ("abort", "cancel_read"):  # rfc2217: end the link; others: wake a blocked read
            try:
                getattr(self._serial, end)()
                break
            except (AttributeError, NotImplementedError, OSError, serial.SerialException):
                continue

    def _write_pyserial(self, data: bytes) -> None:
        if self._closed.is_set():
            return
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError, TypeError):
            if not self._closed.is_set():
                raise

    def _write_blocking(self, data: bytes) -> None:
        self._write_pyserial(data)

    def close(self) -> None:
        if self._closed.is_set():
            return
        with self._room:
            self._close_io()
            self._room.notify_all()
        try:
            self._serial.cancel_read()
        except (AttributeError, NotImplementedError, serial.SerialException):
            pass
        try:
            self._serial.close()
        except (serial.SerialException, OSError):
            pass
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)


def _open_serial(url: str, baudrate: int) -> serial.SerialBase:
    if url.startswith("rfc2217://"):
        if "ign_set_control" not in url:  # ser2net does not answer SET_CONTROL; lines are not ours to set
            url += ("&" if "?" in url else "?") + "ign_set_control"
        port = Rfc2217Serial(None, baudrate=baudrate, timeout=None)
        port.port = url
        port.open()
        return port
    return serial.serial_for_url(url, baudrate=baudrate, timeout=None)


def _descriptor(port: serial.SerialBase) -> int:
    """The port's descriptor, or -1 for a URL handler without one (rfc2217://, loop://)."""
    try:
        return port.fileno()
    except (AttributeError, NotImplementedError, OSError, ValueError, serial.SerialException):
        return -1  # io.UnsupportedOperation is an OSError and a ValueError


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
