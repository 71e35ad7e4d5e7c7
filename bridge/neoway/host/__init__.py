"""The host side of the neoway dialect (client role): drives a module with commands, reads its answers."""
