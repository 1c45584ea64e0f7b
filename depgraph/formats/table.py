"""A plain table of dependents (tabulate), nearest first."""

from __future__ import annotations

from tabulate import tabulate

from depgraph.formats.escape import block
from depgraph.model import DependencyGraph, Edge


def render_graph(graph: DependencyGraph) -> str:
    """Package, version, depth, the relationship that reached it, and the path to the target."""
    reached_by: dict[tuple[str, str], Edge] = {}
    for edge in graph.edges:
        reached_by.setdefault((edge.dependent, edge.target), edge)
    rows = []
    for node in graph.dependents:
        first = reached_by.get((node.package, node.path[1]))
        relation = f"{first.kind}: {first.relation}" if first else ""
        if first and first.alternative:
            relation += " (alt)"
        if first and first.satisfied is False:
            relation += " UNSATISFIED"
        verdict = graph.roles.get(node.package)
        role = verdict.role.value if verdict else "-"
        rows.append(
            (
                node.package,
                node.version or "-",
                role,
                node.depth,
                relation,
                " > ".join(node.path[1:]),
            )
        )
    headers = ("package", "version", "role", "depth", "relation", "path to target")
    return block(tabulate(rows, headers=headers, tablefmt="simple") + "\n")  # data escaped
