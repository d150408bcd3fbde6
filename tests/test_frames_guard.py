"""frames_guard.py: `sys._current_frames()` (what Temporal's deadlock detector calls) does not
hang a CPython 3.11 process when a collection runs Python code while threads start and end
(https://github.com/python/cpython/issues/106883)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from frames_guard import guard_current_frames

ROOT = Path(__file__).resolve().parent.parent

# The hang, made likely: a collector callback that runs Python code (as hypothesis's does, and as
# any finaliser may) at every allocation, threads starting and ending, and the frames taken in a
# loop. Unguarded on 3.11.7 this hung three runs in three within a second; 3.12 never hangs.
HANG = textwrap.dedent(
    """
    import gc, sys, threading, time
    from frames_guard import guard_current_frames

    guard_current_frames()
    gc.callbacks.append(lambda phase, info: time.sleep(0))
    gc.set_threshold(1)
    stop = False

    def churn():
        while not stop:
            thread = threading.Thread(target=lambda: None)
            thread.start()
            thread.join()

    for _ in range(4):
        threading.Thread(target=churn, daemon=True).start()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        junk = [[] for _ in range(50)]
        sys._current_frames()
    stop = True
    print("done")
    """
)


def test_taking_the_frames_while_threads_come_and_go_does_not_hang() -> None:
    try:
        ran = subprocess.run(
            [sys.executable, "-c", HANG], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("sys._current_frames() hung the process (CPython gh-106883)")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "done"


def test_the_guarded_call_gives_every_thread_and_leaves_the_collector_as_it_was() -> None:
    guard_current_frames()
    guard_current_frames()  # once per process, whoever asks
    started = threading.Event()
    release = threading.Event()

    def wait() -> None:
        started.set()
        release.wait()

    other = threading.Thread(target=wait)
    other.start()
    started.wait()
    try:
        assert gc.isenabled()
        frames = sys._current_frames()
        assert {threading.get_ident(), other.ident} <= set(frames)
        assert gc.isenabled()
        gc.disable()
        try:
            sys._current_frames()
            assert not gc.isenabled()  # a caller who turned it off keeps it off
        finally:
            gc.enable()
    finally:
        release.set()
        other.join()
