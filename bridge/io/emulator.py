"""Running a module side on a port: the emulator is a module side plus the network executor."""
from __future__ import annotations

import threading
from typing import Callable, Optional

from bridge.io.loop import Loop, run_until_signalled as stop_on_signal, RequestExecutor
from bridge.roles.module import CancelRequest, ModuleSide, StartRequest
from bridge.io.ports import Port


class ModuleRunner:
    """Serves one module side on one port until :meth:`stop`."""

    def __init__(self, side: ModuleSide, port: Port, new_executor: Callable[[], RequestExecutor]):
        self.side = side
        self.port = port
        self.new_executor = new_executor
        self.loop = Loop()
        self._thread: Optional[threading.Thread] = None

    def run(self) -> None:
        """Serve in this thread until stopped."""
        self.loop.read_port(self.port, "host")
        self.loop.run(self._handle, self.side.next_deadline, self._on_time)
        for token in self.loop.requests_of(self.side):
            self.loop.cancel_request(self.side, token)

    def start(self) -> "ModuleRunner":
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.run, name="module-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop, wait for its thread, then close the port: closing under a loop thread
        still writing to it would resize the port's buffer during the write (BufferError)."""
        self.loop.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.port.close()

    def unsolicited(self, line: str) -> None:
        """Have the module report an unrelated URC (e.g. "+CEREG: 1" or "RING"), as the network
        would make it; thread-safe (the loop thread writes it)."""
        self.loop.post(("urc", line))

    def _handle(self, item: tuple, now: float) -> None:
        if item[0] == "port":
            if item[2]:
                self.side.receive_data(item[2], now)
        elif item[0] == "event":
            self.side.handle_event(item[2], item[3], now)
        elif item[0] == "urc":
            self.side.line(item[1])
        self._flush()

    def _on_time(self, now: float) -> None:
        self.side.on_time(now)
        self._flush()

    def _flush(self) -> None:
        out = self.side.data_to_send()
        if out:
            self.port.write(out)
        for action in self.side.take_actions():
            if isinstance(action, StartRequest):
                self.loop.start_request(self.side, action.token, action.request, self.new_executor())
            elif isinstance(action, CancelRequest):
                self.loop.cancel_request(self.side, action.token)



def run_until_signalled(runner: ModuleRunner) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    stop_on_signal(runner.loop, runner.run, (runner.port,))
