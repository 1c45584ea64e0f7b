"""``depgraph audit``: sources -> graph -> evidence (fix state, roles, processes) -> ranked report.

Everything here is computed, nothing printed: :func:`audit` returns an :class:`AuditReport`, and
``depgraph.formats.report_*`` render it. The ranking rules are :mod:`depgraph.risk`'s; the plan
is :mod:`depgraph.remediation`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.classify import NO_FILE_LIST, with_runtime
from depgraph.diagnostics import Diagnostics
from depgraph.family import installed_family
from depgraph.fixcheck import (
    UNFINISHED,
    FixState,
    LibraryVerdict,
    fix_states,
    installed_packages,
    version_state,
)
from depgraph.load import SourceOptions, missing_relationships, open_index, tree_root
from depgraph.model import Component, DependencyGraph, Edge, Evidence, Node, Role, RoleVerdict
from depgraph.openssl_version import OpensslVersion, live_openssl_version, parse_openssl_version
from depgraph.profiles import Profile
from depgraph.release import Release, parse_release
from depgraph.risk import (
    FIXED_COPY,
    Level,
    LibraryState,
    OldCopy,
    Risk,
    Running,
    assess,
    worst_old_copy,
)
from depgraph.runtime.keys import KeyMaterial
from depgraph.runtime.maps import MappingState
from depgraph.runtime.scan import (
    ProcessExposure,
    RuntimeScan,
    unreadable_sentence,
    unreadable_words,
)
from depgraph.services import Services, find_services
from depgraph.sources.interface import PackageIndex

if TYPE_CHECKING:
    from depgraph.dpkg_log import ExposureHistory, VulnerableWindow

FIXED_STATES = frozenset((FixState.FIXED, FixState.FIXED_BACKPORT, FixState.NOT_AFFECTED))


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What to audit and with which inputs beside the package sources."""

    sources: SourceOptions
    profile: Profile
    release: str | None = None
    openssl_output: Path | None = None
    """A saved ``openssl version -a`` of the audited system."""
    maps: Path | None = None
    """A saved ``grep 'libssl.*(deleted)' /proc/*/maps`` (or whole maps) of the audited system."""
    proc: Path = Path("/proc")


