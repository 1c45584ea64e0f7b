"""Vulnerability profiles: one TOML file per vulnerability (read with :mod:`tomllib`, TOML 1.0).

A profile says which library packages carry the bug (any architecture), which part of the library
(``libssl``, ``libcrypto`` or ``any``), the vulnerable upstream ranges (OSV-style: ``introduced`` and
``fixed`` or ``last_affected``, in dpkg's version ordering), the first fixed package version of each
release, the disclosure date and the remediation steps. Built-in profiles live beside this module;
``--profile FILE`` reads any other, and :func:`adhoc_profile` builds one from ``--library``, ``--cve``
and ``--fixed-version``.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import NewType

from depgraph.debian.changelog import normalise_cve
from depgraph.debian.versions import compare, split
from depgraph.errors import DepgraphError
from depgraph.model import Impact
from depgraph.profiles.schema import (
    SchemaError,
    locate,
    package_problem,
    validate,
    version_problem,
)

CveId = NewType("CveId", str)
"""``CVE-YYYY-NNNN``, upper case."""

ANY_RELEASE = "*"
"""A fixed version that holds for every release (``--fixed-version`` of an ad-hoc profile)."""


class ProfileError(DepgraphError):
    """A profile cannot be found or is not a valid profile."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AffectedRange:
    """Versions from ``introduced`` up to (not including) ``fixed``, or up to and including
    ``last_affected`` (OSV's two ways of closing a range), in dpkg's ordering (deb-version(5)).

    A bound without epoch or Debian revision (``5.6.0``) is an upstream version, compared with the
    installed package's upstream version (``+really`` honoured); a bound with either
    (``5.6.1+really5.4.5-1``) is a package version, compared with the whole installed version. A
    profile's ``[[affected]]`` and ``--affected`` are read into this one model.
    """

    introduced: str
    fixed: str | None = None
    last_affected: str | None = None

    def contains(self, upstream: str, package: str | None = None) -> bool:
        """The version (``upstream``, and the whole ``package`` version for package-version
        bounds; ``upstream`` stands for both when ``package`` is not given) is inside the range."""
        if self.before(upstream, package):
            return False
        if self.fixed is not None:
            return _against(self.fixed, upstream, package) < 0
        if self.last_affected is not None:
            return _against(self.last_affected, upstream, package) <= 0
        return True

    @property
    def package_bounds(self) -> bool:
        """Some bound is a package version (compared with the whole installed version)."""
        bounds = (self.introduced, self.fixed, self.last_affected)
        return any(bound is not None and is_package_version(bound) for bound in bounds)

    def before(self, upstream: str, package: str | None = None) -> bool:
        """The version sorts before ``introduced``: it predates the vulnerable code."""
        return _against(self.introduced, upstream, package) < 0

    def __str__(self) -> str:
        lower = f">= {self.introduced}" if self.introduced != EVERY_VERSION else ""
        upper = ""
        if self.fixed is not None:
            upper = f"< {self.fixed}"
        elif self.last_affected is not None:
            upper = f"<= {self.last_affected}"
        return ", ".join(part for part in (lower, upper) if part) or "every version"


EVERY_VERSION = "0"
"""The ``introduced`` of a range given without a lower bound (``--affected '< 1.2'``)."""


def is_package_version(version: str) -> bool:
    """``version`` has an epoch or a Debian revision (deb-version(5)): a package's version, not
    upstream's."""
    epoch, _, revision = split(version)
    return bool(epoch or revision or ":" in version)


def _against(bound: str, upstream: str, package: str | None) -> int:
    """``compare(version, bound)``, on the side of the version the bound is written on."""
    side = package if package is not None and is_package_version(bound) else upstream
    return compare(side, bound)


@dataclass(frozen=True, slots=True)
class FixedVersion:
    """The first package version of a release that has the fix."""

    distribution: str
    release: str
    version: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class Remediation:
    """One step of what to do, in order."""

    step: str
    text: str


