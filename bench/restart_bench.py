"""``depgraph restart`` against ``needrestart -b`` and ``checkrestart``, side by side.

Wall time, median of several runs, on this machine as it is and with 200 and 1,000 extra
processes that map a deleted copy of libssl. Those are forked from one Python parent that loaded a
copy of the system's ``libssl.so.3`` with ctypes and then deleted it, so they cost a fork each and
share the mapping; the copy lives under ``/usr/local/lib`` because both peers ignore deleted files
in ``/tmp``. Every process the benchmark starts is killed in ``finally`` (its own process group).

Targets (issue 5): at 1,000 processes at most 1.0x checkrestart's time and 0.5x needrestart's; as
the machine is, no slower than either. Run as root (the peers need it): ``make bench`` or
``.venv/bin/python bench/restart_bench.py [--runs N] [--counts 0,200,1000]``.

This environment sets ``PYTHONDONTWRITEBYTECODE``; depgraph is byte-compiled first, as a pip
install would leave it, so that its runs do not measure Python compiling its own source.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEPGRAPH = REPO / ".venv" / "bin" / "depgraph"
LIBSSL = Path("/usr/lib/x86_64-linux-gnu/libssl.so.3")

SPAWNER = r"""
import ctypes, os, signal, sys, time
path, count = sys.argv[1], int(sys.argv[2])
ctypes.CDLL(path)
os.unlink(path)
children = []
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    children.append(pid)
sys.stdout.write("ready\n")
sys.stdout.flush()
signal.pause()
"""


def tools() -> dict[str, list[str]]:
    found = {"depgraph restart": [str(DEPGRAPH), "restart"]}
    for name, command in (
        ("checkrestart", ["checkrestart"]),
        ("needrestart -b", ["needrestart", "-b"]),
    ):
        if shutil.which(command[0]):
            found[name] = command
        else:
            print(
                f"warning: {command[0]} is not installed (apt-get install {'debian-goodies' if name == 'checkrestart' else 'needrestart'})",
                file=sys.stderr,
            )
    return found


def timed(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, str]]:
    """Median wall time of ``runs`` runs of each command (after one warm-up each), the commands
    taking turns so that a change in the machine's load hits all of them alike; and the last
    output of each."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for index in range(runs + 1):
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - start
            if index:
                times[name].append(elapsed)
            elif done.returncode not in (0, 1):  # a tool that failed at once would time as fast
                raise SystemExit(
                    f"bench: {name} exited {done.returncode}: {(done.stderr or done.stdout)[:300]}"
                )
            outputs[name] = done.stdout + done.stderr
    return {name: (statistics.median(times[name]), outputs[name]) for name in commands}


def found_count(name: str, output: str) -> str:
    """How many processes each tool says need a restart (for a sanity check, not timing)."""
    if name == "checkrestart":
        match = re.search(r"Found (\d+) processes", output)
        return match.group(1) if match else "?"
    if name == "depgraph restart":
        match = re.search(r"depgraph: (\d+) of (\d+) processes", output)
        return match.group(1) if match else "?"
    if name == "needrestart -b":
        return (
            str(sum(1 for line in output.splitlines() if line.startswith("NEEDRESTART-SVC")))
            + " svc"
        )
    return "?"


def spawn(count: int, directory: Path) -> subprocess.Popen[str]:
    copy = directory / "libssl.so.3"
    shutil.copy2(LIBSSL, copy)
    parent = subprocess.Popen(
        [sys.executable, "-c", SPAWNER, str(copy), str(count)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert parent.stdout is not None
    if parent.stdout.readline().strip() != "ready":
        raise RuntimeError("the spawner did not start")
    return parent


def stop(parent: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(parent.pid, signal.SIGKILL)
    parent.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per tool (median)")
    parser.add_argument("--counts", default="0,200,1000", help="extra processes per scenario")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("restart_bench: run as root (needrestart and checkrestart need it)", file=sys.stderr)
        return 2
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "depgraph")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    commands = tools()
    results = []
    header = f"{'extra procs':>11}  " + "  ".join(f"{name:>22}" for name in commands)
    print(header + "  ratios (depgraph / peer)")
    for count in (int(c) for c in args.counts.split(",")):
        parent = None
        directory = Path(tempfile.mkdtemp(prefix="depgraph-bench-", dir="/usr/local/lib"))
        try:
            if count:
                parent = spawn(count, directory)
            row = {
                name: {"seconds": seconds, "found": found_count(name, output)}
                for name, (seconds, output) in timed(commands, args.runs).items()
            }
        finally:
            if parent is not None:
                stop(parent)
            shutil.rmtree(directory, ignore_errors=True)
        ours = row["depgraph restart"]["seconds"]
        ratios = ", ".join(
            f"{ours / row[name]['seconds']:.2f}x {name}"
            for name in row
            if name != "depgraph restart"
        )
        cells = "  ".join(
            f"{row[name]['seconds'] * 1000:>9.1f} ms ({row[name]['found']:>8})" for name in commands
        )
        print(f"{count:>11}  {cells}  {ratios}", flush=True)
        results.append({"extra_processes": count, "tools": row})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
