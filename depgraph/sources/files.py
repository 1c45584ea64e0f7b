"""The one way depgraph opens a file a user named (or a file found in an audited root).

Every reader of an input goes through :func:`open_input` (or :func:`read_bytes`, :func:`read_text`,
:func:`iter_lines` built on it); ``tests/test_inputs.py`` walks the code for any other ``open``,
``read_text`` or ``read_bytes`` and lists the few exemptions with their reason. What it guarantees:

* **Only regular files.** The file is opened with ``O_NONBLOCK`` (so opening a FIFO cannot block)
  and the *open descriptor* is checked with ``fstat`` (no window between a check and the open): a
  FIFO, a character or block device (``/dev/zero``), a socket or a directory is refused with one line
  naming the file and the option it came from. Then ``O_NONBLOCK`` is cleared.
* **A size limit per kind, checked before reading** (:class:`Kind`; the limits are documented in
  README "Input limits: one way to open a file"): a 64 GiB sparse file given as a status is refused by its size, not read.
* **Compression told by magic bytes, not by name**: apt keeps its lists compressed as its
  configuration says (lz4 on Ubuntu, gzip with ``Acquire::GzipIndexes``, xz, bzip2), and a saved file
  may have any name. gzip (RFC 1952), bzip2, xz and lz4 frames are inflated *incrementally* with a
  running cap (the kind's limit) and a cap on the number of concatenated members or streams
  (:data:`MAX_MEMBERS`), so a bomb stops at the cap with bounded memory and a file of 200,000 empty
  gzip members is refused in linear time. zstd is named, not read.
* **Large lists are streamed** line by line (:func:`iter_lines`), never held whole.

Every failure is a :class:`SourceError` or :class:`ParseError` naming the file.
"""

from __future__ import annotations

import bz2
import enum
import errno
import fcntl
import lzma
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from depgraph.errors import ParseError, SourceError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


class Kind(enum.Enum):
    """What an input is, with the largest size depgraph reads for it (raw and decompressed).

    The limits are far above what real systems hold (the archive's largest Packages index is ~60 MB
    uncompressed, a large desktop's dpkg status ~10 MB, the largest changelog ~2 MB) and low enough
    that a hostile input cannot take more than about two gigabytes of memory: a parsed status or
    index holds about 5.5 times its size (100 MB of status peak at ~570 MB), so those and the
    streamed lists stop at 256 MiB; ELF files, snapshots and host files are read in parts.
    """

    STATUS = ("a dpkg status file", 256 * MiB)
    PACKAGES = ("an apt Packages index", 256 * MiB)
    DPKG_LIST = ("'dpkg -l' output", 256 * MiB)
    RDEPENDS = ("'apt-cache rdepends' output", 256 * MiB)
    FILE_LIST = ("a dpkg .list file", 256 * MiB)
    CONTROL = ("a package control file", 64 * MiB)
    CHANGELOG = ("a changelog", 16 * MiB)
    PROFILE = ("a vulnerability profile", 1 * MiB)
    SNAPSHOT = ("a snapshot", 4 * GiB)
    SNAPSHOT_MEMBER = ("a snapshot member", 256 * MiB)
    MAPS = ("a saved /proc maps file", 256 * MiB)
    PROC = ("a saved /proc file", 16 * MiB)
    HOSTS = ("a fleet host file", 4 * GiB)
    LOG = ("a dpkg log", 256 * MiB)
    CONFIG = ("a configuration file", 16 * MiB)
    BINARY = ("an ELF file", 4 * GiB)

    @property
    def what(self) -> str:
        """The kind in words ("a dpkg status file")."""
        return self.value[0]

    @property
    def limit(self) -> int:
        """The largest size read, in bytes, before and after decompression."""
        limit: int = self.value[1]
        return limit


MAX_MEMBERS = 65_536
"""The most concatenated gzip members (or bzip2/xz/lz4 streams) read from one file: real files have
one; ``gzip`` concatenation gives a few."""

_GZIP = b"\x1f\x8b"
_XZ = b"\xfd7zXZ\x00"
_LZ4 = b"\x04\x22\x4d\x18"
_BZ2 = b"BZh"
_ZSTD = b"\x28\xb5\x2f\xfd"

