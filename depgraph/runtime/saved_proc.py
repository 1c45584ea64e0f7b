"""The processes of a snapshot: what ``depgraph collect`` saved of ``/proc`` (proc(5)), read back
into the same :class:`~depgraph.runtime.scan.RuntimeScan` a live scan gives.

The collector (Python or the POSIX shell one) writes under ``depgraph-snapshot/proc/``:

``btime``, ``clk_tck``   the boot time (``/proc/stat``) and clock ticks per second
``scanned``              how many processes had maps
``unreadable``           ``PID COMM`` of the processes whose maps could not be read
``PID/maps``             the maps lines naming the library, as ``grep -n`` prints them
``PID/stat``, ``PID/cgroup``, ``PID/uid``, ``PID/exe`` (the ``exe`` link's target, as text)
``PID/fd``               the ``socket:[INODE]`` targets of its descriptors (absent: unreadable)
``PID/net/{tcp,tcp6,udp,udp6}``  its network namespace's tables
``PID/files``            ``DEV INODE MTIME PATH`` of each mapped path as the process saw it then
                         (``missing``/``unreadable`` in place of the numbers)
``PID/map_files``        ``ADDRESS DEV INODE`` of ``/proc/PID/map_files/ADDRESS``

The states are judged exactly as the live scan judges them (``mapping_state``), from the identities
recorded at collection time: the answer is the host's at that moment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from depgraph.errors import DepgraphError
from depgraph.runtime.cgroup import Placement, placement
from depgraph.runtime.library import LibraryFiles
from depgraph.runtime.maps import Mapping, MappingState, library_line, mapping_state
from depgraph.runtime.owners import Owners
from depgraph.runtime.scan import (
    ProcessExposure,
    RuntimeScan,
    _Kept,
    _state_reason,
    _text_lines,
    more_mappings,
    process_evidence,
)
from depgraph.runtime.sockets import TABLES, Listener, parse_table
from depgraph.sources.files import Kind, read_raw

_Identity = tuple[int, int, int, float] | None


def _text(path: Path) -> str | None:
    try:
        return read_raw(path, Kind.SNAPSHOT_MEMBER).decode("utf-8", errors="surrogateescape")
    except DepgraphError:
        return None


def _number(path: Path) -> int | None:
    """A saved number (``btime``, ``clk_tck``, ``uid``, ``scanned``), None when it is not one of
    at most 20 ASCII digits: a 4,000-digit ``btime`` would overflow the start time's float."""
    text = _text(path)
    if text is None or not _decimal(text.strip()):
        return None
    return int(text.strip())


LATEST_START = 253402300799.0
"""9999-12-31T23:59:59Z: a later start time (a hostile ``btime`` or ``starttime``) is unknown."""


def _decimal(text: str) -> bool:
    """ASCII digits that int() takes: ``str.isdigit`` also accepts "²", and int() refuses more
    than 4,300 digits; a snapshot may come from a compromised host."""
    return text.isascii() and text.isdigit() and len(text) <= 20


def _identities(text: str) -> dict[str, _Identity | str]:
    """``files``: path -> (major, minor, inode, mtime), or ``missing``/``unreadable``."""
    found: dict[str, _Identity | str] = {}
    for line in text.splitlines():
        fields = line.split(None, 3)
        if len(fields) != 4:
            continue
        device, inode, mtime, path = fields
        if device in ("missing", "unreadable"):
            found[path] = device
            continue
        try:
            dev = int(device)
            found[path] = (os.major(dev), os.minor(dev), int(inode), float(mtime))
        except (ValueError, OverflowError):  # os.major() of a negative or 70-bit number
            found[path] = "unreadable"
    return found


def _map_files(text: str) -> dict[str, tuple[int, int, int]]:
    found = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        try:
            dev = int(fields[1])
            found[fields[0]] = (os.major(dev), os.minor(dev), int(fields[2]))
        except (ValueError, OverflowError):
            continue
    return found


def _mappings(text: str, library: LibraryFiles) -> Iterator[Mapping]:
    """The library's mappings in the saved lines (``grep -n``'s ``N:`` kept as the line number),
    one line at a time: a hostile snapshot's maps may hold millions of lines."""
    needles = [needle.decode() for needle in library.needles]
    for index, line in _text_lines(text):
        number, colon, rest = line.partition(":")
        if colon and _decimal(number):
            index, line = int(number), rest
        parsed = library_line(line, library, needles)
        if parsed is None:
            continue
        address, device, inode, path, deleted = parsed
        yield Mapping(path, device, inode, deleted, address, index)


def _state(
    mapping: Mapping,
    current: _Identity | str | None,
    exact: tuple[int, int, int] | None,
    started: float | None,
) -> MappingState:
    if mapping.deleted:
        return MappingState.DELETED
    if current is None or current == "unreadable":
        return MappingState.UNKNOWN
    if current == "missing":
        return mapping_state(mapping, None)
    assert not isinstance(current, str)
    if exact is not None:
        # what the live scan reads from map_files when the maps line's device is not stat's
        mapping = replace(mapping, device=f"{exact[0]:x}:{exact[1]:x}", inode=exact[2])
    return mapping_state(mapping, current[:3], modified=current[3], started=started)


