"""Pictures: the archive-wide graph of libssl3 drawn with folding, and the HTML report's cost.

Targets (issue "Pictures and interchange"):

- ``depgraph graph libssl3 --all --format svg`` (every package apt knows of, ~30,000 dependents on
  Debian 12, folded to the default 60 drawn nodes) finishes in under 10 s, whole command;
- ``depgraph audit --format html`` of this machine costs under 1 s beyond the audit itself: the
  audit is run once in-process, then rendering the page (picture included, ``dot`` run) is timed
  against rendering the JSON report of the same audit.

Medians of ``--runs`` runs (default 5) after a warm-up run, which also checks the exit status.
``make bench`` runs it; needs Graphviz (``dot``) and the apt lists (``apt-get update``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEPGRAPH = REPO / ".venv" / "bin" / "depgraph"
ARCHIVE_TARGET = 10.0
HTML_TARGET = 1.0


def timed_command(command: list[str], runs: int) -> float:
    """Median wall time of ``command`` (stdout discarded), after one checked warm-up."""
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def html_overhead(runs: int) -> tuple[float, float, float, int]:
    """(audit, json render, html render) medians in seconds and the dependents, in-process."""
    sys.path.insert(0, str(REPO))
    from depgraph.audit import AuditOptions, audit
    from depgraph.diagnostics import Diagnostics
    from depgraph.formats import report_html, report_json
    from depgraph.load import SourceOptions
    from depgraph.profiles import adhoc_profile
    from depgraph.remediation import plan

    options = AuditOptions(
        sources=SourceOptions(), profile=adhoc_profile("libssl3", "CVE-2023-0286", None)
    )
    start = time.perf_counter()
    report = audit(options, Diagnostics(strict=False))
    audit_time = time.perf_counter() - start
    steps = plan(report)

    def median(render: object) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            render(report, steps, color=False)  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    report_html.render_report(report, steps)  # warm-up
    return (
        audit_time,
        median(report_json.render_report),
        median(report_html.render_report),
        len(report.dependents),
    )


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("dot") is None:
        print("render_bench: SKIP: Graphviz 'dot' is not installed (apt-get install graphviz)")
        return 0
    archive = timed_command(
        [str(DEPGRAPH), "graph", "libssl3", "--all", "--format", "svg"], args.runs
    )
    bigger = timed_command(
        [str(DEPGRAPH), "graph", "libssl3", "--all", "--format", "svg", "--max-nodes", "300"],
        args.runs,
    )
    audit_time, json_time, html_time, dependents = html_overhead(args.runs)
    overhead = html_time - json_time
    print("| case | median | target | |")
    print("|---|---|---|---|")
    print(
        f"| graph libssl3 --all --format svg (folded to 60 nodes) | {archive:.2f} s "
        f"| <= {ARCHIVE_TARGET:.0f} s | {verdict(archive, ARCHIVE_TARGET)} |"
    )
    print(f"| same, --max-nodes 300 | {bigger:.2f} s | - | - |")
    print(
        f"| audit of this machine ({dependents} dependents of libssl3) | {audit_time:.2f} s | - | - |"
    )
    print(f"| render json | {json_time * 1000:.0f} ms | - | - |")
    print(
        f"| render html (picture drawn) minus json | {overhead * 1000:.0f} ms "
        f"| <= {HTML_TARGET * 1000:.0f} ms | {verdict(overhead, HTML_TARGET)} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
