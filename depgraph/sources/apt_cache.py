"""The live (or ``--root``) system through python-apt's ``apt_pkg`` cache.

Reads the same dpkg status and apt lists as the pure-Python path, but through libapt's cache and its
reverse-dependency lists (``Package.rev_depends_list``), converting only the packages the walk
touches. For an installed-only walk the cache is built from the dpkg status alone (an empty sources
list), which is what "installed" means and is far cheaper than parsing every index; ``--all`` builds
the full cache, like ``apt-cache``. ``rootdir`` handling follows python-apt's ``apt.Cache(rootdir=...)``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from depgraph.cachedir import cache_dir
from depgraph.debian.backend import apt_pkg
from depgraph.diagnostics import Diagnostics
from depgraph.errors import SourceError
from depgraph.model import APT_KINDS, Origin, Package, Relation, RelationKind, ReverseRelation
from depgraph.sources.dpkg_status import duplicate_records

_OPERATORS = {"<": "<<", ">": ">>", "<=": "<=", ">=": ">=", "=": "=", "": None}
_SELECTIONS = {0: "unknown", 1: "install", 2: "hold", 3: "deinstall", 4: "purge"}
_MULTI_ARCH = {0: None, 1: None, 2: "foreign", 3: "foreign", 4: "same", 8: "allowed", 9: "allowed"}
"""python-apt's ``Version.MULTI_ARCH_*`` values (the ``ALL`` bit marks Architecture: all)."""


def available() -> bool:
    """python-apt is importable (and not disabled with ``DEPGRAPH_NO_APT``)."""
    return apt_pkg() is not None


def _check_inputs(root: Path, status: Path, installed_only: bool) -> None:
    """libapt reads the status file (and, for ``--all``, apt's lists) without asking what they are:
    a FIFO there blocks it forever and a 64 GiB sparse file is read whole. Each is opened first as
    every input is (:func:`depgraph.sources.files.open_input`), so such a file is an error naming it."""
    from depgraph.sources.dpkg_status import check_status
    from depgraph.sources.files import Kind, open_input

    check_status(status)
    if installed_only:
        return
    lists = root / "var/lib/apt/lists"
    try:
        entries = sorted(entry.name for entry in os.scandir(lists) if "_Packages" in entry.name)
    except OSError:
        return
    for name in entries:
        open_input(lists / name, Kind.PACKAGES).close()


