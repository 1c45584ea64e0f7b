"""Graphviz DOT text: targets as double octagons, virtual packages dashed, alternatives dotted."""

from __future__ import annotations

from depgraph.model import DependencyGraph


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_graph(graph: DependencyGraph) -> str:
    """A ``digraph`` whose edges point from the dependent to what it depends on."""
    lines = ["digraph depgraph {", "  rankdir=LR;", "  node [shape=box];"]
    real = set()
    for node in graph.nodes:
        real.add(node.package)
        label = f"{node.package}\\n{node.version or ''}"
        shape = " shape=doubleoctagon" if node.depth == 0 else ""
        lines.append(f'  {_quote(node.package)} [label="{label}"{shape}];')
    for virtual in sorted({e.dependent for e in graph.edges if e.kind == "Provides"} - real):
        lines.append(f"  {_quote(virtual)} [style=dashed];")
    for edge in graph.edges:
        style = " style=dotted" if edge.alternative else ""
        style += " color=red" if edge.satisfied is False else ""
        lines.append(
            f"  {_quote(edge.dependent)} -> {_quote(edge.target)} [label={_quote(edge.kind)}{style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
