"""The bridge: the module side of the host's dialect joined to the host side of the module's."""