def _judge(
    identities: dict[str, _Identity | str],
    exact: dict[str, tuple[int, int, int]],
    started: float | None,
) -> Callable[[Mapping], MappingState]:
    """How one process's mappings are judged, from the identities saved with it."""

    def state(mapping: Mapping) -> MappingState:
        return _state(mapping, identities.get(mapping.path), exact.get(mapping.address), started)

    return state


def _listeners(directory: Path) -> tuple[Listener, ...] | None:
    fd = _text(directory / "fd")
    if fd is None:
        return None
    inodes = set()
    for line in fd.splitlines():
        line = line.strip()
        if line.startswith("socket:[") and line.endswith("]") and _decimal(line[8:-1]):
            inodes.add(int(line[8:-1]))
    if not inodes:
        return ()
    tables: dict[int, Listener] = {}
    for name, version in TABLES:
        text = _text(directory / "net" / name)
        if text is not None:
            tables.update(parse_table(text, name.rstrip("6"), version))
    found = [tables[inode] for inode in inodes if inode in tables]
    return tuple(sorted(found, key=lambda s: (s.protocol, s.version, s.port, s.address)))


def scan_saved(
    library: LibraryFiles,
    proc: Path,
    source: str,
    *,
    installed_vulnerable: bool | None = None,
    owners: Owners | None = None,
) -> RuntimeScan:
    """The processes saved under ``proc`` that map ``library`` (``source`` names the snapshot)."""
    boot = _number(proc / "btime")
    ticks = _number(proc / "clk_tck") or 100
    found: list[ProcessExposure] = []
    incomplete: list[tuple[int, str]] = []
    try:
        entries = sorted(int(name) for name in os.listdir(proc) if _decimal(name))
    except OSError:
        entries = []
    for pid in entries:
        directory = proc / str(pid)
        maps_text = _text(directory / "maps")
        if maps_text is None:
            continue
        stat = _text(directory / "stat")
        command, rest = "", []
        if stat is not None:
            head, _, tail = stat.rpartition(")")
            command, rest = head.partition("(")[2], tail.split()
        started = None
        if boot is not None and len(rest) > 19 and _decimal(rest[19]):
            started = boot + int(rest[19]) / ticks
            if not 0 <= started <= LATEST_START:
                started = None
        identities = _identities(_text(directory / "files") or "")
        exact = _map_files(_text(directory / "map_files") or "")

        state = _judge(identities, exact, started)
        kept = _Kept(state)
        for mapping in _mappings(maps_text, library):
            kept.add(mapping)
        if not kept.seen:
            continue
        ordered, states, more = kept.worst()
        exe = _text(directory / "exe")
        exe = exe.strip("\n") if exe else None
        if stat is None:
            # the collection stopped between the maps and the stat: it still maps the library,
            # with its start time (and the version of an old copy) unknown; the view is partial
            incomplete.append((pid, (exe or "").removesuffix(" (deleted)").rsplit("/", 1)[-1]))
        exe_deleted = False
        if exe is not None and exe.endswith(" (deleted)"):
            exe, exe_deleted = exe[: -len(" (deleted)")], True
        cgroup = _text(directory / "cgroup")
        where: Placement | None = placement(cgroup) if cgroup is not None else None
        listening = _listeners(directory)
        shown = f"{source}:{proc.name}/{pid}"
        evidence = process_evidence(shown, ordered, states, where, listening)
        if more:
            evidence += (more_mappings(more, len(ordered), f"{shown}/maps"),)
        found.append(
            ProcessExposure(
                pid=pid,
                command=command,
                exe=exe,
                package=None,
                uid=_number(directory / "uid"),
                started=started,
                placement=where,
                mappings=ordered,
                states=states,
                reason=_state_reason(states, installed_vulnerable),
                listening=listening,
                evidence=evidence,
                exe_deleted=exe_deleted,
            )
        )
    if owners is not None and found:
        exes = [p.exe for p in found if p.exe and p.placement and not p.placement.container]
        known = owners.owners([e for e in exes if e is not None])
        found = [
            replace(p, package=(known[p.exe] or "").partition(":")[0] or None)
            if p.exe in known
            else p
            for p in found
        ]
    unreadable = []
    for line in (_text(proc / "unreadable") or "").splitlines():
        number, _, name = line.partition(" ")
        if _decimal(number):
            unreadable.append((int(number), name))
    scanned = _number(proc / "scanned") or len(entries)
    return RuntimeScan(
        library,
        tuple(found),
        scanned + len(unreadable),
        tuple(unreadable),
        source,
        True,
        incomplete=tuple(incomplete),
    )