@dataclass(frozen=True, slots=True)
class Exposure:
    """A known path to the library that matters, e.g. sshd -> libsystemd0 -> liblzma5."""

    package: str
    via: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class Profile:
    """One vulnerability, as data."""

    id: str
    title: str
    cves: tuple[CveId, ...]
    libraries: tuple[str, ...]
    component: str = "any"
    source_package: str | None = None
    impact: Impact = Impact.UNKNOWN
    sonames: tuple[str, ...] = ()
    """The shared objects that carry the bug: a renamed package (``libssl3t64``) is found by them."""
    affected: tuple[AffectedRange, ...] = ()
    fixed: tuple[FixedVersion, ...] = ()
    disclosed: datetime.date | None = None
    remediation: tuple[Remediation, ...] = ()
    exposures: tuple[Exposure, ...] = ()
    references: tuple[str, ...] = ()
    upstream_changes: str | None = None
    """The format of the packages' upstream ``changelog.gz`` when it is worth reading (``openssl``)."""
    adhoc: bool = False
    """Built from ``--library`` and ``--cve``: its library name is the user's, and a name that no
    source knows is an error, not "not installed"."""
    affected_from: str = ""
    """Whose ranges ``affected`` holds when not the profile's own: ``--affected``, or the origin
    of the built-in profile an ad hoc one took them from."""
    known_from: str = ""
    """An ad hoc profile completed by a built-in one for the same CVE: that one's origin."""
    origin: str = ""
    """Where the profile was read from (``builtin:heartbleed``, a path, or ``command line``)."""

    def fixed_for(self, distribution: str, release: str) -> FixedVersion | None:
        """The first fixed version for ``distribution``/``release``, or the any-release one."""
        for entry in self.fixed:
            if entry.distribution == distribution and entry.release == release:
                return entry
        for entry in self.fixed:
            if entry.release == ANY_RELEASE:
                return entry
        return None

    def release_fixed(self, distribution: str, release: str) -> FixedVersion | None:
        """The release's own first fixed version (not an any-release one)."""
        for entry in self.fixed:
            if entry.distribution == distribution and entry.release == release:
                return entry
        return None

    def any_release_fixed(self) -> FixedVersion | None:
        """The first fixed version given for every release (``--fixed-version``)."""
        for entry in self.fixed:
            if entry.release == ANY_RELEASE:
                return entry
        return None

    def to_report(self) -> dict[str, object]:
        """The report-v1 ``profile`` object."""
        return {"id": self.id, "cves": list(self.cves), "libraries": list(self.libraries)}


def builtin_names() -> tuple[str, ...]:
    """The ids of the built-in profiles, sorted."""
    folder = resources.files("depgraph.profiles")
    return tuple(
        sorted(
            entry.name.removesuffix(".toml")
            for entry in folder.iterdir()
            if entry.name.endswith(".toml")
        )
    )


def builtin_profiles() -> tuple[Profile, ...]:
    """Every built-in profile."""
    return tuple(load_profile(name) for name in builtin_names())


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by id, or a profile file by path (anything with a ``/`` or ``.toml``)."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith(".toml"):
        path = Path(text)
        from depgraph.errors import SourceError
        from depgraph.sources.files import Kind, read_raw

        try:
            data = read_raw(path, Kind.PROFILE, "--profile")
        except SourceError as error:
            raise ProfileError(text, error.reason) from None
        return parse_profile(data, text)
    if text not in builtin_names():
        known = ", ".join(builtin_names())
        raise ProfileError(text, f"no such built-in profile (built in: {known})")
    data = resources.files("depgraph.profiles").joinpath(f"{text}.toml").read_bytes()
    return parse_profile(data, f"builtin:{text}")


MAX_PROFILE_BYTES = 1 << 20
"""The built-in profiles are 2-5 KB; a megabyte is no profile."""
MAX_LINE = 16 << 10
"""tomllib takes time quadratic in the parts of a dotted key (``a.a.a...``: 16,000 parts, 1.6 s)."""


def parse_profile(data: bytes, where: str) -> Profile:
    """A profile from the bytes of a TOML file; :class:`ProfileError` says what is wrong."""
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileError(where, f"larger than {MAX_PROFILE_BYTES >> 20} MiB: not a profile")
    for number, line in enumerate(data.split(b"\n"), start=1):
        if len(line) > MAX_LINE:
            raise ProfileError(where, f"line {number} is longer than {MAX_LINE >> 10} KiB")
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ProfileError(where, f"not UTF-8 ({error.reason})") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(where, f"not valid TOML: {error}") from None
    except ValueError as error:  # tomllib lets int()'s 4,300-digit limit out as it is
        raise ProfileError(where, f"not a usable TOML file: {error}") from None
    except RecursionError:  # tomllib recurses per level of nested arrays and inline tables
        raise ProfileError(where, "nests arrays or tables too deeply") from None
    try:
        validate(table)
    except SchemaError as error:
        at = locate(data.decode("utf-8"), error.key)
        raise ProfileError(where if at is None else f"{where}:{at}", str(error)) from None
    return _profile(table, where)


