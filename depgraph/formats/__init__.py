"""Output formats: one module per format, each with ``render_graph(graph) -> str``."""

from __future__ import annotations

from collections.abc import Callable

from depgraph.formats import dot, graphml, json_graph, names, table, tree
from depgraph.model import DependencyGraph

GRAPH_FORMATS: dict[str, Callable[[DependencyGraph], str]] = {
    "tree": tree.render_graph,
    "table": table.render_graph,
    "json": json_graph.render_graph,
    "names": names.render_graph,
    "dot": dot.render_graph,
    "graphml": graphml.render_graph,
}
"""``--format`` choices of ``depgraph graph``, in the order ``--help`` lists them."""
