"""Checking every package's changelog for a CVE: ``depgraph changelog --all`` against ``zgrep -l``.

Both sides do the job issue 4 names: which of ``/usr/share/doc/*/changelog.Debian.gz`` name a CVE.
``zgrep -l CVE-ID /usr/share/doc/*/changelog.Debian.gz`` runs a gzip and a grep per file; depgraph
decompresses in-process, searches the bytes, and parses (with line numbers) only the changelogs that
name the CVE, then looks up the installed versions. depgraph also reads native packages'
``changelog.gz`` and answers more (the fixing entry, whether the installed version has it).

Each command runs once as a warm-up (page cache warm; also the check that it works), then ``--runs``
times (default 5), alternating; the medians are printed with ``ratio = depgraph / zgrep`` (below 1.0
depgraph is faster) and the issue's target (depgraph under 1 s). Exit status 0 unless a command fails.
"""

from __future__ import annotations

import argparse
import glob
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0


def timed(argv: list[str]) -> tuple[float, str]:
    """Wall time of one run and its stdout; raises when the command fails (grep's 1 is fine)."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=PROJECT)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return elapsed, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cve", default="CVE-2023-0286", help="the CVE to look for")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    args = parser.parse_args()

    files = sorted(glob.glob("/usr/share/doc/*/changelog.Debian.gz"))
    zgrep = shutil.which("zgrep")
    if not files or zgrep is None:
        print("SKIP: no /usr/share/doc/*/changelog.Debian.gz or no zgrep on this machine")
        return 0
    ours = [sys.executable, "-m", "depgraph", "changelog", "--all", "--cve", args.cve]
    theirs = [zgrep, "-l", args.cve, *files]

    _, our_out = timed(ours)  # warm-up and check
    _, their_out = timed(theirs)
    our_times: list[float] = []
    their_times: list[float] = []
    for _ in range(args.runs):
        our_times.append(timed(ours)[0])
        their_times.append(timed(theirs)[0])
    ours_median = statistics.median(our_times)
    theirs_median = statistics.median(their_times)
    found_ours = sum(1 for line in our_out.splitlines() if line and not line.startswith("no "))
    found_theirs = len(their_out.splitlines())
    verdict = "PASS" if ours_median < TARGET_SECONDS else "MISS"
    print(f"changelogs: {len(files)} changelog.Debian.gz under /usr/share/doc, CVE {args.cve}")
    print(f"{'command':<58} {'median':>8}  {'found':>5}")
    print(
        f"{'depgraph changelog --all --cve ' + args.cve:<58} {ours_median:>7.3f}s  {found_ours:>5}"
    )
    print(
        f"{'zgrep -l ' + args.cve + ' /usr/share/doc/*/changelog.Debian.gz':<58} {theirs_median:>7.3f}s  {found_theirs:>5}"
    )
    print(
        f"ratio depgraph/zgrep: {ours_median / theirs_median:.2f}x   "
        f"target: depgraph < {TARGET_SECONDS:.1f} s warm: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