@dataclass(frozen=True, slots=True)
class Dependent:
    """One dependent with everything known about it and its risk."""

    node: Node
    relation: str
    """The relationship that reaches the library (``Depends: libssl1.0.0 (>= 1.0.0)``)."""
    role: RoleVerdict
    processes: tuple[ProcessExposure, ...]
    risk: Risk
    library: str
    """The library package (profile target) it reaches."""


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The whole answer for one system."""

    profile: Profile
    source: str
    """Where the packages came from, in words."""
    source_kind: str
    libraries: tuple[LibraryVerdict, ...]
    dependents: tuple[Dependent, ...]
    """Most at risk first."""
    runtime: tuple[RuntimeScan, ...]
    runtime_note: str
    """Why running processes were not looked at, or how."""
    stray: tuple[ProcessExposure, ...]
    """Processes that keep an old copy of the library but belong to no dependent."""
    keys: tuple[KeyMaterial, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    edges: tuple[Edge, ...] = ()
    """The relationships between the dependents and the library (for the pictures)."""
    services: Services | None = None
    """The init system and the dependents' services, for the restart step (None: not read)."""
    family: tuple[str, ...] = ()
    """Installed libraries of the profile's family that it does not name (``libssl0.9.8``), when
    none of its own is installed."""
    old_copies: tuple[OldCopy, ...] = ()
    """The old (deleted or replaced) copies processes map, each judged by its version."""
    windows: tuple[VulnerableWindow, ...] = ()
    """Per library package, when dpkg's log shows a vulnerable version on disk."""
    dpkg_logs: tuple[str, ...] = ()
    """The dpkg logs read under the root (none: saved lists, or a tree without them)."""
    clean_history: tuple[str, ...] = ()
    """The library packages whose dpkg log shows every version since their first install, none of
    them vulnerable: nothing here can run vulnerable code of them, seen or not."""
    dependents_unknown: str = ""
    """Why the dependents could not be known (a ``dpkg -l`` without relationships), or empty."""
    _copies: dict[int, OldCopy] = field(default_factory=dict, init=False, repr=False, compare=False)
    """``old_copies`` by pid, made on first use (a saved grep over 100,000 processes: looking each
    process up in the tuple was quadratic)."""

    def window(self, package: str) -> VulnerableWindow | None:
        """The vulnerable window of a library package (``libssl3`` or ``libssl3:amd64``)."""
        name = package.partition(":")[0]
        return next((w for w in self.windows if w.package == name), None)

    def old_copy(self, process: ProcessExposure) -> OldCopy | None:
        """The judged old copy ``process`` maps, if it maps one."""
        if self.old_copies and not self._copies:
            for copy in reversed(self.old_copies):  # the first of a pid wins, as before
                self._copies[copy.pid] = copy
        return self._copies.get(process.pid)

    def runs_vulnerable_old_code(self, process: ProcessExposure) -> bool:
        """It maps an old copy of the vulnerable part of the library, and that copy's version is
        not known to be fixed (an old copy that was fixed is not the bug, only a restart due)."""
        if not runs_old_code(process, vulnerable_component(self.profile)):
            return False
        copy = self.old_copy(process)
        return copy is None or copy.state not in FIXED_COPY

    @property
    def installed(self) -> tuple[LibraryVerdict, ...]:
        return tuple(v for v in self.libraries if v.state is not FixState.NOT_INSTALLED)

    @property
    def highest(self) -> Level:
        """The most severe level of any dependent or stray process (``none`` when nothing),
        upper bounds included: a level of unknown fix state, and ``high`` for dependents that
        could not be known (critical needs a server seen listening)."""
        return self._highest(bounds=True)

    @property
    def highest_known(self) -> Level:
        """:attr:`highest` without the upper bounds: what is known to be at risk."""
        return self._highest(bounds=False)

    def _highest(self, bounds: bool) -> Level:
        levels = [d.risk.level for d in self.dependents if bounds or d.risk.known]
        if any(self.runs_vulnerable_old_code(p) for p in self.stray):
            levels.append(Level.HIGH)
        elif any(p.needs_restart for p in self.stray):
            levels.append(Level.LOW)
        at_risk = any(v.state in (FixState.VULNERABLE, FixState.UNKNOWN) for v in self.libraries)
        if self.dependents_unknown and at_risk and bounds:
            levels.append(Level.HIGH)
        unknown = all(v.state is FixState.UNKNOWN for v in self.installed)
        if not levels and at_risk and not self.dependents_unknown and (bounds or not unknown):
            # nothing depends on it, but it is there: never "none" when it could not be told
            levels.append(Level.LOW)
        return max(levels, key=lambda level: level.base, default=Level.NONE)

    @property
    def affected(self) -> bool:
        """Some library package is vulnerable or of unknown state, or old code that is not known
        to be fixed still runs (an older copy that was already fixed needs a restart, not more)."""
        return any(
            v.state in (FixState.VULNERABLE, FixState.UNKNOWN) for v in self.libraries
        ) or any(
            p.needs_restart and (not p.deleted or self.runs_vulnerable_old_code(p))
            for scan in self.runtime
            for p in scan.processes
        )


def runs_old_code(process: ProcessExposure, component: Component | None) -> bool:
    """The process maps a deleted or replaced copy of the vulnerable part of the library (an old
    libcrypto.so mapped by a process is not old libssl code, for a libssl bug)."""
    for mapping, state in zip(process.mappings, process.states, strict=True):
        if state not in (MappingState.DELETED, MappingState.REPLACED):
            continue
        name = mapping.path.rsplit("/", 1)[-1]
        if component is Component.LIBSSL and not name.startswith("libssl"):
            continue
        if component is Component.LIBCRYPTO and not name.startswith(("libcrypto", "libssl")):
            continue
        return True
    return False


