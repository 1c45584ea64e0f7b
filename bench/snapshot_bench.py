"""``depgraph collect`` and ``audit --snapshot``: collection time, snapshot size, and the audit of
the snapshot against the live audit of this machine.

Wall time, median of several runs, each command after one warm-up (the ELF cache is then warm, as
it is on a host where depgraph has run once; the first, cold, collection is reported apart). The
audit compared is ``--profile openssl-cve-2022-3602`` (libssl3, this machine's library).

Targets (issue 7): snapshot under 2 MB without apt lists, collection under 3 s, the audit of the
snapshot no slower than the live audit. ``make bench`` or
``.venv/bin/python bench/snapshot_bench.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEPGRAPH = [str(REPO / ".venv" / "bin" / "python"), "-m", "depgraph"]
PROFILE = ["--profile", "openssl-cve-2022-3602"]


def run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=REPO)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def median(command: list[str], env: dict[str, str], runs: int) -> float:
    run(command, env)  # warm-up
    return statistics.median(run(command, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="depgraph-snapshot-bench-") as scratch:
        env = dict(os.environ, XDG_CACHE_HOME=f"{scratch}/cache")
        snapshot = f"{scratch}/host.tar.gz"
        collect = [*DEPGRAPH, "collect", "-o", snapshot]
        cold = run(collect, env)
        collect_time = median(collect, env, args.runs)
        size = Path(snapshot).stat().st_size
        live = median([*DEPGRAPH, "audit", *PROFILE, "-q"], env, args.runs)
        offline = median(
            [*DEPGRAPH, "audit", *PROFILE, "-q", "--snapshot", snapshot], env, args.runs
        )
        shell_start = time.perf_counter()
        subprocess.run(
            ["sh", str(REPO / "depgraph/collect/collect.sh"), "-o", f"{scratch}/sh.tar.gz"],
            capture_output=True,
            check=True,
        )
        shell = time.perf_counter() - shell_start
        shell_size = Path(f"{scratch}/sh.tar.gz").stat().st_size
    print("depgraph collect / audit --snapshot (median of", args.runs, "runs, wall time)")
    print(f"  collect, first run (cold ELF cache)   {cold:6.2f} s")
    print(f"  collect (target < 3 s)                {collect_time:6.2f} s")
    print(f"  snapshot size (target < 2 MB)         {size / 1e6:6.2f} MB")
    print(f"  audit, live                           {live:6.2f} s")
    print(f"  audit --snapshot                      {offline:6.2f} s  ({offline / live:.2f}x live)")
    print(f"  shell collector (sh), one run         {shell:6.2f} s, {shell_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
