"""Running the hosts' audits: in this process's own child, on a local Dask cluster, or on an
existing one (``--scheduler``), streaming each summary into the report as it arrives.

Dask (``distributed``): :func:`~depgraph.fleet.runner.audit_hosts` is submitted for each batch of
up to :data:`MAX_BATCH` hosts that the cache does not know (a Dask task costs a few milliseconds of
CPU between client, scheduler and worker, as much as auditing a host: on 2 cores, one task per host
would leave no room for a second worker), at most :data:`WINDOW_PER_WORKER` tasks per worker thread
in flight, and the results are taken with ``as_completed`` as they finish; so the client holds a
bounded number of futures and, per host, only its row in the report, however many hosts there
are. A batch is smaller when there are few hosts, so that every worker gets some. The workers read
the hosts' files by the path the client gives (absolute): on a cluster of several machines the
files must be on a file system they share. When a worker dies, Dask tries its tasks again on the
others, up to its ``allowed-failures``, then raises ``KilledWorker``; the hosts of a task that
failed are tried again at the end, each alone with nothing else in flight (a dying worker takes
all the tasks it held down with it), so that only a host that kills its worker fails, with the
reason, and the run goes on.

With ``--jobs 1`` and no scheduler there is nothing for Dask to distribute: the hosts are audited
one by one by the same kind of child process, without the cluster's start-up (about 2 s).
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depgraph.errors import SourceError
from depgraph.fleet import scratch
from depgraph.fleet.hosts import Host, Kind, describe
from depgraph.fleet.runner import HostRunner, HostTask, audit_hosts
from depgraph.fleet.summary import failure

if TYPE_CHECKING:
    from depgraph.fleet.cache import ResultCache
    from depgraph.fleet.report import FleetReport
    from depgraph.profiles import Profile

WINDOW_PER_WORKER = 4
MAX_BATCH = 32
LOG_LENGTH = 16
"""Dask's ``distributed.admin.low-level-log-length`` while the fleet runs (its default: 1,000)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """How to audit each host, and where."""

    profile: Profile
    jobs: int
    scheduler: str | None = None
    timeout: float = 300.0
    memory_mb: int = 4096
    lenient: bool = False
    pure: bool = False
    scratch: str | None = None
    """The run's private folder (:mod:`depgraph.fleet.scratch`): Dask's temporary directory."""


def run(
    files: Iterable[str],
    settings: Settings,
    cache: ResultCache,
    report: FleetReport,
    progress: Callable[[int], None] | None = None,
    total: int = 0,
) -> None:
    """Audit every host file into ``report``; cached hosts are taken from ``cache``. ``total``,
    the number of files when known, sizes the batches."""
    pending = _pending(files, settings, cache, report)
    try:
        if settings.scheduler is None and settings.jobs <= 1:
            report.engine = "in-process"
            _in_process(pending, report, cache)
        else:
            _on_dask(pending, settings, report, cache, progress, total)
    finally:
        cache.save()


def _pending(
    files: Iterable[str], settings: Settings, cache: ResultCache, report: FleetReport
) -> Iterator[tuple[HostTask, str]]:
    """The hosts to audit, with their cache keys; the others go into the report on the way."""
    for name in files:
        path = Path(name)
        host = describe(path)
        if host.kind is Kind.UNREADABLE:
            report.add(failure(host.name, str(path), "unknown", host.reason))
            continue
        try:
            key = cache.key(host)
        except OSError as error:
            report.add(failure(host.name, str(path), host.kind.value, f"cannot read: {error}"))
            continue
        except SourceError as error:  # changed into a FIFO or device since it was described
            report.add(failure(host.name, str(path), host.kind.value, error.reason))
            continue
        known = cache.get(key)
        if known is not None:
            report.add(_as_this(known, host), cached=True)
            continue
        yield _task(host, settings), key


def _as_this(summary: dict[str, Any], host: Host) -> dict[str, Any]:
    """A cached summary as this run's file: its path, and its name unless a manifest gave one."""
    summary["path"] = str(host.path)
    if host.kind is not Kind.SNAPSHOT:
        summary["host"] = host.name
    return summary


def _task(host: Host, settings: Settings) -> HostTask:
    return HostTask(
        path=str(host.path),
        kind=host.kind.value,
        name=host.name,
        profile=settings.profile,
        timeout=settings.timeout,
        memory_mb=settings.memory_mb,
        lenient=settings.lenient,
        pure=settings.pure,
    )


def _finish(summary: dict[str, Any], key: str, report: FleetReport, cache: ResultCache) -> None:
    cache.put(key, summary)
    report.add(summary)


def _in_process(
    pending: Iterator[tuple[HostTask, str]], report: FleetReport, cache: ResultCache
) -> None:
    runner: HostRunner | None = None
    try:
        for task, key in pending:
            runner = runner or HostRunner(task.memory_mb, task.pure)
            _finish(runner.audit(task), key, report, cache)
    finally:
        if runner is not None:
            runner.close()


