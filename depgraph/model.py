"""The data depgraph works on: frozen values, no I/O.

Field names and relation kinds follow Debian Policy 5 (control fields) and 7.1 (relationships).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple, NewType

PackageName = NewType("PackageName", str)
"""A binary package name, optionally qualified ``name:arch`` for a foreign architecture."""


class RelationKind(enum.Enum):
    """The relationship fields of Debian Policy 7.2-7.6, in the order dpkg lists them."""

    PRE_DEPENDS = "Pre-Depends"
    DEPENDS = "Depends"
    RECOMMENDS = "Recommends"
    SUGGESTS = "Suggests"
    ENHANCES = "Enhances"
    BREAKS = "Breaks"
    CONFLICTS = "Conflicts"
    REPLACES = "Replaces"

    # Members are singletons compared by identity, so identity hashing is exact; it is done in C,
    # where Enum's own __hash__ (hash of the name) is Python code on the walk's hot path.
    __hash__ = object.__hash__


APT_KINDS = {
    "PreDepends": RelationKind.PRE_DEPENDS,
    "Depends": RelationKind.DEPENDS,
    "Recommends": RelationKind.RECOMMENDS,
    "Suggests": RelationKind.SUGGESTS,
    "Enhances": RelationKind.ENHANCES,
    "Breaks": RelationKind.BREAKS,
    "Conflicts": RelationKind.CONFLICTS,
    "Replaces": RelationKind.REPLACES,
}
"""apt's own names of the relationship fields (``apt_pkg.Dependency.dep_type_untranslated``, and
what ``apt-cache rdepends`` prints with ``APT::Cache::ShowDependencyType``)."""


DEPENDENCY_KINDS: tuple[RelationKind, ...] = (RelationKind.PRE_DEPENDS, RelationKind.DEPENDS)
"""What "depends on" means by default: the fields that make a package need another to work."""


class Origin(enum.Enum):
    """Where a package record came from."""

    STATUS = "dpkg-status"
    PACKAGES = "packages-index"
    DPKG_LIST = "dpkg-list"
    RDEPENDS = "apt-cache-rdepends"
    APT_CACHE = "apt-cache"


@dataclass(frozen=True, slots=True)
class Relation:
    """One alternative of a relationship field: ``name[:archqual] [(op version)]`` (Policy 7.1).

    Architecture restrictions ``[...]`` and build profiles ``<...>`` only occur in source control
    files; they are parsed and kept (restrictions) or dropped (profiles), since binary package
    relations never carry them.
    """

    name: str
    arch_qualifier: str | None = None
    operator: str | None = None
    version: str | None = None
    arch_restrictions: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = self.name if self.arch_qualifier is None else f"{self.name}:{self.arch_qualifier}"
        if self.operator is not None:
            text += f" ({self.operator} {self.version})"
        if self.arch_restrictions:
            text += " [" + " ".join(self.arch_restrictions) + "]"
        return text


OrGroup = tuple[Relation, ...]
"""Alternatives separated by ``|``: satisfied when any one is."""


@dataclass(frozen=True, slots=True)
class Package:
    """One version of one binary package, as a source describes it.

    ``state`` is dpkg's package state (``installed``, ``config-files``, ``half-installed``, ...) or
    ``None`` for a package that is only available from an index; ``want`` is dpkg's selection
    (``install``, ``hold``, ``deinstall``, ``purge``, ``unknown``). ``where`` names the file and line
    the record starts at, so every verdict can point back to its evidence.
    """

    name: str
    version: str | None
    architecture: str | None
    state: str | None
    origin: Origin
    where: str
    relations: tuple[tuple[RelationKind, tuple[OrGroup, ...]], ...] = ()
    provides: tuple[Relation, ...] = ()
    section: str | None = None
    source: str | None = None
    multi_arch: str | None = None
    essential: bool = False
    want: str | None = None
    description: str | None = None
    """The synopsis, the first line of ``Description`` (Policy 5.6.13): what ``dpkg -l`` shows."""

    @property
    def installed(self) -> bool:
        """True when dpkg has the package unpacked (its files are on disk).

        ``config-files`` (``rc``) and ``not-installed`` packages are not installed; the half states
        (``half-installed``, ``unpacked``, ``half-configured``, ``triggers-*``) are, because their
        files, and thus their use of a library, are present (dpkg(1), "Package states").
        """
        return self.state is not None and self.state not in ("not-installed", "config-files")

    def groups(self, kind: RelationKind) -> tuple[OrGroup, ...]:
        """The OR-groups of one relationship field, empty when the field is absent."""
        for have, groups in self.relations:
            if have is kind:
                return groups
        return ()


class ReverseRelation(NamedTuple):
    """One alternative of one relationship of ``dependent`` that names a given package.

    ``alternative``: the OR-group has other members; ``last``: this is its last member (apt-cache
    prints ``|`` before every other one). A NamedTuple rather than a dataclass because an archive
    has ~400,000 of them and the walk reads them in its inner loop.
    """

    dependent: str
    kind: RelationKind
    relation: Relation
    alternative: bool
    last: bool


@dataclass(frozen=True, slots=True)
class Warning_:
    """Something a reader had to skip or guess, with where it happened."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Edge:
    """``dependent`` needs ``target`` through one relationship (or Provides) on the way to a target.

    For ``Provides`` edges the dependent is the virtual package and the target the real package that
    provides it, so every edge points the way dependency flows.
    """

    dependent: str
    target: str
    kind: str
    alternative: bool = False
    relation: str = ""
    satisfied: bool | None = True


