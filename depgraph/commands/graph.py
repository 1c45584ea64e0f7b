"""``depgraph graph``: the reverse-dependency graph of library packages, with roles."""

from __future__ import annotations

import argparse
from dataclasses import replace
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
    add_picture_options(graph)
    graph.add_argument("--recommends", action="store_true", help="also follow Recommends")
    graph.add_argument("--suggests", action="store_true", help="also follow Suggests")
    graph.add_argument(
        "--classic",
        action="store_true",
        help="reproduce the advice's one-liner: installed direct dependents, lib* left out",
    )
    graph.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE")
    graph.set_defaults(run=run)


def add_picture_options(parser: argparse.ArgumentParser, formats: str = "dot, svg, png") -> None:
    """``--max-nodes``, ``--fold-depth`` and ``--expand``: how much of a large graph is drawn."""
    group = parser.add_argument_group(f"pictures (--format {formats})")
    group.add_argument(
        "--max-nodes",
        type=int,
        metavar="N",
        default=60,
        help="draw at most N packages; the rest fold into '+N more' nodes (default: 60)",
    )
    group.add_argument(
        "--fold-depth",
        type=int,
        metavar="N",
        help="also fold every package more than N relationships from the library",
    )
    group.add_argument("--expand", action="store_true", help="draw every package, fold nothing")


def picture_limits(args: argparse.Namespace) -> tuple[int | None, int | None]:
    """``(max_nodes, fold_depth)`` from the options; None for no limit."""
    from depgraph.errors import UsageError

    if args.max_nodes < 2:
        raise UsageError("--max-nodes must be at least 2")
    if args.fold_depth is not None and args.fold_depth < 1:
        raise UsageError("--fold-depth must be at least 1")
    if args.expand:
        return None, None
    return args.max_nodes, args.fold_depth


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """Build the graph and render it in the chosen format."""
    from depgraph.classic import classic_dependents
    from depgraph.debian.backend import use_pure
    from depgraph.errors import UsageError
    from depgraph.formats import NEEDS_EDGES, NEEDS_ROLES, PICTURE_FORMATS, graph_renderer
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
    if args.format in PICTURE_FORMATS:
        return Outcome(_picture(args, graph, index, options))
    if args.format in NEEDS_ROLES:
        graph = with_roles(graph, index, options)
    return Outcome(graph_renderer(args.format)(graph))


def _picture(
    args: argparse.Namespace, graph: DependencyGraph, index: PackageIndex, options: SourceOptions
) -> str | bytes:
    """The folded picture, its drawn packages classified (shaped by role)."""
    import sys

    from depgraph.errors import UsageError
    from depgraph.formats import graph_svg
    from depgraph.formats.picture import select

    max_nodes, fold_depth = picture_limits(args)
    if args.format == "png" and args.output is None and sys.stdout.isatty():
        raise UsageError("--format png writes binary data: give -o FILE or redirect stdout")
    drawn = with_roles(select(graph, max_nodes=max_nodes, fold_depth=fold_depth), index, options)
    graph = replace(graph, roles=drawn.roles)
    if args.format == "png":
        return graph_svg.graph_png(graph, max_nodes=max_nodes, fold_depth=fold_depth)
    if args.format == "svg":
        return graph_svg.graph_svg(graph, max_nodes=max_nodes, fold_depth=fold_depth)
    return graph_svg.graph_dot(graph, max_nodes=max_nodes, fold_depth=fold_depth)


def with_roles(
    graph: DependencyGraph, index: PackageIndex, options: SourceOptions
) -> DependencyGraph:
    """The graph with every dependent's TLS role (files are read only from a live system or --root)."""
    from dataclasses import replace

    from depgraph.classify import Classifier, TargetLibrary, target_library
    from depgraph.elf_cache import ElfCache
    from depgraph.package_files import PackageFiles, RootFiles

    cache: ElfCache | None = None
    files: PackageFiles | None = None
    if options.snapshot is not None:  # the ELF facts the collector saved
        from depgraph.sources.snapshot import open_snapshot
        from depgraph.sources.snapshot_files import SnapshotFiles

        files = SnapshotFiles(open_snapshot(options.snapshot))
    elif not options.saved_files:  # this system or a --root: its files, read through the cache
        root = options.root or Path("/")
        cache = ElfCache(root)
        files = RootFiles(root, cache)
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
