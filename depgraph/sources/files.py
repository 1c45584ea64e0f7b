"""Opening input files safely: compression by content, not by name, and clear errors.

apt keeps its lists compressed as its configuration says (lz4 on this machine, ``Acquire::GzipIndexes``
gives gzip; xz, bzip2 and zstd also occur), and a saved file may have any name, so the format is told
by magic bytes. Every failure becomes a :class:`SourceError` or :class:`ParseError` naming the file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path

from depgraph.errors import ParseError, SourceError

MAX_DECOMPRESSED = 2 * 1024 * 1024 * 1024
"""Refuse to inflate a compressed input beyond this (2 GiB): the archive's largest index is ~60 MB."""

_GZIP = b"\x1f\x8b"
_XZ = b"\xfd7zXZ\x00"
_LZ4 = b"\x04\x22\x4d\x18"
_BZ2 = b"BZh"
_ZSTD = b"\x28\xb5\x2f\xfd"


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip, xz, bzip2 or lz4."""
    try:
        if path.is_dir():
            raise SourceError(path, "is a directory, not a file")
        raw = path.read_bytes()
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except PermissionError:
        raise SourceError(path, "permission denied") from None
    except OSError as error:
        raise SourceError(path, f"cannot read: {error.strerror or error}") from None
    return _decompress(path, raw)


def _decompress(path: Path, raw: bytes) -> bytes:
    try:
        if raw.startswith(_GZIP):
            return _bounded(gzip.decompress(raw), path)
        if raw.startswith(_XZ):
            return _bounded(lzma.decompress(raw), path)
        if raw.startswith(_BZ2):
            return _bounded(bz2.decompress(raw), path)
        if raw.startswith(_LZ4):
            import lz4.frame

            return _bounded(lz4.frame.decompress(raw), path)
    except (EOFError, OSError, lzma.LZMAError, zlib.error, ValueError, RuntimeError) as error:
        kind = _kind(raw)
        raise SourceError(path, f"truncated or corrupt {kind} data ({error})") from None
    if raw.startswith(_ZSTD):
        raise SourceError(path, "zstd-compressed; decompress it first (zstd -d)")
    return raw


def _kind(raw: bytes) -> str:
    for magic, name in ((_GZIP, "gzip"), (_XZ, "xz"), (_BZ2, "bzip2"), (_LZ4, "lz4")):
        if raw.startswith(magic):
            return name
    return "compressed"


def _bounded(data: bytes, path: Path) -> bytes:
    if len(data) > MAX_DECOMPRESSED:
        raise SourceError(path, "decompresses to more than 2 GiB; refusing")
    return data


def read_text(path: Path) -> str:
    """The file as text: UTF-8, with undecodable bytes (old Latin-1 descriptions) replaced.

    A NUL byte means the file is binary, not a text format; that is a :class:`ParseError` at the line
    it occurs on.
    """
    data = read_bytes(path)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ParseError(path, line, "binary data (NUL byte): not a text file")
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark from a Windows editor
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")
