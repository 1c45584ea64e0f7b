"""The fleet report: host summaries reduced as they arrive, then rendered (``depgraph/fleet/v1``).

:class:`FleetReport` takes one summary at a time. The fleet-wide numbers are counters (per level,
per package, per library version: they grow with the packages, not the hosts); each host's row
(name, level, counts, libraries, processes to restart, at most :data:`EXPOSED_KEPT` of its most
exposed packages) goes to a temporary SQLite table on disk, and the rendering streams the rows
back in rank order (SQLite sorts with a bounded cache, spilling to disk). So the client's memory
does not grow with the number of hosts, and nothing of a host's graph ever reaches it. Hosts that
failed or whose view was partial are listed apart and never counted as clean: a failed host has
no level at all, a partial one keeps its level and its reason.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

from depgraph.fleet.summary import LEVELS
from depgraph.formats.escape import csv_row, markdown_cell, terminal
from depgraph.risk import Level

SCHEMA = "depgraph/fleet/v1"
EXPOSED_KEPT = 20
"""Per host row, the packages at the highest levels kept for the report (its counts are exact)."""
HOSTS_SHOWN = 50
"""The table and Markdown show this many hosts (the most at risk and every failed one first);
JSON and CSV show them all."""
PACKAGES_SHOWN = 25
"""The table and Markdown show this many packages; JSON shows them all."""
_RANK = {level.value: level.base for level in Level}
_ROW_KEYS = (
    "host", "path", "kind", "status", "reason", "highest_risk", "affected", "counts",
    "libraries", "restart", "runtime", "warnings",
)  # fmt: skip
_ORDER = (
    "failed DESC, rank DESC, critical DESC, high DESC, medium DESC, low DESC, none DESC, host, path"
)


def _sortable(text: str) -> str:
    """``text`` as SQLite can store it: a file name that is not UTF-8 (PEP 383 surrogates) with
    U+FFFD for each stray byte (only the sort uses this column; the row keeps the name)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class FleetReport:
    """The fleet so far; :meth:`close` removes its table."""

    def __init__(self, profile: dict[str, Any]) -> None:
        self.profile = profile
        self.engine = ""
        self.audited = 0
        self.cached = 0
        self.by_level = dict.fromkeys(LEVELS, 0)
        self.tally = Counter[str]()
        """``affected``, ``restart``, ``partial``, ``failed``: hosts."""
        self.packages: dict[str, Counter[str]] = {}
        self.libraries: Counter[tuple[str, str, str]] = Counter()
        descriptor, self._file = tempfile.mkstemp(prefix="depgraph-fleet-", suffix=".sqlite")
        os.close(descriptor)
        self._db = sqlite3.connect(self._file)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-512; PRAGMA temp_store=FILE;"
            "CREATE TABLE hosts (failed INT, rank INT, critical INT, high INT, medium INT,"
            " low INT, none INT, host TEXT, path TEXT, status TEXT, restart INT, row TEXT)"
        )

    def close(self) -> None:
        self._db.close()
        with contextlib.suppress(OSError):
            os.unlink(self._file)

    def add(self, summary: dict[str, Any], cached: bool = False) -> None:
        """Reduce one host's summary into the report."""
        if cached:
            self.cached += 1
        else:
            self.audited += 1
        level = summary["highest_risk"]
        if level:
            self.by_level[level] += 1
        status = summary["status"]
        if status != "ok":
            self.tally[status] += 1
        self.tally["affected"] += bool(summary["affected"])
        self.tally["restart"] += bool(summary["restart"])
        for entry in summary.get("exposed", ()):
            self.packages.setdefault(entry["package"], Counter())[entry["level"]] += 1
        for library in summary.get("libraries", ()):
            key = (library["package"], library["version"] or "", library["state"])
            self.libraries[key] += 1
        exposed = sorted(
            summary.get("exposed", ()), key=lambda e: (-_RANK[e["level"]], e["package"])
        )
        row = {key: summary[key] for key in _ROW_KEYS}
        row["exposed"] = exposed[:EXPOSED_KEPT]
        counts = summary["counts"]
        self._db.execute(
            "INSERT INTO hosts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                status == "failed",
                _RANK[level] if level else 0,
                *(counts[name] for name in LEVELS),
                _sortable(summary["host"]),
                _sortable(summary["path"]),
                status,
                bool(summary["restart"]),
                json.dumps(row),
            ),
        )

    @property
    def hosts(self) -> int:
        """Every host reduced so far: audited in this run (or failed) and taken from the cache."""
        return self.audited + self.cached

    @property
    def failed(self) -> int:
        return self.tally["failed"]

    @property
    def highest(self) -> Level | None:
        """The most severe level of any host that was audited; None when no host was."""
        levels = [Level(level) for level, hosts in self.by_level.items() if hosts]
        return max(levels, key=lambda level: level.base, default=None)

    def rows(self, where: str = "1", order: str = _ORDER) -> Iterator[dict[str, Any]]:
        """The hosts' rows, failed first, then the most at risk (``where``: an SQL condition)."""
        for (text,) in self._db.execute(f"SELECT row FROM hosts WHERE {where} ORDER BY {order}"):
            yield json.loads(text)

    def summary(self) -> dict[str, Any]:
        return {
            "hosts": self.hosts,
            "highest_risk": self.highest.value if self.highest else None,
            "by_level": dict(self.by_level),
            "affected": self.tally["affected"],
            "restart": self.tally["restart"],
            "partial": self.tally["partial"],
            "failed": self.tally["failed"],
        }

    def package_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = [
            {
                "package": name,
                "hosts": sum(counts.values()),
                "highest_risk": max(counts, key=lambda level: _RANK[level]),
                "by_level": {level: counts.get(level, 0) for level in LEVELS if level != "none"},
            }
            for name, counts in self.packages.items()
        ]
        entries.sort(key=lambda p: (-_RANK[p["highest_risk"]], -p["hosts"], p["package"]))
        return entries

    def library_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = [
            {"package": package, "version": version or None, "state": state, "hosts": hosts}
            for (package, version, state), hosts in self.libraries.items()
        ]
        entries.sort(key=lambda v: (v["package"], -v["hosts"], v["version"] or "", v["state"]))
        return entries

    def run(self) -> dict[str, Any]:
        return {"engine": self.engine, "audited": self.audited, "cached": self.cached}

    def summary_line(self) -> str:
        """One line for stderr."""
        levels = ", ".join(f"{n} {level}" for level, n in self.by_level.items() if n)
        line = f"fleet: {self.hosts} hosts ({levels or 'none audited'}); highest risk {self.highest.value if self.highest else 'unknown (no host audited)'}"
        if self.tally["partial"]:
            line += f"; {self.tally['partial']} partial"
        if self.failed:
            line += f"; {self.failed} FAILED"
        return line + f" ({self.audited} audited, {self.cached} from the cache)"


