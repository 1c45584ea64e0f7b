"""Which files make up the library whose mappings are looked for.

A package's files come from dpkg's file list (``var/lib/dpkg/info/PKG[:ARCH].list``, dpkg(1)); its
shared objects are the ``*.so*`` files in it (``libssl3``: ``libssl.so.3`` and ``libcrypto.so.3``).
Without a list (a package that is not installed here, a saved maps file from another host) the
sonames are guessed from the package name the way Debian Policy 8.1 forms it from the soname
(``libssl1.0.0`` from ``libssl.so.1.0.0``, ``libfoo2-1`` from ``libfoo2.so.1``), and a soname glob
(``libssl.so.*``) is accepted as it is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fnmatch import translate
from pathlib import Path

from depgraph.rootpath import under_root

INFO = "var/lib/dpkg/info"

DEFAULT_CANDIDATES = ("libssl3", "libssl3t64", "libssl1.1", "libssl1.0.2", "libssl1.0.0")
"""``--library`` when none is given: the first of these that is installed, else ``libssl1.0.0``
(Heartbleed's). ``libssl3t64`` is Ubuntu 24.04's and Debian 13's name for ``libssl3``."""

ADVICE_PATTERN = "libssl.so.*"
"""What the Heartbleed advice's ``grep 'libssl.*(deleted)' /proc/*/maps`` looks for: any libssl."""

_POLICY_NAMES = (
    r"^(lib[a-z0-9+.]*[0-9])-([0-9][0-9a-z.+~]*)$",  # libfoo2-1: libfoo2.so.1
    r"^(lib[a-z0-9+.]*?[a-z+])([0-9][0-9a-z.+~]*)$",  # libssl1.0.0: libssl.so.1.0.0
)
_COMPANIONS = {"libssl": ("libcrypto",)}
"""Libraries one package ships together; the soname of the other follows from the first."""


@dataclass(frozen=True, slots=True)
class LibraryFiles:
    """The library looked for: sonames (``libssl.so.3``), globs (``libssl.so.*``), plugin paths.

    A versioned soname is matched by file name wherever it is mapped from (a copy in ``/opt`` is
    the same library); an unversioned plugin (``engines-3/afalg.so``) only at the path dpkg lists,
    since names like ``legacy.so`` are not unique. ``paths`` are all the shared objects dpkg lists
    (empty when guessed); ``where`` says where the names come from (the ``.list`` file, the
    package name, the command line).
    """

    package: str | None
    names: frozenset[str]
    patterns: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    where: str = ""
    architecture: str | None = None
    plugins: frozenset[str] = frozenset()

    @property
    def needles(self) -> tuple[bytes, ...]:
        """Byte strings one of which any matching maps line contains: a cheap first filter."""
        found = {name.encode() for name in self.names}
        found.update(path.rsplit("/", 1)[-1].encode() for path in self.plugins)
        for pattern in self.patterns:
            literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
            found.add(literal.encode())
        return tuple(sorted(found))

    def matches(self, path: str) -> bool:
        """True when the mapped file at ``path`` is one of the library's."""
        basename = path.rsplit("/", 1)[-1]
        if basename in self.names:
            return True
        if self.plugins and _usr_merged(path) in self.plugins:
            return True
        return any(_compiled(pattern).match(basename) for pattern in self.patterns)

    def describe(self) -> str:
        """``libssl3 (libcrypto.so.3, libssl.so.3)`` for messages."""
        shown = ", ".join(sorted(self.names) + list(self.patterns))
        return f"{self.package} ({shown})" if self.package else shown


def _usr_merged(path: str) -> str:
    """``/lib/x/y`` and ``/usr/lib/x/y`` are one file on a merged-/usr system (and dpkg may list
    either): compare without the ``/usr``."""
    return path[4:] if path.startswith("/usr/") else path


_compiled_cache: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _compiled_cache.get(pattern)
    if compiled is None:
        compiled = _compiled_cache[pattern] = re.compile(translate(pattern))
    return compiled


def is_pattern(spec: str) -> bool:
    """A ``--library`` value that names files (``libssl.so.3``, ``libssl.so.*``), not a package."""
    return ".so" in spec or any(char in spec for char in "*?[")


_DPKG_ARCHITECTURES = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "armhf",
    "i686": "i386",
    "ppc64le": "ppc64el",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def _list_file(root: Path, package: str) -> tuple[Path, str | None] | None:
    """The ``.list`` of an installed package (any architecture) and that architecture.

    The native architecture's name and the plain name are tried first (two ``stat`` calls);
    only then is the directory listed, which holds thousands of files.
    """
    name, _, arch = package.partition(":")
    directory = under_root(root, INFO)
    if arch:
        candidate = directory / f"{name}:{arch}.list"
        return (candidate, arch) if candidate.is_file() else None
    native = _DPKG_ARCHITECTURES.get(os.uname().machine)
    if native is not None and os.path.isfile(f"{directory}/{name}:{native}.list"):
        return directory / f"{name}:{native}.list", native
    if os.path.isfile(f"{directory}/{name}.list"):
        return directory / f"{name}.list", None
    try:
        entries = os.listdir(directory)
    except OSError:
        return None
    prefix = f"{name}:"
    for entry in sorted(entries):
        if entry.startswith(prefix) and entry.endswith(".list"):
            return directory / entry, entry[len(prefix) : -len(".list")]
    return None


def installed(root: Path, package: str) -> bool:
    """dpkg has a file list for the package under ``root``."""
    return _list_file(root, package) is not None


def default_package(root: Path) -> str:
    """The library ``depgraph restart`` looks at without ``--library`` (see DEFAULT_CANDIDATES)."""
    for candidate in DEFAULT_CANDIDATES:
        if installed(root, candidate):
            return candidate
    # No file list (a minimised image, a damaged dpkg database): dpkg's status file still knows.
    in_status = installed_in_status(root)
    for candidate in DEFAULT_CANDIDATES:
        if candidate in in_status:
            return candidate
    return "libssl1.0.0"


def installed_in_status(root: Path) -> frozenset[str]:
    """Packages whose files dpkg's status file under ``root`` says are on disk (any state but
    ``not-installed`` and ``config-files``, dpkg(1) "Package states"); empty when unreadable."""
    from depgraph.sources.dpkg_status import dpkg_states

    return frozenset(
        name
        for name, state in dpkg_states(root).items()
        if state not in ("not-installed", "config-files")
    )


def _shared_object(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return ".so." in base or base.endswith(".so")


def guessed_names(package: str) -> frozenset[str]:
    """Sonames a library package of this name ships (Debian Policy 8.1), empty when not a library."""
    name = package.partition(":")[0]
    match = re.match(_POLICY_NAMES[0], name) or re.match(_POLICY_NAMES[1], name)
    if match is None:
        return frozenset()
    stem, version = match.groups()
    stems = (stem, *_COMPANIONS.get(stem, ()))
    return frozenset(f"{name}.so.{version}" for name in stems)


def library_files(root: Path, spec: str) -> LibraryFiles | None:
    """The library named on the command line: a package (its list, else its guessed sonames) or
    a soname or glob. None when it is a package name that gives no soname at all."""
    if is_pattern(spec):
        if any(char in spec for char in "*?["):
            return LibraryFiles(None, frozenset(), (spec,), where="--library")
        return LibraryFiles(None, frozenset({spec}), where="--library")
    found = _list_file(root, spec)
    if found is not None:
        list_path, arch = found
        from depgraph.errors import DepgraphError
        from depgraph.sources.files import Kind, iter_lines

        try:
            paths = tuple(
                line
                for line in iter_lines(list_path, Kind.FILE_LIST)
                if line.startswith("/") and _shared_object(line)
            )
        except DepgraphError:
            paths = ()
        # Plugins (engines-3/*.so, ossl-modules/*.so) are loaded at run time too; what matters
        # for a restart is every object of the package a process may hold.
        if paths:
            names = frozenset(p.rsplit("/", 1)[-1] for p in paths if ".so." in p.rsplit("/", 1)[-1])
            plugins = frozenset(_usr_merged(p) for p in paths if p.endswith(".so"))
            return LibraryFiles(
                spec.partition(":")[0],
                names,
                (),
                paths,
                str(list_path),
                architecture=arch,
                plugins=plugins,
            )
    names = guessed_names(spec)
    if not names:
        return None
    return LibraryFiles(
        spec.partition(":")[0], names, where=f"sonames guessed from the package name {spec}"
    )
