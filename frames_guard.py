"""A guard for a CPython 3.11 deadlock that Temporal's deadlock detector walks into.

When a workflow activation runs past two seconds, the Temporal worker builds the error it reports
from `sys._current_frames()`. On CPython 3.11 that call holds the interpreter's thread list lock
while it allocates; a garbage collection started by the allocation can run Python code (a
`gc.callbacks` entry, a finaliser), the GIL changes hands, and a thread that starts or ends takes
the GIL and waits for the same lock: the whole process hangs, for ever
(https://github.com/python/cpython/issues/106883). CPython 3.12 collects only at safe points and
does not hang.

It happened: a loaded `make test` (four passes on two cores) held one activation past two
seconds, and the pass hung in the detector with every workflow thread stopped. A worker in
production on 3.11 (the Dockerfile's image) could hang the same way on a busy host.

`guard_current_frames()` makes `sys._current_frames()` collect nothing while it runs: the fix
CPython's maintainers gave for 3.11 (disable the collector during the call), done from outside.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from types import FrameType

_lock = threading.Lock()
_guarded = False


def _without_collection(
    frames: Callable[[], dict[int, FrameType]],
) -> Callable[[], dict[int, FrameType]]:
    def current_frames() -> dict[int, FrameType]:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return frames()
        finally:
            if enabled:
                gc.enable()

    current_frames.__doc__ = frames.__doc__
    return current_frames


def guard_current_frames() -> None:
    """Installs the guard once per process, on CPython before 3.12 (later ones need none).
    Called wherever a Temporal worker is built (worker.build_worker, the simulator, the tests)."""
    global _guarded
    if sys.version_info >= (3, 12):
        return
    with _lock:
        if not _guarded:
            sys._current_frames = _without_collection(sys._current_frames)
            _guarded = True
