"""GraphML for Gephi, yEd or networkx itself, written by networkx."""

from __future__ import annotations

from depgraph.graph import to_networkx
from depgraph.model import DependencyGraph


def render_graph(graph: DependencyGraph) -> str:
    """The networkx form of the graph as GraphML text."""
    import networkx as nx

    return "\n".join(nx.generate_graphml(to_networkx(graph))) + "\n"
