"""A plain table of dependents (tabulate), nearest first."""

from __future__ import annotations

from tabulate import tabulate

from depgraph.model import DependencyGraph, Edge


def first_edge(graph: DependencyGraph, package: str, towards: str) -> Edge | None:
    """The edge a node was reached by: from ``package`` to the next hop of its path."""
    for edge in graph.edges:
        if edge.dependent == package and edge.target == towards:
            return edge
    return None


def render_graph(graph: DependencyGraph) -> str:
    """Package, version, depth, the relationship that reached it, and the path to the target."""
    rows = []
    for node in graph.dependents:
        edge = first_edge(graph, node.package, node.path[1])
        relation = f"{edge.kind}: {edge.relation}" if edge else ""
        if edge and edge.alternative:
            relation += " (alt)"
        if edge and edge.satisfied is False:
            relation += " UNSATISFIED"
        rows.append(
            (node.package, node.version or "-", node.depth, relation, " > ".join(node.path[1:]))
        )
    headers = ("package", "version", "depth", "relation", "path to target")
    return tabulate(rows, headers=headers, tablefmt="simple") + "\n"
