"""``make bench``: depgraph's wall time and peak memory, side by side with the tools it replaces.

What is measured, for every case below:

* **wall time**: each command runs as a child process with stdout sent to ``/dev/null``; one
  warm-up run comes first (it is also the check that the command exits 0 and prints something, so a
  broken command is never timed), then ``--runs`` timed runs (default 5). depgraph and its peers run
  interleaved, round by round, so a slow spell on the machine hits both sides alike. The median is
  reported.
* **peak memory**: the maximum resident set size of the child, read from ``os.wait4``'s
  ``ru_maxrss`` for that child alone (the largest over the timed runs).

How to read the ratios: ``ratio = depgraph median / peer median``. Below 1.0 depgraph is faster than
the peer; ``0.20x`` means five times faster. The target column is the issue's goal for that row; a
row is PASS when every target it names is met, MISS when one is not, SKIP when a peer needed for the
target is not installed, and ``-`` when the row has no target (shown for information).

Benchmarks measure, they do not gate: the exit status is 0 whether rows PASS or MISS, and non-zero
only when a command fails (or the arguments are wrong). Results also go to
``bench/results/latest.json`` (git-ignored). apt's own cache state matters to the peers: where
``Dir::Cache::pkgcache`` is empty (Docker images), ``apt-cache`` rebuilds its cache on every run,
just as depgraph does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results" / "latest.json"
SCHEMA = "depgraph/bench/v1"
SAME = (
    "--no-recommends",
    "--no-suggests",
    "--no-conflicts",
    "--no-breaks",
    "--no-replaces",
    "--no-enhances",
)
"""apt-cache options that keep it to Depends and Pre-Depends, the relationships depgraph follows."""


@dataclass(frozen=True, slots=True)
class Command:
    """A command line and the environment variables it adds."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    def shown(self) -> str:
        """The command as a shell line, for the report."""
        return shlex.join([*(f"{k}={v}" for k, v in self.env), *self.argv])


@dataclass(frozen=True, slots=True)
class Peer:
    """A tool a user would otherwise run, and the targets for depgraph on the row against it."""

    name: str
    command: Command
    package: str
    """The Debian package that provides the peer, named when it is missing."""
    max_ratio: float | None = None
    max_seconds: float | None = None
    max_rss_mb: float | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """One depgraph command measured against one or more peers."""

    name: str
    command: Command
    peers: tuple[Peer, ...]


@dataclass(slots=True)
class Sample:
    """Timed runs of one command."""

    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    lines: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_kb) / 1024


class CommandFailed(Exception):
    """A measured command exited non-zero or printed nothing."""


def depgraph(*args: str, env: tuple[tuple[str, str], ...] = ()) -> Command:
    """The installed console script of this venv, as a user would run it."""
    script = Path(sys.prefix) / "bin" / "depgraph"
    return Command((str(script) if script.exists() else "depgraph", *args), env)


SCRATCH = Path(os.environ.get("TMPDIR", "/tmp")) / f"depgraph-bench-{os.getpid()}"
"""Caches for the cold rows (emptied before every run) and apt-cache's own binary cache."""


def cold(*args: str) -> Command:
    """depgraph with an empty cache directory each run: the first run after the lists changed."""
    script = depgraph().argv[0]
    cache = SCRATCH / "cold"
    line = f'rm -rf "{cache}" && XDG_CACHE_HOME="{cache}" exec {shlex.join([script, *args])}'
    return Command(("sh", "-c", line))


