"""``depgraph fleet`` on a synthetic fleet: hosts per second with 1 and 2 Dask workers, the client's
peak memory at 1,000 and 10,000 hosts, and the incremental re-run.

The fleet is generated here, into a temporary folder, and removed at the end (never committed):
variations of the real 2014 status files of ``fixtures/heartbleed`` -- each host takes one of them,
drops up to 10% of its packages (never libssl1.0.0) and runs one of the real libssl1.0.0 versions
of its family, vulnerable or fixed (the versions of the fixtures and of DSA-2896-1 / USN-2165-1).

Targets (issue "Fleets"): 10,000 hosts audited in under 5 minutes on this 2-core machine; the
client's peak RSS must not grow with the number of hosts (10,000 vs 1,000); the re-run over 10,000
cached and 100 new hosts in under 10 s. The client's memory is its own ``ru_maxrss``
(``RUSAGE_SELF``: not the workers'), measured by running the command line in a child process of
this script (``--client``). ``make bench`` or ``.venv/bin/python bench/fleet_bench.py [--hosts N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
HEARTBLEED = REPO / "fixtures" / "heartbleed"
VERSIONS = {
    "debian-wheezy": ("1.0.1e-2+deb7u4", "1.0.1e-2+deb7u5", "1.0.1e-2+deb7u11", "1.0.1e-1"),
    "debian-jessie": ("1.0.1f-1", "1.0.1g-1", "1.0.1t-1+deb8u6", "1.0.1c-3"),
    "ubuntu-precise": ("1.0.1-4ubuntu5.10", "1.0.1-4ubuntu5.12", "1.0.1-4ubuntu3"),
    "ubuntu-trusty": ("1.0.1f-1ubuntu2", "1.0.1f-1ubuntu2.1"),
}
FAMILY = {
    "debian-7.0-i386": "debian-wheezy",
    "debian-wheezy-prerelease-powerpc": "debian-wheezy",
    "raspbian-wheezy": "debian-wheezy",
    "debian-8.7-jessie-mixed": "debian-jessie",
    "debian-jessie-armel": "debian-jessie",
    "ubuntu-12.04-armhf-zynq": "ubuntu-precise",
    "ubuntu-12.04.3-armhf": "ubuntu-precise",
    "ubuntu-14.04-core-armhf": "ubuntu-trusty",
}
SCALING_HOSTS = 1000


def generate(folder: Path, count: int, seed: int, start: int = 0) -> None:
    """``count`` host status files named ``host-NNNNN.status``."""
    rng = random.Random(seed)
    bases = []
    for name, family in sorted(FAMILY.items()):
        text = (HEARTBLEED / name / "root/var/lib/dpkg/status").read_text(errors="replace")
        bases.append((family, [p for p in text.split("\n\n") if p.strip()]))
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(start, start + count):
        family, paragraphs = rng.choice(bases)
        version = rng.choice(VERSIONS[family])
        drop = rng.uniform(0, 0.1)
        kept = []
        for paragraph in paragraphs:
            if paragraph.startswith("Package: libssl1.0.0\n"):
                lines = paragraph.split("\n")
                paragraph = "\n".join(
                    f"Version: {version}" if line.startswith("Version:") else line for line in lines
                )
            elif rng.random() < drop:
                continue
            kept.append(paragraph)
        (folder / f"host-{number:05d}.status").write_text("\n\n".join(kept) + "\n")


def fleet(
    paths: list[Path], jobs: int, cache: Path, *extra: str
) -> tuple[float, int, dict[str, Any]]:
    """One ``depgraph fleet`` run: wall time, client peak RSS (KB), the report's ``run``/summary."""
    output = cache.parent / "report.json"
    command = [PYTHON, __file__, "--client", "fleet", *map(str, paths), "--jobs", str(jobs)]
    command += ["--format", "json", "-o", str(output), *extra]
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"depgraph fleet failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    lines = done.stderr.strip().splitlines()
    rss = int(lines[-1].removeprefix("client-maxrss-kb "))
    cpu = float(lines[-2].removeprefix("client-cpu-s "))
    data = json.loads(output.read_text())
    return elapsed, rss, {"run": data["run"], "summary": data["summary"], "client_cpu_s": cpu}


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[str]:
    """A Dask cluster of ``workers`` single-threaded processes, started and stopped here."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, memory_limit=0, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def client(argv: list[str]) -> None:
    """Run the command line in this process and print its own peak RSS."""
    sys.path.insert(0, str(REPO))
    from depgraph.cli import main

    status = main(argv)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"client-cpu-s {usage.ru_utime + usage.ru_stime:.2f}", file=sys.stderr)
    print(f"client-maxrss-kb {usage.ru_maxrss}", file=sys.stderr)
    sys.exit(status)


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        client(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()
    results: dict[str, object] = {"hosts": args.hosts}
    with tempfile.TemporaryDirectory(prefix="depgraph-fleet-bench-") as scratch:
        base = Path(scratch)
        hosts = base / "hosts"
        start = time.perf_counter()
        generate(hosts, args.hosts, seed=2014)
        print(f"generated {args.hosts} hosts in {time.perf_counter() - start:.1f} s", flush=True)
        files = sorted(hosts.iterdir())
        subset = base / "subset"
        subset.mkdir()
        for file in files[:SCALING_HOSTS]:
            os.link(file, subset / file.name)
        rates = {}
        for jobs in (1, 2):  # the same engine both times: a Dask cluster of 1, then 2 workers
            with local_cluster(jobs) as address:
                elapsed, _, info = fleet(
                    [subset], jobs, base / "cache", "--no-cache", "--scheduler", address
                )
            rates[jobs] = SCALING_HOSTS / elapsed
            print(
                f"{jobs} worker(s): {rates[jobs]:.1f} hosts/s ({info['run']['engine']}; "
                f"client CPU {info['client_cpu_s']:.1f} s)",
                flush=True,
            )
        elapsed, _, _ = fleet([subset], 1, base / "cache", "--no-cache")
        rates["in-process"] = SCALING_HOSTS / elapsed
        print(f"--jobs 1 (in-process, no Dask): {rates['in-process']:.1f} hosts/s", flush=True)
        results["hosts_per_second"] = rates
        results["scaling_ratio"] = rates[2] / rates[1]
        _small_time, small_rss, _ = fleet([subset], 2, base / "cache-small")
        full_time, full_rss, info = fleet([hosts], 2, base / "cache-full")
        print(
            f"{args.hosts} hosts, 2 workers, cold: {full_time:.1f} s "
            f"({args.hosts / full_time:.1f} hosts/s; target < 300 s); {info['summary']}",
            flush=True,
        )
        print(
            f"client peak RSS: {small_rss / 1024:.0f} MB at {SCALING_HOSTS} hosts, "
            f"{full_rss / 1024:.0f} MB at {args.hosts} hosts (ratio {full_rss / small_rss:.2f})",
            flush=True,
        )
        generate(hosts, args.new, seed=2015, start=args.hosts)
        again, _again_rss, info = fleet([hosts], 2, base / "cache-full")
        print(
            f"re-run, {args.hosts} cached + {args.new} new: {again:.1f} s (target < 10 s); "
            f"{info['run']}",
            flush=True,
        )
        results.update(
            cold_seconds=full_time,
            client_rss_kb={SCALING_HOSTS: small_rss, args.hosts: full_rss},
            incremental_seconds=again,
            incremental_run=info["run"],
        )
        shutil.rmtree(hosts, ignore_errors=True)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "fleet.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
