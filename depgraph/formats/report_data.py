"""The audit report as plain data (report-v1, ``shared/contract/report-v1.schema.json``): the one
shape the JSON, CSV, Markdown and table formats are all drawn from."""

from __future__ import annotations

from typing import Any

from depgraph.audit import AuditReport, Dependent
from depgraph.fixcheck import LibraryVerdict
from depgraph.model import Evidence
from depgraph.remediation import Step
from depgraph.runtime.report import window_entry

SCHEMA = "depgraph/report/v1"


def evidence_entry(evidence: Evidence) -> dict[str, Any]:
    return {
        "kind": evidence.kind,
        "detail": evidence.detail,
        "path": evidence.path,
        "line": evidence.line,
    }


def package_entry(dependent: Dependent) -> dict[str, Any]:
    node, role, risk = dependent.node, dependent.role, dependent.risk
    return {
        "package": node.package,
        "version": node.version,
        "installed": node.installed,
        "relation": "direct" if node.direct else "transitive",
        "via": list(node.path),
        "relationship": dependent.relation,
        "library": dependent.library,
        "role": role.role.value,
        "component": role.component.value,
        "role_confidence": role.confidence,
        "role_missing": role.missing,
        "role_evidence": [evidence_entry(e) for e in role.evidence],
        "running": [p.pid for p in dependent.processes],
        "listening": sorted({str(x) for p in dependent.processes for x in p.listening or ()}),
        "risk": {
            "level": risk.level.value,
            "score": risk.score,
            "reasons": list(risk.reasons),
            # an addition: false when the level is an upper bound (the fix state is unknown)
            "known": risk.known,
        },
    }


def library_entry(report: AuditReport, verdict: LibraryVerdict) -> dict[str, Any]:
    """One ``library`` item, with the window dpkg's log shows it vulnerable in (an addition)."""
    entry = verdict.to_report()
    window = report.window(verdict.package)
    if window is not None:
        entry["vulnerable_window"] = window_entry(window)
    return entry


def report_data(report: AuditReport, steps: tuple[Step, ...]) -> dict[str, Any]:
    """The whole report-v1 document."""
    from depgraph.runtime.report import process_entry

    profile = report.profile.to_report()
    profile["title"] = report.profile.title
    profile["component"] = report.profile.component
    profile["impact"] = report.profile.impact.value
    if report.profile.known_from:
        profile["known_from"] = report.profile.known_from
    processes = [p for scan in report.runtime for p in scan.processes]
    partial = any(scan.partial for scan in report.runtime)
    return {
        "schema": SCHEMA,
        "profile": profile,
        "source": {"kind": report.source_kind, "description": report.source},
        "library": [library_entry(report, verdict) for verdict in report.libraries],
        "packages": [package_entry(d) for d in report.dependents],
        "processes": [process_entry(p, report.old_copy(p)) for p in processes],
        "actions": [step.to_report() for step in steps],
        "summary": {
            "affected": report.affected,
            "highest_risk": report.highest.value,
            # additions (issue 24): the highest risk without upper bounds, and whether the
            # highest one is known; why the dependents could not be known, when they could not
            "highest_known_risk": report.highest_known.value,
            "risk_known": report.highest_known is report.highest,
            "dependents": len(report.dependents),
            "dependents_unknown": report.dependents_unknown or None,
            "runtime": report.runtime_note,
            "partial": partial,
        },
        "warnings": list(report.warnings),
    }
