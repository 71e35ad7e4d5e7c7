"""The scripted firmware's reads (bridge/app/demo/firmware.py): on a port with a descriptor, one
wait and one read of what is there; an answer split over many writes is still found, and a peer
that hangs up ends the wait with pyserial's error at once instead of spinning to the deadline."""
from __future__ import annotations

import socket
import threading

import pytest
import serial

from bridge.app.demo.firmware import HostEnd
from bridge.io.ports import PtyPort, open_host_end


def test_an_answer_written_in_pieces_is_found_across_reads(tmp_path):
    module = PtyPort(str(tmp_path / "m.pty"))
    firmware = HostEnd(open_host_end(str(tmp_path / "m.pty")))
    try:
        firmware.command("AT+CSQ")
        assert module.read() == b"AT+CSQ\r"
        pieces = [b"\r\n+CS", b"Q: 2", b"3,99\r\n", b"\r\nO", b"K\r\n"]
        writer = threading.Thread(target=lambda: [module.write(p) for p in pieces])
        writer.start()
        match = firmware.expect(rb"\r\nOK\r\n", timeout=5)
        writer.join()
        assert bytes(firmware.seen[:match.end()]) == b"".join(pieces)
    finally:
        firmware.port.close()
        module.close()


def test_a_peer_that_hangs_up_ends_the_wait_with_pyserials_error():
    asked = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        def answer_then_hang_up() -> None:
            peer, _ = server.accept()
            asked.append(peer.recv(64))  # answers only once asked: pyserial's socket:// open discards what is in
            peer.sendall(b"\r\n+CSQ: 23,99\r\n")
            peer.close()

        thread = threading.Thread(target=answer_then_hang_up)
        thread.start()
        port = serial.serial_for_url(f"socket://127.0.0.1:{server.getsockname()[1]}", timeout=5)
        firmware = HostEnd(port)
        try:
            assert firmware.port.fileno() >= 0  # the descriptor path is the one under test
            firmware.command("AT+CSQ")
            with pytest.raises(serial.SerialException):
                firmware.expect(rb"\r\nOK\r\n", timeout=10)
            assert bytes(firmware.seen) == b"\r\n+CSQ: 23,99\r\n"  # what came before the hang-up is kept
        finally:
            port.close()
            thread.join()
        assert asked == [b"AT+CSQ\r"]
