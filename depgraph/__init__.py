"""depgraph: who is exposed through a vulnerable shared library on a Debian or Ubuntu system."""

from depgraph.errors import DepgraphError, ParseError, SourceError, UsageError
from depgraph.graph import reverse_closure
from depgraph.load import SourceOptions, open_index
from depgraph.model import DependencyGraph, Edge, Node, Package, Relation, RelationKind

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
