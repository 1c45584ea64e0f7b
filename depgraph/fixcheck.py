"""Is the fix in? Each library package of a profile -> a :class:`LibraryVerdict` with evidence.

Distributions fix bugs without changing the upstream version (``1.0.1f-1ubuntu2``,
``1.0.1e-2+deb7u5``), so a version range alone gives false alarms, and a changelog grep alone gives
false negatives (trimmed changelogs, fixes shipped as "revert to the previous upstream"). The
evidence is combined, strongest rule first, and every rule that had something to say is kept:

1. not installed (dpkg status) -> ``not-installed``; a ``--library`` name no source knows is a
   usage error instead;
2. the upstream version (deb-version(5): epoch and Debian revision stripped, ``+really`` honoured)
   below every vulnerable range -> ``not-affected``; above -> ``fixed`` (a range bound written as a
   package version, with epoch or revision, is compared with the whole package version; a profile's
   ``[[affected]]`` and ``--affected`` are one model);
3. an entry of the package's Debian changelog (deb-changelog(5)) names the CVE and its version is
   at or below the installed one by dpkg ordering -> ``fixed-backport``;
4. the installed version is at or above the release's first fixed version (the profile's table,
   a vendor rebuild tag such as Raspbian's ``+rvt`` set aside), or for ``--library`` the user's
   ``--fixed-version`` (said to be the user's; a built-in profile's for the release is shown beside
   it, and without ``--affected`` "everything below is vulnerable" is said to be an assumption)
   -> ``fixed-backport``; below it -> ``vulnerable``;
5. OpenSSL's upstream CHANGES names the CVE in a release at or below the installed upstream version
   -> ``fixed``;
6. in the vulnerable range with the whole changelog present and no mention -> ``vulnerable``;
7. anything else -> ``unknown``, with the reason. The absence of a CVE in a trimmed or missing
   changelog is never taken as evidence, and nothing is called ``not-affected`` without a range.

Disagreements (the table says fixed and a complete changelog says nothing, the build date of
``openssl version -a`` predates the fix, ...) are listed in ``conflicts``, not hidden.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.debian.changelog import DebianChangelog, Entry, read_changelog
from depgraph.debian.upstream_changes import UpstreamChanges, UpstreamFix, read_upstream_changes
from depgraph.debian.versions import compare, split
from depgraph.model import Evidence, Package
from depgraph.profiles import ANY_RELEASE
from depgraph.release import Release, detect_release
from depgraph.rootpath import resolve_in_root

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics
    from depgraph.openssl_version import OpensslVersion
    from depgraph.profiles import FixedVersion, Profile
    from depgraph.sources.interface import PackageIndex


class FixState(enum.Enum):
    """The state of one library package (report-v1 ``library[].state``)."""

    VULNERABLE = "vulnerable"
    FIXED = "fixed"
    FIXED_BACKPORT = "fixed-backport"
    NOT_AFFECTED = "not-affected"
    NOT_INSTALLED = "not-installed"
    UNKNOWN = "unknown"


DEBIAN_ARCHITECTURES = (
    "amd64",
    "arm64",
    "armel",
    "armhf",
    "i386",
    "mips",
    "mips64el",
    "mipsel",
    "powerpc",
    "ppc64",
    "ppc64el",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "x32",
    "loong64",
    "alpha",
    "hppa",
    "ia64",
    "m68k",
    "sh4",
)
"""Architectures a multi-arch system may have a library installed for (``libssl1.0.0:i386``)."""

_VENDOR_TAG = re.compile(r"\+(?:rvt|rpi\d*)(?=[+~]|$)")
"""Vendor rebuild tags that are not part of Debian's version history: Raspbian's ``+rvt`` infix
(``1.0.1e-2+rvt+deb7u11`` is Debian's ``1.0.1e-2+deb7u11``) and ``+rpiN`` suffix. Left in, ``+rvt``
would sort every Raspbian rebuild above every Debian security update."""
_REPACK = re.compile(r"[+~](?:dfsg|ds|repack|debian)\d*(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class LibraryVerdict:
    """The fix state of one installed library package, why, and what disagrees."""

    package: str
    version: str | None
    architecture: str | None
    state: FixState
    evidence: tuple[Evidence, ...]
    conflicts: tuple[str, ...] = ()
    decided_by: str = ""
    """The rule that decided: ``dpkg-status``, ``version-range``, ``changelog``, ``fixed-version``,
    ``upstream-changelog`` or ``none``."""
    reason: str = ""
    fixed_in: str | None = None
    """The package (or upstream) version the fix arrived in, when known."""

    def to_report(self) -> dict[str, object]:
        """One item of report-v1's ``library`` array (extra fields are allowed by the schema)."""
        return {
            "package": self.package,
            "version": self.version,
            "architecture": self.architecture,
            "state": self.state.value,
            "decided_by": self.decided_by,
            "reason": self.reason,
            "fixed_in": self.fixed_in,
            "conflicts": list(self.conflicts),
            "evidence": [
                {"kind": e.kind, "detail": e.detail, "path": e.path, "line": e.line}
                for e in self.evidence
            ],
        }


@dataclass(frozen=True, slots=True)
class ChangelogFinding:
    """What a Debian changelog says about one CVE for one installed version."""

    cve: str
    entry: Entry | None
    """The oldest entry naming the CVE at or below the installed version (the fix)."""
    lines: tuple[int, ...] = ()
    newer: tuple[Entry, ...] = ()
    """Entries naming the CVE above the installed version (a changelog of another version)."""


@dataclass(frozen=True, slots=True)
class PackageDocs:
    """The changelogs a package installs under ``/usr/share/doc/PKG``."""

    changelog: DebianChangelog | None
    upstream: UpstreamChanges | None
    evidence: tuple[Evidence, ...] = ()
    paths: tuple[str, ...] = field(default=())
    binnmu: DebianChangelog | None = None
    """``changelog.Debian.ARCH.gz``: the binNMU entries (``+bN``, no source change) of a
    Multi-Arch: same package, kept apart so that line numbers point into the right file."""


def upstream_version(version: str) -> tuple[str, str]:
    """``(nominal, real)`` upstream versions of a package version (deb-version(5)).

    ``5.6.1+really5.4.5-1`` is nominally 5.6.1 but really 5.4.5; repack suffixes (``+dfsg``,
    ``+ds``) are not upstream's.
    """
    _, upstream, _ = split(version)
    nominal, _, really = upstream.partition("+really")
    real = really or nominal
    return _REPACK.sub("", nominal), _REPACK.sub("", real)


def without_vendor_tag(version: str) -> str:
    """``1.0.1e-2+rvt+deb7u11`` -> ``1.0.1e-2+deb7u11`` (see ``_VENDOR_TAG``)."""
    return _VENDOR_TAG.sub("", version)


def installed_packages(index: PackageIndex, name: str) -> tuple[Package, ...]:
    """Every installed instance of ``name``: the native one and each foreign architecture's, and
    every record of one name:architecture that a source read twice (a duplicate)."""
    found: dict[tuple[str, str | None, str], Package] = {}
    seen: set[tuple[str, str | None]] = set()
    for key in (name, *(f"{name}:{arch}" for arch in DEBIAN_ARCHITECTURES)):
        package = index.lookup(key)
        if package is None or package.name != name or (name, package.architecture) in seen:
            continue
        seen.add((name, package.architecture))
        records = [p for p in index.copies(key) if p.name == name] or [package]
        for record in records:
            if record.installed:
                found.setdefault((name, record.architecture, record.where), record)
    return tuple(found.values())


def read_package_docs(
    root: Path,
    package: str,
    version: str | None,
    architecture: str | None,
    diagnostics: Diagnostics,
    upstream_changes: bool = True,
) -> PackageDocs:
    """The Debian changelog and (for non-native packages, when ``upstream_changes``) upstream
    changelog of ``package``.

    The doc directory is followed when it is a symlink to another package's (Ubuntu and Debian
    do this for packages built from one source); a binNMU's ``changelog.Debian.ARCH.gz`` (Policy
    12.7, Multi-Arch: same) is read too.
    """
    evidence: list[Evidence] = []
    doc = f"usr/share/doc/{package}"
    link = resolve_in_root(root, doc, follow_last=False)
    real_dir = resolve_in_root(root, doc)
    if link is not None and _is_link(link) and real_dir is not None:
        target = real_dir.name
        evidence.append(
            Evidence("changelog", f"/{doc} is a symlink to the docs of {target}", str(link))
        )
    native = version is not None and "-" not in version.split(":", 1)[-1]
    names = ["changelog.Debian.gz", "changelog.Debian"]
    if native:
        names += ["changelog.gz", "changelog"]
    changelog: DebianChangelog | None = None
    paths: list[str] = []
    for name in names:
        path = resolve_in_root(root, f"{doc}/{name}")
        if path is None or not _may_read(path):
            continue
        changelog = read_changelog(path, diagnostics, str(path))
        paths.append(str(path))
        file_link = resolve_in_root(root, f"{doc}/{name}", follow_last=False)
        if file_link is not None and _is_link(file_link) and not evidence:
            evidence.append(
                Evidence(
                    "changelog",
                    f"/{doc}/{name} is a symlink to {path.parent.name}'s changelog",
                    str(file_link),
                )
            )
        break
    binnmu: DebianChangelog | None = None
    if changelog is not None and architecture:
        path = resolve_in_root(root, f"{doc}/changelog.Debian.{architecture}.gz")
        if path is not None and _may_read(path):
            binnmu = read_changelog(path, diagnostics, str(path))
            if binnmu is not None and binnmu.entries:
                paths.append(str(path))
    upstream: UpstreamChanges | None = None
    if not native and upstream_changes:
        path = resolve_in_root(root, f"{doc}/changelog.gz")
        if path is not None and _may_read(path):
            upstream = read_upstream_changes(path, diagnostics, str(path))
    return PackageDocs(changelog, upstream, tuple(evidence), tuple(paths), binnmu)


def _may_read(path: Path) -> bool:
    """``path`` is a file, or cannot be looked at (a doc directory without permission): reading it
    then warns "cannot read: Permission denied" instead of the changelog silently not existing."""
    try:
        return path.is_file()
    except OSError:
        return True


def _is_link(path: Path) -> bool:
    try:
        return path.is_symlink()
    except OSError:
        return False


def changelog_finding(
    changelog: DebianChangelog, cve: str, installed: str | None
) -> ChangelogFinding:
    """The entry that brought the fix for ``cve``: the oldest entry naming it at or below
    ``installed`` (any entry when ``installed`` is None); later mentions are follow-ups."""
    naming = changelog.mentioning(cve)
    at_or_below = [
        entry for entry in naming if installed is None or compare(entry.version, installed) <= 0
    ]
    newer = tuple(entry for entry in naming if entry not in at_or_below)
    if not at_or_below:
        return ChangelogFinding(cve, None, (), newer)
    oldest = min(at_or_below, key=_EntryAge)
    return ChangelogFinding(cve, oldest, oldest.mentions(cve), newer)


def _older(entry: Entry, other: Entry | None) -> bool:
    return other is None or compare(entry.version, other.version) < 0


class _EntryAge:
    __slots__ = ("version",)

    def __init__(self, entry: Entry) -> None:
        self.version = entry.version

    def __lt__(self, other: _EntryAge) -> bool:
        return compare(self.version, other.version) < 0


def _quote(entry: Entry, lines: tuple[int, ...]) -> str:
    mention = entry.lines[lines[0] - entry.line].strip() if lines else ""
    return f"{entry.heading.strip()} | {mention}" if mention else entry.heading.strip()


def fix_states(
    profile: Profile,
    index: PackageIndex,
    root: Path | None,
    diagnostics: Diagnostics,
    *,
    release: Release | None = None,
    openssl: OpensslVersion | None = None,
) -> tuple[LibraryVerdict, ...]:
    """The fix state of every library package of ``profile`` in ``index``.

    ``root`` is the tree whose ``/usr/share/doc`` holds the changelogs (None for saved files, which
    have none); ``release`` overrides the one read from the root; ``openssl`` is an
    ``openssl version -a`` output of the same system, live or saved.
    """
    releases = _ReleaseOnce(release, root, diagnostics)
    verdicts: list[LibraryVerdict] = []
    for library in profile.libraries:
        packages = installed_packages(index, library)
        if not packages:
            verdicts.append(_not_installed(profile, index, library, root, diagnostics))
            continue
        for package in packages:
            verdict = _decide(profile, index, package, root, releases, openssl, diagnostics)
            verdicts.append(_unfinished(package, verdict, diagnostics))
    return tuple(verdicts)


def _not_installed(
    profile: Profile, index: PackageIndex, library: str, root: Path | None, diagnostics: Diagnostics
) -> LibraryVerdict:
    """No instance of ``library`` is installed: a true all-clear for a profile's library, and for
    ``--library`` when some source knows the name. A ``--library`` name that no source knows (no
    dpkg record, no Packages entry, not in the apt lists under the root, nothing Provides it) is a
    usage error, as in ``depgraph graph``: a typo is not an all-clear."""
    record = _record(index, library)
    detail = f"{library} is not installed according to {index.description}"
    state = record.state if record is not None else None
    if root is not None and _removed(root, library, diagnostics):
        state = "config-files"
    if state:
        detail += f" (dpkg state: {state})"
    elif record is not None:
        detail += (
            f" ({record.version} is available in {record.where.rpartition(':')[0] or record.where})"
        )
    elif profile.adhoc:
        detail += _known_elsewhere(index, library, root, diagnostics)
    return LibraryVerdict(
        package=library,
        version=None,
        architecture=None,
        state=FixState.NOT_INSTALLED,
        evidence=(Evidence("dpkg-status", detail, record.where if record else None),),
        decided_by="dpkg-status",
        reason="the library package is not installed",
    )


def _record(index: PackageIndex, name: str) -> Package | None:
    """Any record of ``name`` (native or of any architecture), installed or not."""
    for key in (name, *(f"{name}:{arch}" for arch in DEBIAN_ARCHITECTURES)):
        package = index.record(key)
        if package is not None and package.name == name:
            return package
    return None


def _known_elsewhere(
    index: PackageIndex, library: str, root: Path | None, diagnostics: Diagnostics
) -> str:
    """How the apt lists know a ``--library`` name the index does not (the installed-only scope
    reads no list), as words for the evidence; :class:`UsageError` when nothing knows it."""
    from depgraph.errors import UsageError
    from depgraph.sources.packages_index import lists_naming, lists_under

    providers = sorted(index.providers(library))
    if providers:
        raise UsageError(
            f"--library {library}: a virtual package provided by {', '.join(providers)} in "
            f"{index.description}; name one of them"
        )
    listed, complete = lists_naming(root, library, diagnostics) if root else (None, True)
    if listed is not None:
        return f" (apt's list {listed} has it: available, never installed here)"
    if not complete:
        return " (not found in the apt lists that could be read; some could not: see the warnings)"
    searched = ""
    if root is not None:
        searched = ", not in its apt lists" if lists_under(root) else ", no apt lists to search"
    raise UsageError(
        f"--library {library}: no package called {library} in {index.description} (no dpkg "
        f"record, no Packages entry{searched}, nothing Provides it): check the name"
    )


def _removed(root: Path, library: str, diagnostics: Diagnostics) -> bool:
    """dpkg removed the library but kept its configuration files (``rc``): warn, since processes
    started before the removal may still map it."""
    from depgraph.sources.dpkg_status import dpkg_states, status_under

    if dpkg_states(root).get(library) != "config-files":
        return False
    diagnostics.warn(
        str(status_under(root)),
        0,
        f"{library}: dpkg state config-files (rc): removed, its files gone; processes started "
        f"before the removal may still map it (depgraph restart --library {library})",
    )
    return True


UNFINISHED = {
    "half-installed": "its unpacking did not finish: the files on disk may be partly another version's",
    "unpacked": "unpacked but not configured: the upgrade did not finish (services not restarted)",
    "half-configured": "its configuration failed part-way: the upgrade did not finish",
    "triggers-awaited": "it awaits another package's trigger processing",
    "triggers-pending": "its triggers have not been processed yet",
}
"""dpkg(1) "Package states" short of ``installed``, and what each means for the fix."""
UNTRUSTED_STATES = frozenset(("half-installed", "unpacked", "half-configured"))
"""States in which a version's files or maintainer scripts are not known to be all in place: a fix
is not called in until dpkg finishes (``dpkg --configure -a``, or a reinstall)."""


def _unfinished(
    package: Package, verdict: LibraryVerdict, diagnostics: Diagnostics
) -> LibraryVerdict:
    """A library package in an unfinished dpkg state: warned, the state in the evidence, and a
    "fixed" that rests on its version lowered to ``unknown`` (a vulnerable one stays vulnerable)."""
    state = package.state
    if state is None or state not in UNFINISHED:
        return verdict
    meaning = UNFINISHED[state]
    where, _ = _where(package.where)
    diagnostics.warn(where or package.name, 0, f"{package.name}: dpkg state {state}: {meaning}")
    evidence = (*verdict.evidence, Evidence("dpkg-status", f"dpkg state {state}: {meaning}", where))
    if state not in UNTRUSTED_STATES or verdict.state not in (
        FixState.FIXED,
        FixState.FIXED_BACKPORT,
        FixState.NOT_AFFECTED,
    ):
        return replace(verdict, evidence=evidence)
    return replace(
        verdict,
        state=FixState.UNKNOWN,
        evidence=evidence,
        decided_by="dpkg-status",
        reason=(
            f"dpkg state {state} ({meaning}): not called {verdict.state.value} until dpkg "
            f"finishes (dpkg --configure -a); otherwise: {verdict.reason}"
        ),
        fixed_in=None,
    )


def _installed_words(package: Package) -> str:
    """``nano 1.3.10-2 is installed``: a ``dpkg -l`` of dpkg 1.15 has no Architecture column."""
    version = f" {package.version}" if package.version else " (no version recorded)"
    arch = f" ({package.architecture})" if package.architecture else ""
    return f"{package.name}{version}{arch} is installed"


def _decide(
    profile: Profile,
    index: PackageIndex,
    package: Package,
    root: Path | None,
    releases: _ReleaseOnce,
    openssl: OpensslVersion | None,
    diagnostics: Diagnostics,
) -> LibraryVerdict:
    version = package.version
    evidence: list[Evidence] = [
        Evidence(
            "dpkg-status",
            _installed_words(package),
            *_where(package.where),
        )
    ]
    if version is None:
        return _verdict(package, FixState.UNKNOWN, evidence, (), "none", "no installed version")
    conflicts: list[str] = []
    cves = profile.cves

    # Rule 2: the upstream version against the vulnerable ranges.
    nominal, real = upstream_version(version)
    in_range: bool | None = None
    if profile.affected:
        ranges = _ranges(profile)
        package_version = without_vendor_tag(version)
        in_range = any(r.contains(real, package_version) for r in profile.affected)
        shown = real if real == nominal else f"{real} (the package says {nominal}+really{real})"
        if any(r.package_bounds for r in profile.affected):
            shown = f"{shown}, package {version},"
        if not in_range:
            below = all(r.before(real, package_version) for r in profile.affected)
            nominal_below = all(r.before(nominal, package_version) for r in profile.affected)
            evidence.append(
                Evidence("version-range", f"upstream {shown} is outside the vulnerable {ranges}")
            )
            _add_docs_evidence(profile, package, root, diagnostics, evidence)
            unaffected = below and nominal_below
            judged = FixState.NOT_AFFECTED if unaffected else FixState.FIXED
            _add_openssl_evidence(profile, package, index, openssl, evidence, conflicts, judged)
            if unaffected:
                return _verdict(
                    package,
                    FixState.NOT_AFFECTED,
                    evidence,
                    conflicts,
                    "version-range",
                    f"upstream {real} predates the vulnerable code",
                )
            return _verdict(
                package,
                FixState.FIXED,
                evidence,
                conflicts,
                "version-range",
                f"upstream {shown} is past the vulnerable range",
            )
        evidence.append(
            Evidence("version-range", f"upstream {shown} is in the vulnerable {ranges}")
        )

    # Rule 3: the package's own Debian changelog.
    docs = _docs(profile, package, root, diagnostics)
    evidence.extend(docs.evidence)
    if docs.binnmu is not None and docs.binnmu.entries:
        top = docs.binnmu.entries[0]
        evidence.append(
            Evidence(
                "changelog",
                f"binNMU {top.describe()}: a rebuild, no source change",
                docs.binnmu.path,
                top.line,
            )
        )
    changelog = docs.changelog
    fix_entry: tuple[str, ChangelogFinding] | None = None
    if changelog is not None:
        for cve in cves:
            finding = changelog_finding(changelog, cve, version)
            if finding.entry is not None and (
                fix_entry is None or _older(finding.entry, fix_entry[1].entry)
            ):
                fix_entry = (cve, finding)
            for newer in finding.newer:
                evidence.append(
                    Evidence(
                        "changelog",
                        f"{cve} is named in {newer.describe()}, newer than the installed {version}",
                        changelog.path,
                        newer.line,
                    )
                )
        if changelog.entries and compare(changelog.entries[0].version, version) > 0:
            conflicts.append(
                f"the changelog's newest entry is {changelog.entries[0].version}, newer than the "
                f"installed {version}: it belongs to another version of the package"
            )
    changelog_state = _changelog_state(changelog, docs, cves)
    if fix_entry is not None:
        named_cve, finding = fix_entry
        entry = finding.entry
        assert entry is not None
        evidence.append(
            Evidence(
                "changelog",
                f"{named_cve} fixed in {entry.describe()}, at or below the installed {version}: "
                f"{_quote(entry, finding.lines)}",
                changelog.path if changelog else None,
                finding.lines[0] if finding.lines else entry.line,
            )
        )
    else:
        evidence.append(changelog_state)

    # Rule 4: the release's first fixed version.
    release = releases.get()
    table = _table(profile, release, version, evidence, conflicts)

    # Rule 5: upstream CHANGES.
    upstream_fix = _upstream_fix(docs.upstream, cves, real)
    if upstream_fix is not None:
        section = upstream_fix.section
        evidence.append(
            Evidence(
                "upstream-changelog",
                f"{upstream_fix.cve} is named under '{section.heading}' ({upstream_fix.rule}): "
                f"fixed upstream in {upstream_fix.version}"
                + ("" if upstream_fix.included else f", after the installed {real}"),
                upstream_fix.path,
                upstream_fix.mention_line,
            )
        )

    if fix_entry is not None:
        entry = fix_entry[1].entry
        assert entry is not None
        if table is not None and not table.fixed:
            conflicts.append(
                f"the changelog names {fix_entry[0]} in {entry.version}, but the installed {version} "
                f"is below {table.label}"
            )
        state, rule = FixState.FIXED_BACKPORT, "changelog"
        reason = f"the Debian changelog shows the fix in {entry.version}"
        fixed_in: str | None = entry.version
    elif table is not None:
        fixed_version = table.entry
        if table.fixed:
            state, rule = FixState.FIXED_BACKPORT, "fixed-version"
            reason = f"{version} is at or above {table.label}"
            if changelog is not None and changelog.complete:
                conflicts.append(
                    f"the installed version is at or above the first fixed version "
                    f"{fixed_version.version}, but its complete changelog does not name "
                    f"{', '.join(cves)}"
                )
        else:
            state, rule = FixState.VULNERABLE, "fixed-version"
            reason = f"{version} is below {table.label}"
            if table.assumed:
                reason += ", every version below it taken as vulnerable (no affected range given)"
        fixed_in = fixed_version.version
        if not (changelog is not None and changelog.complete):
            reason += " (" + changelog_state.detail + ")"
    elif upstream_fix is not None and upstream_fix.included:
        state, rule = FixState.FIXED, "upstream-changelog"
        reason = f"upstream fixed it in {upstream_fix.version}, at or below {real}"
        fixed_in = upstream_fix.version
        if in_range:
            conflicts.append(
                f"upstream's CHANGES says fixed in {upstream_fix.version}, but {real} is inside "
                "the profile's vulnerable range"
            )
    elif in_range and changelog is not None and changelog.complete:
        state, rule = FixState.VULNERABLE, "version-range"
        reason = (
            f"upstream {real} is in the vulnerable range and the complete changelog (back to "
            f"{changelog.oldest.version if changelog.oldest else '?'}) shows no backported fix"
        )
        fixed_in = None
    else:
        state, rule, fixed_in = FixState.UNKNOWN, "none", None
        missing = []
        if in_range:
            missing.append(f"upstream {real} is in the vulnerable range")
        elif in_range is None:
            missing.append(
                "no affected range given (--affected)"
                if profile.adhoc
                else "the profile gives no vulnerable version range"
            )
        missing.append(changelog_state.detail)
        if table is None:
            missing.append(f"no first fixed version is known for {release_name(release)}")
        if upstream_fix is not None and not upstream_fix.included:
            missing.append(f"upstream fixed it only in {upstream_fix.version}")
        reason = "; ".join(missing) + ": a backported fix can be neither shown nor ruled out"
    _add_openssl_evidence(profile, package, index, openssl, evidence, conflicts, state)
    return _verdict(package, state, evidence, conflicts, rule, reason, fixed_in)


def _ranges(profile: Profile) -> str:
    """The profile's vulnerable ranges in words, the user's said to be the user's."""
    ranges = "; ".join(str(r) for r in profile.affected)
    if profile.affected_from == "--affected":
        return f"range {ranges} given with --affected"
    if profile.affected_from:
        return f"range {ranges} of {profile.affected_from}"
    return ranges


class _ReleaseOnce:
    """The release, read from the root the first time a verdict needs it (not-installed and
    out-of-range packages do not, and an unknown release is worth a warning only when it matters)."""

    def __init__(self, given: Release | None, root: Path | None, diagnostics: Diagnostics) -> None:
        self._release = given
        self._root = root
        self._diagnostics = diagnostics
        self._done = given is not None or root is None

    def get(self) -> Release | None:
        if not self._done:
            assert self._root is not None
            self._release = detect_release(self._root, self._diagnostics)
            self._done = True
        return self._release


def _verdict(
    package: Package,
    state: FixState,
    evidence: list[Evidence],
    conflicts: list[str] | tuple[str, ...],
    rule: str,
    reason: str,
    fixed_in: str | None = None,
) -> LibraryVerdict:
    return LibraryVerdict(
        package=package.name,
        version=package.version,
        architecture=package.architecture,
        state=state,
        evidence=tuple(evidence),
        conflicts=tuple(conflicts),
        decided_by=rule,
        reason=reason,
        fixed_in=fixed_in,
    )


def _where(where: str) -> tuple[str | None, None]:
    """A Package's ``where`` as an evidence path: the status file, without the line, because
    python-apt does not give one and both backends must give the same answer."""
    head, _, tail = where.rpartition(":")
    if head and tail.isdigit():
        return head, None
    return where or None, None


def release_name(release: Release | None) -> str:
    """The release in words for messages."""
    return str(release) if release is not None else "this (unknown) release"


def _docs(
    profile: Profile, package: Package, root: Path | None, diagnostics: Diagnostics
) -> PackageDocs:
    """The package's changelogs; its upstream ``changelog.gz`` only where the profile names its
    format (``upstream_changes = "openssl"``): another project's is not OpenSSL's CHANGES."""
    if root is None:
        return PackageDocs(None, None, (Evidence("changelog", "no files to read (saved lists)"),))
    return read_package_docs(
        root,
        package.name,
        package.version,
        package.architecture,
        diagnostics,
        upstream_changes=profile.upstream_changes == "openssl",
    )


def _changelog_state(
    changelog: DebianChangelog | None, docs: PackageDocs, cves: tuple[str, ...]
) -> Evidence:
    """What the changelog's silence is worth, as evidence."""
    named = ", ".join(cves)
    if changelog is None:
        if docs.evidence and docs.evidence[-1].detail.startswith("no files"):
            return docs.evidence[-1]
        return Evidence("changelog", "no readable changelog.Debian.gz (a minimised image?)")
    path = changelog.path
    if not changelog.entries:
        return Evidence("changelog", "the changelog has no readable entry", path)
    oldest = changelog.oldest.version if changelog.oldest else "?"
    if changelog.trimmed_at is not None:
        return Evidence(
            "changelog",
            f"changelog trimmed at {oldest} (older entries removed): its silence on {named} "
            "is not evidence",
            path,
            changelog.trimmed_at,
        )
    if changelog.truncated:
        return Evidence(
            "changelog",
            f"changelog file cut short after {oldest}: its silence on {named} is not evidence",
            path,
        )
    return Evidence(
        "changelog",
        f"the complete changelog ({len(changelog.entries)} entries, back to {oldest}) does not name {named}",
        path,
    )


@dataclass(frozen=True, slots=True)
class _Table:
    """The first fixed version that decides, and where the installed version stands."""

    fixed: bool
    entry: FixedVersion
    label: str
    """``Debian 7 (wheezy)'s first fixed version 1.0.1e-2+deb7u5``, or ``the first fixed version
    3.0.20-1 given with --fixed-version``: whose version it is, never the user's as the release's."""
    assumed: bool = False
    """Given for every release without an affected range: everything below it is assumed vulnerable."""
    evidence: tuple[Evidence, ...] = ()


def _table(
    profile: Profile,
    release: Release | None,
    version: str,
    evidence: list[Evidence],
    conflicts: list[str],
) -> _Table | None:
    """Whether ``version`` reaches the first fixed version: the release's own from the profile's
    table, or for an ad hoc profile the user's ``--fixed-version``, with the release's own (from a
    built-in profile of the same CVE) shown beside it and a disagreement kept as a conflict."""
    own = None
    for distribution, codename in release.candidates() if release is not None else ():
        own = profile.release_fixed(distribution, codename)
        if own is not None:
            break
    given = profile.any_release_fixed()
    # the user's version decides an ad hoc profile; the release's own (from a built-in profile of
    # the same CVE) is shown beside it, and decides when the user gave none
    entry = given if (profile.adhoc and given is not None) or own is None else own
    compared = without_vendor_tag(version)
    table = None if entry is None else _decider(profile, release, version, compared, entry)
    if table is not None:
        evidence.extend(table.evidence)
    if own is not None and own is not entry:
        evidence.extend(release.evidence[:1] if release is not None else ())
        own_fixed = compare(compared, own.version) >= 0
        evidence.append(
            Evidence(
                "fixed-version",
                f"{release_name(release)}'s own first fixed version {own.version}"
                + (f" [{own.source}]" if own.source else "")
                + "; "
                f"installed {version} is {'at or above' if own_fixed else 'below'} it"
                + ("" if table is not None else "; not used without --fixed-version"),
                profile.origin,
            )
        )
        if table is not None and own_fixed != table.fixed:
            conflicts.append(
                f"installed {version} is {'below' if own_fixed else 'at or above'} {table.label}, "
                f"but {'at or above' if own_fixed else 'below'} {release_name(release)}'s own "
                f"first fixed version {own.version}"
            )
    return table


def _decider(
    profile: Profile, release: Release | None, version: str, compared: str, entry: FixedVersion
) -> _Table:
    """Where ``version`` (``compared``: its vendor tag set aside) stands against the first fixed
    version that decides, with the evidence saying whose version it is."""
    fixed = compare(compared, entry.version) >= 0
    note = (
        f" (compared as {compared}: a vendor rebuild tag set aside)" if compared != version else ""
    )
    assumed = entry.release == ANY_RELEASE and not profile.affected
    label = _fixed_label(profile, entry, release)
    evidence: list[Evidence] = []
    if entry.release != ANY_RELEASE:
        evidence.extend(release.evidence[:1] if release is not None else ())
        said = f"{release_name(release)}: first fixed version {entry.version}" + (
            f" [{entry.source}]" if entry.source else ""
        )
    else:
        said = label.removeprefix("the ")
    if assumed and not fixed:
        note += (
            "; no affected range given (--affected): every version below it is assumed vulnerable"
        )
    evidence.append(
        Evidence(
            "fixed-version",
            f"{said}; installed {version} is {'at or above' if fixed else 'below'} it{note}",
            profile.origin,
        )
    )
    return _Table(fixed, entry, label, assumed, tuple(evidence))


def _fixed_label(profile: Profile, entry: FixedVersion, release: Release | None) -> str:
    """Whose first fixed version it is: the release's, the user's, or a profile's for any release."""
    if entry.release != ANY_RELEASE:
        return f"{release_name(release)}'s first fixed version {entry.version}"
    if profile.adhoc:
        return f"the first fixed version {entry.version} given with --fixed-version"
    return f"the profile's first fixed version {entry.version}, for every release"


def _upstream_fix(
    upstream: UpstreamChanges | None, cves: tuple[str, ...], real: str
) -> UpstreamFix | None:
    if upstream is None:
        return None
    best: UpstreamFix | None = None
    for cve in cves:
        found = upstream.fixed_in(cve, real)
        if found is not None and (best is None or (found.included and not best.included)):
            best = found
    return best


def _add_docs_evidence(
    profile: Profile,
    package: Package,
    root: Path | None,
    diagnostics: Diagnostics,
    evidence: list[Evidence],
) -> None:
    """For a package outside the range, the changelog entry that names the CVE (if any), as
    supporting evidence: cheap, and what a user checking the verdict looks for first."""
    if root is None:
        return
    docs = _docs(profile, package, root, diagnostics)
    if docs.changelog is None:
        return
    for cve in profile.cves:
        finding = changelog_finding(docs.changelog, cve, package.version)
        if finding.entry is not None:
            evidence.append(
                Evidence(
                    "changelog",
                    f"{cve} fixed in {finding.entry.describe()}: {_quote(finding.entry, finding.lines)}",
                    docs.changelog.path,
                    finding.lines[0] if finding.lines else finding.entry.line,
                )
            )


def _same_release(real: str, said: str) -> bool:
    """The package's upstream version and the one ``openssl version`` names are one release:
    equal, or one is the other with a suffix after a separator (``1.0.1e-fips``); ``3.0.1`` is
    not ``3.0.13``, nor ``1.0.1`` ``1.0.1e``."""
    if real == said:
        return True
    shorter, longer = sorted((real, said), key=len)
    return longer.startswith(shorter) and longer[len(shorter)] in "-+~_ "


def _add_openssl_evidence(
    profile: Profile,
    package: Package,
    index: PackageIndex,
    openssl: OpensslVersion | None,
    evidence: list[Evidence],
    conflicts: list[str],
    judged: FixState,
) -> None:
    """The ``openssl`` CLI package and ``openssl version -a``: context, never the decision. A
    build date contradicting the state ``judged`` is a conflict; not affected has none (any build
    date is consistent with it)."""
    fixed = (
        None
        if judged is FixState.NOT_AFFECTED
        else judged in (FixState.FIXED, FixState.FIXED_BACKPORT)
    )
    if profile.source_package != "openssl" or package.version is None:
        return
    cli = index.lookup("openssl")
    if cli is not None and cli.installed and cli.version and cli.version != package.version:
        evidence.append(
            Evidence(
                "dpkg-status",
                f"the openssl command-line package is {cli.version}, the library {package.version}: "
                "they are upgraded separately, and only the library's version counts",
                *_where(cli.where),
            )
        )
    if openssl is None:
        return
    _, real = upstream_version(package.version)
    said = openssl.effective_version
    if not _same_release(real, said):
        evidence.append(
            Evidence(
                "openssl-version",
                f"'{openssl.where}' reports OpenSSL {said}, not this library's {real}: not used",
                None,
            )
        )
        return
    if openssl.built_on is None or profile.disclosed is None:
        evidence.append(
            Evidence(
                "openssl-version",
                f"OpenSSL {said}, build date {openssl.built_on_text or 'not given'}: says nothing about the fix",
                openssl.where,
                openssl.line,
            )
        )
        return
    before = openssl.built_before(profile.disclosed)
    if before:
        detail = (
            f"libcrypto built on {openssl.built_on_text}, before the fix date "
            f"{profile.disclosed}: the library in use predates the fix"
        )
        if fixed is True:
            conflicts.append(
                f"openssl version -a says built on {openssl.built_on_text}, before "
                f"{profile.disclosed}, though the package is judged fixed (an old copy still "
                "loaded, or a saved output older than the upgrade?)"
            )
    else:
        detail = (
            f"libcrypto built on {openssl.built_on_text}, on or after the fix date "
            f"{profile.disclosed}: weak evidence of a fix (a rebuild is not a fix)"
        )
        if fixed is False:
            conflicts.append(
                f"openssl version -a says built on {openssl.built_on_text}, on or after the fix "
                "date, though the package is not judged fixed"
            )
    evidence.append(Evidence("openssl-version", detail, openssl.where, openssl.line))


def version_state(
    profile: Profile,
    index: PackageIndex,
    package: Package,
    version: str,
    root: Path | None,
    *,
    release: Release | None = None,
) -> LibraryVerdict:
    """The fix state another ``version`` of the installed ``package`` has, by the rules above.

    For an older copy a process still maps (its version from dpkg's log): the installed package's
    changelog also holds the older versions' entries (deb-changelog(5)), and the range and the
    release's first fixed version apply to any version. Warnings are not repeated (the installed
    version's verdict gave them) and the build of ``openssl version -a`` is today's, not the old
    copy's, so it is left out.
    """
    from depgraph.diagnostics import Diagnostics

    quiet = Diagnostics(strict=False)
    older = replace(package, version=version)
    return _decide(profile, index, older, root, _ReleaseOnce(release, root, quiet), None, quiet)
