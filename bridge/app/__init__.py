"""The applications over the library: the command line, `request`, `decode`, `describe`, the demo
and the migration tools.  Nothing below imports from here."""
