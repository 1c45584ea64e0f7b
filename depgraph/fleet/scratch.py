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
``finally``; SIGTERM is turned into an exit that runs it (status 143, as a shell reports a process
ended by SIGTERM), SIGINT already is (``KeyboardInterrupt``, status 130).

It lies where snapshots unpack fastest: under ``$TMPDIR`` when that is set, else in ``/dev/shm``
(memory) when it can be written, else in the system's temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

ENVIRONMENT = "DEPGRAPH_SCRATCH"
PREFIX = "depgraph-fleet-"
SHM = "/dev/shm"
SIGTERM_STATUS = 128 + signal.SIGTERM


def base() -> str | None:
    """Where scratch folders go: ``$DEPGRAPH_SCRATCH`` (the run's folder) when set, else
    :func:`tempfile.mkdtemp`'s default when ``$TMPDIR`` is set, else ``/dev/shm`` when it can be
    written (None: the default)."""
    given = os.environ.get(ENVIRONMENT)
    if given:
        return given
    if os.environ.get("TMPDIR"):
        return None
    return SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK | os.X_OK) else None


def child_folder() -> Path:
    """A new private folder for one audit process's scratch (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix="depgraph-audit-", dir=base()))


def _terminated(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(SIGTERM_STATUS)


@contextlib.contextmanager
def run_folder() -> Iterator[Path]:
    """The run's private folder, named by ``$DEPGRAPH_SCRATCH`` while the block runs (the engine
    gives it to Dask as its ``temporary-directory``); removed with all it holds at the end, on an
    error, on Ctrl-C (SIGINT) and on SIGTERM (in the main thread, where signals are handled)."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base()))
    before = os.environ.get(ENVIRONMENT)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        if main:
            signal.signal(signal.SIGTERM, _terminated)
        os.environ[ENVIRONMENT] = str(folder)
        yield folder
    finally:
        if before is None:
            os.environ.pop(ENVIRONMENT, None)
        else:
            os.environ[ENVIRONMENT] = before
        shutil.rmtree(folder, ignore_errors=True)
        if main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
