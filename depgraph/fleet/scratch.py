"""The fleet's temporary files: one private run folder, removed at the end of the run, even when
it is stopped.

The run folder (``tempfile.mkdtemp``: mode 0700, prefix ``depgraph-fleet-``) holds Dask's
temporary directory (the engine's ``temporary-directory`` setting: the scheduler's and the
workers' ``dask-scratch-space``) and the audit processes' scratch: each :class:`~depgraph.fleet.runner.
HostRunner` makes its own folder in it (:func:`child_folder`) and gives it to its audit process as
``$DEPGRAPH_SCRATCH``, where snapshots are unpacked (:mod:`depgraph.sources.snapshot`), and removes
it when it stops that process: an audit killed at its time limit cannot remove the tree it was
unpacking. The parent's folder is named to the workers by ``$DEPGRAPH_SCRATCH`` too (set in this
process's environment, which the local cluster's processes inherit). It is removed in a
``finally``; SIGTERM is turned into an exit that runs it, SIGINT already is (``KeyboardInterrupt``);
after the clean-up a stopped run ends there, with the status a shell gives a process ended by
that signal (143, 130), without Dask's exit handlers.

It lies where snapshots unpack fastest: under ``$TMPDIR`` when that is set, else in ``/dev/shm``
(memory) when it can be written, else in the system's temporary folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from depgraph.cachedir import SCRATCH_ENVIRONMENT, scratch_base

ENVIRONMENT = SCRATCH_ENVIRONMENT
PREFIX = "depgraph-fleet-"
CHILD_PREFIX = "depgraph-audit-"
SIGTERM_STATUS = 128 + signal.SIGTERM
SIGINT_STATUS = 128 + signal.SIGINT
WARNINGS = "PYTHONWARNINGS"
QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"
"""For the processes the run starts: multiprocessing's resource tracker, which frees the
semaphores of a local cluster stopped half-way, need not warn about them on the user's terminal."""
STOP_WAIT_SECONDS = 5.0


def child_folder() -> Path:
    """A new private folder for one audit process's scratch (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix=CHILD_PREFIX, dir=scratch_base()))


def _terminated(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(SIGTERM_STATUS)


@contextlib.contextmanager
def run_folder() -> Iterator[Path]:
    """The run's private folder, named by ``$DEPGRAPH_SCRATCH`` while the block runs (the engine
    gives it to Dask as its ``temporary-directory``); removed with all it holds at the end, on an
    error, on Ctrl-C (SIGINT) and on SIGTERM (in the main thread, where signals are handled).

    A run stopped while the local cluster starts or stops leaves its worker processes behind
    (Dask never got to close them), and a worker still starting would create its
    ``dask-scratch-space`` again after the folder is gone: so when the block fails, the processes
    this one started (``multiprocessing``'s children: the workers) are killed first."""
    before = {name: os.environ.get(name) for name in (ENVIRONMENT, WARNINGS)}
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    if main:
        signal.signal(signal.SIGTERM, _terminated)
    folder: Path | None = None
    stopped: int | None = None
    try:
        folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=scratch_base()))
        os.environ[ENVIRONMENT] = str(folder)
        os.environ[WARNINGS] = ",".join(filter(None, (before[WARNINGS], QUIET_TRACKER)))
        yield folder
    except BaseException as error:
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # Dask's tasks, cut short
        _stop_children()
        stopped = _stop_status(error)
        raise
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if folder is not None:
            _remove(folder)
        if main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if stopped is not None and main:
            # Dask's exit handlers would go on closing a cluster it was starting or stopping,
            # print its tracebacks, and a worker could make its folder again: the run is over.
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            os._exit(stopped)


@contextlib.contextmanager
def held_stops() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the block runs (in the main thread), and act on the first
    one received when it ends; a second one makes the first act at once.

    For starting a local cluster: its nannies start each worker with ``multiprocessing``'s
    *spawn*, which writes the new process its start-up data through a pipe. A run that ended
    there (``os._exit`` in :func:`run_folder`) cut that pipe, and the new worker, not yet among
    the children :func:`_stop_children` kills, printed ``EOFError: Ran out of input`` with its
    traceback on the user's terminal after the run was over. Started, the cluster is stopped
    cleanly (a second or two later); a second Ctrl-C does not wait for that."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {stop: signal.getsignal(stop) for stop in stops}
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1:  # acts as the first stop would have (its exit status)
            _restore(previous)
            signal.raise_signal(received[0])

    for stop in stops:
        signal.signal(stop, hold)
    try:
        yield
    finally:
        _restore(previous)
    if received:
        signal.raise_signal(received[0])


def _restore(handlers: Mapping[signal.Signals, Any]) -> None:
    """Put back the handlers :func:`signal.getsignal` gave (None: one not set from Python)."""
    for stop, handler in handlers.items():
        signal.signal(stop, signal.SIG_DFL if handler is None else handler)


def _stop_status(error: BaseException) -> int | None:
    """The exit status of a run stopped by a signal (SIGINT, SIGTERM); None for other errors."""
    if isinstance(error, KeyboardInterrupt):
        return SIGINT_STATUS
    if isinstance(error, SystemExit) and error.code == SIGTERM_STATUS:
        return SIGTERM_STATUS
    return None


def _stop_children() -> None:
    """Kill the processes this one started with ``multiprocessing`` (a local cluster's workers;
    their audit processes die with them, prctl(2) ``PR_SET_PDEATHSIG``) and wait for them."""
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        with contextlib.suppress(OSError):
            child.kill()
    for child in children:
        child.join(STOP_WAIT_SECONDS)


def _remove(folder: Path) -> None:
    """Remove ``folder`` and everything in it; again while something that was just killed still
    wrote in it (at most :data:`STOP_WAIT_SECONDS`)."""
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    shutil.rmtree(folder, ignore_errors=True)
    while os.path.lexists(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
        shutil.rmtree(folder, ignore_errors=True)