@dataclass(frozen=True, slots=True)
class Node:
    """A package in the reverse-dependency graph with its shortest path to a target."""

    package: str
    version: str | None
    installed: bool
    depth: int
    path: tuple[str, ...]
    virtual: bool = False
    section: str | None = None
    state: str | None = None

    @property
    def via(self) -> tuple[str, ...]:
        """The packages between this one and the target it reaches (empty for direct dependents)."""
        return self.path[1:-1]

    @property
    def direct(self) -> bool:
        """A direct dependent: one relationship (possibly through a virtual package) away."""
        return self.depth == 1


@dataclass(frozen=True, slots=True)
class DependencyGraph:
    """The reverse closure of the targets: real-package nodes, the edges between them, warnings."""

    targets: tuple[str, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    kinds: tuple[RelationKind, ...]
    installed_only: bool
    warnings: tuple[Warning_, ...] = field(default=())
    roles: dict[str, RoleVerdict] = field(default_factory=dict)
    """TLS role of each dependent, when classified (``depgraph.classify``); empty otherwise."""

    @property
    def dependents(self) -> tuple[Node, ...]:
        """Every node that is not a target and not virtual, nearest first."""
        return tuple(n for n in self.nodes if n.depth > 0 and not n.virtual)


class Role(enum.Enum):
    """Which side of TLS a dependent takes through the library (issue "Classify every dependent")."""

    SERVER = "server"
    CLIENT = "client"
    NON_SSL = "non-ssl"
    UNKNOWN = "unknown"


class Component(enum.Enum):
    """Which part of the library a dependent uses: a libssl bug spares libcrypto-only users."""

    LIBSSL = "libssl"
    LIBCRYPTO = "libcrypto"
    OTHER = "other"
    NONE = "none"
    """It uses no part of the library itself (it reaches it only through another package)."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact a verdict rests on, with the file (and line) a user can check it in."""

    kind: str
    detail: str
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RoleVerdict:
    """A dependent's TLS role, the library component it uses, how sure, and why.

    ``missing`` says what could not be looked at when the role is less certain than it could be
    (no file list for a package known only from a saved list, unreadable files, ...).
    """

    role: Role
    component: Component
    confidence: float
    evidence: tuple[Evidence, ...]
    missing: str | None = None


class Impact(enum.Enum):
    """What the bug lets an attacker do (the profile's ``impact``, ``--impact``): the plan follows
    it (issue 24). Memory disclosure brings new keys, revocation and new passwords; denial of
    service only the upgrade and the restart; code execution and a backdoor treat the exposed
    services' host as compromised. UNKNOWN when neither says: the key steps are then shown only
    as conditional."""

    MEMORY_DISCLOSURE = "memory-disclosure"
    DENIAL_OF_SERVICE = "denial-of-service"
    CODE_EXECUTION = "code-execution"
    BACKDOOR = "backdoor"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def words(self) -> str:
        """``a memory disclosure`` and the like, for the plan's sentences."""
        return _IMPACT_WORDS[self]

    @property
    def compromises_host(self) -> bool:
        """Code execution and a backdoor: what the exposed services could reach is suspect."""
        return self in (Impact.CODE_EXECUTION, Impact.BACKDOOR)


_IMPACT_WORDS = {
    Impact.MEMORY_DISCLOSURE: "a memory disclosure",
    Impact.DENIAL_OF_SERVICE: "a denial of service",
    Impact.CODE_EXECUTION: "code execution",
    Impact.BACKDOOR: "a backdoor",
    Impact.OTHER: "a bug whose impact is neither memory disclosure, code execution nor denial of service",
    Impact.UNKNOWN: "a bug of unknown impact",
}


IMPACTS = tuple(impact.value for impact in Impact if impact is not Impact.UNKNOWN)
"""The impact classes a profile or ``--impact`` may give (``unknown``: give none)."""
