"""The knowledge base: a package's TLS role when its files are not at hand (a saved ``dpkg -l``).

``data/knowledge.toml`` maps package-name patterns (the name with its version numbers made wildcards,
so ``postgresql-15`` also covers ``postgresql-9.1``) to a role, each entry citing the ELF scan that
established it. A ``*`` stands for a version number only (Debian Policy 8.1: a library package is
named after its soname, ``libcurl4``), never for other words of a name: ``libcurl*`` (from the
OpenSSL flavour libcurl4) covers libcurl3 but not ``libcurl3-gnutls`` or ``libcurl3-nss``, which
are built against GnuTLS and NSS, nor ``postgresql-*`` the extension ``postgresql-15-cron``. ``bench/build_knowledge.py`` writes it from scans of real packages; it is data, so
it can be read and reviewed like any other evidence. Exact names win over patterns, longer patterns over shorter.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from depgraph.model import Component, Role


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What is known of packages matching ``pattern``, and how it was established."""

    pattern: str
    role: Role
    component: Component
    established: str
    either_side: bool = False
    """The scan found a TLS library for either side (its user's choice): a client by itself, a
    server when a service of the package that uses it serves through it."""
    daemon: str | None = None
    """The service the scanned package ships (its systemd units or init scripts, in words): a
    server known as a daemon, whose keys a plan can name without its files."""


@functools.cache
def entries() -> tuple[Knowledge, ...]:
    """All entries of the shipped knowledge base, in file order."""
    resource = resources.files("depgraph.data").joinpath("knowledge.toml")
    data = tomllib.loads(resource.read_text(encoding="utf-8"))
    return tuple(
        Knowledge(
            str(entry["pattern"]),
            Role(entry["role"]),
            Component(entry["component"]),
            str(entry["established"]),
            bool(entry.get("either_side", False)),
            str(entry["daemon"]) if "daemon" in entry else None,
        )
        for entry in data.get("entry", [])
    )


def lookup(name: str, table: tuple[Knowledge, ...] | None = None) -> Knowledge | None:
    """The entry for package ``name``: its exact name first, then the most specific pattern.

    ``table`` replaces the shipped entries (the evaluation's cross-validation uses it).
    """
    known = entries() if table is None else table
    for entry in known:
        if entry.pattern == name:
            return entry
    matching = [entry for entry in known if _covers(entry.pattern, name)]
    if not matching:
        return None
    # the most specific pattern: postgresql-client-* before postgresql-*
    return max(matching, key=lambda entry: len(entry.pattern.replace("*", "")))


_VERSION = re.compile(r"\d+(?:\.\d+)*")


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """The pattern as a regular expression, each ``*`` a version number (what ``generalize``
    replaced)."""
    parts = (re.escape(part) for part in pattern.split("*"))
    return re.compile(_VERSION.pattern.join(parts))


def _covers(pattern: str, name: str) -> bool:
    return _pattern(pattern).fullmatch(name) is not None


def generalize(name: str) -> str:
    """A pattern for a package name with its version numbers as wildcards (``postgresql-*``)."""
    return _VERSION.sub("*", name)