def _profile(table: Mapping[str, object], where: str) -> Profile:
    """The profile of a document :func:`~depgraph.profiles.schema.validate` accepted."""
    top = _Reader(table)
    disclosed = table.get("disclosed")
    assert disclosed is None or isinstance(disclosed, datetime.date)
    return Profile(
        id=top.text("id"),
        title=top.text("title"),
        cves=tuple(CveId(normalise_cve(cve)) for cve in top.texts("cves")),
        libraries=top.texts("libraries"),
        component=top.optional("component") or "any",
        source_package=top.optional("source_package"),
        impact=Impact(top.optional("impact") or Impact.UNKNOWN.value),
        sonames=top.texts("sonames"),
        affected=tuple(
            AffectedRange(
                entry.text("introduced"), entry.optional("fixed"), entry.optional("last_affected")
            )
            for entry in top.tables("affected")
        ),
        fixed=tuple(
            FixedVersion(
                distribution=entry.text("distribution").lower(),
                release=entry.text("release").lower(),
                version=entry.text("version"),
                source=entry.optional("source") or "",
            )
            for entry in top.tables("fixed")
        ),
        disclosed=disclosed,
        remediation=tuple(
            Remediation(entry.text("step"), entry.text("text"))
            for entry in top.tables("remediation")
        ),
        exposures=tuple(
            Exposure(entry.text("package"), entry.texts("via"), entry.optional("why") or "")
            for entry in top.tables("exposure")
        ),
        references=top.texts("references"),
        upstream_changes=top.optional("upstream_changes"),
        origin=where,
    )


class _Reader:
    """Typed access to one table of a validated profile (the schema has checked every value)."""

    def __init__(self, table: object) -> None:
        assert isinstance(table, Mapping)
        self.table: Mapping[str, object] = table

    def optional(self, key: str) -> str | None:
        value = self.table.get(key)
        assert value is None or isinstance(value, str)
        return value

    def text(self, key: str) -> str:
        value = self.optional(key)
        assert value is not None
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        assert isinstance(value, list)
        return tuple(str(item) for item in value)

    def tables(self, key: str) -> tuple[_Reader, ...]:
        value = self.table.get(key, [])
        assert isinstance(value, list)
        return tuple(_Reader(item) for item in value)


AFFECTED_OPERATORS = {">=": "introduced", "=": "exactly", "<<": "fixed", "<": "fixed", "<=": "last"}
"""The operators ``--affected`` takes. ``<`` is strictly earlier, as ``<<`` (and as in OSV's ranges),
not the obsolete Policy 7.1 spelling of ``<=``; ``>>`` and ``>`` are refused: a range starts at
its first affected version."""
_CONSTRAINT = re.compile(r"^\s*(<<|<=|>=|>>|=|<|>)\s*([^\s,]+)\s*$")


def parse_affected(spec: str, where: str = "--affected") -> AffectedRange:
    """A range from Debian version constraints joined by commas: ``>= 5.6.0, < 5.6.1+really5.4.5-1``,
    ``>= 1.0.1, <= 1.0.1f``, ``= 5.6.0-0.2``, ``< 1.2``; :class:`ProfileError` says what is wrong."""
    lower: str | None = None
    fixed: str | None = None
    last: str | None = None
    parts = spec.split(",")
    for part in parts:
        match = _CONSTRAINT.match(part)
        if match is None:
            raise ProfileError(
                where,
                f"{part.strip()!r} is not a constraint like '>= 5.6.0' or '< 5.6.1-1' "
                f"(in {spec!r}; operators: {', '.join(AFFECTED_OPERATORS)})",
            )
        operator, version = match.groups()
        if operator not in AFFECTED_OPERATORS:
            raise ProfileError(
                where, f"'{operator}' is not taken: give the first affected version with '>='"
            )
        problem = version_problem(version)
        if problem is not None:
            raise ProfileError(where, problem)
        kind = AFFECTED_OPERATORS[operator]
        if kind in ("introduced", "exactly"):
            if lower is not None:
                raise ProfileError(where, f"more than one lower bound in {spec!r}")
            lower = version
        if kind in ("fixed", "last", "exactly"):
            if fixed is not None or last is not None:
                raise ProfileError(where, f"more than one upper bound in {spec!r}")
            fixed, last = (version, None) if kind == "fixed" else (None, version)
    if lower is None and fixed is None and last is None:
        raise ProfileError(where, "no constraint given")
    affected = AffectedRange(lower or EVERY_VERSION, fixed, last)
    upper = fixed or last
    if upper is not None and lower is not None and not affected.contains(lower, lower):
        raise ProfileError(where, f"{spec!r} contains no version")
    return affected


