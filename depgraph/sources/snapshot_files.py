"""A snapshot's packages' files and ELF facts, as the classifier asks for them
(:class:`depgraph.package_files.PackageFiles`).

The file lists are dpkg's, in the snapshot's tree. The ELF facts are the collector's
``depgraph-snapshot/elf.json``: per package (``name:arch``), per file the ``DT_NEEDED`` sonames,
``DT_SONAME``, the imported symbols that the library packages export (the only ones the classifier
compares) and, for the library packages, their exports; or why the file could not be read. The
shell collector records sonames only (``elf-needed.txt``): with no symbols, every file is given
as not at hand, so the classifier falls back on metadata instead of judging on half the facts.
"""

from __future__ import annotations

import json
from pathlib import Path

from depgraph.elf import ElfFacts
from depgraph.errors import DepgraphError
from depgraph.model import Package
from depgraph.package_files import RootFiles
from depgraph.sources.files import Kind, read_raw
from depgraph.sources.snapshot import Snapshot

NOT_CAPTURED = "ELF evidence not in the snapshot"


class SnapshotFiles(RootFiles):
    """Files (dpkg's lists in the snapshot's tree, as :class:`RootFiles` reads them) and the
    recorded ELF facts of a snapshot's packages."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot.root)
        self._packages: dict[str, list[ElfFacts]] = {}
        self._why = NOT_CAPTURED
        path = snapshot.file("elf.json")
        if path is not None:
            self._load(path)
        elif snapshot.file("elf-needed.txt") is not None:
            self._why = "imported symbols not captured (shell collector): sonames only"

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(read_raw(path, Kind.SNAPSHOT_MEMBER).decode("utf-8"))
        except (DepgraphError, UnicodeDecodeError, ValueError):
            self._why = f"{path.name} is unreadable"
            return
        except RecursionError:  # "[[[[..." thousands deep: json's decoder recurses per level
            self._why = f"{path.name} nests too deeply to be read"
            return
        packages = data.get("packages") if isinstance(data, dict) else None
        if not isinstance(packages, dict):
            return
        for key, records in packages.items():
            if isinstance(records, list):
                self._packages[str(key)] = [
                    _facts(record) for record in records if isinstance(record, dict)
                ]

    def elves(
        self, package: Package, sonames: frozenset[str] | None, *, with_exports: bool = False
    ) -> list[ElfFacts]:
        recorded = None
        if package.architecture:
            recorded = self._packages.get(f"{package.name}:{package.architecture}")
        if recorded is None:
            recorded = self._packages.get(package.name)
        if recorded is None:
            listed = self.files(package)
            return [ElfFacts(path=listed[0], problem=self._why)] if listed else []
        found = []
        for facts in recorded:
            # what RootFiles gives: imports only of files needing the sonames asked about
            wanted = with_exports or sonames is None or not sonames.isdisjoint(facts.needed)
            found.append(
                ElfFacts(
                    path=facts.path,
                    soname=facts.soname,
                    needed=facts.needed,
                    imports=facts.imports if wanted else frozenset(),
                    exports=facts.exports if with_exports else frozenset(),
                    problem=facts.problem,
                )
            )
        return found


def _facts(record: dict[str, object]) -> ElfFacts:
    def strings(key: str) -> tuple[str, ...]:
        value = record.get(key)
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    soname = record.get("soname")
    problem = record.get("problem")
    return ElfFacts(
        path=str(record.get("path", "")),
        soname=str(soname) if soname else None,
        needed=strings("needed"),
        imports=frozenset(strings("imports")),
        exports=frozenset(strings("exports")),
        problem=str(problem) if problem else None,
    )
