"""Every process that maps the library: which copy, how it is exposed, where it runs (proc(5)).

For each ``/proc/PID`` the maps are read with one ``os.open``/``os.read`` loop and searched as bytes
for the library's file names before anything is decoded; kernel threads and zombies have empty maps
and cost that one read. Only the processes that map the library are looked at further: their
executable (``exe``), owning package (``owners``), unit or container (``cgroup``), start time
(``stat`` field 22 plus ``btime``), and listening sockets (``fd`` links, ``net/*``).

A process whose maps cannot be read (another user's, when not root) is counted and named: the
scan is then *partial*, and nothing built on it may say "nothing to do". A process that exits while
it is looked at is skipped without a word. The scan never signals or changes anything.

``scan_maps_file`` reads the same from saved text instead: the output of the Heartbleed advice's
``grep 'libssl.*(deleted)' /proc/*/maps`` (``/proc/PID/maps:LINE``) or one process's maps.
"""

from __future__ import annotations

import enum
import errno
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depgraph.model import Evidence
from depgraph.runtime.maps import Mapping, MappingState, library_mappings, mapping_state

if TYPE_CHECKING:
    # Only the processes that map the library need these; most runs find none, and start-up is
    # most of a run, so ``_describe`` imports them when it has something to describe.
    from depgraph.runtime.cgroup import Placement
    from depgraph.runtime.library import LibraryFiles
    from depgraph.runtime.sockets import Listener, Scope

READ_SIZE = 1 << 18
_GONE = (errno.ENOENT, errno.ESRCH)
Identity = tuple[int, int, int, float]
"""``(major, minor, inode, modification time)`` of a file."""
_MISSING: Identity = (-1, -1, -1, 0.0)
_UNREADABLE: Identity = (-2, -2, -2, 0.0)


class Reason(enum.Enum):
    """Why a process counts (the strongest of its mappings)."""

    DELETED = "deleted"
    """It maps a copy of the library that has been deleted: the old version, until restarted."""
    REPLACED = "replaced"
    """It maps a file that another file has replaced at the same path."""
    VULNERABLE_VERSION = "vulnerable version"
    """It maps the installed file, and the installed version is vulnerable: upgrade, then restart."""
    UNKNOWN = "unknown"
    """Mapped, not marked deleted, and it could not be compared with the installed file."""
    CURRENT = "current"
    """It maps the installed file, which is not known to be vulnerable: nothing to restart."""


_RANK = {
    MappingState.DELETED: 0,
    MappingState.REPLACED: 1,
    MappingState.UNKNOWN: 2,
    MappingState.CURRENT: 3,
}


@dataclass(frozen=True, slots=True)
class ProcessExposure:
    """One process that maps the library.

    ``mappings`` and ``states`` are parallel (one state per mapped file, worst first);
    ``listening`` is None when the process's descriptors could not be read (unknown, not none);
    ``started`` is seconds since the epoch; ``command`` the kernel's ``comm`` name.
    """

    pid: int
    command: str
    exe: str | None
    package: str | None
    uid: int | None
    started: float | None
    placement: Placement | None
    mappings: tuple[Mapping, ...]
    states: tuple[MappingState, ...]
    reason: Reason
    listening: tuple[Listener, ...] | None
    evidence: tuple[Evidence, ...] = ()
    exe_deleted: bool = False

    @property
    def needs_restart(self) -> bool:
        """It keeps an old or vulnerable copy of the library in memory."""
        return self.reason in (Reason.DELETED, Reason.REPLACED, Reason.VULNERABLE_VERSION)

    @property
    def library_path(self) -> str:
        """The mapped file that makes it count (the first, worst, mapping)."""
        return self.mappings[0].path

    @property
    def deleted(self) -> bool:
        """It maps a deleted or replaced copy (report-v1 ``deleted``)."""
        return self.reason in (Reason.DELETED, Reason.REPLACED)

    @property
    def unit(self) -> str | None:
        """The systemd unit, when it runs in one on this host (not in a container)."""
        return self.placement.unit if self.placement and not self.placement.container else None

    @property
    def container(self) -> str | None:
        """``engine:id`` of the container it runs in, if any."""
        return self.placement.container_text if self.placement else None

    @property
    def scope(self) -> Scope | None:
        """The widest scope it listens on; None when it listens on nothing (or that is unknown)."""
        if not self.listening:
            return None
        from depgraph.runtime.sockets import Scope

        for scope in (Scope.ALL, Scope.PUBLIC, Scope.PRIVATE, Scope.LOOPBACK):
            if any(listener.scope is scope for listener in self.listening):
                return scope
        return None

    @property
    def exposed_server(self) -> bool:
        """It listens on an address other hosts can reach (the audit's runtime signal)."""
        scope = self.scope
        return scope is not None and scope.value != "loopback"


