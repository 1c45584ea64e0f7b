"""Save what the runtime scan needs of the processes that map the library (proc(5)), in the layout
:mod:`depgraph.runtime.saved_proc` reads: the maps lines naming it (``grep -n`` style), ``stat``,
``cgroup``, the owner, the ``exe`` target, the socket descriptors with the process's network
tables, and the identity of each mapped file as the process sees it now. Nothing is signalled,
nothing written to ``/proc``; a process that exits meanwhile is skipped, one that cannot be read
is named in ``unreadable`` (the view is then partial, as it is live).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable

from depgraph.runtime.maps import parse_line
from depgraph.runtime.scan import _read
from depgraph.runtime.sockets import TABLES
from depgraph.sources.snapshot import META

PROC = "/proc"
_GONE = (errno.ENOENT, errno.ESRCH)


def _identity(path: str) -> str:
    try:
        status = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "missing - -"
    except OSError:
        return "unreadable - -"
    return f"{status.st_dev} {status.st_ino} {status.st_mtime!r}"


def save_processes(add: Callable[[str, bytes], None], needles: list[bytes]) -> None:
    """Add ``depgraph-snapshot/proc/...`` members through ``add(name, data)``."""
    base = f"{META}/proc"
    own = os.getpid()
    try:
        own_mount: str | None = os.readlink(f"{PROC}/self/ns/mnt")
    except OSError:
        own_mount = None
    names = os.listdir(PROC)
    scanned = 0
    unreadable = []
    for name in names:
        if not name.isdigit() or int(name) == own:
            continue
        pid = int(name)
        try:
            data = _read(f"{PROC}/{name}/maps")
        except OSError as error:
            if error.errno in _GONE:
                continue
            unreadable.append(pid)
            continue
        if not data:
            continue
        scanned += 1
        if not any(needle in data for needle in needles):
            continue
        _save_one(add, f"{base}/{pid}", pid, data, needles, own_mount)
    named = []
    for pid in sorted(unreadable):
        try:
            stat = _read(f"{PROC}/{pid}/stat").decode("utf-8", "replace")
        except OSError:
            continue
        named.append(f"{pid} {stat.rpartition(')')[0].partition('(')[2]}\n")
    add(f"{base}/unreadable", "".join(named).encode())
    add(f"{base}/scanned", f"{scanned}\n".encode())
    add(f"{base}/clk_tck", f"{os.sysconf('SC_CLK_TCK')}\n".encode())
    try:
        for line in _read(f"{PROC}/stat").decode("ascii", "replace").splitlines():
            if line.startswith("btime "):
                add(f"{base}/btime", line[6:].encode() + b"\n")
    except OSError:
        pass


def _save_one(
    add: Callable[[str, bytes], None],
    base: str,
    pid: int,
    data: bytes,
    needles: list[bytes],
    own_mount: str | None,
) -> None:
    proc = f"{PROC}/{pid}"
    try:
        stat = _read(f"{proc}/stat")
        uid = os.stat(proc).st_uid
    except OSError:
        return  # exited
    lines = []
    files = []
    map_files = []
    seen: set[str] = set()
    try:
        same = own_mount is not None and os.readlink(f"{proc}/ns/mnt") == own_mount
    except OSError:
        same = False
    for number, line in enumerate(data.split(b"\n"), 1):
        if not any(needle in line for needle in needles):
            continue
        lines.append(b"%d:%s\n" % (number, line))
        parsed = parse_line(line.decode("utf-8", "surrogateescape"))
        if parsed is None:
            continue
        address, _device, _inode, path, deleted = parsed
        if deleted or path in seen:
            continue
        seen.add(path)
        files.append(f"{_identity(path if same else f'{proc}/root{path}')} {path}\n")
        try:
            exact = os.stat(f"{proc}/map_files/{address}")
            map_files.append(f"{address} {exact.st_dev} {exact.st_ino}\n")
        except OSError:
            pass
    add(f"{base}/maps", b"".join(lines))
    add(f"{base}/stat", stat)
    add(f"{base}/uid", f"{uid}\n".encode())
    add(f"{base}/files", "".join(files).encode("utf-8", "surrogateescape"))
    add(f"{base}/map_files", "".join(map_files).encode())
    with contextlib.suppress(OSError):
        add(f"{base}/exe", os.readlink(f"{proc}/exe").encode("utf-8", "surrogateescape"))
    with contextlib.suppress(OSError):
        add(f"{base}/cgroup", _read(f"{proc}/cgroup"))
    try:
        descriptors = os.listdir(f"{proc}/fd")
    except OSError:
        return  # unknown, not none: no fd file
    sockets = []
    for descriptor in descriptors:
        try:
            target = os.readlink(f"{proc}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets.append(target + "\n")
    add(f"{base}/fd", "".join(sorted(sockets)).encode())
    if not sockets:
        return
    for table, _version in TABLES:
        try:
            text = _read(f"{proc}/net/{table}")
        except OSError:
            continue
        kept = [
            line
            for number, line in enumerate(text.split(b"\n"))
            if number == 0 or (len(line.split()) > 3 and line.split()[3] in (b"0A", b"07"))
        ]
        add(f"{base}/net/{table}", b"\n".join(kept) + b"\n")
