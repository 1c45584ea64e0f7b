"""The ``depgraph`` command line: parsing and dispatch only (contract: ``shared/contract/CLI.md``).

stdout carries the report alone; warnings and the summary go to stderr. Exit status: 0 fine, 1
findings at or above ``--fail-on``, 2 usage or input error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from depgraph.classic import classic_dependents
from depgraph.classify import Classifier, TargetLibrary, target_library
from depgraph.debian.backend import AptMissingError, use_pure
from depgraph.diagnostics import Diagnostics
from depgraph.elf_cache import ElfCache
from depgraph.errors import DepgraphError, UsageError
from depgraph.formats import GRAPH_FORMATS, NEEDS_EDGES, NEEDS_ROLES, graph_renderer
from depgraph.graph import reverse_closure
from depgraph.load import SourceOptions, open_index
from depgraph.model import DEPENDENCY_KINDS, DependencyGraph, RelationKind
from depgraph.package_files import RootFiles
from depgraph.sources.interface import PackageIndex

MAX_WARNINGS_SHOWN = 20


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where the packages come from (default: this system)")
    group.add_argument(
        "--root", type=Path, metavar="DIR", help="read a chroot or unpacked image like /"
    )
    group.add_argument("--status", type=Path, metavar="FILE", help="a saved /var/lib/dpkg/status")
    group.add_argument(
        "--packages",
        type=Path,
        metavar="FILE",
        action="append",
        default=[],
        help="an apt Packages index (plain, .gz, .xz, .lz4); repeatable",
    )
    group.add_argument("--dpkg-list", type=Path, metavar="FILE", help="saved 'dpkg -l' output")
    group.add_argument(
        "--rdepends",
        type=Path,
        metavar="FILE",
        action="append",
        default=[],
        help="saved 'apt-cache rdepends PKG' output; repeatable",
    )
    scope = group.add_mutually_exclusive_group()
    scope.add_argument(
        "--installed-only",
        action="store_true",
        help="only installed packages (default when installed state is known)",
    )
    scope.add_argument(
        "--all", dest="all_packages", action="store_true", help="every package apt knows of"
    )
    group.add_argument(
        "--pure",
        action="store_true",
        help="read files in pure Python even when python-apt is available",
    )
    group.add_argument(
        "--lenient",
        action="store_true",
        help="skip malformed records with a warning instead of stopping",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; ``--help`` of each subcommand is the README's usage text."""
    parser = argparse.ArgumentParser(
        prog="depgraph",
        description="Who is exposed through a vulnerable shared library on a Debian or Ubuntu system.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    graph = commands.add_parser(
        "graph",
        help="reverse-dependency graph of library packages",
        description=(
            "Every package that depends on the given packages, directly or through others "
            "(Depends and Pre-Depends, through Provides and OR-groups), with the shortest path."
        ),
    )
    graph.add_argument("targets", nargs="+", metavar="PACKAGE", help="the library package(s)")
    _add_source_options(graph)
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
    return parser


def _source_options(args: argparse.Namespace) -> SourceOptions:
    return SourceOptions(
        root=args.root,
        status=args.status,
        packages=tuple(args.packages),
        dpkg_list=args.dpkg_list,
        rdepends=tuple(args.rdepends),
        all_packages=args.all_packages,
        installed_only=args.installed_only,
        pure=args.pure,
    )


def _run_graph(args: argparse.Namespace, diagnostics: Diagnostics) -> str:
    if args.pure:
        use_pure()
    if args.depth is not None and args.depth < 1:
        raise UsageError("--depth must be at least 1")
    options = _source_options(args)
    index = open_index(options, diagnostics)
    if args.classic:
        if len(args.targets) != 1:
            raise UsageError("--classic takes exactly one package, like the one-liner")
        if index.lookup(args.targets[0]) is None and not index.reverse(
            args.targets[0], tuple(RelationKind)
        ):
            raise UsageError(f"no package called {args.targets[0]} in {index.description}")
        listed = classic_dependents(index, args.targets[0])
        return "".join(f"{package.name}\n" for package in listed)
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
        graph = _with_roles(graph, index, options)
    return graph_renderer(args.format)(graph)


def _with_roles(
    graph: DependencyGraph, index: PackageIndex, options: SourceOptions
) -> DependencyGraph:
    """The graph with every dependent's TLS role (files are read only from a live system or --root)."""
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


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{output}: cannot write: {error.strerror or error}") from None


def _show_warnings(diagnostics: Diagnostics) -> None:
    shown = diagnostics.warnings[:MAX_WARNINGS_SHOWN]
    for warning in shown:
        print(f"depgraph: warning: {warning}", file=sys.stderr)
    hidden = len(diagnostics.warnings) - len(shown)
    if hidden > 0:
        print(f"depgraph: warning: ... and {hidden} more", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``depgraph`` console script; returns the exit status."""
    # The archive's index is ~500,000 small acyclic objects; the cyclic collector would traverse
    # them over and over while they are built (a third of the run time) and find nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    diagnostics = Diagnostics(strict=not getattr(args, "lenient", False))
    try:
        text = _run_graph(args, diagnostics)
        _emit(text, args.output)
    except DepgraphError as error:
        _show_warnings(diagnostics)
        print(f"depgraph: error: {error.user_message()}", file=sys.stderr)
        return 2
    except AptMissingError as error:
        print(f"depgraph: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: still one line, never a traceback (set DEPGRAPH_DEBUG=1)
        if os.environ.get("DEPGRAPH_DEBUG"):
            raise
        print(f"depgraph: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    _show_warnings(diagnostics)
    if diagnostics.summary:
        print(f"depgraph: {diagnostics.summary}", file=sys.stderr)
    return 0


def main_exit() -> None:
    """Console-script wrapper: exit with :func:`main`'s status."""
    sys.exit(main())