class AptIndex:
    """A :class:`~depgraph.sources.interface.PackageIndex` over libapt's package cache."""

    backend = "python-apt"

    def __init__(
        self,
        root: Path = Path("/"),
        *,
        installed_only: bool = True,
        diagnostics: Diagnostics | None = None,
    ) -> None:
        module = apt_pkg()
        if module is None:
            raise SourceError("python-apt", "not available")
        self._apt = module
        shown = root
        root = root.resolve()
        status = root / "var/lib/dpkg/status"
        _check_inputs(root, status, installed_only)
        if not installed_only and not temp_dir_ready():
            raise SourceError(
                shown, "libapt needs a writable TMPDIR, /tmp or $XDG_CACHE_HOME to read the lists"
            )
        _configure(module, root, status, installed_only)
        try:
            self._cache = module.Cache(None)
        except SystemError as error:
            raise SourceError(shown, f"apt cannot build its cache: {error}") from None
        self.installed_only = installed_only
        self.native_arch: str | None = module.config.find("APT::Architecture") or None
        where = "the installed packages" if installed_only else "the apt cache"
        self.description = where if root == Path("/") else f"{where} under {shown}"
        self._converted: dict[str, Package | None] = {}
        self._details: dict[str, Package] = {}
        self._records: Any = None
        self._versions: dict[int, Any] = {}
        self._keys: dict[int, str] = {}
        self._groups: dict[int, dict[int, tuple[bool, bool]]] = {}
        # libapt keeps one record per name:architecture and drops a duplicate paragraph silently:
        # the status file is scanned for them, each warned about and judged by the fix check.
        self._duplicates = duplicate_records(status, self.native_arch, diagnostics or Diagnostics())

    def _apt_package(self, key: str) -> Any:
        cache = self._cache
        return cache[key] if key in cache else None  # noqa: SIM401 (apt_pkg.Cache has no get)

    def _counting_version(self, package: Any) -> Any:
        """The installed version, else (for ``--all``) the newest version apt knows, or None."""
        identity = package.id
        if identity in self._versions:
            return self._versions[identity]
        version = package.current_ver
        if version is None and not self.installed_only:
            versions = package.version_list
            if versions:
                version = max(versions, key=_cmp_key(self._apt))
        self._versions[identity] = version
        return version

    def lookup(self, key: str) -> Package | None:
        """The counting version as a Package; its relationships are served by :meth:`reverse`."""
        if key in self._converted:
            return self._converted[key]
        package = self._apt_package(key)
        result = None
        if package is not None:
            version = self._counting_version(package)
            if version is not None:
                result = self._convert(package, version)
        self._converted[key] = result
        return result

    def record(self, key: str) -> Package | None:
        """The installed version, else the newest version apt read (in the installed-only scope,
        from the status file: ``config-files`` and ``not-installed`` records), with dpkg's state."""
        package = self._apt_package(key)
        if package is None or not package.has_versions:
            return None
        version = package.current_ver or max(package.version_list, key=_cmp_key(self._apt))
        found = self._convert(package, version)
        if package.current_state == self._apt.CURSTATE_NOT_INSTALLED:
            return found  # available only, or a bare selection: no dpkg state to tell
        return replace(found, state=_state(self._apt, package.current_state))

    def copies(self, key: str) -> tuple[Package, ...]:
        """Every paragraph of ``key`` in the status file when it has more than one (libapt keeps
        one of them), as the pure reader parses them; empty otherwise."""
        if not self._duplicates:
            return ()
        name, _, arch = key.partition(":")
        return self._duplicates.get((name, arch or self.native_arch), ())

    def details(self, key: str) -> Package | None:
        """:meth:`lookup` plus the version's relationships (``depends_list``) and the synopsis of
        its description (from apt's package records: the status file or a Packages index)."""
        found = self.lookup(key)
        if found is None:
            return None
        if key in self._details:
            return self._details[key]
        package = self._apt_package(key)
        version = self._counting_version(package)
        relations = []
        for type_name, kind in APT_KINDS.items():
            groups = version.depends_list.get(type_name)
            if groups:
                relations.append(
                    (kind, tuple(tuple(self._relation(dep) for dep in group) for group in groups))
                )
        result = replace(found, relations=tuple(relations), description=self._synopsis(version))
        self._details[key] = result
        return result

    def _synopsis(self, version: Any) -> str | None:
        try:
            described = version.translated_description
            file_list = described.file_list if described is not None else []
            if not file_list:
                return None
            if self._records is None:
                self._records = self._apt.PackageRecords(self._cache)
            if not self._records.lookup(file_list[0]):
                return None
            text = str(self._records.short_desc or "").strip()
        except (SystemError, AttributeError, UnicodeDecodeError):
            return None
        return text or None

    def _convert(self, package: Any, version: Any) -> Package:
        apt = self._apt
        # apt adds implicit ``name:any`` Provides for Multi-Arch: allowed packages; :meth:`reverse`
        # already looks ``name:any`` up, so only the package's own Provides are kept.
        provides = tuple(
            Relation(name=name, operator="=" if provided else None, version=provided or None)
            for name, provided, _version in version.provides_list
            if ":" not in name
        )
        installed = package.current_ver is not None and package.current_ver.id == version.id
        state = _state(apt, package.current_state) if installed else None
        files = version.file_list
        where = files[0][0].filename if files else "apt cache"
        return Package(
            name=package.name,
            version=version.ver_str,
            architecture=version.arch,
            state=state,
            origin=Origin.APT_CACHE,
            where=where,
            provides=provides,
            section=version.section or None,
            multi_arch=_MULTI_ARCH.get(version.multi_arch),
            essential=bool(package.essential),
            want=_SELECTIONS.get(package.selected_state) if installed else None,
        )

    def reverse(self, name: str, kinds: Collection[RelationKind]) -> Iterable[ReverseRelation]:
        """apt's reverse dependencies of ``name`` (and of ``name:any``, apt's own package for
        ``:any`` relationships), kept when they belong to the dependent's counting version.

        This loop runs ~130,000 times for an archive-wide walk, so it reads each python-apt
        attribute once and caches per package and per version what it can.
        """
        wanted = {type_name: kind for type_name, kind in APT_KINDS.items() if kind in kinds}
        result: list[ReverseRelation] = []
        versions = self._versions
        keys = self._keys
        counting_version = self._counting_version
        position = self._position
        relation = self._relation
        for lookup in (name, f"{name}:any"):
            package = self._apt_package(lookup)
            if package is None:
                continue
            for dependency in package.rev_depends_list:
                kind = wanted.get(dependency.dep_type_untranslated)
                if kind is None:
                    continue
                parent = dependency.parent_pkg
                identity = parent.id
                version = versions[identity] if identity in versions else counting_version(parent)
                if version is None or dependency.parent_ver.id != version.id:
                    continue
                key = keys.get(identity)
                if key is None:
                    key = keys[identity] = self._key(parent)
                alternative, last = position(version, dependency.id)
                result.append(ReverseRelation(key, kind, relation(dependency), alternative, last))
        return result

    def _position(self, version: Any, dependency: int) -> tuple[bool, bool]:
        """(in an OR-group, last of its group) for one dependency of a version; python-apt does not
        expose apt's ``Dep::Or`` flag, so the groups of ``depends_list`` are read once per version."""
        table = self._groups.get(version.id)
        if table is None:
            table = {}
            for groups in version.depends_list.values():
                for group in groups:
                    if len(group) > 1:
                        for member in group:
                            table[member.id] = (True, False)
                        table[group[-1].id] = (True, True)
            self._groups[version.id] = table
        return table.get(dependency, (False, True))

    def providers(self, name: str) -> Iterable[str]:
        """Packages apt records as providing ``name``."""
        package = self._apt_package(name)
        if package is None:
            return ()
        return {self._key(version.parent_pkg) for _n, _v, version in package.provides_list}

    def is_virtual(self, name: str) -> bool:
        """No version of ``name`` exists but something Provides it."""
        package = self._apt_package(name)
        return package is not None and not package.has_versions and package.has_provides

    def _relation(self, dependency: Any) -> Relation:
        """apt's Dependency as a Relation; apt spells ``<<`` as ``<`` and resolves ``name:arch``
        to that architecture's package, so a foreign qualifier is recovered from the target."""
        target = dependency.target_pkg
        name, _, qualifier = target.name.partition(":")
        if not qualifier and target.architecture not in (self.native_arch, "all", "any"):
            qualifier = target.architecture
        operator = _OPERATORS.get(dependency.comp_type, dependency.comp_type)
        return Relation(
            name=name,
            arch_qualifier=qualifier or None,
            operator=operator,
            version=dependency.target_ver or None if operator else None,
        )

    def _key(self, package: Any) -> str:
        arch = package.architecture
        if arch in (self.native_arch, "all"):
            return str(package.name)
        return f"{package.name}:{arch}"


