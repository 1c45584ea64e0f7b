"""A library's mappings in ``/proc/PID/maps`` (proc(5)), live or saved.

Each line is ``address perms offset dev inode pathname``. When the mapped file has been unlinked
the kernel writes ``pathname (deleted)``; OpenVZ and some older vendor kernels wrote
``(deleted)pathname`` instead (both are in ``../shared/data/heartbleed/16-*``). A deleted
``/dev/zero`` or SysV segment is shared memory, not a library, and is never matched because only
the library's own file names are.

An upgrade replaces a library by renaming the new file over the old one, so the old inode lives on
unlinked (``(deleted)``). A mapping is *replaced* when the path now leads to another file without
the mapped one being unlinked: the device and inode in the maps line (or, more exactly, a ``stat``
of ``/proc/PID/map_files/ADDRESS``) are not those of the file now at that path (a file system
mounted over the directory, another mount namespace), or the file is the same inode but was
written in place after the process started (``cp`` over it: modification time after the start).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from depgraph.runtime.library import LibraryFiles

NOT_FILES = ("/dev/", "/SYSV", "/memfd:", "/[aio]", "/drm", "/anon_hugepage")
"""Shared memory and devices the kernel names like files (``/dev/zero (deleted)`` is an anonymous
shared mapping); never a library, whatever the pattern (needrestart's ``blacklist_mappings``)."""
DELETED_SUFFIX = " (deleted)"
DELETED_PREFIX = "(deleted)"


class MappingState(enum.Enum):
    """How the mapped copy of the library relates to the file now installed at its path."""

    DELETED = "deleted"
    """The mapped file was unlinked (an upgrade renamed a new one over it, or it was removed)."""
    REPLACED = "replaced"
    """Another file is at the path now (different device or inode)."""
    CURRENT = "current"
    """The process maps the file that is installed now."""
    UNKNOWN = "unknown"
    """Not marked deleted, and the file cannot be compared (a saved maps file, an unreadable path)."""


@dataclass(frozen=True, slots=True)
class Mapping:
    """One mapped file of the library in one process (its segments merged).

    ``device`` is the maps line's ``MAJOR:MINOR`` in hex, ``address`` the first segment's range
    (the name of its ``map_files`` entry), ``line`` the maps line (1-based) it was read from.
    """

    path: str
    device: str
    inode: int
    deleted: bool
    address: str
    line: int

    @property
    def device_numbers(self) -> tuple[int, int] | None:
        """``(major, minor)`` of the device, or None when the field is malformed."""
        major, _, minor = self.device.partition(":")
        try:
            return int(major, 16), int(minor, 16)
        except ValueError:
            return None


def parse_line(line: str) -> tuple[str, str, int, str, bool] | None:
    """``(address, device, inode, path, deleted)`` of a maps line naming a file, else None."""
    fields = line.split(None, 5)
    if len(fields) < 6:
        return None
    address, _perms, _offset, device, inode_text, path = fields
    path = path.rstrip("\n")
    deleted = False
    if path.endswith(DELETED_SUFFIX):
        path = path[: -len(DELETED_SUFFIX)]
        deleted = True
    elif path.startswith(DELETED_PREFIX):
        path = path[len(DELETED_PREFIX) :]
        deleted = True
    if not path.startswith("/"):
        return None
    try:
        inode = int(inode_text)
    except ValueError:
        return None
    return address, device, inode, path, deleted


def library_line(
    line: str, library: LibraryFiles, needles: list[str] | None = None
) -> tuple[str, str, int, str, bool] | None:
    """:func:`parse_line`'s fields when ``line`` maps one of ``library``'s files (a file, not a
    pseudo-file such as ``/memfd:``, that the library's patterns match), else None. ``needles``:
    the library's needles, looked for first (the cheap test that leaves out most lines); None when
    the caller has already looked."""
    if needles is not None and "" not in needles and not any(n in line for n in needles):
        return None
    parsed = parse_line(line)
    if parsed is None or parsed[3].startswith(NOT_FILES) or not library.matches(parsed[3]):
        return None
    return parsed


def _candidate_lines(text: str, needles: list[str]) -> list[tuple[int, str]]:
    """The lines containing a needle, with their numbers, found by ``str.find`` rather than by
    looking at every line (a process maps hundreds of files, and only a few are the library)."""
    if "" in needles:  # a pattern such as "*" that any line may match
        return list(enumerate(text.split("\n"), 1))
    starts: set[int] = set()
    for needle in needles:
        position = text.find(needle)
        while position != -1:
            start = text.rfind("\n", 0, position) + 1
            starts.add(start)
            end = text.find("\n", position)
            if end == -1:
                break
            position = text.find(needle, end + 1)
    found = []
    number, counted = 1, 0  # line numbers counted on from the previous line: linear, not quadratic
    for start in sorted(starts):
        end = text.find("\n", start)
        line = text[start:] if end == -1 else text[start:end]
        number += text.count("\n", counted, start)
        counted = start
        found.append((number, line))
    return found


def library_mappings(text: str, library: LibraryFiles) -> tuple[Mapping, ...]:
    """The library's files mapped in one maps text, each file once (first segment)."""
    needles = [needle.decode() for needle in library.needles]
    found: dict[tuple[str, str, int], Mapping] = {}
    for number, line in _candidate_lines(text, needles):
        parsed = library_line(line, library)
        if parsed is None:
            continue
        address, device, inode, path, deleted = parsed
        key = (path, device, inode)
        if key not in found:
            found[key] = Mapping(path, device, inode, deleted, address, number)
    return tuple(found.values())


def file_identity(path: str) -> tuple[int, int, int] | None:
    """``(major, minor, inode)`` of the file now at ``path`` (symlinks followed), None if absent."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return os.major(status.st_dev), os.minor(status.st_dev), status.st_ino


def mapped_identity(map_file: str) -> tuple[int, int, int] | None:
    """The identity of the file behind a ``/proc/PID/map_files/ADDRESS`` entry, when readable.

    More exact than the maps line on overlay and network file systems, where the device shown in
    maps is not the one ``stat`` of the path reports.
    """
    try:
        status = os.stat(map_file)
    except OSError:
        return None
    return os.major(status.st_dev), os.minor(status.st_dev), status.st_ino


def mapping_state(
    mapping: Mapping,
    current: tuple[int, int, int] | None,
    map_file: str | None = None,
    *,
    modified: float | None = None,
    started: float | None = None,
) -> MappingState:
    """Deleted, replaced or current, given the identity of the file now at the mapped path.

    ``current`` None means that no file is at the path any more: the mapping is of a deleted file
    even when the maps line did not say so (a path removed by renaming its directory).
    ``modified`` is the file's modification time, ``started`` the process's start time.
    """
    if mapping.deleted:
        return MappingState.DELETED
    if current is None:
        return MappingState.DELETED
    numbers = mapping.device_numbers
    if numbers is not None and (*numbers, mapping.inode) == current:
        if modified is not None and started is not None and modified > started + 1:
            return MappingState.REPLACED
        return MappingState.CURRENT
    if map_file is not None:
        exact = mapped_identity(map_file)
        if exact is not None and exact != current:
            return MappingState.REPLACED
        if exact is not None:
            if modified is not None and started is not None and modified > started + 1:
                return MappingState.REPLACED
            return MappingState.CURRENT
    if current[2] == mapping.inode:
        # same inode, other device numbers, and map_files unreadable (not root): an overlay or
        # network file system reports other numbers than its maps lines; no telling
        return MappingState.UNKNOWN
    return MappingState.REPLACED
