"""The installed libraries of a profile's family that the profile does not name.

A profile names library packages (``libssl1.0.0``); the system may have another soname of the
same library (``libssl0.9.8`` on Ubuntu 9.04, ``libssl3`` today). Those are the packages whose
name is the same library with another soname version (Debian Policy 8.1: the package is named
after the soname) and, where the record says, built from the profile's source package (Policy
5.6.1, ``Source``). They are looked for among the dependencies of the binary package named like
the source (``openssl`` Depends on its libssl) and the libssl names of every release.
"""

from __future__ import annotations

import re

from depgraph.model import RelationKind
from depgraph.profiles import Profile
from depgraph.runtime.library import DEFAULT_CANDIDATES
from depgraph.sources.interface import PackageIndex

_STEM = re.compile(r"^(lib[a-z0-9+.-]*?[a-z+-])[0-9][0-9a-z.+~]*$")


def stem(name: str) -> str:
    """``libssl`` for ``libssl1.0.0``, ``liblzma`` for ``liblzma5``; the name when it has no
    soname version."""
    match = _STEM.match(name)
    return match.group(1) if match else name


def installed_family(profile: Profile, index: PackageIndex) -> tuple[str, ...]:
    """Installed packages of the same library as the profile's, with another soname."""
    stems = {stem(name) for name in profile.libraries}
    candidates: list[str] = list(DEFAULT_CANDIDATES)
    if profile.source_package:
        binary = index.details(profile.source_package)
        if binary is not None and binary.installed:
            candidates.extend(
                relation.name
                for kind in (RelationKind.PRE_DEPENDS, RelationKind.DEPENDS)
                for group in binary.groups(kind)
                for relation in group
            )
    found = []
    for name in dict.fromkeys(candidates):
        if name in profile.libraries or stem(name) not in stems:
            continue
        package = index.lookup(name)
        if package is None or not package.installed:
            continue
        source = (package.source or package.name).split(" ")[0]
        if profile.source_package and package.source and source != profile.source_package:
            continue
        found.append(name)
    return tuple(found)
