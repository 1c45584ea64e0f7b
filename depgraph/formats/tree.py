"""The shortest-path tree, drawn like ``tree(1)``: each dependent under the package it reaches first."""

from __future__ import annotations

from collections import defaultdict

from depgraph.formats.escape import block
from depgraph.model import DependencyGraph, Node


def render_graph(graph: DependencyGraph) -> str:
    """Targets at the top, dependents indented beneath the package they depend on."""
    real = {node.package for node in graph.nodes}
    children: dict[str, list[tuple[Node, str | None]]] = defaultdict(list)
    for node in graph.dependents:
        if len(node.path) >= 3 and node.path[1] not in real:
            children[node.path[2]].append((node, node.path[1]))
        else:
            children[node.path[1]].append((node, None))
    lines: list[str] = []
    for node in graph.nodes:
        if node.depth == 0:
            lines.append(f"{node.package} {node.version or ''}".rstrip())
            _draw(node.package, children, "", lines)
    return block("\n".join(lines) + "\n")  # versions and names from the data, escaped


def _draw(
    parent: str, children: dict[str, list[tuple[Node, str | None]]], prefix: str, lines: list[str]
) -> None:
    kids = children.get(parent, [])
    for position, (node, virtual) in enumerate(kids):
        last = position == len(kids) - 1
        label = f"{node.package} {node.version or ''}".rstrip()
        if virtual is not None:
            label += f" (via {virtual})"
        if not node.installed:
            label += " [not installed]"
        lines.append(f"{prefix}{'└── ' if last else '├── '}{label}")
        _draw(node.package, children, prefix + ("    " if last else "│   "), lines)
