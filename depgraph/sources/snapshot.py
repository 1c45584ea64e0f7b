"""A snapshot written by ``depgraph collect``: one ``.tar.gz`` read like the root of the host it
came from (contract: ``CLI.md``, ``--snapshot FILE``; the format is the README's "Snapshots").

The tarball holds a root tree (``var/lib/dpkg/status``, ``var/lib/dpkg/info/*.list``,
``usr/share/doc/PKG/changelog*.gz``, ``var/log/dpkg.log*``, ``etc/os-release``) and the directory
``depgraph-snapshot/`` with what is not a file of the host: ``manifest.json`` (format, host, time,
kernel, what was captured and what could not be, and why), ``dpkg-l.txt``, ``openssl-version.txt``,
``elf.json`` (the imported sonames and symbols of the dependents' ELF files, not the files),
``proc/PID/*`` (the maps lines naming the library, stat, cgroup, sockets) and ``keys.json``
(certificate metadata; never a private key).

A snapshot comes from a machine that may be compromised, so every member is checked before any is
used (tar(5), POSIX pax): no absolute path, no ``..``, no link leading out of the tree, no device
or FIFO, no name that is not UTF-8, no duplicate, at most :data:`MAX_MEMBERS` members and
:data:`MAX_TOTAL_BYTES` bytes unpacked, and, beyond :data:`RATIO_FLOOR_BYTES`, at most
:data:`MAX_RATIO` times the compressed size. Only then are regular files written, with
``O_EXCL|O_NOFOLLOW``, into a private ``mkdtemp`` directory removed when the process exits; links
that stay inside are made last. Any violation is one :class:`SourceError` (exit status 2).
"""

from __future__ import annotations

import atexit
import gzip
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from depgraph.cachedir import scratch_base
from depgraph.errors import DepgraphError, SourceError
from depgraph.sources.files import Kind, open_input, read_head

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics

FORMAT = "depgraph-snapshot/1"
"""The one format version this reader knows; any other is refused."""
META = "depgraph-snapshot"
"""The directory of the snapshot's own files (beside the host's tree)."""
MANIFEST = f"{META}/manifest.json"

MAX_MEMBERS = 50_000
"""A snapshot of a host with 5,000 packages has about 6,000 members."""
MAX_TOTAL_BYTES = 512 << 20
"""Unpacked size of all members together (a typical snapshot unpacks to about 10 MB)."""
MAX_RATIO = 100
"""Unpacked size over compressed size, checked once the unpacked size passes the floor (text and
dpkg lists compress 10 to 20 times; a bomb of zeros about 1,000 times)."""
RATIO_FLOOR_BYTES = 16 << 20
MAX_MANIFEST_BYTES = 1 << 20
_BLOCK = 512


@dataclass(frozen=True, slots=True)
class Manifest:
    """What ``manifest.json`` says about the snapshot."""

    format: str
    host: str
    time: str
    kernel: str
    collector: str
    libraries: tuple[str, ...]
    captured: tuple[str, ...]
    missing: tuple[tuple[str, str], ...]
    """What could not be captured, and why."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An opened snapshot: the tarball, the private tree it was unpacked into, its manifest."""

    path: Path
    root: Path
    manifest: Manifest

    @property
    def meta(self) -> Path:
        """The snapshot's own directory in the tree (``depgraph-snapshot/``)."""
        return self.root / META

    def file(self, name: str) -> Path | None:
        """A file of ``depgraph-snapshot/`` when the snapshot has it."""
        path = self.meta / name
        return path if path.is_file() else None

    def captured(self, what: str) -> bool:
        """The manifest says ``what`` (``proc``, ``elf``, ``keys``, ...) was captured."""
        return what in self.manifest.captured

    @property
    def description(self) -> str:
        """The snapshot in words, for the report's source line."""
        return f"snapshot {self.path} of {self.manifest.host} ({self.manifest.time})"


