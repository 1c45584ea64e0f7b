"""depgraph: who is exposed through a vulnerable shared library on a Debian or Ubuntu system.

The public names are imported on first use (PEP 562), so that ``import depgraph.<module>`` (every
subcommand does it) does not load the package index and graph code: ``depgraph restart`` runs in a
few tens of milliseconds and must not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depgraph.errors import DepgraphError, ParseError, SourceError, UsageError
    from depgraph.graph import reverse_closure
    from depgraph.load import SourceOptions, open_index
    from depgraph.model import DependencyGraph, Edge, Node, Package, Relation, RelationKind

_WHERE = {
    "DependencyGraph": "depgraph.model",
    "DepgraphError": "depgraph.errors",
    "Edge": "depgraph.model",
    "Node": "depgraph.model",
    "Package": "depgraph.model",
    "ParseError": "depgraph.errors",
    "Relation": "depgraph.model",
    "RelationKind": "depgraph.model",
    "SourceError": "depgraph.errors",
    "SourceOptions": "depgraph.load",
    "UsageError": "depgraph.errors",
    "open_index": "depgraph.load",
    "reverse_closure": "depgraph.graph",
}

__all__ = [
    "DependencyGraph",
    "DepgraphError",
    "Edge",
    "Node",
    "Package",
    "ParseError",
    "Relation",
    "RelationKind",
    "SourceError",
    "SourceOptions",
    "UsageError",
    "open_index",
    "reverse_closure",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'depgraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
