"""``depgraph fleet``: audit many hosts' snapshots at once, on Dask (README, "Fleets").

Exit status (contract ``CLI.md``): 0 no host at or above ``--fail-on``, 1 some host at or above
it, 2 a usage error, or some host could not be audited (its snapshot corrupt, hostile, from
another distribution, too slow or too big): the report is still written, the failed hosts listed in
it with their reasons, and a script sees that the fleet's answer is incomplete.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.commands import Outcome
from depgraph.commands.options import FAIL_LEVELS, add_profile_options, input_path
from depgraph.fleet import limits

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics
    from depgraph.fleet import engine
    from depgraph.fleet.report import FleetReport

FORMATS = ("table", "json", "csv", "markdown")
DEFAULT_TIMEOUT = 300.0
DEFAULT_MEMORY_MB = 4096


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``fleet`` to the command line."""
    fleet = commands.add_parser(
        "fleet",
        help="audit many hosts' snapshots at once (on Dask) and rank the hosts",
        description=(
            "Audit one snapshot, saved status file or 'dpkg -l' file per host (or folders of "
            "them) on a local Dask cluster or an existing one, and report the hosts most at risk "
            "first, the exposed packages and library versions across the fleet, the hosts still "
            "running old code and those that could not be audited. Results are cached by content: "
            "a re-run audits only new or changed files."
        ),
    )
    fleet.add_argument(
        "paths", nargs="+", type=input_path, metavar="PATH", help="host files or folders"
    )
    add_profile_options(fleet)
    engine = fleet.add_argument_group("where the audits run")
    engine.add_argument(
        "--jobs",
        type=limits.workers,
        default=None,
        metavar="N",
        help="worker processes of the local Dask cluster (default: the number of cores; "
        "1: no cluster, one process)",
    )
    engine.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="an existing Dask scheduler (its workers need depgraph and the files' paths)",
    )
    engine.add_argument(
        "--host-timeout",
        type=limits.seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"a host's audit is stopped after this long (default: {DEFAULT_TIMEOUT:g})",
    )
    engine.add_argument(
        "--host-memory",
        type=limits.megabytes,
        default=DEFAULT_MEMORY_MB,
        metavar="MB",
        help=f"a host's audit process may use this much memory (default: {DEFAULT_MEMORY_MB}; 0: no limit)",
    )
    engine.add_argument(
        "--no-cache", action="store_true", help="audit every host, even those seen before"
    )
    engine.add_argument("--pure", action="store_true", help="read files in pure Python")
    engine.add_argument(
        "--lenient", action="store_true", help="skip malformed records instead of failing the host"
    )
    fleet.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    fleet.add_argument(  # written here as it is rendered, host by host: not through the CLI's -o
        "-o",
        "--output",
        dest="report_file",
        type=Path,
        metavar="FILE",
        help="write the report to FILE",
    )
    fleet.add_argument(
        "--fail-on",
        choices=FAIL_LEVELS,
        default="high",
        help="exit 1 when a host has a finding at this level or above (default: high); "
        "2 when some host could not be audited",
    )
    fleet.set_defaults(run=run)


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """Audit the fleet, reduce, render; the exit status follows ``--fail-on`` and the failures."""
    from depgraph.commands.options import profile_of
    from depgraph.errors import UsageError
    from depgraph.fleet import engine, scratch
    from depgraph.fleet.hosts import expand

    # The CLI turns the cyclic collector off for the big acyclic package index; the fleet's client
    # builds none, and its garbage (json's encoders, Dask's messages) is cyclic: memory would grow
    # with every host.
    gc.enable()
    if args.scheduler is not None and "://" not in args.scheduler:
        raise UsageError(f"--scheduler {args.scheduler}: give an address like tcp://HOST:PORT")
    profile = profile_of(args)
    jobs, memory = _limits(args, diagnostics)
    # counted first (a path that does not exist is a typo: exit 2 before any work), then walked
    # again as the hosts are audited: no list of a fleet's paths in memory
    total = sum(1 for _ in expand(args.paths))
    with scratch.run_folder() as folder:
        settings = engine.Settings(
            profile=profile,
            jobs=jobs,
            scheduler=args.scheduler,
            timeout=args.host_timeout,
            memory_mb=memory,
            lenient=args.lenient,
            pure=args.pure,
            scratch=str(folder),
        )
        return _audit(args, diagnostics, settings, total)


def _audit(
    args: argparse.Namespace, diagnostics: Diagnostics, settings: engine.Settings, total: int
) -> Outcome:
    """The fleet audited into its report, the report written; the exit status."""
    from depgraph.fleet import engine
    from depgraph.fleet.cache import ResultCache
    from depgraph.fleet.hosts import expand
    from depgraph.fleet.report import FleetReport
    from depgraph.risk import Level

    profile = settings.profile
    cache = ResultCache(profile, options=f"lenient={args.lenient}", enabled=not args.no_cache)
    report = FleetReport(profile={**profile.to_report(), "title": profile.title})
    try:
        progress = _progress(total) if sys.stderr.isatty() else None
        engine.run(expand(args.paths), settings, cache, report, progress, total=total)
        if progress is not None:
            print(file=sys.stderr)
        _write(report, args.format, args.report_file)
        if report.failed:  # the answer is incomplete: that outranks any finding
            status = 2
        elif report.highest is not None and report.highest.at_least(Level(args.fail_on)):
            status = 1
        else:
            status = 0
        if args.format != "table" or args.report_file is not None:
            diagnostics.summary = report.summary_line()
    finally:
        report.close()
    return Outcome("", status)


def _limits(args: argparse.Namespace, diagnostics: Diagnostics) -> tuple[int, int]:
    """The workers and each audit's memory as they will be: a local cluster's ``--jobs`` (default:
    the cores) and ``--host-memory`` held to what this process may use, with a warning when that
    is less than asked (:mod:`depgraph.fleet.limits`)."""
    jobs = limits.Limited(args.jobs or limits.cores())
    if args.scheduler is None:
        jobs = limits.local_jobs(jobs.value)
    memory = limits.host_memory(args.host_memory)
    for warning in (jobs.warning, memory.warning):
        if warning:
            diagnostics.note("fleet", warning)
    return jobs.value, memory.value


def _write(report: FleetReport, output: str, path: Path | None) -> None:
    """Render the report to ``path`` or stdout as it is read back (never whole in memory)."""
    from depgraph.errors import UsageError
    from depgraph.fleet.report import render

    if path is None:
        render(report, output, sys.stdout)
        return
    try:
        with path.open("w", encoding="utf-8") as out:
            render(report, output, out)
    except OSError as error:
        raise UsageError(f"{path}: cannot write: {error.strerror or error}") from None


def _progress(total: int) -> Callable[[int], None]:
    def show(done: int) -> None:
        print(f"\rdepgraph: fleet: {done}/{total} hosts audited", end="", file=sys.stderr)

    return show
