"""One host's audit, reduced to the little the fleet report needs (a few hundred bytes).

The worker sends this dictionary back, never the graph: the fleet's client keeps nothing else of a
host. Its keys are the ``hosts[]`` items of ``depgraph/fleet/v1`` (``depgraph/schemas/
fleet-v1.schema.json``), so a cached summary is the JSON of one host as the report shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from depgraph.risk import Level

if TYPE_CHECKING:
    from depgraph.audit import AuditReport

LEVELS = tuple(level.value for level in Level)
"""Most severe first, ``none`` last."""


def summarize(
    report: AuditReport, host: str, path: str, kind: str, partial: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The summary of one audited host. ``partial`` says what its snapshot lacked (the
    manifest's ``missing``); unread processes and a list without dependencies are added here."""
    counts = dict.fromkeys(LEVELS, 0)
    for dependent in report.dependents:
        counts[dependent.risk.level.value] += 1
    reasons = list(partial)
    reasons += [
        f"{len(scan.unreadable)} processes could not be read"
        for scan in report.runtime
        if scan.partial
    ]
    skipped = [warning for warning in report.warnings if warning.endswith("skipped")]
    if skipped:  # --lenient: a record left out may be the library's own
        reasons.append(f"{len(skipped)} malformed records skipped (--lenient), first: {skipped[0]}")
    if kind == "dpkg-list":
        reasons.append("a 'dpkg -l' list: names and versions only, no dependencies")
    restart = sorted(
        {
            process.package or process.command
            for scan in report.runtime
            for process in scan.to_restart
        }
    )
    return {
        "host": host,
        "path": path,
        "kind": kind,
        "status": "partial" if reasons else "ok",
        "reason": "; ".join(reasons),
        "highest_risk": report.highest.value,
        "affected": report.affected,
        "counts": counts,
        "libraries": [
            {"package": v.package, "version": v.version, "state": v.state.value}
            for v in report.libraries
        ],
        "exposed": [
            {"package": d.node.package, "level": d.risk.level.value}
            for d in report.dependents
            if d.risk.level is not Level.NONE
        ],
        "restart": restart,
        "runtime": report.runtime_note,
        "warnings": len(report.warnings),
    }


def failure(host: str, path: str, kind: str, reason: str) -> dict[str, Any]:
    """The summary of a host that could not be audited: listed with its reason, never clean."""
    return {
        "host": host,
        "path": path,
        "kind": kind,
        "status": "failed",
        "reason": reason,
        "highest_risk": None,
        "affected": None,
        "counts": dict.fromkeys(LEVELS, 0),
        "libraries": [],
        "exposed": [],
        "restart": [],
        "runtime": "",
        "warnings": 0,
    }
