"""``depgraph audit --format svg``: the audit's picture alone, drawn by Graphviz (``picture``)."""

from __future__ import annotations

from depgraph.audit import AuditReport
from depgraph.formats.graphviz import draw
from depgraph.formats.picture import DEFAULT_MAX_NODES, picture_of_report, to_dot
from depgraph.remediation import Step


def render_report(
    report: AuditReport,
    steps: tuple[Step, ...],
    *,
    color: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> str:
    """The libraries filled by fix state, the dependents by risk, shaped by role."""
    picture = picture_of_report(report, max_nodes=max_nodes, fold_depth=fold_depth)
    return draw(to_dot(picture), "svg").decode("utf-8")
