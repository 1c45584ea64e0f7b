"""Choosing and opening the package source the command line asks for.

Saved files (``--status``, ``--packages``, ``--dpkg-list``, ``--rdepends``) are read by the pure-Python
readers; the live system or a ``--root`` tree goes through python-apt when it is importable and the
pure-Python readers of the same files otherwise (contract: ``../shared/contract/CLI.md``, "Where the
packages come from").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from depgraph.debian.backend import apt_pkg
from depgraph.diagnostics import Diagnostics
from depgraph.errors import SourceError, UsageError
from depgraph.model import Package
from depgraph.rootpath import under_root
from depgraph.sources.apt_cache import AptIndex, temp_dir_ready
from depgraph.sources.dpkg_list import ListedPackage, read_dpkg_list
from depgraph.sources.dpkg_status import (
    check_status,
    read_status,
    read_status_d,
    status_d_files,
    status_under,
)
from depgraph.sources.interface import PackageIndex
from depgraph.sources.packages_index import lists_under, read_packages
from depgraph.sources.rdepends_text import ReverseDependency, limits, read_rdepends
from depgraph.universe import Universe


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """Where the packages come from, as the command line gave it."""

    root: Path | None = None
    status: Path | None = None
    packages: tuple[Path, ...] = ()
    dpkg_list: Path | None = None
    rdepends: tuple[Path, ...] = ()
    all_packages: bool = False
    installed_only: bool = False
    pure: bool = False
    snapshot: Path | None = None
    """A tarball written by ``depgraph collect``, read as the root of the host it came from."""

    @property
    def saved_files(self) -> bool:
        """Some saved file was named, so the running system is not read."""
        return bool(self.status or self.packages or self.dpkg_list or self.rdepends)


def open_index(options: SourceOptions, diagnostics: Diagnostics) -> PackageIndex:
    """The package index the options describe."""
    if options.all_packages and options.installed_only:
        raise UsageError("--all and --installed-only contradict each other")
    if options.snapshot is not None:
        return _snapshot(options, diagnostics)
    if options.saved_files:
        if options.root is not None:
            raise UsageError("--root reads a whole tree; do not combine it with saved files")
        return _saved(options, diagnostics)
    root = options.root or Path("/")
    if not root.is_dir():
        raise SourceError(root, "not a directory")
    # libapt reads the status file alone: a tree with distroless ``status.d`` records (all of its
    # packages, or some next to a status file) is read by the pure-Python readers, which read both
    if apt_pkg() is not None and not options.pure and _apt_safe(root) and not status_d_files(root):
        if not options.all_packages or temp_dir_ready():
            return AptIndex(root, installed_only=not options.all_packages, diagnostics=diagnostics)
        diagnostics.note(
            str(root),
            "no writable temporary directory for libapt (read-only system, no cache directory): "
            "the apt lists are read in pure Python",
        )
    return _tree(root, options, diagnostics)


def _snapshot(options: SourceOptions, diagnostics: Diagnostics) -> PackageIndex:
    """The packages of a snapshot, read from its unpacked tree like a ``--root``."""
    from depgraph.sources.snapshot import open_snapshot

    if options.root is not None or options.saved_files:
        raise UsageError("--snapshot is a whole host; do not combine it with --root or saved files")
    assert options.snapshot is not None
    snapshot = open_snapshot(options.snapshot, diagnostics)
    root = snapshot.root
    index: PackageIndex
    if apt_pkg() is not None and not options.pure and not status_d_files(root):
        apt = AptIndex(root, installed_only=not options.all_packages, diagnostics=diagnostics)
        apt.description = snapshot.description
        index = apt
    else:
        index = _tree(root, options, diagnostics, snapshot.description)
    return index


def tree_root(options: SourceOptions, diagnostics: Diagnostics) -> Path | None:
    """The tree the options read files from (``/``, ``--root``, a snapshot's), None for saved
    files, which have no tree."""
    if options.snapshot is not None:
        from depgraph.sources.snapshot import open_snapshot

        return open_snapshot(options.snapshot, diagnostics).root
    if options.saved_files:
        return None
    return options.root or Path("/")


def _apt_safe(root: Path) -> bool:
    """libapt follows a tree's symlinks as the host sees them; when the dpkg database or the lists
    are reached through a link that leaves the tree, only the pure-Python readers are safe."""
    if root == Path("/"):
        return True
    for relative in ("var/lib/dpkg/status", "var/lib/apt/lists", "etc/apt"):
        try:
            naive = (root / relative).resolve()
        except (RuntimeError, OSError):  # a symbolic link loop: the pure reader names it
            return False
        if naive != under_root(root, relative) and (root / relative).exists():
            return False
    return True


def _tree(
    root: Path, options: SourceOptions, diagnostics: Diagnostics, label: str | None = None
) -> Universe:
    status_file = status_under(root)
    records = status_d_files(root)
    if records and not os.path.lexists(status_file):
        status = []  # a distroless image: only status.d
    else:
        check_status(status_file)  # missing, a FIFO, a loop, unreadable: one line naming it
        status = read_status(status_file, diagnostics)
    status.extend(read_status_d(records, diagnostics))
    available: list[Package] = []
    if options.all_packages:
        for path in lists_under(root):
            available.extend(read_packages(path, diagnostics))
    where = "the installed packages" if not options.all_packages else "the status and apt lists"
    return Universe(
        status=status,
        available=available,
        installed_only=not options.all_packages,
        description=label or (where if root == Path("/") else f"{where} under {root}"),
        diagnostics=diagnostics,
    )


def _saved(options: SourceOptions, diagnostics: Diagnostics) -> Universe:
    status = read_status(options.status, diagnostics, "--status") if options.status else []
    available: list[Package] = []
    for path in options.packages:
        available.extend(read_packages(path, diagnostics, "--packages"))
    listed: list[ListedPackage] = (
        read_dpkg_list(options.dpkg_list, diagnostics) if options.dpkg_list else []
    )
    rdepends: list[ReverseDependency] = []
    for path in options.rdepends:
        lines = read_rdepends(path, diagnostics)
        if not available and not status:
            for limit in limits(lines):
                diagnostics.note(str(path), limit)
        rdepends.extend(lines)
    installed_only: bool | None = None
    if options.all_packages:
        installed_only = False
    elif options.installed_only:
        installed_only = True
    names = [
        str(p)
        for p in (options.status, options.dpkg_list, *options.packages, *options.rdepends)
        if p
    ]
    universe = Universe(
        status=status,
        available=available,
        listed=listed,
        rdepends=rdepends,
        installed_only=installed_only,
        description=", ".join(names),
        diagnostics=diagnostics,
    )
    if universe.installed_only and not universe.has_install_info:
        raise UsageError("--installed-only needs a status file or a dpkg -l listing")
    if missing_relationships(options):
        diagnostics.note(
            str(options.dpkg_list),
            "dpkg -l lists no relationships: add --packages (the indexes of that release) "
            "or --rdepends to find dependents",
        )
    return universe


def missing_relationships(options: SourceOptions) -> str:
    """Why no dependent can be found, or empty: a ``dpkg -l`` listing alone names the installed
    packages but none of their relationships (Policy 7.1's fields are in the status file and the
    Packages indexes, not in dpkg-query's listing)."""
    alone = options.dpkg_list and not (options.packages or options.rdepends or options.status)
    if not alone or options.snapshot or options.root:
        return ""
    return "a dpkg -l listing has no relationships: give --packages or --rdepends"