_OPENED: dict[Path, Snapshot] = {}


@atexit.register
def _remove_unpacked() -> None:
    """At exit, the trees of the snapshots still open (one handler, not one per snapshot: a fleet's
    audit process opens thousands)."""
    for snapshot in _OPENED.values():
        shutil.rmtree(snapshot.root, ignore_errors=True)


def open_snapshot(path: Path, diagnostics: Diagnostics | None = None) -> Snapshot:
    """Check and unpack ``path`` (once per process); the manifest's gaps become warnings."""
    key = path.absolute()
    known = _OPENED.get(key)
    if known is not None:
        return known
    directory = Path(tempfile.mkdtemp(prefix="depgraph-snapshot-", dir=scratch_base()))
    try:
        unpack(path, directory, diagnostics)
        manifest = read_manifest(path, directory / MANIFEST)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    snapshot = Snapshot(path, directory, manifest)
    _OPENED[key] = snapshot
    if diagnostics is not None:
        for what, why in manifest.missing:
            diagnostics.warn(str(path), 0, f"not in the snapshot: {what}: {why}")
    return snapshot


def close_snapshot(path: Path) -> None:
    """Remove the unpacked tree of ``path`` now rather than at exit (``depgraph fleet``'s audit
    processes open thousands of snapshots, one after another)."""
    snapshot = _OPENED.pop(path.absolute(), None)
    if snapshot is not None:
        shutil.rmtree(snapshot.root, ignore_errors=True)


def _check_name(path: Path, name: str) -> str:
    """The member's name, normalized; refuses what could leave the tree."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        raise SourceError(path, f"member name is not UTF-8: {shown!r}") from None
    if name.startswith("/"):
        raise SourceError(path, f"member has an absolute path: {name}")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise SourceError(path, f"member path contains '..': {name}")
    if not parts:
        return "."
    return "/".join(parts)


def _inside(member: str, target: str, hard: bool) -> str | None:
    """Where a link member leads, normalized, or None when that is outside the tree."""
    if target.startswith("/"):
        return None
    base = "" if hard else posixpath.dirname(member)
    joined = posixpath.normpath(posixpath.join(base, target))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


TRUNCATED = "truncated tarball"
"""How an error or a ``--lenient`` warning about a snapshot cut short begins (``depgraph fleet``
marks such a host partial by it)."""
_CUT = "cut"
"""The archive stops inside a member's data (or the compressed stream stops)."""
_UNENDED = "unended"
"""The archive stops after a whole member, without the end-of-archive blocks."""


def _next(tar: tarfile.TarFile) -> tarfile.TarInfo | str | None:
    """The next member's header; None at the end-of-archive blocks; :data:`_CUT` or
    :data:`_UNENDED` where the archive stops without them."""
    try:
        member = tar.next()  # reads the next header only: the sizes are known before the data
    except tarfile.ReadError as error:
        if "unexpected end of data" in str(error):  # tarfile's words for data cut short
            return _CUT
        raise
    except EOFError:  # the gzip stream itself is cut short
        return _CUT
    if member is not None:
        return member
    # tarfile ends quietly on a zero block, an empty read, a short or invalid header alike;
    # tar(5): an archive ends with two 512-byte blocks of zeros.
    stream = tar.fileobj
    assert stream is not None
    stream.seek(tar.offset)
    return None if stream.read(2 * _BLOCK) == bytes(2 * _BLOCK) else _UNENDED


