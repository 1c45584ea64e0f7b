"""The knowledge base: a package's TLS role when its files are not at hand (a saved ``dpkg -l``).

``data/knowledge.toml`` maps package-name patterns (fnmatch, with version numbers made wildcards so
``postgresql-15`` also covers ``postgresql-9.1``) to a role, each entry citing the ELF scan that
established it. ``bench/build_knowledge.py`` writes it from scans of real packages; it is data, so
it can be read and reviewed like any other evidence. Exact names win over patterns, longer patterns over shorter.
"""

from __future__ import annotations

import fnmatch
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
    matching = [entry for entry in known if fnmatch.fnmatchcase(name, entry.pattern)]
    if not matching:
        return None
    # the most specific pattern: postgresql-client-* before postgresql-*
    return max(matching, key=lambda entry: len(entry.pattern.replace("*", "")))


_VERSION = re.compile(r"\d+(?:\.\d+)*")


def generalize(name: str) -> str:
    """A pattern for a package name with its version numbers as wildcards (``postgresql-*``)."""
    return _VERSION.sub("*", name)