# --- rendering --------------------------------------------------------------------------------


def render(report: FleetReport, output: str, out: IO[str]) -> None:
    """Write the report in ``table``, ``json``, ``csv`` or ``markdown`` to ``out``, host by host."""
    if output == "json":
        _json(report, out)
    elif output == "csv":
        _csv(report, out)
    else:
        out.write(
            _text(report, markdown=output == "markdown") + "\n" + report.summary_line() + "\n"
        )


def _json(report: FleetReport, out: IO[str]) -> None:
    """The JSON document, written piece by piece (the hosts one at a time)."""

    def member(name: str, value: Any, last: bool = False) -> None:
        text = json.dumps(value, indent=2).replace("\n", "\n  ")
        out.write(f"  {json.dumps(name)}: {text}{'' if last else ','}\n")

    def array(name: str, items: Iterator[dict[str, Any]]) -> None:
        out.write(f"  {json.dumps(name)}: [")
        first = True
        for item in items:
            out.write("\n    " if first else ",\n    ")
            out.write(json.dumps(item, indent=2).replace("\n", "\n    "))
            first = False
        out.write("\n  ],\n" if not first else "],\n")

    out.write("{\n")
    member("schema", SCHEMA)
    member("profile", report.profile)
    member("summary", report.summary())
    array("hosts", report.rows())
    member("packages", report.package_entries())
    member("libraries", report.library_entries())
    array(
        "restart",
        (
            {"host": row["host"], "path": row["path"], "processes": row["restart"]}
            for row in report.rows("restart")
        ),
    )
    array(
        "incomplete",
        (
            {"host": r["host"], "path": r["path"], "status": r["status"], "reason": r["reason"]}
            for r in report.rows("status != 'ok'", "status, host, path")
        ),
    )
    member("run", report.run(), last=True)
    out.write("}\n")