def cases() -> tuple[Case, ...]:
    """The cases the benchmark issue asks for."""
    apt_all = Command(("apt-cache", "rdepends", "--recurse", *SAME, "libssl3"))
    apt_installed = Command(("apt-cache", "rdepends", "--installed", "--recurse", *SAME, "libssl3"))
    apt_rdepends = Command(("apt-rdepends", "-r", "libssl3"))
    apt_all_cached = Command(
        (
            "apt-cache",
            f"-oDir::Cache::pkgcache={SCRATCH}/apt/pkgcache.bin",
            f"-oDir::Cache::srcpkgcache={SCRATCH}/apt/srcpkgcache.bin",
            *apt_all.argv[1:],
        )
    )
    return (
        Case(
            "archive",
            depgraph("graph", "libssl3", "--all", "--format", "names"),
            (
                Peer("apt-cache", apt_all, "apt", max_ratio=1.0, max_rss_mb=300),
                Peer("apt-rdepends", apt_rdepends, "apt-rdepends", max_ratio=0.2),
            ),
        ),
        Case(
            "installed",
            depgraph("graph", "libssl3", "--format", "names"),
            (Peer("apt-cache", apt_installed, "apt", max_ratio=1.0),),
        ),
        Case(
            "archive-pure",
            depgraph("graph", "libssl3", "--all", "--pure", "--format", "names"),
            (Peer("apt-cache", apt_all, "apt", max_seconds=3.0),),
        ),
        Case(
            "archive-no-apt",
            depgraph(
                "graph", "libssl3", "--all", "--format", "names", env=(("DEPGRAPH_NO_APT", "1"),)
            ),
            (Peer("apt-cache", apt_all, "apt", max_seconds=3.0),),
        ),
        Case(
            "archive-cold",
            cold("graph", "libssl3", "--all", "--format", "names"),
            (Peer("apt-cache", apt_all, "apt"), Peer("apt-rdepends", apt_rdepends, "apt-rdepends")),
        ),
        Case(
            "archive-pure-cold",
            cold("graph", "libssl3", "--all", "--pure", "--format", "names"),
            (Peer("apt-cache", apt_all, "apt"),),
        ),
        Case(
            "archive-vs-cached-apt",
            depgraph("graph", "libssl3", "--all", "--format", "names"),
            (Peer("apt-cache+pkgcache", apt_all_cached, "apt"),),
        ),
        Case(
            "installed-pure",
            depgraph("graph", "libssl3", "--pure", "--format", "names"),
            (Peer("apt-cache", apt_installed, "apt"),),
        ),
        Case(
            "audit",
            depgraph(*AUDIT_LIVE),
            (Peer("one-liner+grep", ONE_LINER_AND_GREP, "apt", max_ratio=2.0),),
        ),
        Case(
            "audit-cold",
            cold(*AUDIT_LIVE),
            (Peer("one-liner+grep", ONE_LINER_AND_GREP, "apt", max_ratio=4.0),),
        ),
        Case(
            "audit-dpkg-list",
            depgraph(
                "audit",
                "--dpkg-list",
                str(BIG_DPKG_LIST),
                "--rdepends",
                str(PRECISE_RDEPENDS),
                "--release",
                "precise",
                "--format",
                "json",
                "--fail-on",
                "critical",
            ),
            (
                Peer(
                    "grep dpkg -l",
                    Command(("grep", "libssl", str(BIG_DPKG_LIST))),
                    "grep",
                    max_seconds=0.5,
                ),
            ),
        ),
    )


AUDIT_LIVE = ("audit", "--profile", "openssl-cve-2022-3602", "--format", "json")
"""The whole audit of this machine's libssl3 (all dependents, ELF roles, changelogs, /proc)."""
ONE_LINER_AND_GREP = Command(
    (
        "sh",
        "-c",
        "apt-cache rdepends libssl3 | tail -n +3 | xargs dpkg -l 2>/dev/null | grep '^ii' "
        "| grep -v '^ii  lib'; grep 'libssl.*(deleted)' /proc/*/maps; true",
    )
)
"""What the Heartbleed advice has a user run: the one-liner for dependents, the grep for stale
mappings. They do a small part of the audit's work."""
BIG_DPKG_LIST = SCRATCH / "dpkg-l-1400.txt"
PRECISE_RDEPENDS = (
    PROJECT
    / "fixtures/heartbleed/rdepends"
    / "precise-security-main+universe-armhf-2014-03_apt-cache-rdepends-libssl1.0.0.txt"
)


