"""Shared test setup: Qt offscreen, data-dependent skips, no dangling threads."""

from __future__ import annotations

import os
import signal
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from ich_viewer import paths


@pytest.fixture(scope="session")
def ct_ich_dir():
    d = paths.ct_ich_dir()
    if not (d / "hemorrhage_diagnosis.csv").exists():
        pytest.skip(f"CT-ICH data not found at {d} (set ICH_DATA to the shared data folder)")
    return d


@pytest.fixture(scope="session")
def hu_subset_dir():
    d = paths.hu_subset_dir()
    if not (d / "images").is_dir():
        pytest.skip(f"CT-ICH HU subset not found at {d} (set ICH_DATA to the shared data folder)")
    return d


@pytest.fixture(autouse=True)
def no_dangling_threads():
    """Fail a test that leaves a Python thread running (QThreads are checked in ui tests)."""
    before = set(threading.enumerate())
    yield
    leftover = [
        t for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.daemon
    ]
    assert not leftover, f"test left threads running: {leftover}"


@pytest.fixture
def hang_guard():
    """Turns a call that never returns (a FIFO opened for reading, a walk round a link
    loop) into a failure after 10 s instead of a hung test run."""
    def timed_out(signum, frame):  # pytest.fail's exception is no OSError for the code to catch
        pytest.fail("blocked for 10 s (a FIFO opened? a link loop followed?)")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