def library_state(verdict: LibraryVerdict | None) -> LibraryState:
    """The fix state as the ranking needs it: fixed, vulnerable, or unknown."""
    if verdict is None:
        return LibraryState.UNKNOWN
    if verdict.state is FixState.NOT_AFFECTED:
        return LibraryState.NOT_AFFECTED
    if verdict.state in FIXED_STATES:
        return LibraryState.FIXED
    if verdict.state is FixState.VULNERABLE:
        return LibraryState.VULNERABLE
    return LibraryState.UNKNOWN


def _ranked_state(verdict: LibraryVerdict | None, downgraded: frozenset[str]) -> LibraryState:
    """The state the ranking uses: a not-affected version counts as a fix (old code may run where
    it is not seen) when dpkg's log shows a version before it that is not known to be safe."""
    state = library_state(verdict)
    if (
        state is LibraryState.NOT_AFFECTED
        and verdict is not None
        and verdict.package.partition(":")[0] in downgraded
    ):
        return LibraryState.FIXED
    return state


def vulnerable_component(profile: Profile) -> Component | None:
    """Where the bug is: ``libssl`` spares libcrypto-only users; anything else spares nobody."""
    return {"libssl": Component.LIBSSL, "libcrypto": Component.LIBCRYPTO}.get(profile.component)


def audit(options: AuditOptions, diagnostics: Diagnostics) -> AuditReport:
    """Run the whole analysis on one system (live, ``--root`` or saved files)."""
    from depgraph.commands.graph import with_roles
    from depgraph.graph import reverse_closure

    sources = options.sources
    progress = diagnostics.progress
    progress.stage("reading the package database")
    index = open_index(sources, diagnostics)
    root = tree_root(sources, diagnostics)
    progress.stage("reading changelogs and the openssl build")
    openssl = _openssl(options, root, diagnostics)
    release = _release(options.release)
    verdicts = fix_states(
        options.profile, index, root, diagnostics, release=release, openssl=openssl
    )
    installed = [v for v in verdicts if v.state is not FixState.NOT_INSTALLED]
    kind = _source_kind(sources)
    if not installed:
        return AuditReport(
            options.profile, index.description, kind, verdicts, (), (), "", (),
            warnings=tuple(str(w) for w in diagnostics.warnings),
            family=installed_family(options.profile, index),
        )  # fmt: skip
    missing = missing_relationships(sources)
    native = index.native_arch
    targets = list(dict.fromkeys(_key(v, native) for v in installed))
    progress.stage("walking reverse dependencies")
    graph = reverse_closure(index, targets, with_edges=True)
    diagnostics.warnings.extend(graph.warnings)
    progress.stage(f"scanning the files of {len(graph.dependents)} dependents")
    graph = with_roles(graph, index, sources)
    _warn_without_file_lists(graph, root, diagnostics)
    _warn_unfinished(graph, index.description, diagnostics)
    progress.stage("looking at /proc")
    scans, note = _runtime(options, root, installed, diagnostics)
    by_library = _worst_by_key(installed, native)
    judge = _VersionJudge(options.profile, index, root, release)
    old_copies = _old_copies(root, scans, installed, judge)
    windows, clean, logs = _windows(root, installed, judge)
    owned = {node.package.partition(":")[0] for node in graph.dependents}
    stray = tuple(
        process
        for scan in scans
        for process in scan.to_restart
        if (process.package or "").partition(":")[0] not in owned
    )
    downgraded = _downgraded(root, installed, judge)
    dependents = _dependents(
        graph, scans, by_library, options.profile, old_copies, stray, downgraded, clean
    )
    keys = _keys(root, dependents, scans, diagnostics, sources.snapshot)
    # only the offline restart step needs them; a runtime scan names what to restart itself
    services = None if scans else find_services(index, root, [d.node.package for d in dependents])
    return AuditReport(
        profile=options.profile,
        source=index.description,
        source_kind=kind,
        libraries=verdicts,
        dependents=dependents,
        runtime=scans,
        runtime_note=note,
        stray=stray,
        keys=keys,
        warnings=tuple(str(w) for w in diagnostics.warnings),
        edges=graph.edges,
        services=services,
        old_copies=old_copies,
        windows=windows,
        clean_history=clean,
        dpkg_logs=logs,
        dependents_unknown=missing if not dependents else "",
    )


