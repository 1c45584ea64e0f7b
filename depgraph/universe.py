"""The package universe built from saved or on-disk files: a :class:`PackageIndex` in pure Python.

Installed packages come from a dpkg status file or a ``dpkg -l`` listing; available ones from
Packages indexes; ``apt-cache rdepends`` output adds bare reverse-dependency lines. The version that
counts for a package is the installed one, else the newest available (deb-version(5) ordering), which
is what apt would consider for ``--all``. A package known only from ``dpkg -l`` borrows its relations
from the index entry of the same version (or the nearest, with a warning), since ``dpkg -l`` lists none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import replace

from depgraph.debian.versions import compare, sort_key
from depgraph.diagnostics import Diagnostics
from depgraph.model import OrGroup, Origin, Package, Relation, RelationKind, ReverseRelation
from depgraph.sources.dpkg_list import ListedPackage
from depgraph.sources.dpkg_status import DuplicateWarnings
from depgraph.sources.rdepends_text import ReverseDependency

_Entry = tuple[str, RelationKind, Relation, bool, bool]
"""A :class:`ReverseRelation` before it is asked for."""

UNKNOWN_ALTERNATIVE = Relation(name="(other alternatives)")
"""Stands for the unnamed partners of an OR-group that ``apt-cache rdepends`` marks with ``|``."""


def package_key(package: Package, native: str | None) -> str:
    """``name`` for native and ``all`` packages, ``name:arch`` for a foreign architecture."""
    arch = package.architecture
    if arch is None or arch == "all" or native is None or arch == native:
        return package.name
    return f"{package.name}:{arch}"


class Universe:
    """A :class:`~depgraph.sources.interface.PackageIndex` over packages read from files."""

    backend = "pure-python"

    def __init__(
        self,
        *,
        status: Iterable[Package] = (),
        available: Iterable[Package] = (),
        listed: Iterable[ListedPackage] = (),
        rdepends: Iterable[ReverseDependency] = (),
        installed_only: bool | None = None,
        description: str = "files",
        diagnostics: Diagnostics | None = None,
    ) -> None:
        self._diagnostics = diagnostics or Diagnostics()
        status = list(status)
        listed = list(listed)
        self.native_arch = _native_arch([*status, *(entry.package for entry in listed)])
        self.description = description
        native = self.native_arch
        self._installed: dict[str, Package] = {}
        self._known: dict[str, Package] = {}
        self._copies: dict[str, list[Package]] = {}
        self._duplicates = DuplicateWarnings(self._diagnostics)
        for package in status:
            self._add_record(package_key(package, native), package)
        self._available: dict[str, list[Package]] = defaultdict(list)
        for package in available:
            self._available[package_key(package, native)].append(package)
        for entry in listed:
            self._add_listed(entry)
        self._duplicates.close()
        self._add_rdepends(list(rdepends))
        has_install_info = bool(status) or bool(listed)
        self.installed_only = has_install_info if installed_only is None else installed_only
        self._chosen: dict[str, Package | None] = {}
        self._reverse: dict[str, list[_Entry]] | None = None
        self._providers: dict[str, set[str]] | None = None

    def _add_record(self, key: str, package: Package) -> None:
        """A status paragraph or ``dpkg -l`` row. dpkg keeps one record per name:architecture
        (Policy 7.1, dpkg's ``Multi-Arch: same``), so a second one for the same key is a
        duplicate: a warning naming both, and both records kept for the fix check to judge
        (:meth:`copies`), since the last one is not necessarily the true one. A status file and a
        ``dpkg -l`` of one host name every package twice, in agreement: only a different version
        across the two is a duplicate."""
        first = self._known.get(key)
        if first is not None and first.origin in _RECORDS and _disagree(first, package):
            copies = self._copies.setdefault(key, [first])
            copies.append(package)
            self._duplicates.add(key, copies[0], package)
        self._known[key] = package
        if package.installed:
            self._installed[key] = package

    def copies(self, key: str) -> tuple[Package, ...]:
        """Every record of ``key`` when a source read more than one (a duplicate, warned about
        when read), in the order read; empty for a key recorded once."""
        return tuple(self._copies.get(key, ()))

    @property
    def has_install_info(self) -> bool:
        """Some source said what is installed (a status file or ``dpkg -l``)."""
        return bool(self._known)

    def _add_listed(self, entry: ListedPackage) -> None:
        package = entry.package
        key = package_key(package, self.native_arch)
        if entry.maybe_truncated and key not in self._available:
            matches = [name for name in self._available if name.startswith(key)]
            if len(matches) == 1:
                key = matches[0]
                package = replace(package, name=key.partition(":")[0])
            else:
                self._diagnostics.warn(
                    package.where.rpartition(":")[0],
                    int(package.where.rpartition(":")[2]),
                    f"name {package.name!r} fills its column and may be truncated by dpkg",
                )
        candidates = self._available.get(key, [])
        if candidates and package.version is not None:
            same = [c for c in candidates if c.version == package.version]
            if same:
                source = same[0]
            else:
                source = max(candidates, key=lambda c: sort_key(c.version or "0"))
                self._diagnostics.note(
                    package.where,
                    f"{key} {package.version}: relations taken from {source.version} "
                    "(the listed version is not in the indexes)",
                )
            package = replace(
                package,
                relations=source.relations,
                provides=source.provides,
                section=source.section,
            )
        self._add_record(key, package)

    def _add_rdepends(self, lines: list[ReverseDependency]) -> None:
        groups: dict[str, list[tuple[RelationKind, OrGroup, str]]] = defaultdict(list)
        for line in lines:
            relation = Relation(name=line.target, operator=line.operator, version=line.version)
            group: OrGroup = (relation,)
            if line.alternative:
                # apt-cache only marks that the line is part of an OR-group; its partners are unknown.
                group = (*group, UNKNOWN_ALTERNATIVE)
            # a plain output does not say the kind: kept as Depends, and the loader says so
            kind = line.kind or RelationKind.DEPENDS
            groups[line.dependent].append((kind, group, line.where))
        for dependent, found in groups.items():
            known = self._known.get(dependent) or self._newest(dependent)
            if known is not None and known.relations:
                continue
            relations = tuple(
                (kind, tuple(dict.fromkeys(g for k, g, _ in found if k is kind)))
                for kind in RelationKind
                if any(k is kind for k, _, _ in found)
            )
            if known is not None:
                merged = replace(known, relations=relations)
                self._known[dependent] = merged
                if merged.installed:
                    self._installed[dependent] = merged
            else:
                self._available[dependent].append(
                    Package(
                        name=dependent,
                        version=None,
                        architecture=None,
                        state=None,
                        origin=Origin.RDEPENDS,
                        where=found[0][2],
                        relations=relations,
                    )
                )
        for line in lines:
            if line.target not in self._known and line.target not in self._available:
                self._available[line.target].append(
                    Package(
                        name=line.target,
                        version=None,
                        architecture=None,
                        state=None,
                        origin=Origin.RDEPENDS,
                        where=line.where,
                    )
                )

    def _newest(self, key: str) -> Package | None:
        candidates = self._available.get(key)
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        best = candidates[0]
        for candidate in candidates[1:]:
            if candidate.version is not None and (
                best.version is None or compare(candidate.version, best.version) > 0
            ):
                best = candidate
        return best

    def details(self, key: str) -> Package | None:
        """:meth:`lookup`: parsed records already carry their relations and description."""
        return self.lookup(key)

    def lookup(self, key: str) -> Package | None:
        """The installed version when there is one, else (unless installed-only) the newest."""
        if key in self._chosen:
            return self._chosen[key]
        package = self._installed.get(key)
        if package is None and not self.installed_only:
            # A removed (rc) or purged package's status record does not count: the newest
            # version anywhere does, as in apt's cache.
            package = self._newest(key)
            known = self._known.get(key)
            if (
                known is not None
                and known.version is not None
                and (
                    package is None
                    or package.version is None
                    or compare(known.version, package.version) > 0
                )
            ):
                package = known
        elif package is not None and not self.installed_only:
            # The archive's override Section wins over the .deb's own, as in apt's cache.
            for entry in self._available.get(key, ()):
                if entry.version == package.version and entry.section != package.section:
                    package = replace(package, section=entry.section)
                    break
        self._chosen[key] = package
        return package

    def record(self, key: str) -> Package | None:
        """The status or ``dpkg -l`` record of ``key`` in any state, else its newest available."""
        return self._known.get(key) or self._newest(key)

    def keys(self) -> Iterable[str]:
        """Every package key that counts in this universe."""
        if self.installed_only:
            return list(self._installed)
        return list(dict.fromkeys([*self._known, *self._available]))

    def _build(self) -> tuple[dict[str, list[_Entry]], dict[str, set[str]]]:
        # Plain tuples: building ~400,000 NamedTuples for the whole archive costs a second.
        reverse: dict[str, list[_Entry]] = defaultdict(list)
        providers: dict[str, set[str]] = defaultdict(set)
        for key in self.keys():
            package = self.lookup(key)
            if package is None:
                continue
            for kind, groups in package.relations:
                for group in groups:
                    if len(group) == 1:
                        relation = group[0]
                        reverse[relation.name].append((key, kind, relation, False, True))
                        continue
                    last = group[-1]
                    for relation in group:
                        reverse[relation.name].append((key, kind, relation, True, relation is last))
            for provided in package.provides:
                providers[provided.name].add(key)
        return reverse, providers

    def reverse(self, name: str, kinds: Collection[RelationKind]) -> Iterable[ReverseRelation]:
        """Relationships naming ``name`` (the index is built on first use)."""
        if self._reverse is None:
            self._reverse, self._providers = self._build()
        make = ReverseRelation._make
        return [make(entry) for entry in self._reverse.get(name, ()) if entry[1] in kinds]

    def providers(self, name: str) -> Iterable[str]:
        """Packages that Provide ``name``."""
        if self._providers is None:
            self._reverse, self._providers = self._build()
        return self._providers.get(name, ())

    def is_virtual(self, name: str) -> bool:
        """No package is called ``name`` but some package Provides it."""
        return self.lookup(name) is None and bool(self.providers(name))

    def installed_packages(self) -> list[Package]:
        """Installed packages, in name order (for ``--classic`` and listings)."""
        return [self._installed[key] for key in sorted(self._installed)]


_RECORDS = frozenset((Origin.STATUS, Origin.DPKG_LIST))
"""The origins of per name:architecture records (an index lists many versions of one name)."""


def _disagree(first: Package, again: Package) -> bool:
    """Two records of one key are a duplicate: in one file, or with different versions."""
    return first.where.rpartition(":")[0] == again.where.rpartition(":")[0] or (
        first.version != again.version
    )


def _native_arch(status: list[Package]) -> str | None:
    """dpkg's own architecture is the native one (dpkg --print-architecture); the records are
    status paragraphs or ``dpkg -l`` rows."""
    for package in status:
        if package.name == "dpkg" and package.installed and package.architecture:
            return package.architecture
    counts: dict[str, int] = defaultdict(int)
    for package in status:
        if package.architecture and package.architecture != "all":
            counts[package.architecture] += 1
    return max(counts, key=lambda arch: counts[arch]) if counts else None
