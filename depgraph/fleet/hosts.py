"""The hosts of a fleet: the command line's paths, expanded into one file per host.

A host is one file: a snapshot written by ``depgraph collect`` (a gzip tarball), a saved
``/var/lib/dpkg/status`` (deb822 paragraphs, deb-control(5)) or a saved ``dpkg -l`` (its
``Desired=`` header or ``ii  name  version`` lines, dpkg-query(1)). The kind is told from the first
bytes, not the name. A folder stands for the files under it (at any depth, sorted, hidden names and
links skipped); a folder that cannot be listed is a host that fails with the reason. The host's name is the file name without ``.tar.gz``, ``.status``, ``.txt``...
until a snapshot's manifest names the host.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from depgraph.errors import SourceError

SNIFF_BYTES = 4096
_SUFFIXES = (".tar.gz", ".tgz", ".status", ".txt", ".list", ".dpkg-l", ".dpkg")
_DPKG_LIST_LINE = re.compile(rb"^[uihrp][ncHUFWti][ R]\s+\S+\s+\S+", re.MULTILINE)


class Kind(enum.Enum):
    """What one host's file is."""

    SNAPSHOT = "snapshot"
    STATUS = "status"
    DPKG_LIST = "dpkg-list"
    UNREADABLE = "unreadable"
    """Not a regular file, or it cannot be opened: the host fails with the reason."""


@dataclass(frozen=True, slots=True)
class Host:
    """One host of the fleet: its file, what the file is, and its name until the audit knows
    better (a snapshot's manifest)."""

    path: Path
    kind: Kind
    name: str
    size: int = 0
    mtime_ns: int = 0
    inode: int = 0
    reason: str = ""
    """Why the file is :attr:`Kind.UNREADABLE`."""


def host_name(path: Path) -> str:
    """The name a file gives its host: ``web01.tar.gz`` -> ``web01``."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def sniff(head: bytes) -> Kind:
    """The kind of a host file from its first bytes."""
    if head.startswith(b"\x1f\x8b"):
        return Kind.SNAPSHOT
    if head.lstrip().startswith(b"Desired=") or _DPKG_LIST_LINE.search(head):
        return Kind.DPKG_LIST
    return Kind.STATUS


def describe(path: Path) -> Host:
    """The host a file is; never raises (an unreadable file is a host that fails)."""
    from depgraph.sources.files import InputError, Why, open_input
    from depgraph.sources.files import Kind as InputKind

    try:
        with open_input(path, InputKind.HOSTS) as file:  # a FIFO or device is refused, not read
            info = os.fstat(file.fileno())
            head = file.read(SNIFF_BYTES) or b""
    except InputError as error:
        reason = "not a regular file" if error.why is Why.NOT_REGULAR else error.reason
        if error.why in (Why.MISSING, Why.OPEN):
            reason = f"cannot read: {error.detail}"
        if error.why is Why.DIRECTORY or os.path.isdir(path):  # a folder open(2) refused too
            reason = _unlistable(path)
        return Host(path, Kind.UNREADABLE, host_name(path), reason=reason)
    except OSError as error:
        return Host(path, Kind.UNREADABLE, host_name(path), reason=_why(error))
    if not head:
        return Host(path, Kind.UNREADABLE, host_name(path), reason="empty file")
    return Host(path, sniff(head), host_name(path), info.st_size, info.st_mtime_ns, info.st_ino)


def _why(error: OSError) -> str:
    return f"cannot read: {error.strerror or error}"


def _unlistable(path: Path) -> str:
    """Why a folder given as a host is one: it could not be listed (:func:`expand`)."""
    try:
        with os.scandir(path):
            pass
    except OSError as error:
        return f"a folder that cannot be listed: {error.strerror or error}"
    return "a folder, not a host file"


def expand(paths: Sequence[Path]) -> Iterator[str]:
    """The host files the paths name, absolute: files as given, folders walked (sorted, no hidden
    names, no symbolic links followed); each file once. A path that does not exist is a
    :class:`SourceError` (a typo on the command line, not a host that failed).

    Nothing is kept per file, so a fleet's paths can be walked twice (counted, then audited)
    without a list of them in memory: a file is left out when an earlier PATH already named it,
    itself or a folder above it, which only needs the command line's few PATHs."""
    earlier: list[tuple[str, bool]] = []  # (normalised absolute path, is a folder)
    for path in paths:
        name = os.path.normpath(path.absolute())
        if path.is_dir():
            files: Iterator[str] = _walk(Path(name))
        elif path.exists() or path.is_symlink():
            files = iter((name,))
        else:
            raise SourceError(path, "no such file or directory")
        for file in files:
            if not any(_covers(before, folder, file) for before, folder in earlier):
                yield file
        earlier.append((name, path.is_dir()))


def _covers(before: str, folder: bool, file: str) -> bool:
    if not folder:
        return file == before
    return file.startswith(before.rstrip(os.sep) + os.sep)


def _walk(folder: Path) -> Iterator[str]:
    """The files under ``folder``: its own, sorted, then each subfolder's in turn (os.walk's
    order), with a stack rather than recursion, so that a tree 1,000 folders deep is walked like
    any other. A folder that cannot be listed is given as it is: a host that fails with the
    reason (:func:`describe`), not a crash and not a silent gap."""
    stack = [str(folder)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(
                    (entry.name, _is_folder(entry))
                    for entry in listing
                    if not entry.name.startswith(".") and not entry.is_symlink()
                )
        except OSError:
            yield directory
            continue
        for name, is_folder in entries:
            if not is_folder:
                yield os.path.join(directory, name)
        stack.extend(
            os.path.join(directory, name) for name, is_folder in reversed(entries) if is_folder
        )


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