@dataclass(frozen=True, slots=True)
class RuntimeScan:
    """The processes mapping the library, and how complete the view was.

    ``partial`` is true when some processes could not be read (``unreadable``: pid and name);
    then an empty ``processes`` does not mean that nothing maps the library. ``source`` is
    ``/proc`` or the saved file read; ``live`` whether it was the running system.
    """

    library: LibraryFiles
    processes: tuple[ProcessExposure, ...]
    scanned: int
    unreadable: tuple[tuple[int, str], ...]
    source: str
    live: bool
    notes: tuple[str, ...] = field(default=())
    unreadable_errors: tuple[int, ...] = ()
    """The errno of each ``unreadable`` process's maps (parallel; empty for saved views)."""
    privilege: str = ""
    """``root``, ``root without CAP_SYS_PTRACE`` or ``not root`` (a live scan; else empty)."""
    incomplete: tuple[tuple[int, str], ...] = ()
    """Processes counted (they are in ``processes``) though not all of their files could be read:
    a snapshot with a process's maps but not its ``stat`` (a collection cut short), so its start
    time, and with it the version of an old copy, is unknown. pid and name."""

    @property
    def partial(self) -> bool:
        """Some processes could not be read, or not fully."""
        return bool(self.unreadable or self.incomplete)

    @property
    def to_restart(self) -> tuple[ProcessExposure, ...]:
        """The processes that keep an old or vulnerable copy of the library."""
        return tuple(process for process in self.processes if process.needs_restart)


