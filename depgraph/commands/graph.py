"""``depgraph graph``: the reverse-dependency graph of library packages, with roles."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.commands import Outcome
from depgraph.commands.options import add_source_options, source_options
from depgraph.formats import GRAPH_FORMATS

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics
    from depgraph.load import SourceOptions
    from depgraph.model import DependencyGraph
    from depgraph.sources.interface import PackageIndex


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``graph`` to the command line."""
    graph = commands.add_parser(
        "graph",
        help="reverse-dependency graph of library packages",
        description=(
            "Every package that depends on the given packages, directly or through others "
            "(Depends and Pre-Depends, through Provides and OR-groups), with the shortest path."
        ),
    )
    graph.add_argument("targets", nargs="+", metavar="PACKAGE", help="the library package(s)")
    add_source_options(graph)
    graph.add_argument(
        "--depth", type=int, metavar="N", help="stop N relationships from the target"
    )
    graph.add_argument(
        "--format",
        choices=list(GRAPH_FORMATS),
        default="tree",
        help="output format (default: tree)",
    )
    graph.add_argument("--recommends", action="store_true", help="also follow Recommends")
    graph.add_argument("--suggests", action="store_true", help="also follow Suggests")
    graph.add_argument(
        "--classic",
        action="store_true",
        help="reproduce the advice's one-liner: installed direct dependents, lib* left out",
    )
    graph.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE")
    graph.set_defaults(run=run)


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """Build the graph and render it in the chosen format."""
    from depgraph.classic import classic_dependents
    from depgraph.debian.backend import use_pure
    from depgraph.errors import UsageError
    from depgraph.formats import NEEDS_EDGES, NEEDS_ROLES, graph_renderer
    from depgraph.graph import reverse_closure
    from depgraph.load import open_index
    from depgraph.model import DEPENDENCY_KINDS, RelationKind

    if args.pure:
        use_pure()
    if args.depth is not None and args.depth < 1:
        raise UsageError("--depth must be at least 1")
    options = source_options(args)
    index = open_index(options, diagnostics)
    if args.classic:
        if len(args.targets) != 1:
            raise UsageError("--classic takes exactly one package, like the one-liner")
        if index.lookup(args.targets[0]) is None and not index.reverse(
            args.targets[0], tuple(RelationKind)
        ):
            raise UsageError(f"no package called {args.targets[0]} in {index.description}")
        listed = classic_dependents(index, args.targets[0])
        return Outcome("".join(f"{package.name}\n" for package in listed))
    kinds: list[RelationKind] = list(DEPENDENCY_KINDS)
    if args.recommends:
        kinds.append(RelationKind.RECOMMENDS)
    if args.suggests:
        kinds.append(RelationKind.SUGGESTS)
    graph = reverse_closure(
        index,
        list(dict.fromkeys(args.targets)),
        kinds=kinds,
        max_depth=args.depth,
        with_edges=args.format in NEEDS_EDGES,
    )
    diagnostics.warnings.extend(graph.warnings)
    diagnostics.summary = (
        f"{len(graph.dependents)} dependents of {', '.join(graph.targets)} "
        f"in {index.description} ({index.backend})"
    )
    if args.format in NEEDS_ROLES:
        graph = with_roles(graph, index, options)
    return Outcome(graph_renderer(args.format)(graph))


def with_roles(
    graph: DependencyGraph, index: PackageIndex, options: SourceOptions
) -> DependencyGraph:
    """The graph with every dependent's TLS role (files are read only from a live system or --root)."""
    from dataclasses import replace

    from depgraph.classify import Classifier, TargetLibrary, target_library
    from depgraph.elf_cache import ElfCache
    from depgraph.package_files import RootFiles

    root: Path | None = None if options.saved_files else (options.root or Path("/"))
    cache = ElfCache(root) if root is not None else None
    files = RootFiles(root, cache) if root is not None else None
    targets: dict[str, TargetLibrary | None] = {}
    for target in graph.targets:
        package = index.lookup(target)
        targets[target] = (
            target_library(files, package) if files is not None and package is not None else None
        )
    roles = Classifier(index, files, targets).classify(graph)
    if cache is not None:
        cache.save()
    return replace(graph, roles=roles)
