"""Auditing one host with a time and a memory limit, in a child process that can be killed.

A thread with a deadline cannot stop a hang (Python cannot kill a thread), and a Dask worker runs
its tasks in threads. So each worker thread keeps one long-lived child, ``python -m
depgraph.fleet.runner``, and feeds it one host at a time: a request is a length-prefixed pickle on
the child's stdin (the :class:`HostTask`, sent by this module to its own child), the answer one
line of JSON on its stdout (the host's summary). The child's address space is limited with
``RLIMIT_AS`` (setrlimit(2)): a host too big for it fails with "out of memory" and the child is
replaced. When the answer does not come within the host's time limit the child is killed
(SIGKILL) and replaced; when it dies (a crash, the kernel's OOM killer) the host fails with the
signal. Either way only that host fails; the worker and the run go on. A child serves thousands of
hosts, so its start-up (about 0.3 s of imports) is paid once per worker, not once per host.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import pickle
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from depgraph.fleet import scratch
from depgraph.fleet.summary import failure

if TYPE_CHECKING:
    from depgraph.profiles import Profile

_LENGTH = struct.Struct("!I")
KILL_WAIT_SECONDS = 5.0
MAX_WAIT_SECONDS = 60.0
"""The longest single wait for an answer (select(2) refuses a timeout of years); the deadline is
checked again after each."""


@dataclass(frozen=True, slots=True)
class HostTask:
    """One host to audit, and how: what a Dask worker receives (pickled; a few hundred bytes)."""

    path: str
    kind: str
    name: str
    profile: Profile
    timeout: float
    """Seconds the audit may take before its process is killed."""
    memory_mb: int
    """The audit process's address-space limit (0: none)."""
    lenient: bool = False
    pure: bool = False


def audit_host(task: HostTask) -> dict[str, Any]:
    """Audit one host in this thread's child process; the Dask task function (module level, so
    workers import it by name). Returns the host's summary, a failure with its reason included."""
    key = (threading.get_ident(), task.memory_mb, task.pure)
    with _LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = _RUNNERS[key] = HostRunner(task.memory_mb, task.pure)
    return runner.audit(task)


def audit_hosts(tasks: tuple[HostTask, ...]) -> list[dict[str, Any]]:
    """Audit a batch of hosts one after another (one Dask task per batch: Dask's own cost per task,
    a few milliseconds of the client's, the scheduler's and the worker's time, is then shared)."""
    return [audit_host(task) for task in tasks]


_LOCK = threading.Lock()
_RUNNERS: dict[tuple[int, int, bool], HostRunner] = {}


class HostRunner:
    """One child process and the hosts it audits, one at a time."""

    def __init__(self, memory_mb: int, pure: bool) -> None:
        self.memory_mb = memory_mb
        self.pure = pure
        self._child: subprocess.Popen[bytes] | None = None
        self._scratch: Path | None = None
        self._buffer = b""
        atexit.register(self.close)

    def audit(self, task: HostTask) -> dict[str, Any]:
        """The summary of ``task``'s host, or its failure (time limit, crash, bad input)."""
        request = pickle.dumps(task)
        child = self._start()
        try:
            assert child.stdin is not None
            child.stdin.write(_LENGTH.pack(len(request)) + request)
            child.stdin.flush()
        except BrokenPipeError:  # it died between two hosts: start another, once
            self.close()
            child = self._start()
            assert child.stdin is not None
            child.stdin.write(_LENGTH.pack(len(request)) + request)
            child.stdin.flush()
        line = self._answer(child, time.monotonic() + task.timeout)
        if line is None:
            self.close()
            return failure(task.name, task.path, task.kind, f"timed out after {task.timeout:g} s")
        if not line:
            status = child.wait()
            self._child = None
            self._remove_scratch()
            return failure(task.name, task.path, task.kind, self._death(status))
        summary: dict[str, Any] = json.loads(line)
        if summary.pop("exit", False):  # out of memory: its state is not to be trusted any more
            self.close()
        return summary

    def _start(self) -> subprocess.Popen[bytes]:
        if self._child is None or self._child.poll() is not None:
            command = [sys.executable, "-m", "depgraph.fleet.runner", str(self.memory_mb)]
            if self.pure:
                command.append("--pure")
            self._remove_scratch()
            self._scratch = scratch.child_folder()
            self._child = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
                env={**os.environ, scratch.ENVIRONMENT: str(self._scratch)},
            )
            self._buffer = b""
        return self._child

    def _remove_scratch(self) -> None:
        """Remove the scratch folder of the audit process that was stopped (or ended): a process
        killed at its time limit leaves what it was unpacking."""
        folder, self._scratch = self._scratch, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _answer(self, child: subprocess.Popen[bytes], deadline: float) -> bytes | None:
        """One line from the child; ``b""`` when it died, None when the deadline passed."""
        assert child.stdout is not None
        descriptor = child.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([descriptor], [], [], min(left, MAX_WAIT_SECONDS))
            if not ready:
                continue
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                return b""
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _death(self, status: int) -> str:
        if status < 0:
            name = signal.Signals(-status).name
            hint = " (the kernel's OOM killer?)" if name == "SIGKILL" else ""
            return f"the audit process was killed by {name}{hint}"
        return f"the audit process exited with status {status} without an answer"

    def close(self) -> None:
        """Stop the child (killed: it may be stuck in the middle of a host)."""
        child, self._child = self._child, None
        if child is not None:
            if child.poll() is None:
                child.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(KILL_WAIT_SECONDS)
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()
        self._remove_scratch()