def adhoc_profile(
    library: str,
    cve: str,
    fixed_version: str | None = None,
    affected: tuple[str, ...] = (),
    impact: str | None = None,
) -> Profile:
    """A profile for ``--library PKG --cve CVE-ID [--fixed-version VER] [--affected SPEC]...
    [--impact CLASS]``.

    The fixed version is the user's, for any release; each ``--affected`` spec is one range
    (:func:`parse_affected`). When a built-in profile covers the same CVE for the same library
    (by package name or by the 64-bit time_t rename), what it knows is used where the user gave
    nothing: its affected ranges, impact, disclosure date, component, sonames, known exposures and
    remediation words, and each release's own first fixed version (kept beside the user's, which
    stays the user's: its source says ``--fixed-version``). ``known_from`` names that profile."""
    try:
        cve_id = CveId(normalise_cve(cve))
    except ValueError as error:
        raise ProfileError("--cve", str(error)) from None
    problem = package_problem(library)
    if problem is not None:
        raise ProfileError("--library", problem)
    fixed: tuple[FixedVersion, ...] = ()
    if fixed_version is not None:
        problem = version_problem(fixed_version)
        if problem is not None:
            raise ProfileError("--fixed-version", problem)
        fixed = (FixedVersion(ANY_RELEASE, ANY_RELEASE, fixed_version, "--fixed-version"),)
    ranges = tuple(parse_affected(spec) for spec in affected)
    try:
        impact_class = Impact(impact) if impact is not None else Impact.UNKNOWN
    except ValueError:
        choices = ", ".join(i.value for i in Impact if i is not Impact.UNKNOWN)
        raise ProfileError("--impact", f"{impact!r} is not one of {choices}") from None
    profile = Profile(
        id=cve_id.lower(),
        title=f"{cve_id} in {library}",
        cves=(cve_id,),
        libraries=(library,),
        affected=ranges,
        affected_from="--affected" if ranges else "",
        fixed=fixed,
        impact=impact_class,
        upstream_changes="openssl" if library.startswith(("libssl", "libcrypto")) else None,
        adhoc=True,
        origin="command line",
    )
    known = next(
        (p for p in builtin_profiles() if cve_id in p.cves and covers(p.libraries, library)), None
    )
    return profile if known is None else _with_knowledge(profile, known)


def covers(libraries: tuple[str, ...], package: str) -> bool:
    """``package`` is one of ``libraries``, or its 64-bit time_t rename (``libssl3t64`` for
    ``libssl3``: Debian's 2024 transition appended ``t64`` to the binary package's name)."""
    name = package.partition(":")[0]
    return (
        name in libraries
        or name.removesuffix("t64") in libraries
        or any(name == f"{library}t64" for library in libraries)
    )


def _with_knowledge(adhoc: Profile, known: Profile) -> Profile:
    """The ad hoc profile completed by the built-in ``known`` (same CVE, same library): the user's
    ranges, impact and fixed version win where given."""
    releases = tuple(
        replace(entry, source=", ".join(filter(None, (entry.source, f"from {known.origin}"))))
        for entry in known.fixed
        if entry.release != ANY_RELEASE
    )
    return replace(
        adhoc,
        title=known.title,
        affected=adhoc.affected or known.affected,
        affected_from=adhoc.affected_from if adhoc.affected else known.origin,
        fixed=adhoc.fixed + releases,
        impact=adhoc.impact if adhoc.impact is not Impact.UNKNOWN else known.impact,
        component=known.component,
        source_package=known.source_package,
        sonames=known.sonames,
        disclosed=known.disclosed,
        exposures=known.exposures,
        remediation=known.remediation,
        references=known.references,
        upstream_changes=known.upstream_changes or adhoc.upstream_changes,
        known_from=known.origin,
    )