def _windows(
    root: Path | None, installed: list[LibraryVerdict], judge: _VersionJudge
) -> tuple[tuple[VulnerableWindow, ...], tuple[str, ...], tuple[str, ...]]:
    """Each library package's vulnerable window from dpkg's log under the root, the versions
    judged by the fix check (only a version judged vulnerable counts, not an unknown one); and
    the packages whose log goes back to their first install and shows every version fixed or
    not affected (dpkg(1): the ``install`` line of a package not installed before); and the
    logs read."""
    if root is None:
        return (), (), ()
    from depgraph.dpkg_log import exposure_history, window_of

    found = []
    clean = []
    logs: dict[str, None] = {}
    for name in dict.fromkeys(v.package.partition(":")[0] for v in installed):
        current = {v.version: v for v in installed if v.package.partition(":")[0] == name}
        history = exposure_history(root, name)
        logs.update(dict.fromkeys(history.logs))
        window = window_of(history, functools.partial(_judged_vulnerable, name, current, judge))
        if window is not None:
            found.append(window)
        elif _whole_and_fixed(name, history, current, judge):
            clean.append(name)
    return tuple(found), tuple(clean), tuple(logs)


def _whole_and_fixed(
    name: str,
    history: ExposureHistory,
    current: dict[str | None, LibraryVerdict],
    judge: _VersionJudge,
) -> bool:
    """The log shows ``name``'s first install and every version since, each judged fixed or
    not affected (an unknown one is not known to be clean)."""
    if not history.periods or history.periods[0].installed is None:
        return False
    for period in history.periods:
        judged = current.get(period.version) or judge(name, period.version)
        if judged is None or library_state(judged) not in FIXED_COPY:
            return False
    return True


def _downgraded(
    root: Path | None, installed: list[LibraryVerdict], judge: _VersionJudge
) -> frozenset[str]:
    """The not-affected library packages whose dpkg log shows an earlier version the fix check
    does not call fixed or not affected (a vulnerable or unknown one, then a downgrade)."""
    if root is None:
        return frozenset()
    from depgraph.dpkg_log import exposure_history

    found = set()
    for verdict in installed:
        name = verdict.package.partition(":")[0]
        if verdict.state is not FixState.NOT_AFFECTED or name in found:
            continue
        for period in exposure_history(root, name).periods:
            judged = judge(name, period.version) if period.version != verdict.version else verdict
            if judged is None or library_state(judged) not in FIXED_COPY:
                found.add(name)
                break
    return frozenset(found)


class _VersionJudge:
    """The fix check's verdict on another version of an installed library package, once each."""

    def __init__(
        self, profile: Profile, index: PackageIndex, root: Path | None, release: Release | None
    ) -> None:
        self._profile, self._index, self._root, self._release = profile, index, root, release
        self._done: dict[tuple[str, str], LibraryVerdict | None] = {}

    def __call__(self, package: str, version: str) -> LibraryVerdict | None:
        key = (package, version)
        if key not in self._done:
            found = installed_packages(self._index, package)
            self._done[key] = (
                version_state(
                    self._profile, self._index, found[0], version, self._root, release=self._release
                )
                if found
                else None
            )
        return self._done[key]


def _old_copies(
    root: Path | None,
    scans: tuple[RuntimeScan, ...],
    installed: list[LibraryVerdict],
    judge: _VersionJudge,
) -> tuple[OldCopy, ...]:
    """Each process that maps a deleted or replaced copy of the library, with that copy's version
    (the one dpkg's log shows on disk when the process started) judged by the fix check."""
    from depgraph.dpkg_log import exposure_history

    found = []
    for scan in scans:
        package = scan.library.package
        old = [p for p in scan.processes if p.deleted]
        if not old or package is None:
            continue
        warnings: list[str] = []
        history = exposure_history(root, package, warnings) if root is not None else None
        current = {v.version: v for v in installed if v.package.partition(":")[0] == package}
        for process in old:
            found.append(
                old_copy(process, package, root, history, current, judge, saved=not scan.live)
            )
    return tuple(found)


