"""The audit's ranked dependents as CSV (RFC 4180), one row per package, most at risk first.

Each text cell goes through :func:`depgraph.formats.escape.csv_cell`: control characters escaped
and a cell that a spreadsheet would take for a formula made text (OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io

from depgraph.audit import AuditReport
from depgraph.formats.escape import csv_row
from depgraph.formats.report_data import report_data
from depgraph.remediation import Step

COLUMNS = ("package", "version", "role", "component", "relation", "via", "running", "listening")


def render_report(report: AuditReport, steps: tuple[Step, ...], *, color: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*COLUMNS, "risk", "score", "reason", "risk_known"))
    for entry in report_data(report, steps)["packages"]:
        cells = (
            entry["package"],
            entry["version"] or "",
            entry["role"],
            entry["component"],
            entry["relation"],
            " > ".join(entry["via"]),
            " ".join(str(pid) for pid in entry["running"]),
            " ".join(entry["listening"]),
            entry["risk"]["level"],
            entry["risk"]["score"],
            "; ".join(entry["risk"]["reasons"]),
            "yes" if entry["risk"]["known"] else "no",
        )
        writer.writerow(csv_row(cells))
    return out.getvalue()
