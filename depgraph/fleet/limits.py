"""The fleet's limits from the command line: ``--jobs``, ``--host-memory`` and ``--host-timeout``
checked (finite, positive) and held to what this process may really use.

What a process may use is what it inherited: the cores of its CPU affinity mask
(sched_setaffinity(2)), its process limit ``RLIMIT_NPROC`` (``ulimit -u``, which counts threads)
and its address-space limit ``RLIMIT_AS`` (``ulimit -v``), getrlimit(2). A child cannot raise the
limit it inherits: an audit process asked for more memory than that would fail to start (every
host "exited with status 1"), and more workers than cores or processes only compete. So a local
``--jobs`` beyond the cores or the process limit, and a ``--host-memory`` beyond the inherited
limit, are lowered to it, with a warning that says so.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
from dataclasses import dataclass

from depgraph.diagnostics import quoted

TASKS_PER_JOB = 48
"""The processes and threads one worker of the local cluster costs against ``RLIMIT_NPROC``: its
nanny, the worker and its audit process, with their threads (measured: about 30; kept with room)."""
MAX_RLIMIT = (1 << 63) - 1
"""The largest address-space limit setrlimit(2) takes (``rlim_t``); above it, no limit at all."""


@dataclass(frozen=True, slots=True)
class Limited:
    """A limit as it will be used, and the warning to give when it is not the one asked for."""

    value: int
    warning: str = ""


def seconds(text: str) -> float:
    """``--host-timeout``: a finite number of seconds, more than 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {quoted(text)}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds, more than 0, not {quoted(text)}"
        )
    return value


def megabytes(text: str) -> int:
    """``--host-memory``: a finite number of MB, 0 (no limit) or more (argparse type); a fraction
    is rounded up to the next MB."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of MB: {quoted(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of MB, 0 (no limit) or more, not {quoted(text)}"
        )
    return math.ceil(value)


def workers(text: str) -> int:
    """``--jobs``: a whole number, at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {quoted(text)}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {quoted(text)}")
    return value


def cores() -> int:
    """The cores this process may run on (its affinity mask, else the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _soft(limit: int) -> int | None:
    soft, _ = resource.getrlimit(limit)
    return None if soft == resource.RLIM_INFINITY else soft


def local_jobs(requested: int) -> Limited:
    """The workers of a local cluster: ``requested``, at most one per core this process may run
    on and as many as its process limit has room for."""
    return jobs_within(requested, cores(), _soft(resource.RLIMIT_NPROC))


def jobs_within(requested: int, available: int, processes: int | None) -> Limited:
    """``requested`` workers held to ``available`` cores and to a process limit of ``processes``
    (None: unlimited), :data:`TASKS_PER_JOB` each; at least one."""
    room = available if processes is None else min(available, processes // TASKS_PER_JOB)
    room = max(1, room)
    if requested <= room:
        return Limited(requested)
    if room == available:
        why = f"this process may run on {_count(available, 'core')}"
    else:
        why = (
            f"the process limit (ulimit -u {processes}) leaves room for {_count(room, 'worker')} "
            f"of {TASKS_PER_JOB} processes and threads each"
        )
    return Limited(room, f"--jobs {requested}: {why}; {_count(room, 'worker')}")


def _mb(number: int) -> str:
    return f"{number}" if number < 10**12 else f"{number:.3g}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def host_memory(requested_mb: int) -> Limited:
    """An audit process's memory limit in MB (0: none): ``requested_mb``, at most the
    address-space limit this process inherited."""
    return memory_within(requested_mb, _soft(resource.RLIMIT_AS))


def memory_within(requested_mb: int, inherited: int | None) -> Limited:
    """``requested_mb`` (0: no limit) held to an address-space limit of ``inherited`` bytes (None:
    unlimited); beyond what setrlimit(2) can take, no limit."""
    if inherited is not None:
        most = max(1, inherited >> 20)
        if requested_mb == 0 or requested_mb <= most:
            return Limited(requested_mb)
        return Limited(
            most,
            f"--host-memory {_mb(requested_mb)} MB: this process may use {most} MB "
            f"(its address-space limit, ulimit -v {inherited >> 10}); "
            f"each host's audit gets {most} MB",
        )
    if requested_mb << 20 > MAX_RLIMIT:
        return Limited(
            0,
            f"--host-memory {_mb(requested_mb)} MB: more than a process can address; no limit",
        )
    return Limited(requested_mb)