def _judged_vulnerable(
    name: str,
    current: dict[str | None, LibraryVerdict],
    judge: Callable[[str, str], LibraryVerdict | None],
    version: str,
) -> bool:
    verdict = current.get(version) or judge(name, version)
    return verdict is not None and verdict.state is FixState.VULNERABLE


def old_copy(
    process: ProcessExposure,
    package: str,
    root: Path | None,
    history: ExposureHistory | None,
    current: dict[str | None, LibraryVerdict],
    judge: Callable[[str, str], LibraryVerdict | None],
    *,
    saved: bool = False,
) -> OldCopy:
    """The old copy ``process`` maps: the version of ``package`` on disk when it started
    (dpkg(1)'s log, ``history``), judged (``current``: the installed versions' verdicts, else
    ``judge``); unknown, with why, when the log cannot tell (``saved``: the process comes from
    saved maps text, which has no start times)."""

    def unknown(
        why: str, version: str | None = None, evidence: tuple[Evidence, ...] = ()
    ) -> OldCopy:
        return OldCopy(process.pid, package, LibraryState.UNKNOWN, version, why, evidence)

    if process.started is None:
        return unknown(
            "saved maps text has no start times"
            if saved
            else "its start time is unknown (its stat was not read)"
        )
    if history is None:
        return unknown("no dpkg log: saved files describe no system")
    if not history.logs:
        return unknown(f"no dpkg log under {root}/var/log")
    if not history.periods:
        return unknown(f"dpkg's log does not mention {package} (rotated away?)")
    period = history.version_at(process.started)
    if period is None or period.installed is None:
        first = history.periods[0]
        oldest = first.installed if first.installed is not None else first.replaced
        return unknown(
            f"the process started {_when(process.started)}, before the oldest entry of "
            f"{package} in dpkg's log ({_when(oldest)})",
            evidence=first.evidence[:1],
        )
    verdict = current.get(period.version) or judge(package, period.version)
    if verdict is None:
        return unknown("the version could not be judged", period.version, period.evidence)
    state = library_state(verdict)
    evidence = (
        *period.evidence,
        Evidence(
            "fix-check",
            f"{package} {period.version}: {verdict.state.value} by {verdict.decided_by}: "
            f"{verdict.reason}",
        ),
    )
    why = verdict.reason if state is LibraryState.UNKNOWN else ""
    return OldCopy(process.pid, package, state, period.version, why, evidence)


def _when(seconds: float | None) -> str:
    import time

    if seconds is None:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _warn_without_file_lists(
    graph: DependencyGraph, root: Path | None, diagnostics: Diagnostics
) -> None:
    """Installed dependents without a dpkg file list were classified without their ELF files:
    say so once, with how many, since their roles are less certain (``role_missing``)."""
    if root is None:
        return
    lacking = sorted(
        p for p, role in graph.roles.items() if (role.missing or "").startswith(NO_FILE_LIST)
    )
    if not lacking:
        return
    for package in lacking:  # a list that is there but was refused is named, with why
        missing = graph.roles[package].missing or NO_FILE_LIST
        if missing != NO_FILE_LIST:
            diagnostics.note(package, missing)
    shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more" if len(lacking) > 5 else "")
    one = len(lacking) == 1
    noun, whose = ("dependent", "its role comes") if one else ("dependents", "their roles come")
    diagnostics.warn(
        str(root / "var/lib/dpkg/info"),
        0,
        f"no file list for {len(lacking)} installed {noun} ({shown}): {whose} from package "
        "metadata and the knowledge base, with lower confidence",
    )


