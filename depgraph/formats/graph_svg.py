"""``depgraph graph --format dot|svg|png``: the folded picture (``picture``) as DOT, or drawn by
Graphviz (``graphviz``). ``render_graph`` is the plain format interface (default folding)."""

from __future__ import annotations

from depgraph.formats.graphviz import draw
from depgraph.formats.picture import DEFAULT_MAX_NODES, picture_of_graph, to_dot
from depgraph.model import DependencyGraph


def graph_dot(
    graph: DependencyGraph,
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> str:
    """The DOT text of the picture (``max_nodes=None``: every node)."""
    return to_dot(picture_of_graph(graph, max_nodes=max_nodes, fold_depth=fold_depth))


def graph_svg(
    graph: DependencyGraph,
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> str:
    """The picture drawn as SVG by ``dot -Tsvg``."""
    return draw(graph_dot(graph, max_nodes=max_nodes, fold_depth=fold_depth), "svg").decode("utf-8")


def graph_png(
    graph: DependencyGraph,
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> bytes:
    """The picture drawn as PNG by ``dot -Tpng``."""
    return draw(graph_dot(graph, max_nodes=max_nodes, fold_depth=fold_depth), "png")


def render_graph(graph: DependencyGraph) -> str:
    return graph_svg(graph)
