"""Output formats: one module per format, each with ``render_graph(graph) -> str``.

Modules are imported when their format is asked for: tabulate and networkx cost tens of
milliseconds to import, a large share of a run on an installed system.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from depgraph.model import DependencyGraph

GRAPH_FORMATS: dict[str, str] = {
    "tree": "tree",
    "table": "table",
    "json": "json_graph",
    "names": "names",
    "dot": "dot",
    "svg": "graph_svg",
    "png": "graph_svg",
    "graphml": "graphml",
}
"""``--format`` choices of ``depgraph graph`` (in the order ``--help`` lists them) and their modules."""


NEEDS_EDGES = frozenset(("table", "json", "dot", "svg", "png", "graphml"))
"""Formats that show relationships; the others need only the nodes and their paths."""


NEEDS_ROLES = frozenset(("table", "json"))
"""Formats that show each dependent's TLS role (classifying reads the packages' ELF files)."""


PICTURE_FORMATS = frozenset(("dot", "svg", "png"))
"""Formats drawn from ``depgraph.formats.picture``: folded (``--max-nodes``), roles of drawn nodes."""


def graph_renderer(name: str) -> Callable[[DependencyGraph], str]:
    """The ``render_graph`` function of the format called ``name``."""
    module = importlib.import_module(f"depgraph.formats.{GRAPH_FORMATS[name]}")
    renderer: Callable[[DependencyGraph], str] = module.render_graph
    return renderer