def _cells(row: dict[str, Any]) -> list[str]:
    counts = row["counts"]
    level = row["highest_risk"] or "FAILED"
    versions = ", ".join(
        f"{lib['package']} {lib['version'] or '-'} ({lib['state']})" for lib in row["libraries"]
    )
    top = ", ".join(e["package"] for e in row["exposed"][:3] if e["level"] == row["highest_risk"])
    note = row["reason"] if row["status"] != "ok" else top
    return [
        row["host"],
        level,
        *(str(counts[name]) for name in LEVELS[:4]),
        versions,
        " ".join(row["restart"]),
        note,
    ]


def _clean(rows: list[list[Any]], markdown: bool) -> list[list[Any]]:
    """Table cells from the hosts' data, escaped for a terminal (and for a Markdown table)."""
    cell = markdown_cell if markdown else terminal
    return [[cell(x) if isinstance(x, str) else x for x in row] for row in rows]


def _text(report: FleetReport, *, markdown: bool) -> str:
    from itertools import islice

    from tabulate import tabulate as tabulate_raw

    style = "github" if markdown else "simple"

    def tabulate(rows: list[list[Any]], **options: Any) -> str:
        return str(tabulate_raw(_clean(rows, markdown), **options))

    def heading(text: str) -> str:
        return f"## {text}" if markdown else text

    profile = report.profile
    parts = [
        ("# " if markdown else "")
        + terminal(
            f"Fleet audit: {profile['id']} ({', '.join(profile['cves'])}), {report.hosts} hosts"
        ),
        "",
        heading("Hosts, most at risk first"),
        tabulate(
            [_cells(row) for row in islice(report.rows(), HOSTS_SHOWN)],
            headers=["host", "risk", "crit", "high", "med", "low", "library", "restart", "note"],
            tablefmt=style,
        ),
    ]
    if report.hosts > HOSTS_SHOWN:
        parts.append(
            f"... and {report.hosts - HOSTS_SHOWN} more hosts (--format csv or json lists them all)"
        )
    packages = report.package_entries()
    if packages:
        rows = [
            [p["package"], p["hosts"], p["highest_risk"], *p["by_level"].values()]
            for p in packages[:PACKAGES_SHOWN]
        ]
        headers = ["package", "hosts", "worst", "crit", "high", "med", "low"]
        parts += [
            "",
            heading("Packages across the fleet, most exposed first"),
            tabulate(rows, headers=headers, tablefmt=style),
        ]
        if len(packages) > PACKAGES_SHOWN:
            parts.append(
                f"... and {len(packages) - PACKAGES_SHOWN} more packages (--format json lists them all)"
            )
    libraries = report.library_entries()
    if libraries:
        rows = [[v["package"], v["version"] or "-", v["state"], v["hosts"]] for v in libraries]
        parts += [
            "",
            heading("Library versions seen"),
            tabulate(rows, headers=["library", "version", "state", "hosts"], tablefmt=style),
        ]
    restart = [
        [r["host"], " ".join(r["restart"])] for r in islice(report.rows("restart"), HOSTS_SHOWN)
    ]
    if restart:
        parts += [
            "",
            heading("Still running the old code (restart)"),
            tabulate(restart, headers=["host", "processes"], tablefmt=style),
        ]
    incomplete = [
        [r["host"], r["status"], r["path"], r["reason"]]
        for r in islice(report.rows("status != 'ok'", "status, host, path"), HOSTS_SHOWN)
    ]
    if incomplete:
        parts += [
            "",
            heading("Failed or partial hosts (not counted as clean)"),
            tabulate(incomplete, headers=["host", "status", "file", "reason"], tablefmt=style),
        ]
    return "\n".join(parts) + "\n"


CSV_COLUMNS = ("host", "status", "highest_risk", *LEVELS[:4], "library", "version", "state", "restart", "path", "reason")  # fmt: skip


def _csv(report: FleetReport, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows():
        libraries = row["libraries"]
        cells = (
            row["host"],
            row["status"],
            row["highest_risk"] or "",
            *(row["counts"][name] for name in LEVELS[:4]),
            " ".join(lib["package"] for lib in libraries),
            " ".join(lib["version"] or "-" for lib in libraries) if libraries else "",
            " ".join(lib["state"] for lib in libraries),
            " ".join(row["restart"]),
            row["path"],
            row["reason"],
        )
        writer.writerow(csv_row(cells))