def _warn_unfinished(graph: DependencyGraph, source: str, diagnostics: Diagnostics) -> None:
    """Dependents dpkg left half-way (``iU``, ``iF``, ``iH``...) count as installed, since their
    files are on disk, but an upgrade of them did not finish: say which."""
    unfinished = sorted(
        f"{node.package} ({node.state})" for node in graph.dependents if node.state in UNFINISHED
    )
    if unfinished:
        diagnostics.warn(
            source,
            0,
            f"{len(unfinished)} dependents in an unfinished dpkg state, counted as installed "
            f"(dpkg --configure -a): {', '.join(unfinished[:10])}"
            + (f" and {len(unfinished) - 10} more" if len(unfinished) > 10 else ""),
        )


def _key(verdict: LibraryVerdict, native: str | None) -> str:
    """The index key of a library package: ``name`` for the native architecture (and ``all``),
    ``name:arch`` for a foreign one, as the sources key them."""
    arch = verdict.architecture
    if ":" in verdict.package or arch in (None, "all", native) or native is None:
        return verdict.package
    return f"{verdict.package}:{arch}"


_WORST_FIRST = (
    LibraryState.VULNERABLE,
    LibraryState.UNKNOWN,
    LibraryState.FIXED,
    LibraryState.NOT_AFFECTED,
)


def _worst_by_key(installed: list[LibraryVerdict], native: str | None) -> dict[str, LibraryVerdict]:
    """The verdict each library key's dependents are ranked by: the worst of its records (a
    duplicate status paragraph or ``dpkg -l`` row gives two; vulnerable beats fixed)."""
    worst: dict[str, LibraryVerdict] = {}
    for verdict in installed:
        key = _key(verdict, native)
        known = worst.get(key)
        rank = _WORST_FIRST.index(library_state(verdict))
        if known is None or rank < _WORST_FIRST.index(library_state(known)):
            worst[key] = verdict
    return worst


def _source_kind(sources: SourceOptions) -> str:
    if sources.snapshot is not None:
        return "snapshot"
    if sources.dpkg_list is not None:
        return "dpkg-list"
    if sources.status is not None:
        return "dpkg-status"
    if sources.packages or sources.rdepends:
        return "packages-index" if sources.packages else "apt-cache-rdepends"
    return "root" if sources.root is not None else "live"


def _release(name: str | None) -> Release | None:
    return None if name is None else parse_release(name)


def _openssl(
    options: AuditOptions, root: Path | None, diagnostics: Diagnostics
) -> OpensslVersion | None:
    """The audited system's ``openssl version -a``: a saved output, or run here for ``/``."""
    path = options.openssl_output
    if path is None and options.sources.snapshot is not None:
        from depgraph.sources.snapshot import open_snapshot

        path = open_snapshot(options.sources.snapshot).file("openssl-version.txt")
        if path is None:
            return None
    if path is not None:
        from depgraph.sources.files import Kind, read_text

        given = "--openssl-version" if options.openssl_output is not None else None
        text = read_text(path, Kind.CONFIG, given)
        found = parse_openssl_version(text, str(path))
        if found is None:
            diagnostics.problem(
                str(path), 0, "no 'OpenSSL x.y.z' line: not an 'openssl version -a' output"
            )
        return found
    if root is not None and root.resolve() == Path("/"):
        return live_openssl_version()
    return None


def _runtime(
    options: AuditOptions,
    root: Path | None,
    installed: list[LibraryVerdict],
    diagnostics: Diagnostics,
) -> tuple[tuple[RuntimeScan, ...], str]:
    """Scan running processes (live system) or read a saved maps file; else say why not."""
    from depgraph.runtime.library import library_files
    from depgraph.runtime.scan import read_maps_text, scan_maps_file, scan_processes

    if options.sources.snapshot is not None and options.maps is None:
        return _snapshot_runtime(options.sources.snapshot, installed, diagnostics)
    live = root is not None and root.resolve() == Path("/") and options.maps is None
    if options.maps is None and not live:
        why = (
            "running processes not looked at: saved files describe no processes (give --maps)"
            if root is None
            else f"running processes not looked at: {root} is not this system (give --maps)"
        )
        return (), why
    scans = []
    for name, vulnerable in _per_library(installed):
        library = library_files(root or Path("/"), name)
        if library is None:
            diagnostics.warn(name, 0, "its shared objects are not known: not scanned")
            continue
        if options.maps is not None:
            scans.append(
                scan_maps_file(
                    library,
                    options.maps,
                    read_maps_text(options.maps, "replace"),
                    installed_vulnerable=vulnerable,
                )
            )
        else:
            scans.append(scan_processes(library, options.proc, installed_vulnerable=vulnerable))
    partial = _warn_partial(scans, str(options.proc), diagnostics)
    source = str(options.maps) if options.maps is not None else str(options.proc)
    return tuple(scans), f"processes from {source}" + (" (partial)" if partial else "")