def _members(
    path: Path,
    tar: tarfile.TarFile,
    compressed: int,
    diagnostics: Diagnostics | None = None,
) -> list[tuple[str, tarfile.TarInfo]]:
    """Every member, checked, before any is used. An archive without its end-of-archive blocks
    (a collection cut short) is refused, or with ``--lenient`` read up to its last whole member
    with a warning."""
    found: list[tuple[str, tarfile.TarInfo]] = []
    seen: dict[str, str] = {}
    total = 0
    while True:
        member = _next(tar)
        if isinstance(member, str):
            _truncated(path, found, member, diagnostics)
            break
        if member is None:
            break
        if len(found) >= MAX_MEMBERS:
            raise SourceError(path, f"more than {MAX_MEMBERS} members: not a snapshot")
        name = _check_name(path, member.name)
        if member.size < 0:  # a pax "size=-1" or a negative base-256 number: tarfile takes both
            raise SourceError(path, f"member has a negative size: {name}")
        total += _BLOCK + member.size
        if total > MAX_TOTAL_BYTES:
            raise SourceError(
                path, f"unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB: refused as a bomb"
            )
        if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * compressed:
            raise SourceError(
                path,
                f"unpacks to more than {MAX_RATIO} times its compressed size: refused as a bomb",
            )
        if member.isdev():
            raise SourceError(path, f"member is a device file or FIFO: {name}")
        if member.issym() or member.islnk():
            target = _inside(name, member.linkname, member.islnk())
            if target is None:
                kind = "hard link" if member.islnk() else "symlink"
                raise SourceError(
                    path, f"{kind} points outside the snapshot: {name} -> {member.linkname}"
                )
            if member.islnk() and seen.get(target) != "file":
                raise SourceError(path, f"hard link to no earlier file: {name} -> {target}")
            kind = "link" if member.issym() else "file"
        elif member.isdir():
            kind = "dir"
        elif member.isreg():
            kind = "file"
        else:
            raise SourceError(path, f"member of unsupported type {member.type!r}: {name}")
        if name in seen and not (kind == "dir" and seen[name] == "dir"):
            raise SourceError(path, f"member appears twice: {name}")
        seen[name] = kind
        found.append((name, member))
    for name in seen:
        parent = posixpath.dirname(name)
        while parent:
            if seen.get(parent, "dir") != "dir":
                raise SourceError(
                    path, f"member {name} is inside {parent}, which is not a directory"
                )
            parent = posixpath.dirname(parent)
    return found


def _truncated(
    path: Path,
    found: list[tuple[str, tarfile.TarInfo]],
    how: str,
    diagnostics: Diagnostics | None,
) -> None:
    """The archive stops without its end-of-archive blocks (a collection cut short): an error,
    or with ``--lenient`` a warning, and the member whose data is cut short left out."""
    last = found[-1][0] if found else None
    if how == _CUT:
        why = f"the data stops inside {last}" if last else "the data stops early"
    else:
        why = "no end-of-archive blocks" + (f" after {last}" if last else "")
    if diagnostics is None or diagnostics.strict:
        raise SourceError(path, f"{TRUNCATED}: {why}; --lenient reads what is there")
    if how == _CUT and found:
        found.pop()
    diagnostics.warn(str(path), 0, f"{TRUNCATED}: {why}: read up to there, the snapshot is partial")


class _Bounded:
    """The decompressed stream, refusing to go past :data:`MAX_TOTAL_BYTES` (plus the headers of
    a full member list): tarfile reads a pax header's data into memory whatever its size."""

    LIMIT = MAX_TOTAL_BYTES + (MAX_MEMBERS + 2) * 3 * _BLOCK

    def __init__(self, path: Path, stream: gzip.GzipFile) -> None:
        self.path = path
        self.stream = stream

    def _allow(self, end: int) -> None:
        if end > self.LIMIT:
            raise SourceError(
                self.path, f"unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB: refused as a bomb"
            )

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.LIMIT + 1 - self.stream.tell()
        self._allow(self.stream.tell() + size)
        return self.stream.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            self._allow(offset)
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()


