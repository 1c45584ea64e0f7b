"""Per-host results cached by content: re-running after 100 new snapshots audits only those 100.

The key of a host is the sha256 of its file's bytes, the profile (its whole value) and the
depgraph version; the value is the host's summary as JSON, in
``$XDG_CACHE_HOME/depgraph/fleet/results/KK/KEY.json`` (one small file each, written to a
temporary name and renamed, so a killed run leaves no half entry). Only successful audits are
kept: a failure (a time limit, a crash) may not happen again.

Hashing 10,000 files of 300 KB costs seconds, so the byte hash of a file is remembered by its
path, size, modification time and inode in ``hashes.sqlite`` (git's index does the same): an
unchanged file is not read again. It is a table on disk, not a dictionary in memory, so the
client's memory does not grow with the number of hosts. The path a summary names is the one of this run, not the one
the cached summary was made from (the same bytes may sit in two files).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depgraph import __version__
from depgraph.cachedir import cache_dir

if TYPE_CHECKING:
    from depgraph.fleet.hosts import Host
    from depgraph.profiles import Profile

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes, in hex."""
    from depgraph.sources.files import Kind, open_input

    digest = hashlib.sha256()
    with open_input(path, Kind.HOSTS) as file:  # a host file swapped for a FIFO is refused
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ResultCache:
    """The fleet's cache directory, or nothing when there is none (then every host is audited)."""

    def __init__(self, profile: Profile, options: str = "", enabled: bool = True) -> None:
        self.directory = cache_dir("fleet") if enabled else None
        self._salt = f"{__version__}\0{profile!r}\0{options}".encode()
        self._index: sqlite3.Connection | None = None
        if self.directory is not None:
            try:
                self._index = sqlite3.connect(self.directory / "hashes.sqlite", timeout=30)
                self._index.execute("PRAGMA cache_size=-512")  # KB: bounded, whatever the fleet
                self._index.execute(
                    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INT,"
                    " mtime_ns INT, inode INT, digest TEXT)"
                )
            except sqlite3.Error:
                self._index = None

    def key(self, host: Host) -> str:
        """The cache key of a host (reads the file unless its stat says it is unchanged)."""
        stamp = (host.size, host.mtime_ns, host.inode)
        text = str(host.path)
        name: str | bytes = text
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # not UTF-8 (PEP 383 surrogates): keyed by its bytes, a BLOB
            name = os.fsencode(host.path)
        digest = None
        if self._index is not None:
            with contextlib.suppress(sqlite3.Error):
                known = self._index.execute(
                    "SELECT size, mtime_ns, inode, digest FROM files WHERE path = ?", (name,)
                ).fetchone()
                if known is not None and tuple(known[:3]) == stamp:
                    digest = str(known[3])
        if digest is None:
            digest = file_digest(host.path)
            if self._index is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._index.execute(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                        (name, *stamp, digest),
                    )
        return hashlib.sha256(self._salt + bytes.fromhex(digest)).hexdigest()

    def _file(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / "results" / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached summary of a key, or None."""
        file = self._file(key)
        if file is None:
            return None
        try:
            summary = json.loads(file.read_bytes())
        except (OSError, ValueError):
            return None
        return summary if isinstance(summary, dict) else None

    def put(self, key: str, summary: dict[str, Any]) -> None:
        """Keep a successful summary (failures are not kept)."""
        file = self._file(key)
        if file is None or summary.get("status") == "failed":
            return
        with contextlib.suppress(OSError):
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write(file, json.dumps(summary).encode())

    def save(self) -> None:
        """Commit the remembered file hashes (at the end of the run) and close the index."""
        index, self._index = self._index, None
        if index is None:
            return
        with contextlib.suppress(sqlite3.Error):
            index.commit()
        index.close()


def _write(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
