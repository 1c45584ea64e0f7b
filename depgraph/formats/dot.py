"""Graphviz DOT text of the whole graph: the picture of ``picture`` with nothing folded.

``depgraph graph --format dot`` folds large graphs like ``svg`` and ``png`` do (``--max-nodes``,
``--expand``); this ``render_graph`` is the library interface and draws every node.
"""

from __future__ import annotations

from depgraph.formats.picture import picture_of_graph, to_dot
from depgraph.model import DependencyGraph


def render_graph(graph: DependencyGraph) -> str:
    """A ``digraph``: the library on the left, every edge pointing at what a dependent needs."""
    return to_dot(picture_of_graph(graph, max_nodes=None))
