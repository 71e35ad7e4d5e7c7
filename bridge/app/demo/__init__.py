"""atbridge demo: emulated modules, the bridge and scripted firmware on virtual ports."""
