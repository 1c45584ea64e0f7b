"""The audit report as JSON (report-v1)."""

from __future__ import annotations

import json

from depgraph.audit import AuditReport
from depgraph.formats.escape import json_text
from depgraph.formats.report_data import report_data
from depgraph.remediation import Step


def render_report(report: AuditReport, steps: tuple[Step, ...], *, color: bool = False) -> str:
    return json_text(json.dumps(report_data(report, steps), indent=2, ensure_ascii=False) + "\n")
