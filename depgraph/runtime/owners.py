"""The package that installed a file, from dpkg's file lists (``var/lib/dpkg/info/*.list``,
dpkg(1) "FILES"); what ``dpkg -S PATH`` answers, without running dpkg.

Reading every list (a desktop has thousands, ~10 MB) is the slow part, so the answers are cached
in ``$XDG_CACHE_HOME/depgraph/owners/`` (``depgraph.cachedir``), keyed by the modification times
of the lists' directory and of dpkg's status file. dpkg never edits a list in place: it writes
``PKG.list-new`` and renames it over ``PKG.list`` (and removes lists the same way), which changes
the directory's time, and every dpkg run rewrites the status file; so installing, upgrading or
removing any package changes the key, at the cost of two ``stat`` calls instead of one per list.
Only the paths asked for are cached, not the whole index (a cached lookup is one small read). The cache is ``marshal`` data: no import cost, and a corrupt or stale
file is simply rebuilt. On a merged-/usr system ``/usr/bin/x`` and ``/bin/x`` are one file, and
dpkg may list either, so both spellings are tried.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import zlib
from pathlib import Path

from depgraph.errors import DepgraphError
from depgraph.rootpath import under_root
from depgraph.sources.files import Kind, read_raw

INFO = "var/lib/dpkg/info"
STATUS = "var/lib/dpkg/status"
FORMAT = 1


def _spellings(path: str) -> tuple[str, ...]:
    if path.startswith("/usr/"):
        return (path, path[4:])
    return (path, "/usr" + path)


class Owners:
    """``dpkg -S`` for the files under ``root``, cached per set of lists."""

    def __init__(self, root: Path = Path("/"), use_cache: bool = True) -> None:
        self.root = root
        self.directory = str(under_root(root, INFO))
        self.use_cache = use_cache
        self._lists: list[str] | None = None
        self._key: str | None = None
        self._known: dict[str, str | None] = {}
        self._loaded = False
        self._dirty = False

    def _scan_key(self) -> None:
        parts = []
        for path in (self.directory, str(under_root(self.root, STATUS))):
            try:
                status = os.stat(path)
            except OSError:
                parts.append("-")
                continue
            parts.append(f"{status.st_mtime_ns}:{status.st_ino}")
        self._key = f"{FORMAT}:" + "/".join(parts)

    def _list_names(self) -> list[str]:
        if self._lists is None:
            try:
                self._lists = sorted(n for n in os.listdir(self.directory) if n.endswith(".list"))
            except OSError:
                self._lists = []
        return self._lists

    def _cache_file(self) -> Path | None:
        if not self.use_cache:
            return None
        from depgraph.cachedir import cache_dir

        directory = cache_dir("owners")
        if directory is None:
            return None
        name = f"{zlib.crc32(str(self.root.resolve()).encode()):08x}.marshal"
        return directory / name

    def _load(self) -> None:
        self._loaded = True
        self._scan_key()
        cache = self._cache_file()
        if cache is None:
            return
        try:
            data = marshal.loads(cache.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return
        if isinstance(data, dict) and data.get("key") == self._key:
            known = data.get("owners")
            if isinstance(known, dict):
                self._known.update(known)

    def owners(self, paths: list[str]) -> dict[str, str | None]:
        """The owning package of each path (``name`` or ``name:arch`` as the list is named)."""
        if not self._loaded:
            self._load()
        missing = [path for path in dict.fromkeys(paths) if path not in self._known]
        if missing:
            self._search(missing)
        return {path: self._known.get(path) for path in paths}

    def owner(self, path: str) -> str | None:
        """The owning package of one path, or None."""
        return self.owners([path])[path]

    def _search(self, paths: list[str]) -> None:
        needles = {
            f"\n{spelling}\n".encode(): path for path in paths for spelling in _spellings(path)
        }
        found: dict[str, str] = {}
        for name in self._list_names():
            try:  # a FIFO or device among the lists is skipped, never read
                data = b"\n" + read_raw(f"{self.directory}/{name}", Kind.FILE_LIST)
            except DepgraphError:
                continue
            if not data.endswith(b"\n"):
                data += b"\n"
            for needle, path in needles.items():
                if path not in found and needle in data:
                    # diversions aside, the first list naming a path is its owner
                    found[path] = name[: -len(".list")]
            if len(found) == len(paths):
                break
        for path in paths:
            self._known[path] = found.get(path)
        self._dirty = True

    def save(self) -> None:
        """Write the answers learned in this run to the cache (best effort)."""
        if not self._dirty:
            return
        cache = self._cache_file()
        if cache is None:
            return
        temporary = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        try:
            temporary.write_bytes(marshal.dumps({"key": self._key, "owners": self._known}))
            os.replace(temporary, cache)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()
        self._dirty = False