def unpack(path: Path, directory: Path, diagnostics: Diagnostics | None = None) -> None:
    """Check every member of the tarball at ``path``, then write them under ``directory``
    (``diagnostics``: strict or ``--lenient``, for a truncated tarball)."""
    try:
        compressed = path.stat().st_size
        with (
            open_input(path, Kind.SNAPSHOT, "--snapshot") as handle,
            gzip.GzipFile(fileobj=handle, mode="rb") as raw,
            tarfile.open(fileobj=_Bounded(path, raw), mode="r:") as tar,  # type: ignore[call-overload]
        ):
            members = _members(path, tar, max(compressed, 1), diagnostics)
            links: list[tuple[str, str]] = []
            made: set[Path] = set()
            for name, member in members:
                if name == ".":
                    continue
                target = directory / name
                if member.isdir():
                    target.mkdir(mode=0o700, parents=True, exist_ok=True)
                elif member.issym():
                    links.append((name, member.linkname))
                else:
                    if target.parent not in made:
                        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                        made.add(target.parent)
                    source = tar.extractfile(member)
                    if source is None:
                        raise SourceError(path, f"member cannot be read: {name}")
                    _write(target, source)
    except tarfile.ReadError as error:
        raise SourceError(path, f"not a gzip-compressed tarball ({error})") from None
    except gzip.BadGzipFile as error:
        raise SourceError(path, f"not gzip-compressed ({error})") from None
    except (EOFError, zlib.error, tarfile.TarError) as error:
        raise SourceError(path, f"corrupt or truncated tarball ({error})") from None
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except IsADirectoryError:
        raise SourceError(path, "a directory, not a snapshot file") from None
    except OSError as error:
        raise SourceError(path, f"cannot be read: {error.strerror or error}") from None
    # Links last, so nothing is ever written through one. Each target was checked as text above;
    # a target can still leave the tree through another link ("x/../.." where x is a link to a
    # deep directory), so once all exist each is resolved as the kernel would and must stay inside.
    try:
        for name, link in links:
            (directory / name).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.symlink(link, directory / name)
    except OSError as error:
        raise SourceError(path, f"cannot unpack a link: {error.strerror or error}") from None
    top = directory.resolve()
    for name, link in links:
        real = Path(os.path.realpath(directory / name))
        if real != top and top not in real.parents:
            raise SourceError(path, f"symlink leads outside the snapshot: {name} -> {link}")


def _write(target: Path, source: IO[bytes]) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(target, flags, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        shutil.copyfileobj(source, stream)


def read_manifest(path: Path, manifest: Path) -> Manifest:
    """The manifest, refused when missing, malformed or of another format version."""
    try:
        data = read_head(manifest, Kind.SNAPSHOT_MEMBER, MAX_MANIFEST_BYTES + 1)
    except DepgraphError:
        raise SourceError(path, f"not a depgraph snapshot: no {MANIFEST}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise SourceError(path, f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES >> 10} KiB")
    try:
        values = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SourceError(path, f"{MANIFEST} is not JSON: {error}") from None
    except RecursionError:  # "[[[[..." thousands deep: json's decoder recurses per level
        raise SourceError(path, f"{MANIFEST} nests too deeply to be a manifest") from None
    if not isinstance(values, dict):
        raise SourceError(path, f"{MANIFEST} is not a JSON object")
    version = values.get("format")
    if version != FORMAT:
        raise SourceError(
            path, f"unknown snapshot format {version!r} (this depgraph reads {FORMAT!r})"
        )

    def text(key: str) -> str:
        value = values.get(key)
        return value if isinstance(value, str) else ""

    def texts(key: str) -> tuple[str, ...]:
        value = values.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    missing = values.get("missing")
    gaps = tuple(
        (str(entry.get("what", "")), str(entry.get("why", "")))
        for entry in (missing if isinstance(missing, list) else [])
        if isinstance(entry, dict)
    )
    return Manifest(
        format=version,
        host=text("host"),
        time=text("time"),
        kernel=text("kernel"),
        collector=text("collector"),
        libraries=texts("libraries"),
        captured=texts("captured"),
        missing=gaps,
    )