def _read(path: str) -> bytes:
    """The whole of a proc file (one ``open``, reads until end of file)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while True:
            chunk = os.read(descriptor, READ_SIZE)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _stat_fields(proc: str, pid: int) -> tuple[str, list[str]] | None:
    """``comm`` and the fields after it in ``/proc/PID/stat`` (comm may hold spaces and ``)``)."""
    try:
        text = _read(f"{proc}/{pid}/stat").decode("utf-8", "replace")
    except OSError:
        return None
    head, _, tail = text.rpartition(")")
    return head.partition("(")[2], tail.split()


def _boot_time(proc: str) -> float | None:
    try:
        text = _read(f"{proc}/stat").decode("ascii", "replace")
    except OSError:
        return None
    match = re.search(r"^btime (\d+)", text, re.M)
    return float(match.group(1)) if match else None


def _state_reason(states: tuple[MappingState, ...], vulnerable: bool | None) -> Reason:
    worst = states[0]
    if worst is MappingState.DELETED:
        return Reason.DELETED
    if worst is MappingState.REPLACED:
        return Reason.REPLACED
    if vulnerable:
        return Reason.VULNERABLE_VERSION
    if worst is MappingState.UNKNOWN:
        return Reason.UNKNOWN
    return Reason.CURRENT


class _Identities:
    """``(major, minor, inode)`` of files at mapped paths, as the process sees them."""

    def __init__(self, proc: str, live: bool) -> None:
        self.proc = proc
        self.live = live
        self._host: dict[str, Identity] = {}
        self._self_mount: str | None = None
        if live:
            try:
                self._self_mount = os.readlink(f"{proc}/self/ns/mnt")
            except OSError:
                self._self_mount = None

    @staticmethod
    def _identity(path: str) -> Identity:
        try:
            status = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return _MISSING
        except OSError:
            return _UNREADABLE
        return os.major(status.st_dev), os.minor(status.st_dev), status.st_ino, status.st_mtime

    def of(self, pid: int, path: str) -> Identity:
        if not self.live:
            return _UNREADABLE
        same_namespace = False
        if self._self_mount is not None:
            try:
                same_namespace = os.readlink(f"{self.proc}/{pid}/ns/mnt") == self._self_mount
            except OSError:
                same_namespace = False
        if same_namespace:
            known = self._host.get(path)
            if known is None:
                known = self._host[path] = self._identity(path)
            return known
        # Another mount namespace (a container, a chroot'ed service): the path means what it
        # means to the process, which /proc/PID/root resolves.
        return self._identity(f"{self.proc}/{pid}/root{path}")


def _states(
    mappings: tuple[Mapping, ...],
    pid: int,
    proc: str,
    identities: _Identities,
    started: float | None,
) -> tuple[tuple[Mapping, ...], tuple[MappingState, ...]]:
    judged: list[tuple[MappingState, Mapping]] = []
    for mapping in mappings:
        if mapping.deleted:
            state = MappingState.DELETED
        else:
            current = identities.of(pid, mapping.path)
            if current == _UNREADABLE:
                state = MappingState.UNKNOWN
            else:
                state = mapping_state(
                    mapping,
                    None if current == _MISSING else current[:3],
                    f"{proc}/{pid}/map_files/{mapping.address}",
                    modified=current[3],
                    started=started,
                )
        judged.append((state, mapping))
    judged.sort(key=lambda pair: worst_first(*pair))
    return tuple(m for _, m in judged), tuple(s for s, _ in judged)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def scan_processes(
    library: LibraryFiles,
    proc: Path = Path("/proc"),
    *,
    installed_vulnerable: bool | None = None,
    owners: object | None = None,
    with_sockets: bool = True,
    only_needing_restart: bool = False,
) -> RuntimeScan:
    """Scan every process under ``proc`` for mappings of ``library``.

    ``installed_vulnerable``: the installed version of the library is known to be vulnerable (from
    the fix check), so a process mapping the installed file counts too. ``owners`` is an
    :class:`~depgraph.runtime.owners.Owners` (made for ``/`` when not given).
    ``only_needing_restart`` leaves out, before looking at their units and sockets, the processes
    that map only the installed file (what ``depgraph restart``'s table shows).
    """
    proc_text = str(proc)
    live = proc_text == "/proc"
    needles = library.needles
    own = os.getpid() if live else -1
    identities = _Identities(proc_text, live)
    try:
        names = os.listdir(proc_text)
    except OSError as error:
        from depgraph.errors import SourceError

        raise SourceError(proc_text, f"cannot list processes: {error.strerror or error}") from None
    matched: list[tuple[int, tuple[Mapping, ...]]] = []
    unreadable: dict[int, int] = {}
    scanned = 0
    for name in names:
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == own:
            continue
        try:
            data = _read(f"{proc_text}/{name}/maps")
        except OSError as error:
            if error.errno in _GONE:
                continue  # exited while we looked
            unreadable[pid] = error.errno or errno.EIO
            continue
        if not data:
            continue  # a kernel thread or a zombie: no user memory
        scanned += 1
        if not any(needle in data for needle in needles):
            continue
        mappings = library_mappings(_decode(data), library)
        if mappings:
            matched.append((pid, mappings))
    processes = _describe(
        matched,
        proc_text,
        identities,
        installed_vulnerable,
        owners,
        with_sockets,
        live,
        only_needing_restart,
    )
    named = []
    errors = []
    for pid in sorted(unreadable):
        fields = _stat_fields(proc_text, pid)
        if fields is not None:  # still there
            named.append((pid, fields[0]))
            errors.append(unreadable[pid])
    notes = []
    if live and _hidepid(proc_text):
        notes.append(f"{proc_text} is mounted with hidepid: other users' processes are not listed")
    return RuntimeScan(
        library,
        processes,
        scanned + len(named),
        tuple(named),
        proc_text,
        live,
        tuple(notes),
        unreadable_errors=tuple(errors),
        privilege=_privilege() if live else "",
    )


def _start_time(fields: list[str], boot: float | None) -> float | None:
    """Seconds since the epoch the process started: ``stat`` field 22 (``starttime``, clock ticks
    after boot; ``fields`` begin at field 3) plus ``btime`` (proc(5))."""
    if boot is None or len(fields) <= 19 or not fields[19].isdigit():
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


CAP_SYS_PTRACE = 19
"""capabilities(7): reading another user's (or a more privileged) process's maps needs it."""


def _privilege() -> str:
    """``root``, ``root without CAP_SYS_PTRACE`` or ``not root``: why maps may be unreadable."""
    if os.geteuid() != 0:
        return "not root"
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("CapEff:") and not (
                    int(line.split()[1], 16) >> CAP_SYS_PTRACE & 1
                ):
                    return "root without CAP_SYS_PTRACE"
    except (OSError, ValueError, IndexError):
        pass
    return "root"


def unreadable_words(
    scans: list[RuntimeScan] | tuple[RuntimeScan, ...], shown: int = 3, *, why: bool = True
) -> str:
    """The processes whose maps could not be read, in words: pid, name and why (``pid 1
    (process_api): permission denied even as root (another user namespace or a protected
    process)``, or without ``why`` only ``pid 1 (process_api)``); empty when every process was
    read. Each pid once, though every scan saw it."""
    seen: dict[int, str] = {}
    for scan in scans:
        errors = scan.unreadable_errors or (None,) * len(scan.unreadable)
        for (pid, name), code in zip(scan.unreadable, errors, strict=True):
            if pid not in seen:
                seen[pid] = f"pid {pid} ({name})" + (_why_unreadable(scan, code) if why else "")
    if not seen:
        return ""
    words = ", ".join(list(seen.values())[:shown])
    more = len(seen) - shown
    return words + (f" and {more} more" if more > 0 else "")


def unreadable_count(scans: list[RuntimeScan] | tuple[RuntimeScan, ...]) -> int:
    """How many processes could not be read, each pid once (every library's scan sees it)."""
    return len({pid for scan in scans for pid, _ in scan.unreadable})


def unreadable_sentence(
    scans: list[RuntimeScan] | tuple[RuntimeScan, ...], shown: int = 10, *, incomplete: bool = True
) -> str:
    """``1 process could not be read: pid 1 (process_api): permission denied even as root (...)``,
    followed (unless ``incomplete`` is false) by :func:`incomplete_sentence`; empty when every
    process was read whole."""
    count = unreadable_count(scans)
    parts = []
    if count:
        noun = "process" if count == 1 else "processes"
        parts.append(f"{count} {noun} could not be read: {unreadable_words(scans, shown)}")
    if incomplete and incomplete_count(scans):
        parts.append(incomplete_sentence(scans, shown))
    return "; ".join(parts)


def _incomplete(scans: list[RuntimeScan] | tuple[RuntimeScan, ...]) -> dict[int, str]:
    return {pid: name for scan in scans for pid, name in scan.incomplete}


def incomplete_count(scans: list[RuntimeScan] | tuple[RuntimeScan, ...]) -> int:
    """How many processes were counted though not fully read, each pid once."""
    return len(_incomplete(scans))


def incomplete_sentence(scans: list[RuntimeScan] | tuple[RuntimeScan, ...], shown: int = 10) -> str:
    """``1 process could not be fully read: pid 7 (nginx): its stat was not saved, so its start
    time is unknown``; empty when none."""
    seen = _incomplete(scans)
    if not seen:
        return ""
    words = ", ".join(
        f"pid {pid} ({name})" if name else f"pid {pid}" for pid, name in list(seen.items())[:shown]
    )
    more = len(seen) - shown
    words += f" and {more} more" if more > 0 else ""
    one = len(seen) == 1
    noun, its, is_ = ("process", "its", "is") if one else ("processes", "their", "are")
    return (
        f"{len(seen)} {noun} could not be fully read: {words}: {its} stat was not saved, so "
        f"{its} start time {is_} unknown"
    )


def _why_unreadable(scan: RuntimeScan, code: int | None) -> str:
    if code is None:  # a saved view (a snapshot) names the processes, not the errors
        return ": unreadable when the processes were saved"
    error = os.strerror(code).lower()
    if code in (errno.EACCES, errno.EPERM) and scan.privilege:
        if scan.privilege != "root":
            return f": {error} ({scan.privilege})"
        # proc(5): reading maps needs ptrace access, which a process of a more privileged
        # namespace (the host's init seen from a container, a protected process) refuses to root
        return f": {error} even as root (another user namespace or a protected process)"
    return f": {error}"


def _hidepid(proc: str) -> bool:
    """``/proc`` hides other users' processes (mount option ``hidepid=``, proc(5))."""
    if os.geteuid() == 0:
        return False
    try:
        text = _read(f"{proc}/self/mountinfo").decode("utf-8", "replace")
    except OSError:
        return False
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[4] == proc and "hidepid=" in line:
            return not any(f"hidepid={value}" in line for value in ("0", "off"))
    return False


def _describe(
    matched: list[tuple[int, tuple[Mapping, ...]]],
    proc: str,
    identities: _Identities,
    vulnerable: bool | None,
    owners: object | None,
    with_sockets: bool,
    live: bool,
    only_needing_restart: bool = False,
) -> tuple[ProcessExposure, ...]:
    if not matched:
        return ()
    boot = _boot_time(proc)
    found: list[ProcessExposure] = []
    tools: tuple[Any, Any, Any] | None = None
    for pid, mappings in matched:
        fields = _stat_fields(proc, pid)
        if fields is None:
            continue  # exited
        command, rest = fields
        started = _start_time(rest, boot)
        ordered, states = _states(mappings, pid, proc, identities, started)
        reason = _state_reason(states, vulnerable)
        if only_needing_restart and reason in (Reason.CURRENT, Reason.UNKNOWN):
            continue
        if tools is None:
            from depgraph.runtime.cgroup import placement
            from depgraph.runtime.owners import Owners
            from depgraph.runtime.sockets import ListenerTables

            index = owners if isinstance(owners, Owners) else Owners(Path("/"))
            tools = (placement, index, ListenerTables(proc))
        placement, owner_index, tables = tools
        try:
            exe: str | None = os.readlink(f"{proc}/{pid}/exe")
        except OSError:
            exe = None
        exe_deleted = False
        if exe is not None and exe.endswith(" (deleted)"):
            exe, exe_deleted = exe[: -len(" (deleted)")], True
        try:
            uid: int | None = os.stat(f"{proc}/{pid}").st_uid
        except OSError:
            continue  # exited
        try:
            where = placement(_read(f"{proc}/{pid}/cgroup").decode("utf-8", "replace"))
        except OSError:
            where = None
        listening = tables.listening(pid) if with_sockets else None
        evidence = process_evidence(f"{proc}/{pid}", ordered, states, where, listening)
        found.append(
            ProcessExposure(
                pid=pid,
                command=command,
                exe=exe,
                package=None,
                uid=uid,
                started=started,
                placement=where,
                mappings=ordered,
                states=states,
                reason=reason,
                listening=listening,
                evidence=evidence,
                exe_deleted=exe_deleted,
            )
        )
    if tools is not None and live:
        owner_index = tools[1]
        exes = [p.exe for p in found if p.exe and p.placement and not p.placement.container]
        known = owner_index.owners([e for e in exes if e is not None])
        owner_index.save()
        found = [
            replace(p, package=_package_name(known.get(p.exe))) if p.exe in known else p
            for p in found
        ]
    return tuple(sorted(found, key=lambda p: p.pid))


def _package_name(listed: str | None) -> str | None:
    return listed.partition(":")[0] if listed else None


_GREP_PREFIX = r"^(?:\S*?/proc/([0-9]{1,10})/maps:|([0-9]{1,10}):)"
"""grep's file or line-number prefix; a pid has at most 10 digits (int() refuses 4,300)."""
_MAPS_LINE = re.compile(r"[0-9a-f]+-[0-9a-f]+ [-rwxsp]{4} [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+")
"""proc(5): ``address perms offset dev inode [pathname]``."""


def read_maps_text(path: Path, errors: str = "surrogateescape") -> str:
    """The text of a saved maps file (``--maps``), or an error saying why it is not one.

    Empty is valid (the advice's grep found nothing). Binary or compressed data, or text without a
    single maps line, is an input error: read as maps it would show no process, a false "fine".
    """
    from depgraph.errors import ParseError, SourceError
    from depgraph.sources.files import Kind, read_raw

    data = read_raw(path, Kind.MAPS, "--maps")
    if data.startswith(b"\x1f\x8b"):
        raise SourceError(path, "gzip data: give the saved maps text itself (gunzip it first)")
    if b"\0" in data[:4096]:
        raise SourceError(path, "binary data, not saved /proc/PID/maps text")
    text = data.decode("utf-8", errors=errors)
    first = 0
    for number, line in _text_lines(text):  # one line at a time: stops at the first maps line
        if not line.strip():
            continue
        first = first or number
        if _MAPS_LINE.match(re.sub(_GREP_PREFIX, "", line)):
            return text
    if first:
        raise ParseError(
            path, first, "not /proc/PID/maps text (no 'address perms offset dev inode')"
        )
    return text


MAX_MAPPINGS = 50
"""Per process of a saved maps file, the worst mappings kept and reported; the others are counted
(a process maps a handful of the library's files; a hostile file may name a million)."""


def _text_lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines of ``text`` with their numbers, one at a time (no list of a million strings)."""
    start, number, size = 0, 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end == -1:
            end = size
        number += 1
        yield number, text[start:end].rstrip("\r")
        start = end + 1


def worst_first(state: MappingState, mapping: Mapping) -> tuple[int, bool, str]:
    """The order mappings are shown and kept in: deleted, replaced, unknown, current; libssl
    before the library's other files; then by path."""
    return (_RANK[state], "libssl" not in mapping.path, mapping.path)


def _saved_state(mapping: Mapping) -> MappingState:
    """A mapping of saved maps text: deleted when it says so, else unknown (no system to ask)."""
    return MappingState.DELETED if mapping.deleted else MappingState.UNKNOWN


class _Kept:
    """One process's mappings of the library, as judged by ``state``, its worst
    :data:`MAX_MAPPINGS` kept (:func:`worst_first`)."""

    __slots__ = ("kept", "rank", "seen", "state")

    def __init__(self, state: Callable[[Mapping], MappingState] = _saved_state) -> None:
        self.kept: dict[tuple[str, str, int], Mapping] = {}
        self.seen: set[tuple[str, str, int]] = set()
        self.state = state
        self.rank: Callable[[Mapping], tuple[int, bool, str]] = lambda m: worst_first(state(m), m)

    def add(self, mapping: Mapping) -> None:
        key = (mapping.path, mapping.device, mapping.inode)
        if key in self.seen:
            return  # another segment of a file already counted
        self.seen.add(key)
        self.kept[key] = mapping
        if len(self.kept) > 2 * MAX_MAPPINGS:  # sorted now and then: n log N, not n log n
            worst = sorted(self.kept.items(), key=lambda item: self.rank(item[1]))
            self.kept = dict(worst[:MAX_MAPPINGS])

    def worst(self) -> tuple[tuple[Mapping, ...], tuple[MappingState, ...], int]:
        """The worst mappings, worst first, their states, and how many more there were."""
        ordered = sorted(self.kept.values(), key=self.rank)[:MAX_MAPPINGS]
        return tuple(ordered), tuple(map(self.state, ordered)), len(self.seen) - len(ordered)


def more_mappings(more: int, shown: int, path: str) -> Evidence:
    """The evidence line for the mappings a process's :class:`_Kept` left out."""
    return Evidence(
        "proc-maps",
        f"and {more} more mapped files of the library, not listed (the {shown} worst are)",
        path=path,
    )


def scan_maps_file(
    library: LibraryFiles, path: Path, text: str, *, installed_vulnerable: bool | None = None
) -> RuntimeScan:
    """The library's mappings in saved maps text, in one pass over its lines.

    Lines may carry grep's ``/proc/PID/maps:`` prefix (the advice's one-liner over many files);
    a bare maps file (one process, pid unknown) is reported as pid 0. Nothing but the mappings can
    be known from such a file, and whether a mapping that is not marked deleted is stale cannot be
    told without the system it came from. Each process keeps its :data:`MAX_MAPPINGS` worst
    mappings; its evidence counts the others.
    """
    from depgraph.runtime.maps import library_line

    needles = [needle.decode() for needle in library.needles]
    prefix = re.compile(_GREP_PREFIX)
    pids: set[int] = set()
    found: dict[int, _Kept] = {}
    for number, line in _text_lines(text):
        match = prefix.match(line)
        pid = 0
        if match:
            pid = int(match.group(1) or match.group(2))
            line = line[match.end() :]
        pids.add(pid)
        parsed = library_line(line, library, needles)
        if parsed is None:
            continue
        address, device, inode, mapped, deleted = parsed
        kept = found.get(pid)
        if kept is None:
            kept = found[pid] = _Kept()
        kept.add(Mapping(mapped, device, inode, deleted, address, number))
    processes = []
    for pid, kept in sorted(found.items()):
        ordered, states, more = kept.worst()
        evidence = [
            Evidence(
                "proc-maps",
                f"{m.path}{' (deleted)' if m.deleted else ''} dev {m.device} "
                f"inode {m.inode}: {state.value}",
                path=str(path),
                line=m.line,
            )
            for m, state in zip(ordered, states, strict=True)
        ]
        if more:
            evidence.append(more_mappings(more, len(ordered), str(path)))
        processes.append(
            ProcessExposure(
                pid=pid,
                command="",
                exe=None,
                package=None,
                uid=None,
                started=None,
                placement=None,
                mappings=ordered,
                states=states,
                reason=_state_reason(states, installed_vulnerable),
                listening=None,
                evidence=tuple(evidence),
            )
        )
    notes = (
        f"{path} is saved maps text: it shows only the processes whoever saved it could read, "
        "and no executables, units or sockets",
    )
    return RuntimeScan(library, tuple(processes), len(pids), (), str(path), False, notes)


def process_evidence(
    where_read: str,
    mappings: list[Mapping] | tuple[Mapping, ...],
    states: list[MappingState] | tuple[MappingState, ...],
    placement_: Placement | None,
    listening: tuple[Listener, ...] | list[Listener] | None,
) -> tuple[Evidence, ...]:
    """The evidence of one process: each mapping of the library with its state, the cgroup that
    names its unit or container, each socket it listens on; ``where_read`` is the ``/proc/PID``
    directory (live) or the snapshot's copy of it."""
    evidence = [
        Evidence(
            "proc-maps",
            f"{m.path}{' (deleted)' if m.deleted else ''} dev {m.device} inode {m.inode}: "
            f"{state.value}",
            path=f"{where_read}/maps",
            line=m.line,
        )
        for m, state in zip(mappings, states, strict=True)
    ]
    if placement_ is not None and (placement_.unit or placement_.container):
        evidence.append(Evidence("cgroup", placement_.cgroup, path=f"{where_read}/cgroup"))
    for listener in listening or ():
        table = f"{listener.protocol}{'6' if listener.version == 6 else ''}"
        evidence.append(
            Evidence(
                "listening-socket",
                f"{listener} ({listener.scope.value}, inode {listener.inode})",
                path=f"{where_read}/net/{table}",
            )
        )
    return tuple(evidence)