_CHUNK = 1 * MiB
"""How much compressed input is read at a time, and the most output one call may produce."""
_FIRST = 4 * KiB
"""The first read of each member: small, so that a file of many tiny members is not copied whole
once per member (zlib hands back the input it did not use as a new bytes object)."""


def size_text(size: int) -> str:
    """``size`` bytes in the largest binary unit it reaches: "64 GiB", "1.5 MiB", "300 bytes"."""
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor:
            amount = size / factor
            return f"{amount:.0f} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{size} bytes"


class Why(enum.Enum):
    """Why an input could not be read, for readers that treat some cases as warnings (a missing
    changelog is normal, a truncated one is read up to where it ends)."""

    MISSING = "missing"
    OPEN = "open"
    NOT_REGULAR = "not-regular"
    DIRECTORY = "directory"
    TOO_LARGE = "too-large"
    READ = "read"
    UNSUPPORTED = "unsupported"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    GARBAGE = "garbage"


class InputError(SourceError):
    """A :class:`SourceError` from this module, with :class:`Why` and the system's words (``detail``,
    e.g. ``Permission denied``) when the system refused."""

    def __init__(self, path: str, reason: str, why: Why, detail: str = "") -> None:
        super().__init__(path, reason)
        self.why = why
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Where:
    """An input as errors name it: the path first (so ``path: reason`` reads like every other
    error), then the option it was given to: ``/tmp/f: is a FIFO, not a regular file (--status)``."""

    path: Path | str
    option: str | None

    def source_error(self, why: Why, reason: str, detail: str = "") -> InputError:
        """An :class:`InputError` naming the file and the option."""
        return InputError(str(self.path), reason + self._suffix(), why, detail)

    def parse_error(self, line: int, reason: str) -> ParseError:
        """A :class:`ParseError` naming the file, the line and the option."""
        return ParseError(str(self.path), line, reason + self._suffix())

    def _suffix(self) -> str:
        return f" ({self.option})" if self.option else ""