def temp_dir_ready() -> bool:
    """A directory libapt can write its temporary files in (it splits the lists' clearsigned
    ``InRelease`` files there): ``$TMPDIR`` or ``/tmp`` as libapt's ``GetTempDir`` picks, else
    depgraph's own cache directory, set as ``TMPDIR`` for this process (a read-only system).
    False when none is writable: the pure-Python readers, which need none, are used then."""
    current = os.environ.get("TMPDIR") or "/tmp"
    if os.path.isdir(current) and os.access(current, os.R_OK | os.W_OK | os.X_OK):
        return True
    private = cache_dir("tmp")
    if private is None:
        return False
    os.environ["TMPDIR"] = str(private)
    return True


_CONFIG_KEYS = ("Dir", "Dir::State::status", "Dir::Etc::sourcelist", "Dir::Etc::sourceparts")


def _binary_cache(root: Path, installed_only: bool) -> tuple[str, str]:
    """Where libapt may keep its binary caches (``pkgcache.bin``, ``srcpkgcache.bin``) for us.

    Never apt's own ``/var/cache/apt``: as root libapt would rewrite those files, and depgraph does
    not change the system it audits. In the user's cache directory instead, one per root, so that
    a second ``--all`` run maps the cache (~0.15 s) instead of parsing every index (~0.8 s); libapt
    itself checks the cache against the lists and rebuilds it when they changed. An installed-only
    cache is built from the status file alone in milliseconds and is not kept. Empty strings mean
    "build in memory", also when no cache directory is usable.
    """
    if installed_only:
        return "", ""
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    directory = cache_dir("apt", digest)
    if directory is None:
        return "", ""
    return str(directory / "pkgcache.bin"), str(directory / "srcpkgcache.bin")