def write_big_dpkg_list() -> int:
    """A ``dpkg -l`` of over 1,300 packages: this machine's dpkg listing the real status files of
    the Ubuntu 9.04 (1,003 packages) and 12.04 zynq (419) systems as one database (a name in both
    keeps the first). The size is the point, not the mixture."""
    statuses = ("ubuntu-9.04-armel", "ubuntu-12.04-armhf-zynq")
    seen: set[str] = set()
    paragraphs = []
    for name in statuses:
        text = (PROJECT / "fixtures/heartbleed" / name / "root/var/lib/dpkg/status").read_text()
        for paragraph in text.strip().split("\n\n"):
            package = paragraph.split("\n", 1)[0].removeprefix("Package: ")
            if package not in seen:
                seen.add(package)
                paragraphs.append(paragraph)
    admin = SCRATCH / "admindir"
    (admin / "info").mkdir(parents=True, exist_ok=True)
    (admin / "updates").mkdir(exist_ok=True)
    (admin / "available").touch()
    (admin / "status").write_text("\n\n".join(paragraphs) + "\n")
    done = subprocess.run(
        ["dpkg", f"--admindir={admin}", "-l"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    )
    BIG_DPKG_LIST.write_text(done.stdout)
    return sum(line.startswith("ii") for line in done.stdout.splitlines())


def environment(command: Command) -> dict[str, str]:
    return {**os.environ, **dict(command.env)}


def check(command: Command) -> int:
    """Run once (the warm-up), insisting on exit 0 and some output; return the output's lines."""
    done = subprocess.run(
        command.argv, env=environment(command), capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        why = f"exit status {done.returncode}" if done.returncode else "no output"
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise CommandFailed(f"{command.shown()}: {why}\n{tail}")
    return len(done.stdout.splitlines())


def timed(command: Command) -> tuple[float, int]:
    """Wall seconds and the child's own peak RSS (KiB, Linux ``ru_maxrss``) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command.argv,
        env=environment(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise CommandFailed(f"{command.shown()}: exit status {process.returncode} in a timed run")
    return seconds, usage.ru_maxrss


def measure(case: Case, runs: int, missing: dict[str, str]) -> dict[Command, Sample]:
    """Warm up and check every command of the case, then time them interleaved, round by round."""
    commands = [case.command, *(p.command for p in case.peers if p.name not in missing)]
    samples = {command: Sample() for command in dict.fromkeys(commands)}
    for command, sample in samples.items():
        sample.lines = check(command)
    for round_ in range(runs):
        print(f"bench: {case.name}: run {round_ + 1}/{runs}", file=sys.stderr, flush=True)
        for command, sample in samples.items():
            seconds, rss = timed(command)
            sample.seconds.append(seconds)
            sample.rss_kb.append(rss)
    return samples


def verdict(peer: Peer, ours: Sample, theirs: Sample | None) -> tuple[str, str, float | None]:
    """The target text, PASS/MISS/SKIP/-, and the ratio (None when the peer is missing)."""
    ratio = ours.median / theirs.median if theirs else None
    targets: list[str] = []
    checks: list[bool | None] = []
    if peer.max_ratio is not None:
        faster = f" ({1 / peer.max_ratio:.0f}x faster)" if peer.max_ratio < 1 else ""
        targets.append(f"<= {peer.max_ratio:.2f}x{faster}")
        checks.append(None if ratio is None else ratio <= peer.max_ratio)
    if peer.max_seconds is not None:
        targets.append(f"<= {peer.max_seconds:.1f} s")
        checks.append(ours.median <= peer.max_seconds)
    if peer.max_rss_mb is not None:
        targets.append(f"<= {peer.max_rss_mb:.0f} MB")
        checks.append(ours.peak_mb <= peer.max_rss_mb)
    if False in checks:
        status = "MISS"
    elif None in checks:
        status = "SKIP"
    else:
        status = "PASS" if checks else "-"
    return ", ".join(targets) or "-", status, ratio


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a plain-text table."""
    header = ("case", "vs", "depgraph", "peer", "ratio", "target", "status", "depgraph RSS")
    cells = [header]
    for row in rows:
        peer = row["peer"]
        cells.append(
            (
                row["case"],
                row["vs"],
                f"{row['depgraph']['median_s']:.3f} s",
                f"{peer['median_s']:.3f} s" if peer else "not run",
                f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-",
                row["target"],
                row["status"],
                f"{row['depgraph']['peak_rss_mb']:.0f} MB",
            )
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def summary(command: Command, sample: Sample) -> dict[str, Any]:
    return {
        "command": command.shown(),
        "median_s": round(sample.median, 4),
        "times_s": [round(s, 4) for s in sample.seconds],
        "peak_rss_mb": round(sample.peak_mb, 1),
        "output_lines": sample.lines,
    }


def git_commit() -> str | None:
    """The commit measured, ``-dirty`` when tracked files differ from it."""
    done = subprocess.run(
        ("git", "describe", "--always", "--dirty"),
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="timed runs (default 5)")
    parser.add_argument(
        "--only", action="append", default=[], metavar="TEXT", help="cases whose name has TEXT"
    )
    parser.add_argument("--json", type=Path, default=RESULTS, metavar="FILE", help="results file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    chosen = [c for c in cases() if not args.only or any(t in c.name for t in args.only)]
    missing = {
        peer.name: f"{peer.name} is not installed (Debian package {peer.package}): skipped"
        for case in chosen
        for peer in case.peers
        if shutil.which(peer.command.argv[0]) is None
    }
    for reason in missing.values():
        print(f"bench: {reason}", file=sys.stderr)
    rows: list[dict[str, Any]] = []
    (SCRATCH / "apt").mkdir(parents=True, exist_ok=True)
    if any(case.name == "audit-dpkg-list" for case in chosen):
        print(
            f"bench: saved dpkg -l of {write_big_dpkg_list()} installed packages", file=sys.stderr
        )
    try:
        for case in chosen:
            samples = measure(case, args.runs, missing)
            ours = samples[case.command]
            for peer in case.peers:
                theirs = samples.get(peer.command)
                target, status, ratio = verdict(peer, ours, theirs)
                rows.append(
                    {
                        "case": case.name,
                        "vs": peer.name,
                        "depgraph": summary(case.command, ours),
                        "peer": summary(peer.command, theirs) if theirs else None,
                        "skipped": missing.get(peer.name),
                        "ratio": round(ratio, 3) if ratio is not None else None,
                        "target": target,
                        "status": status,
                    }
                )
    except CommandFailed as error:
        print(f"bench: command failed: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    print(table(rows))
    for reason in dict.fromkeys(row["skipped"] for row in rows if row["skipped"]):
        print(f"note: {reason}")
    print(f"(median of {args.runs} runs after one warm-up; ratio = depgraph / peer)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": git_commit(),
        "runs": args.runs,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rows": rows,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"bench: results written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
