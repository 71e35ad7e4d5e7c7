"""`atbridge ARGS` with only its I/O loop (Loop.run) under cProfile (CPU time) -- start-up (loading the
dialect files) left out -- the profile written to the file $ATBRIDGE_PROFILE when the loop ends.
Run: ATBRIDGE_PROFILE=out.prof python benchmarks/loop_profiled.py bridge --host ... (as atbridge)"""
from __future__ import annotations

import cProfile
import os
import time

from bridge.app.cli import main
from bridge.io import loop

_PROFILE = cProfile.Profile(time.process_time)  # CPU time: a wait in the selector costs nothing
_run = loop.Loop.run


def _profiled_run(self: loop.Loop, *args: object, **kwargs: object) -> None:
    _PROFILE.enable()
    try:
        _run(self, *args, **kwargs)  # type: ignore[arg-type]
    finally:
        _PROFILE.disable()
        _PROFILE.dump_stats(os.environ["ATBRIDGE_PROFILE"])


loop.Loop.run = _profiled_run  # type: ignore[method-assign]

if __name__ == "__main__":
    main(prog_name="atbridge")
