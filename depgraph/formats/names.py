"""One dependent package name per line, nearest first, for ``xargs`` and shell pipelines."""

from __future__ import annotations

from depgraph.model import DependencyGraph


def render_graph(graph: DependencyGraph) -> str:
    """The dependents' names (targets left out), one per line."""
    return "".join(f"{node.package}\n" for node in graph.dependents)