def _per_library(installed: list[LibraryVerdict]) -> list[tuple[str, bool | None]]:
    """Each library package once (``libssl3:amd64`` and ``libssl3:i386`` map the same sonames,
    so one scan finds the processes of both), with whether its installed version is vulnerable:
    True if any architecture's is, None if any is unknown, else False."""
    worst: dict[str, bool | None] = {}
    for verdict in installed:
        name = verdict.package.partition(":")[0]
        state = library_state(verdict)
        vulnerable = {LibraryState.VULNERABLE: True, LibraryState.FIXED: False}.get(state)
        if name not in worst or vulnerable is True or (vulnerable is None and worst[name] is False):
            worst[name] = vulnerable
    return list(worst.items())


def _warn_partial(scans: list[RuntimeScan], where: str, diagnostics: Diagnostics) -> bool:
    """Warn once when some processes could not be read; whether the view is partial."""
    partial = [scan for scan in scans if scan.partial]
    if partial:
        diagnostics.warn(where, 0, f"{unreadable_sentence(partial)}: the view is partial")
    return bool(partial)


def _snapshot_runtime(
    path: Path, installed: list[LibraryVerdict], diagnostics: Diagnostics
) -> tuple[tuple[RuntimeScan, ...], str]:
    """The processes the snapshot saved, judged as the live scan judged them then."""
    from depgraph.runtime.library import library_files
    from depgraph.runtime.owners import Owners
    from depgraph.runtime.saved_proc import scan_saved
    from depgraph.sources.snapshot import open_snapshot

    snapshot = open_snapshot(path)
    proc = snapshot.meta / "proc"
    if not snapshot.captured("proc") or not proc.is_dir():
        return (), f"running processes not looked at: {path} holds no processes"
    owners = Owners(snapshot.root, use_cache=False)
    collected = {name.partition(":")[0] for name in snapshot.manifest.libraries}
    scans = []
    for name, vulnerable in _per_library(installed):
        if name not in collected:
            # the collector kept only the maps lines of its own libraries: nothing is known here
            diagnostics.warn(
                str(path),
                0,
                f"{name}: the snapshot's processes were collected for "
                f"{', '.join(sorted(collected)) or 'no library'}: whether any maps {name} "
                "is not known",
            )
            continue
        library = library_files(snapshot.root, name)
        if library is None:
            diagnostics.warn(name, 0, "its shared objects are not known: not scanned")
            continue
        scans.append(
            scan_saved(library, proc, str(path), installed_vulnerable=vulnerable, owners=owners)
        )
    partial = _warn_partial(scans, f"{path}:proc", diagnostics)
    note = f"processes from {path} ({snapshot.manifest.time})"
    return tuple(scans), note + (" (partial)" if partial else "")


