"""The reverse-dependency graph: the only module that imports networkx.

The walk is breadth-first from the target packages over a :class:`PackageIndex`, so every dependent
gets its shortest path and depth. A relationship counts when any alternative of its OR-group names a
package already reached (Debian Policy 7.1); a virtual package counts when a reached package Provides
it, and a versioned relationship on a virtual package is satisfied only by a versioned Provides
(Policy 7.5). A versioned relationship the reached version does not satisfy is kept as an edge marked
unsatisfied, with a warning, never dropped. Cycles are harmless: each package is visited once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from depgraph.debian.versions import satisfies
from depgraph.errors import UsageError
from depgraph.model import (
    DEPENDENCY_KINDS,
    DependencyGraph,
    Edge,
    Node,
    Package,
    Relation,
    RelationKind,
    Warning_,
)
from depgraph.sources.interface import PackageIndex

if TYPE_CHECKING:
    import networkx as nx


def reverse_closure(
    index: PackageIndex,
    targets: Sequence[str],
    *,
    kinds: Sequence[RelationKind] = DEPENDENCY_KINDS,
    max_depth: int | None = None,
) -> DependencyGraph:
    """Every package that depends on one of ``targets``, directly or through others."""
    found: dict[str, Package] = {}
    for target in targets:
        package = index.lookup(target)
        if package is None:
            raise UsageError(_missing(index, target))
        found[target] = package
    kinds = tuple(kinds)
    nodes: dict[str, Node] = {}
    edges: dict[tuple[str, str, str], Edge] = {}
    warnings: list[Warning_] = []
    queue: deque[str] = deque()
    for target, package in found.items():
        nodes[target] = _node(target, package, 0, (target,))
        queue.append(target)
    while queue:
        reached = queue.popleft()
        node = nodes[reached]
        if max_depth is not None and node.depth >= max_depth:
            continue
        package = found[reached]
        names: list[tuple[str, Relation | None]] = [(package.name, None)]
        names += [(provided.name, provided) for provided in package.provides]
        for name, provided in names:
            for key in sorted(index.naming(name)):
                dependent = index.lookup(key)
                if dependent is None or (key == reached and provided is None):
                    continue
                hit = _relation_to(dependent, name, kinds)
                if hit is None:
                    continue
                kind, relation, alternative = hit
                ok = _satisfied(relation, package, provided)
                to = name if provided is not None else reached
                edges.setdefault(
                    (key, to, kind.value),
                    Edge(key, to, kind.value, alternative, str(relation), ok),
                )
                if provided is not None:
                    edges.setdefault(
                        (name, reached, "Provides"),
                        Edge(name, reached, "Provides", False, str(provided), True),
                    )
                if ok is False:
                    warnings.append(
                        Warning_(
                            dependent.where,
                            f"{key}: {kind.value} '{relation}' is not satisfied by "
                            f"{package.name} {package.version}",
                        )
                    )
                if key not in nodes:
                    path = (key, name, *node.path) if provided is not None else (key, *node.path)
                    nodes[key] = _node(key, dependent, node.depth + 1, path)
                    found[key] = dependent
                    queue.append(key)
    ordered = sorted(nodes.values(), key=lambda n: (n.depth, n.package))
    return DependencyGraph(
        targets=tuple(found_key for found_key in targets),
        nodes=tuple(ordered),
        edges=tuple(sorted(edges.values(), key=lambda e: (e.dependent, e.target, e.kind))),
        kinds=kinds,
        installed_only=index.installed_only,
        warnings=tuple(warnings),
    )


def _missing(index: PackageIndex, target: str) -> str:
    if index.is_virtual(target):
        providers = ", ".join(sorted(index.providers(target)))
        return f"{target} is a virtual package provided by {providers}; name one of them"
    scope = "installed " if index.installed_only else ""
    return f"no {scope}package called {target} in {index.description}"


def _node(key: str, package: Package, depth: int, path: tuple[str, ...]) -> Node:
    return Node(
        package=key,
        version=package.version,
        installed=package.installed,
        depth=depth,
        path=path,
        section=package.section,
        state=package.state,
    )


def _relation_to(
    package: Package, name: str, kinds: tuple[RelationKind, ...]
) -> tuple[RelationKind, Relation, bool] | None:
    """The first relationship of ``package`` (in ``kinds`` order) with an alternative on ``name``."""
    for kind in kinds:
        for group in package.groups(kind):
            for relation in group:
                if relation.name == name:
                    return kind, relation, len(group) > 1
    return None


def _satisfied(relation: Relation, reached: Package, provided: Relation | None) -> bool | None:
    """Whether the relation is met by the reached package (or by its Provides); None if unknown."""
    if relation.operator is None or relation.version is None:
        return True
    if provided is not None:
        if provided.version is None:
            return False
        return satisfies(provided.version, relation.operator, relation.version)
    if reached.version is None:
        return None
    return satisfies(reached.version, relation.operator, relation.version)


def to_networkx(graph: DependencyGraph) -> nx.MultiDiGraph:
    """The graph as networkx: real and virtual packages as nodes, one edge per relationship."""
    import networkx as nx

    result = nx.MultiDiGraph(targets=" ".join(graph.targets))
    for node in graph.nodes:
        result.add_node(
            node.package,
            version=node.version or "",
            installed=node.installed,
            depth=node.depth,
            virtual=False,
        )
    for edge in graph.edges:
        for end in (edge.dependent, edge.target):
            if end not in result:
                result.add_node(end, version="", installed=False, depth=-1, virtual=True)
        result.add_edge(
            edge.dependent,
            edge.target,
            kind=edge.kind,
            alternative=edge.alternative,
            relation=edge.relation,
            satisfied="unknown" if edge.satisfied is None else str(edge.satisfied).lower(),
        )
    return result


def shortest_path(graph: DependencyGraph, package: str, target: str) -> list[str]:
    """The shortest dependency path from ``package`` to ``target`` (networkx BFS), for checks."""
    import networkx as nx

    path: list[str] = nx.shortest_path(to_networkx(graph), package, target)
    return path
