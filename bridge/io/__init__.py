"""The one I/O loop and everything that touches ports and clocks: serial/pty/socket/RFC 2217 ports,
the runners of an emulator and a bridge, the supervisor that reopens lost ports, and the library
client (`open_module`) built on the same loop."""