def _dependents(
    graph: DependencyGraph,
    scans: tuple[RuntimeScan, ...],
    libraries: dict[str, LibraryVerdict],
    profile: Profile,
    old_copies: tuple[OldCopy, ...] = (),
    stray: tuple[ProcessExposure, ...] = (),
    downgraded: frozenset[str] = frozenset(),
    clean: tuple[str, ...] = (),
) -> tuple[Dependent, ...]:
    reached_by: dict[tuple[str, str], Edge] = {}
    for edge in graph.edges:
        reached_by.setdefault((edge.dependent, edge.target), edge)
    processes: dict[str, list[ProcessExposure]] = {}
    for scan in scans:
        for process in scan.processes:
            if process.package:
                processes.setdefault(process.package.partition(":")[0], []).append(process)
    partial = any(scan.partial for scan in scans)
    unreadable = unreadable_words(scans, why=False)
    component = vulnerable_component(profile)
    looked = {scan.library.package for scan in scans}
    copies = {copy.pid: copy for copy in old_copies}
    unattributed = [
        p.pid
        for p in stray
        if p.package is None
        and runs_old_code(p, component)
        and (p.pid not in copies or copies[p.pid].state not in FIXED_COPY)
    ]
    found = []
    for node in graph.dependents:
        role = graph.roles.get(node.package) or RoleVerdict(
            Role.UNKNOWN, Component.UNKNOWN, 0.0, (), "not classified"
        )
        own = tuple(processes.get(node.package.partition(":")[0], ()))
        role = with_runtime(
            role,
            [
                (p.pid, str(listener), mapping.path)
                for p in own
                for listener in p.listening or ()
                if listener.protocol == "tcp"
                for mapping in p.mappings
            ],
        )
        stale = [p for p in own if runs_old_code(p, component)]
        running = Running(
            maps_library=bool(own),
            stale=bool(stale),
            old_copy=worst_old_copy([copies[p.pid] for p in stale if p.pid in copies]),
            old_other=_old_parts(own),
            unreadable=unreadable,
            unattributed=", ".join(f"pid {pid}" for pid in unattributed[:3])
            + (f" and {len(unattributed) - 3} more" if len(unattributed) > 3 else ""),
            listening_public=any(p.exposed_server for p in own),
            listening_loopback=any(p.scope is not None for p in own),
            partial=partial,
            sockets_unknown=any(p.listening is None for p in own),
            # the library's processes were not looked for: saved files, a tree that is not this
            # system, a snapshot collected for other libraries, unknown shared objects
            unseen=node.path[-1].partition(":")[0] not in looked,
            never_vulnerable=node.path[-1].partition(":")[0] in clean,
        )
        library = node.path[-1]
        risk = assess(
            library=_ranked_state(libraries.get(library), downgraded),
            role=role.role,
            component=role.component,
            vulnerable_component=component,
            running=running,
            direct=node.direct,
            confidence=role.confidence,
        )
        first = reached_by.get((node.package, node.path[1]))
        relation = f"{first.kind}: {first.relation}" if first else ""
        found.append(Dependent(node, relation, role, own, risk, library))
    found.sort(key=lambda d: (-d.risk.score, d.node.depth, d.node.package))
    return tuple(found)


def _old_parts(processes: tuple[ProcessExposure, ...]) -> str:
    """The file names of the deleted or replaced copies the processes map (``libcrypto.so.3``)."""
    names = {
        mapping.path.rsplit("/", 1)[-1]
        for p in processes
        for mapping, state in zip(p.mappings, p.states, strict=True)
        if state in (MappingState.DELETED, MappingState.REPLACED)
    }
    return ", ".join(sorted(names))


def _keys(
    root: Path | None,
    dependents: tuple[Dependent, ...],
    scans: tuple[RuntimeScan, ...],
    diagnostics: Diagnostics,
    snapshot: Path | None = None,
) -> tuple[KeyMaterial, ...]:
    """Keys and certificates of the servers at risk (their configuration under the root)."""
    if root is None:
        return ()
    from depgraph.runtime.keys import find_key_material, servers_for

    servers = [
        d.node.package
        for d in dependents
        if d.role.role is Role.SERVER and d.risk.level.at_least(Level.HIGH)
    ]
    servers += [p.package for scan in scans for p in scan.processes if p.package]
    if not servers_for(servers):
        return ()
    if snapshot is not None:
        from depgraph.sources.snapshot_keys import snapshot_key_material

        saved = snapshot_key_material(snapshot, servers, diagnostics)
        if saved is not None:
            return saved
    return find_key_material(root, servers)