_NOT_REGULAR = (
    (stat.S_ISFIFO, "is a FIFO, not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
    (stat.S_ISDIR, "is a directory, not a file"),
)


def open_input(path: Path | str, kind: Kind, option: str | None = None) -> BinaryIO:
    """``path`` opened for reading, raw (not decompressed), once it is known to be a regular file no
    larger than ``kind``'s limit. ``option`` (``"--status"``) names where the path came from in
    errors. The caller closes it (``with open_input(...) as handle:``).
    """
    where = Where(path, option)
    if str(path) == "":
        raise SourceError(option or "''", "empty path")
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        missing = error.errno in (errno.ENOENT, errno.ENOTDIR)
        why = Why.MISSING if missing else Why.OPEN
        raise where.source_error(why, _reason(error), error.strerror or str(error)) from None
    try:
        info = os.fstat(descriptor)
        for test, reason in _NOT_REGULAR:
            if test(info.st_mode):
                kind_of = Why.DIRECTORY if stat.S_ISDIR(info.st_mode) else Why.NOT_REGULAR
                raise where.source_error(kind_of, reason)
        if not stat.S_ISREG(info.st_mode):
            raise where.source_error(Why.NOT_REGULAR, "is not a regular file")
        if info.st_size > kind.limit:
            raise where.source_error(
                Why.TOO_LARGE,
                f"is {size_text(info.st_size)}, over the {size_text(kind.limit)} limit "
                f"for {kind.what}",
            )
        fcntl.fcntl(
            descriptor, fcntl.F_SETFL, fcntl.fcntl(descriptor, fcntl.F_GETFL) & ~os.O_NONBLOCK
        )
        return os.fdopen(descriptor, "rb", buffering=0)
    except BaseException:
        os.close(descriptor)
        raise


def _reason(error: OSError) -> str:
    reasons = {
        errno.ENOENT: "no such file",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ELOOP: "a symbolic link loop",
        errno.ENOTDIR: "a part of the path is not a directory",
        errno.ENAMETOOLONG: "the name is too long",
        errno.EISDIR: "is a directory, not a file",
        errno.ENXIO: "is a socket or a device with no driver, not a regular file",
    }
    return reasons.get(error.errno or 0, f"cannot open: {error.strerror or error}")


def _read(handle: BinaryIO, size: int, where: Where) -> bytes:
    try:
        return handle.read(size) or b""
    except OSError as error:
        raise where.source_error(Why.READ, f"cannot read: {error.strerror or error}") from None


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...


def _new_decompressor(name: str) -> _Decompressor:
    if name == "gzip":
        return zlib.decompressobj(wbits=31)
    if name == "bzip2":
        return bz2.BZ2Decompressor()
    if name == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    import lz4.frame

    decompressor: _Decompressor = lz4.frame.LZ4FrameDecompressor()
    return decompressor


_ZLIB = type(zlib.decompressobj())
"""zlib's decompressor type (the module does not name it)."""


def _inflate(decompressor: _Decompressor, data: bytes) -> Iterator[bytes]:
    """The output of feeding ``data``, at most :data:`_CHUNK` per piece (a bomb's output never
    lands in memory at once)."""
    if isinstance(decompressor, _ZLIB):
        out = decompressor.decompress(data, _CHUNK)
        yield out
        while decompressor.unconsumed_tail and not decompressor.eof:
            yield decompressor.decompress(decompressor.unconsumed_tail, _CHUNK)
        return
    call: Callable[[bytes, int], bytes] = decompressor.decompress  # type: ignore[attr-defined]
    yield call(data, _CHUNK)
    while not decompressor.eof and not decompressor.needs_input:  # type: ignore[attr-defined]
        yield call(b"", _CHUNK)


def _drain(decompressor: _Decompressor) -> Iterator[bytes]:
    """At the end of the input, what the decompressor still holds, a piece at a time (none, and
    no end of stream, means the data was cut)."""
    while not decompressor.eof:
        progressed = False
        for piece in _inflate(decompressor, b""):
            if piece:
                progressed = True
                yield piece
        if not progressed:
            return


def compression_of(head: bytes) -> str | None:
    """The compression ``head`` (a file's first bytes) starts with, or None for plain data."""
    for magic, name in ((_GZIP, "gzip"), (_XZ, "xz"), (_BZ2, "bzip2"), (_LZ4, "lz4")):
        if head.startswith(magic):
            return name
    return None


_MAGIC = {"gzip": _GZIP, "xz": _XZ, "bzip2": _BZ2, "lz4": _LZ4}
_ERRORS = (EOFError, OSError, lzma.LZMAError, zlib.error, ValueError, RuntimeError)


def iter_chunks(handle: BinaryIO, kind: Kind, where: Where) -> Iterator[bytes]:
    """The content of an open input in pieces, decompressed when it starts with gzip, bzip2, xz or
    lz4 magic, never more than ``kind``'s limit in all (more is a :class:`SourceError`)."""
    head = _read(handle, _FIRST, where)
    if head.startswith(_ZSTD):
        raise where.source_error(Why.UNSUPPORTED, "zstd-compressed; decompress it first (zstd -d)")
    name = compression_of(head)
    total = 0
    if name is None:
        data = head
        while data:
            total += len(data)
            if total > kind.limit:
                raise where.source_error(
                    Why.TOO_LARGE, f"is over the {size_text(kind.limit)} limit for {kind.what}"
                )
            yield data
            data = _read(handle, _CHUNK, where)
        return
    decompressor = _new_decompressor(name)
    members = 1
    data = head
    size = _FIRST

    def counted(pieces: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal total
        for out in pieces:
            total += len(out)
            if total > kind.limit:
                raise where.source_error(
                    Why.TOO_LARGE,
                    f"decompresses to more than {size_text(kind.limit)}, the limit for "
                    f"{kind.what} (a {name} bomb?); refusing",
                )
            if out:
                yield out

    try:
        while True:
            if not data:  # always look for more: padding may end exactly where a read did
                size = min(size * 2, _CHUNK)
                data = _read(handle, size, where)
            if not data:
                if decompressor.eof:
                    return
                # output the decompressor still holds (a long match cut by the output limit)
                before = total
                yield from counted(_drain(decompressor))
                if decompressor.eof:
                    return
                if total == before:
                    raise where.source_error(
                        Why.TRUNCATED, f"truncated or corrupt {name} data (the file ends inside it)"
                    )
                continue
            if decompressor.eof:
                data = data.lstrip(b"\0")  # padding between members or streams, as gzip allows
                if not data:
                    continue
                if not data.startswith(_MAGIC[name]):
                    raise where.source_error(Why.GARBAGE, f"trailing garbage after the {name} data")
                members += 1
                if members > MAX_MEMBERS:
                    raise where.source_error(
                        Why.TOO_LARGE,
                        f"more than {MAX_MEMBERS} concatenated {name} members; refusing",
                    )
                decompressor = _new_decompressor(name)
                size = _FIRST
            yield from counted(_inflate(decompressor, data))
            data = decompressor.unused_data if decompressor.eof else b""
    except _ERRORS as error:
        raise where.source_error(
            Why.CORRUPT, f"truncated or corrupt {name} data ({error})"
        ) from None


def read_bytes(path: Path | str, kind: Kind, option: str | None = None) -> bytes:
    """The file's content, decompressed when it is gzip, xz, bzip2 or lz4, within ``kind``'s limit."""
    return bytes(_collect(path, kind, option))


def _collect(path: Path | str, kind: Kind, option: str | None) -> bytearray:
    where = Where(path, option)
    with open_input(path, kind, option) as handle:
        buffer = bytearray()
        for chunk in iter_chunks(handle, kind, where):
            buffer += chunk
    return buffer


def _text(data: bytes | bytearray, where: Where, first_line: int = 1) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + first_line
        raise where.parse_error(line, "binary data (NUL byte): not a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


def read_text(path: Path | str, kind: Kind, option: str | None = None) -> str:
    """The file as text: UTF-8, with undecodable bytes (old Latin-1 descriptions) replaced.

    A NUL byte means the file is binary, not a text format; that is a :class:`ParseError` at the line
    it occurs on.
    """
    data = _collect(path, kind, option)  # decoded from the buffer itself: no copy of the bytes
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark from a Windows editor
        del data[:3]
    return _text(data, Where(path, option))


def iter_lines(path: Path | str, kind: Kind, option: str | None = None) -> Iterator[str]:
    """The file's lines (without their ``\\n``), read and decoded piece by piece: memory stays
    bounded by the longest line, whatever the file's length. Same decoding as :func:`read_text`."""
    where = Where(path, option)
    with open_input(path, kind, option) as handle:
        pending: list[bytes] = []  # the pieces of a line not yet ended (joined once, not re-copied)
        line = 1
        first = True
        for chunk in iter_chunks(handle, kind, where):
            end = chunk.rfind(b"\n")
            if end < 0:
                pending.append(chunk)
                continue
            data = b"".join((*pending, chunk[:end])) if pending else chunk[:end]
            pending = [chunk[end + 1 :]]
            if first:
                data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark from a Windows editor
                first = False
            lines = _text(data, where, line).split("\n")
            line += len(lines)
            yield from lines
        data = b"".join(pending)
        if first:
            data = data.removeprefix(b"\xef\xbb\xbf")
        if data:
            yield _text(data, where, line)


def read_raw(path: Path | str, kind: Kind, option: str | None = None) -> bytes:
    """The file's bytes as they are (not decompressed: for formats where compressed data is itself
    an error, like a profile or saved maps), within ``kind``'s limit."""
    where = Where(path, option)
    buffer = bytearray()
    with open_input(path, kind, option) as handle:
        while piece := _read(handle, _CHUNK, where):
            buffer += piece
            if len(buffer) > kind.limit:
                raise where.source_error(
                    Why.TOO_LARGE, f"is over the {size_text(kind.limit)} limit for {kind.what}"
                )
    return bytes(buffer)


def read_head(path: Path | str, kind: Kind, size: int) -> bytes:
    """At most the first ``size`` bytes of the file as they are (a quick look at a header)."""
    with open_input(path, kind) as handle:
        return _read(handle, size, Where(path, None))


def starts_with(path: Path | str, magic: bytes) -> bool:
    """``path`` is a regular file, not reached through a symlink in its last component, whose
    first bytes are ``magic``: one ``open`` (``O_NOFOLLOW``, ``O_NONBLOCK``), one ``fstat``, one
    ``read``; anything else (missing, a FIFO, a device, a link, unreadable) is False. For the quick
    look at millions of listed paths, where an error per missing file would cost more than the look.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return False
    try:
        return (
            stat.S_ISREG(os.fstat(descriptor).st_mode) and os.read(descriptor, len(magic)) == magic
        )
    except OSError:
        return False
    finally:
        os.close(descriptor)
