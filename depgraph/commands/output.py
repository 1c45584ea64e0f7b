"""Where a report may be written: ``-o FILE`` checked before anything is read or written.

depgraph is read-only on what it audits (README "Read-only"), so ``-o`` must not name:

- a file given as an input (``--status s -o s``): the same file by ``st_dev``/``st_ino`` after
  following symbolic links, so a link or a hard link to the input is refused too;
- a path inside an audited tree: ``--root DIR`` (unless it is ``/``, the live system), a folder of
  ``fleet`` hosts, a source tree given to ``changelog --file``;
- the package manager's own databases, under the audited root or the live system:
  ``/var/lib/dpkg`` (dpkg's status and ``info/*.list``, deb-control(5), dpkg(1) "FILES"),
  ``/var/lib/apt`` (apt's lists) and ``/var/cache/apt`` (apt's binary caches), apt.conf(5)
  ``Dir::State`` and ``Dir::Cache``; and ``/usr/share/doc``, whose ``changelog.Debian.gz`` files
  (Debian Policy 12.7) are read as evidence of a fix.

A directory, or a file in a directory that does not exist, is refused here as well: a long audit
(``fleet``) should not end in "cannot write". The messages are :class:`UsageError` lines naming the
output and what it would have replaced.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

from depgraph.errors import UsageError

OUTPUT_OPTIONS = ("output", "report_file", "snapshot_file")
"""The ``dest`` of ``-o`` in each subcommand (``fleet`` and ``collect`` write it themselves)."""

PACKAGE_DATABASES = ("var/lib/dpkg", "var/lib/apt", "var/cache/apt", "usr/share/doc")
"""dpkg's and apt's state, and the packages' changelogs read as evidence (``changelog PKG``),
relative to a root: never a place for a report."""

ROOT_OPTIONS = ("root",)
"""Options naming an audited tree: nothing may be written inside it (unless it is ``/``)."""


def output_path(args: argparse.Namespace) -> Path | None:
    """The ``-o`` of the parsed command line, or ``None`` (stdout)."""
    for name in OUTPUT_OPTIONS:
        value = getattr(args, name, None)
        if isinstance(value, Path):
            return value
    return None


def _option(name: str) -> str:
    return "PATH" if name == "paths" else "--" + name.replace("_", "-")


def _inputs(args: argparse.Namespace) -> Iterator[tuple[str, Path]]:
    """Every path the command line names as an input, with its option."""
    for name, value in sorted(vars(args).items()):
        if name in OUTPUT_OPTIONS:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, Path):
                yield _option(name), item
    profile = getattr(args, "profile", None)  # a built-in name or a TOML file
    if isinstance(profile, str) and profile:
        yield "--profile", Path(profile)


def _resolved(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return Path(os.path.abspath(path))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _same_file(first: os.stat_result, path: Path) -> bool:
    try:
        second = os.stat(path)
    except (OSError, ValueError):
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def check_output(args: argparse.Namespace) -> None:
    """Refuse ``-o`` when it would replace an input, write into an audited tree or a package
    database, or cannot be a file at all; nothing when there is no ``-o``."""
    output = output_path(args)
    if output is None:
        return
    if str(output) == "":
        raise UsageError("-o: an empty file name")
    target = _resolved(output)
    try:
        existing: os.stat_result | None = os.stat(output)
    except (OSError, ValueError):
        existing = None
    if existing is not None and os.path.isdir(output):
        raise UsageError(f"{output}: cannot write: is a directory")
    if existing is None and not target.parent.is_dir():
        raise UsageError(f"{output}: cannot write: no such directory {target.parent}")
    roots = [Path("/")]
    for option, path in _inputs(args):
        if existing is not None and _same_file(existing, path):
            raise UsageError(f"{output}: -o is the input given to {option} ({path}): not replaced")
        if option in (_option(name) for name in ROOT_OPTIONS) or (
            option in ("PATH", "--file") and path.is_dir()
        ):
            folder = _resolved(path)
            roots.append(folder)
            if folder != Path("/") and _inside(target, folder):
                raise UsageError(
                    f"{output}: -o lies inside {folder}, which {option} audits: "
                    "write the report elsewhere"
                )
    for root in roots:
        for database in PACKAGE_DATABASES:
            folder = _resolved(root / database)
            if _inside(target, folder):
                raise UsageError(
                    f"{output}: -o lies inside {folder}, the package manager's database or "
                    "the packages' changelogs: write the report elsewhere"
                )