_defaults: dict[str, str] = {}


def _configure(apt: Any, root: Path, status: Path, installed_only: bool) -> None:
    """Point libapt at ``root`` the way python-apt's ``apt.Cache(rootdir=...)`` does.

    libapt's configuration is process-global, so the host's values are remembered on first use and
    every index sets all the keys it relies on, whatever an earlier index set.
    """
    config = apt.config
    if not _defaults:
        for key in _CONFIG_KEYS:
            _defaults[key] = config.find(key)
        _defaults["APT::Architecture"] = config.find("APT::Architecture")
        _defaults["APT::Architectures"] = " ".join(
            config.value_list("APT::Architectures")
            or _dpkg_architectures(_defaults["APT::Architecture"])
        )
    live = root == Path("/")
    config.set("Dir", _defaults["Dir"] if live else str(root))
    config.set("Dir::State::status", str(status))
    if installed_only:
        config.set("Dir::Etc::sourcelist", "/dev/null")
        config.set("Dir::Etc::sourceparts", "/nonexistent")
    else:
        config.set("Dir::Etc::sourcelist", _defaults["Dir::Etc::sourcelist"])
        config.set("Dir::Etc::sourceparts", _defaults["Dir::Etc::sourceparts"])
    pkgcache, srcpkgcache = _binary_cache(root, installed_only)
    config.set("Dir::Cache::pkgcache", pkgcache)
    config.set("Dir::Cache::srcpkgcache", srcpkgcache)
    arch = (
        _defaults["APT::Architecture"]
        if live
        else (_dpkg_arch(status) or _defaults["APT::Architecture"])
    )
    config.set("APT::Architecture", arch)
    config.clear("APT::Architectures")
    arches = _defaults["APT::Architectures"].split() if live else [arch]
    for extra in arches:
        config.set("APT::Architectures::", extra)
    apt.init_system()


DPKG_ARCH_FILE = Path("/var/lib/dpkg/arch")
"""dpkg's list of the architectures added with ``dpkg --add-architecture`` (one per line)."""


def _dpkg_architectures(native: str) -> list[str]:
    """The live system's architectures: the native one and those in dpkg's ``arch`` file.

    What ``dpkg --print-foreign-architectures`` prints, read from the file it reads; left unset,
    libapt would run that command itself, and depgraph runs no program but ``openssl version -a``.
    """
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_text

    try:
        lines = read_text(DPKG_ARCH_FILE, Kind.CONFIG).split()
    except DepgraphError:
        lines = []
    return list(dict.fromkeys(arch for arch in (native, *lines) if arch))


_DPKG_ARCH = re.compile(r"^Package: dpkg\n(?:[^\n]+\n)*?Architecture: (\S+)", re.MULTILINE)
_ARCH = re.compile(r"^Architecture: (\S+)", re.MULTILINE)


def _dpkg_arch(status: Path) -> str | None:
    """The native architecture of a root from its status file: dpkg's own, or, without a record of
    dpkg (a trimmed or saved list), the most common one that is not ``all`` (the pure reader's
    rule, ``universe._native_arch``); None without any."""
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_text

    try:
        text = read_text(status, Kind.STATUS)
    except DepgraphError:
        return None
    match = _DPKG_ARCH.search(text)
    if match:
        return match.group(1)
    counts = Counter(arch for arch in _ARCH.findall(text) if arch != "all")
    return counts.most_common(1)[0][0] if counts else None


def _state(apt: Any, current: int) -> str:
    return {
        apt.CURSTATE_NOT_INSTALLED: "not-installed",
        apt.CURSTATE_UNPACKED: "unpacked",
        apt.CURSTATE_HALF_CONFIGURED: "half-configured",
        apt.CURSTATE_HALF_INSTALLED: "half-installed",
        apt.CURSTATE_CONFIG_FILES: "config-files",
        apt.CURSTATE_INSTALLED: "installed",
        7: "triggers-awaited",
        8: "triggers-pending",
    }.get(current, "installed")


def _cmp_key(apt: Any) -> Any:
    import functools

    return functools.cmp_to_key(lambda a, b: apt.version_compare(a.ver_str, b.ver_str))
