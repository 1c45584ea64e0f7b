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
from collections.abc import Iterable, Sequence
from dataclasses import replace
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
    ReverseRelation,
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
    with_edges: bool = True,
) -> DependencyGraph:
    """Every package that depends on one of ``targets``, directly or through others.

    ``with_edges=False`` leaves ``edges`` empty (nodes, paths and warnings are the same): a list of
    names or a tree does not need the ~100,000 edges of an archive-wide walk.
    """
    found: dict[str, Package] = {}
    for target in targets:
        package = index.lookup(target)
        if package is None:
            raise UsageError(_missing(index, target))
        found[target] = package
    kinds = tuple(kinds)
    rank = {kind: number for number, kind in enumerate(kinds)}
    nodes: dict[str, Node] = {}
    edges: dict[tuple[str, str, str], Edge] = {}
    seen: set[tuple[str, str, str]] = set()
    warnings: list[Warning_] = []
    queue: deque[str] = deque()
    for target, package in found.items():
        nodes[target] = _node(target, package, 0, (target,))
        queue.append(target)
    limit = max_depth if max_depth is not None else MAX_DEPTH
    cut = False
    while queue:
        reached = queue.popleft()
        node = nodes[reached]
        if node.depth >= limit:
            if max_depth is None and not cut and _has_dependents(index, found[reached], kinds):
                cut = True
                warnings.append(
                    Warning_(
                        found[reached].where,
                        f"{reached}: a dependency chain deeper than {MAX_DEPTH} packages is not "
                        "followed further (the deepest in the bookworm archive is 15: a broken or "
                        "hostile package list?)",
                    )
                )
            continue
        package = found[reached]
        for name, provides in _names(package):
            for entry in _first_per_dependent(index.reverse(name, kinds), rank):
                key = entry.dependent
                if key == reached and not provides:
                    continue
                to = name if provides else reached
                field = _FIELD[entry.kind]
                if (key, to, field) in seen:
                    continue
                seen.add((key, to, field))
                if key not in nodes:
                    dependent = index.lookup(key)
                    if dependent is None:
                        continue
                    path = (key, name, *node.path) if provides else (key, *node.path)
                    nodes[key] = _node(key, dependent, node.depth + 1, path)
                    found[key] = dependent
                    queue.append(key)
                ok, provided = _satisfied(entry.relation, package, provides)
                if with_edges:
                    shown = _display(entry.relation, index.native_arch)
                    edges[(key, to, field)] = Edge(key, to, field, entry.alternative, shown, ok)
                    if provided is not None:
                        edges.setdefault(
                            (name, reached, "Provides"),
                            Edge(name, reached, "Provides", False, str(provided), True),
                        )
                if ok is False:
                    shown = _display(entry.relation, index.native_arch)
                    warnings.append(
                        Warning_(
                            found[key].where,
                            f"{key}: {field} '{shown}' is not satisfied by "
                            f"{package.name} {package.version}",
                        )
                    )
    ordered = sorted(nodes.values(), key=lambda n: (n.depth, n.package))
    return DependencyGraph(
        targets=tuple(found_key for found_key in targets),
        nodes=tuple(ordered),
        edges=tuple(sorted(edges.values(), key=lambda e: (e.dependent, e.target, e.kind))),
        kinds=kinds,
        installed_only=index.installed_only,
        warnings=tuple(warnings),
    )


def _has_dependents(index: PackageIndex, package: Package, kinds: tuple[RelationKind, ...]) -> bool:
    return any(index.reverse(name, kinds) for name, _ in _names(package))


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


def _names(package: Package) -> list[tuple[str, tuple[Relation, ...]]]:
    """The package's own name, then each virtual package it Provides with all its Provides entries.

    Sorted, so the path chosen does not depend on the order a source lists Provides in; grouped,
    because a package may provide one name at several versions (``debhelper-compat (= 12), (= 13)``).
    """
    grouped: dict[str, list[Relation]] = {}
    for provided in package.provides:
        grouped.setdefault(provided.name, []).append(provided)
    return [
        (package.name, ()),
        *((name, tuple(sorted(grouped[name], key=str))) for name in sorted(grouped)),
    ]


def _first_per_dependent(
    entries: Iterable[ReverseRelation], rank: dict[RelationKind, int]
) -> list[ReverseRelation]:
    """For each dependent, the relationship that counts: the first kind in ``kinds`` order, then
    the plain one before an alternative, then by text, so that every backend picks the same one.
    Dependents come out sorted, which makes the walk's order (and its paths) deterministic."""
    best: dict[str, ReverseRelation] = {}
    for entry in entries:
        if entry.relation.arch_qualifier is not None and not _arch_matches(entry.relation):
            continue
        known = best.get(entry.dependent)
        if known is None or _better(entry, known, rank):
            best[entry.dependent] = entry
    return [best[key] for key in sorted(best)]


def _better(entry: ReverseRelation, known: ReverseRelation, rank: dict[RelationKind, int]) -> bool:
    left = (rank[entry.kind], entry.alternative)
    right = (rank[known.kind], known.alternative)
    if left != right:
        return left < right
    return str(entry.relation) < str(known.relation)


_FIELD = {kind: kind.value for kind in RelationKind}
MAX_DEPTH = 100
"""How deep a walk goes when no ``--depth`` is given. Each node keeps its whole path, so a chain of
n packages costs n^2/2 names: a hostile 100,000-package chain took 24 GB. The deepest chain of the
whole bookworm archive is 15 (libssl3), so nothing real is cut; a deeper one is cut with a warning."""


def _arch_matches(relation: Relation) -> bool:
    """Only ``:any`` and ``:native`` qualifiers (or none) reach a package through a binary
    relationship; ``name:arch`` is for Build-Depends (Policy 7.1), and libapt, like dpkg, does not
    resolve it to the plain package, so neither does depgraph."""
    return relation.arch_qualifier in (None, "any", "native")


def _display(relation: Relation, native: str | None) -> str:
    """The relation as text, without a qualifier that only repeats the native architecture."""
    if relation.arch_qualifier is not None and relation.arch_qualifier == native:
        relation = replace(relation, arch_qualifier=None)
    return str(relation)


def _satisfied(
    relation: Relation, reached: Package, provides: tuple[Relation, ...]
) -> tuple[bool | None, Relation | None]:
    """Whether the relation is met by the reached package or one of its Provides (Policy 7.5:
    a versioned relation on a virtual package needs a versioned Provides); None if unknown.
    Also returns the Provides entry that meets it (or the first one, when none does)."""
    shown = provides[0] if provides else None
    if relation.operator is None or relation.version is None:
        return True, shown
    if provides:
        for provided in provides:
            if provided.version is not None and satisfies(
                provided.version, relation.operator, relation.version
            ):
                return True, provided
        return False, shown
    if reached.version is None:
        return None, None
    try:
        return satisfies(reached.version, relation.operator, relation.version), None
    except ValueError:  # a version no parser accepted: could not tell
        return None, None


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
