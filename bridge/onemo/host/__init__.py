"""The host side of the onemo dialect (client role): drives a module with commands, reads its answers."""
