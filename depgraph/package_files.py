"""Where the classifier gets a package's files and ELF facts from: :class:`PackageFiles`.

:class:`RootFiles` reads them from a system tree (``/`` or ``--root``): dpkg's file lists and the
ELF files themselves, through the ELF cache. Recorded evidence (the evaluation set in
``fixtures/eval``) implements the same protocol, so the classifier is measured on exactly the code
that runs on a live system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from depgraph.elf import ElfFacts, elf_candidates, read_elf
from depgraph.elf_cache import ElfCache
from depgraph.model import Package
from depgraph.rootpath import resolve_each
from depgraph.sources.dpkg_info import file_list


class PackageFiles(Protocol):
    """A package's installed paths and the dynamic-linking facts of its ELF files."""

    def files(self, package: Package) -> list[str] | None:
        """The package's paths, or None when they are not at hand."""
        ...

    def elves(
        self, package: Package, sonames: frozenset[str] | None, *, with_exports: bool = False
    ) -> list[ElfFacts]:
        """Facts of the package's ELF files; imports only of files that need ``sonames`` (of
        every file when ``sonames`` is None)."""
        ...


class RootFiles:
    """A package's files under a root, as dpkg recorded them."""

    def __init__(self, root: Path, cache: ElfCache | None = None) -> None:
        self.root = root
        self.cache = cache
        self._lists: dict[tuple[str, str | None], list[str] | None] = {}
        self.refused: dict[str, str] = {}
        """Package name -> why its file list is there but was not read (a FIFO, too large...)."""

    def files(self, package: Package) -> list[str] | None:
        """dpkg's file list of the package (read once per package)."""
        key = (package.name, package.architecture)
        if key not in self._lists:
            refused: list[str] = []
            self._lists[key] = file_list(self.root, package.name, package.architecture, refused)
            if self._lists[key] is None and refused:
                self.refused[package.name] = refused[0]
        return self._lists[key]

    def elves(
        self, package: Package, sonames: frozenset[str] | None, *, with_exports: bool = False
    ) -> list[ElfFacts]:
        """Read (or take from the cache) every ELF file the package installed.

        Paths are resolved inside the root (``rootpath``): a symlink in an audited tree never leads
        to the host's files. Symlinks in the last component are skipped (the file they name is
        listed in its own right).
        """
        names = self.files(package) or []
        paths = elf_candidates(resolve_each(self.root, names, follow_last=False))
        if self.cache is not None:
            return [
                self.cache.read(p, with_exports=with_exports, symbols_if_needs=sonames)
                for p in paths
            ]
        return [read_elf(p, with_exports=with_exports, symbols_if_needs=sonames) for p in paths]