# --- the child ----------------------------------------------------------------------------------


def audit_file(task: HostTask) -> dict[str, Any]:
    """Audit one host here and now (in the child, or in-process for ``--jobs 1``); every error
    of the input becomes the host's failure with its reason."""
    from depgraph.debian.backend import AptMissingError
    from depgraph.errors import DepgraphError

    try:
        return _audit(task)
    except DepgraphError as error:
        return failure(task.name, task.path, task.kind, error.user_message())
    except AptMissingError as error:
        return failure(task.name, task.path, task.kind, str(error))
    except RecursionError:
        return failure(task.name, task.path, task.kind, "input nested too deeply")


def _audit(task: HostTask) -> dict[str, Any]:
    from depgraph.audit import AuditOptions, audit
    from depgraph.diagnostics import Diagnostics
    from depgraph.fleet.summary import summarize
    from depgraph.load import SourceOptions
    from depgraph.sources.snapshot import TRUNCATED, close_snapshot, open_snapshot

    path = Path(task.path)
    diagnostics = Diagnostics(strict=not task.lenient)
    if task.kind == "snapshot":
        try:
            snapshot = open_snapshot(path, diagnostics)  # --lenient reads a truncated one
            missing = tuple(
                f"not captured: {what} ({why})" for what, why in snapshot.manifest.missing
            ) + tuple(  # a host read up to where its tarball stops is partial, not clean
                f"{warning.message} (--lenient)"
                for warning in diagnostics.warnings
                if warning.message.startswith(TRUNCATED)
            )
            options = AuditOptions(SourceOptions(snapshot=path, pure=task.pure), task.profile)
            report = audit(options, diagnostics)
            name = snapshot.manifest.host or task.name
            return summarize(report, name, task.path, task.kind, missing)
        finally:
            close_snapshot(path)
    if task.kind == "dpkg-list":
        sources = SourceOptions(dpkg_list=path, pure=task.pure)
    else:
        sources = SourceOptions(status=path, pure=task.pure)
    report = audit(AuditOptions(sources, task.profile), diagnostics)
    return summarize(report, task.name, task.path, task.kind)


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """End when the thread that started this process ends, prctl(2) ``PR_SET_PDEATHSIG``: a
    worker killed, or a fleet stopped, does not leave an audit running on (a hung one would never
    read the end of its requests). The signal is SIGTERM, which removes this process's scratch
    folder on the way out (nobody else is left to); its parent kills it with SIGKILL."""
    import ctypes

    folder = os.environ.get(scratch.ENVIRONMENT, "")

    def leave(signum: int, _frame: object) -> None:
        if os.path.basename(folder).startswith(scratch.CHILD_PREFIX):
            shutil.rmtree(folder, ignore_errors=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def _serve(memory_mb: int, pure: bool) -> None:
    """The child's loop: a request on stdin, its summary on stdout, until stdin closes."""
    import resource

    from depgraph.debian.backend import use_pure

    _die_with_parent()
    if memory_mb > 0:  # never above the limit this process inherited: that cannot be raised
        limit = memory_mb << 20
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if pure:
        use_pure()
    requests = sys.stdin.buffer
    answers: IO[bytes] = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not end up in the answers
    import depgraph.audit  # noqa: F401  (paid once, before the first host's clock matters)

    gc.freeze()  # the modules' objects: the collector need not walk them after every host

    while True:
        header = requests.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return
        task: HostTask = pickle.loads(requests.read(_LENGTH.unpack(header)[0]))
        leave = False
        try:
            summary = audit_file(task)
        except MemoryError:
            summary = failure(
                task.name, task.path, task.kind, f"out of memory (limit {memory_mb} MB)"
            )
            summary["exit"] = leave = True
        except Exception as error:  # a bug: this host fails, the fleet goes on
            summary = failure(
                task.name, task.path, task.kind, f"internal error: {type(error).__name__}: {error}"
            )
        answers.write(json.dumps(summary).encode() + b"\n")
        answers.flush()
        if leave:
            return


if __name__ == "__main__":
    _serve(int(sys.argv[1]), "--pure" in sys.argv[2:])