def _on_dask(
    pending: Iterator[tuple[HostTask, str]],
    settings: Settings,
    report: FleetReport,
    cache: ResultCache,
    progress: Callable[[int], None] | None,
    total: int,
) -> None:
    import dask
    from distributed import Client, as_completed

    from depgraph.errors import UsageError

    logging.getLogger("distributed").setLevel(logging.ERROR)
    # a run stopped (SIGINT, SIGTERM) removes its run folder before Dask's workspaces let go of
    # theirs at exit: "Failed to remove" is for Dask's developers, not the user
    logging.getLogger("distributed.diskutils").setLevel(logging.CRITICAL)
    first = next(pending, None)
    if first is None:  # everything was cached: no cluster to start
        report.engine = "cache"
        return
    # Dask keeps the last 1,000 messages of every connection (and as many scheduler events) for
    # its developers: with the local cluster's scheduler in this process, that is 1,000 batches of
    # hosts, and the client's memory would grow with the fleet up to 32,000 hosts.
    config: dict[str, Any] = {"distributed.admin.low-level-log-length": LOG_LENGTH}
    if settings.scratch is not None:  # not /tmp/dask-scratch-space, shared and left behind
        config["temporary-directory"] = settings.scratch
    with dask.config.set(config):
        cluster = None
        try:
            if settings.scheduler is not None:
                report.engine = f"dask {settings.scheduler}"
                try:
                    client = Client(settings.scheduler, timeout="20s")
                except OSError as error:
                    raise UsageError(
                        f"--scheduler {settings.scheduler}: cannot connect: {error}"
                    ) from None
            else:
                report.engine = f"dask local cluster, {settings.jobs} workers"
                with scratch.held_stops():  # a stop now would cut a worker's start: after it
                    cluster = _local_cluster(settings.jobs)
                client = Client(cluster)
            with client:
                _Run(client, as_completed(), report, cache, progress).run(
                    itertools.chain((first,), pending), total
                )
        finally:
            if cluster is not None:
                cluster.close()


def _local_cluster(jobs: int) -> Any:
    """A cluster of ``jobs`` worker processes on this machine, one thread each."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=jobs,
        threads_per_worker=1,
        processes=True,
        memory_limit=0,
        dashboard_address=None,
        # the scheduler's HTTP routes (health, metrics) still listen: on a free port
        # of the loopback, not 8787 (taken by a second fleet: a warning on stderr)
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        # the workers' own log: a heartbeat racing the scheduler's close at the end
        # is an ERROR with a traceback, for Dask's developers (a host's failure
        # reaches the report as its result)
        silence_logs=logging.CRITICAL,
    )


Batch = tuple[tuple[HostTask, str], ...]


def _batched(items: Iterator[tuple[HostTask, str]], size: int) -> Iterator[Batch]:
    while batch := tuple(itertools.islice(items, size)):
        yield batch


class _Run:
    """The tasks in flight on a Dask cluster, and the hosts of failed tasks to try again."""

    def __init__(
        self,
        client: Any,
        flying: Any,
        report: FleetReport,
        cache: ResultCache,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.client = client
        self.flying = flying
        self.report = report
        self.cache = cache
        self.progress = progress
        self.batches: dict[str, Batch] = {}
        self.again: list[tuple[HostTask, str]] = []
        self.done = 0
        self._names = (f"depgraph-fleet-{uuid.uuid4().hex[:12]}-{n}" for n in itertools.count())

    def run(self, hosts: Iterator[tuple[HostTask, str]], total: int) -> None:
        """Audit ``hosts`` in batches, a bounded number in flight; then the hosts of the tasks
        that failed, each alone with nothing else in flight: a worker that dies then was killed
        by that host, and Dask blames every task a dying worker held."""
        threads = max(1, sum(self.client.nthreads().values()))
        window = threads * WINDOW_PER_WORKER
        size = max(1, min(MAX_BATCH, total // window))
        for batch in _batched(hosts, size):
            while self.flying.count() >= window:
                self._collect(next(self.flying), final=False)
            self._submit(batch)
        while not self.flying.is_empty():
            self._collect(next(self.flying), final=False)
        for host in self.again:
            self._submit((host,))
            self._collect(next(self.flying), final=True)

    def _submit(self, batch: Batch) -> None:
        name = next(self._names)
        self.batches[name] = batch
        tasks = tuple(task for task, _ in batch)
        self.flying.add(self.client.submit(audit_hosts, tasks, key=name, pure=False, retries=0))

    def _collect(self, future: Any, final: bool) -> None:
        from distributed.scheduler import KilledWorker

        batch = self.batches.pop(future.key)
        try:
            summaries: list[dict[str, Any]] = future.result()
        except Exception as error:  # KilledWorker, a worker without depgraph, ...
            future.release()
            if not final and isinstance(error, KilledWorker):
                self.again.extend(batch)
                return
            why = f"the Dask worker failed: {type(error).__name__}: {error}"
            summaries = [failure(task.name, task.path, task.kind, why) for task, _ in batch]
        else:
            future.release()
        for (_, key), summary in zip(batch, summaries, strict=True):
            _finish(summary, key, self.report, self.cache)
        self.done += len(batch)
        if self.progress:
            self.progress(self.done)
