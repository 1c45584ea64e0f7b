"""ELF facts cached by (path, size, modification time), so a second run reads no ELF file again.

One pickle per root under ``$XDG_CACHE_HOME/depgraph/elf/``, an entry per (path, the sonames whose
imports were wanted, whether exports were read); it is reused only when the file's size and
modification time (ns) are unchanged. A
missing, corrupt or foreign cache file is ignored and replaced, never fatal.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from depgraph.cachedir import cache_dir
from depgraph.elf import ElfFacts, read_elf

FORMAT = "depgraph-elf-2"

_Entry = tuple[int, int, frozenset[str] | None, bool, ElfFacts]
"""size, mtime_ns, the sonames imports were read for, whether exports were read, the facts."""


class ElfCache:
    """Reads ELF facts through a per-root cache; call :meth:`save` once at the end of a run."""

    def __init__(self, root: Path) -> None:
        digest = hashlib.sha256(f"{FORMAT}\0{root.resolve()}".encode()).hexdigest()[:16]
        directory = cache_dir("elf")
        self._file = directory / f"{digest}.pickle" if directory is not None else None
        self._entries: dict[str, _Entry] = self._load()
        self._dirty = False
        self.hits = 0
        self.reads = 0

    def _load(self) -> dict[str, _Entry]:
        if self._file is None:
            return {}
        try:
            loaded = pickle.loads(self._file.read_bytes())
        except FileNotFoundError:
            return {}
        except Exception:  # corrupt or from another version: start afresh
            return {}
        if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
            return {}
        entries = loaded.get("entries")
        return entries if isinstance(entries, dict) else {}

    def read(
        self,
        path: Path,
        *,
        with_exports: bool = False,
        symbols_if_needs: frozenset[str] | None = None,
    ) -> ElfFacts:
        """The facts of ``path``, from the cache when the file has not changed."""
        key = f"{path}\0{sorted(symbols_if_needs) if symbols_if_needs is not None else '*'}"
        key += "\0exports" if with_exports else ""
        try:
            info = path.stat()
        except OSError:
            return read_elf(path, with_exports=with_exports, symbols_if_needs=symbols_if_needs)
        entry = self._entries.get(key)
        if entry is not None and entry[0] == info.st_size and entry[1] == info.st_mtime_ns:
            self.hits += 1
            return entry[4]
        self.reads += 1
        facts = read_elf(path, with_exports=with_exports, symbols_if_needs=symbols_if_needs)
        self._entries[key] = (info.st_size, info.st_mtime_ns, symbols_if_needs, with_exports, facts)
        self._dirty = True
        return facts

    def save(self) -> None:
        """Write the cache back if anything was read (atomically; failures are ignored)."""
        if self._file is None or not self._dirty:
            return
        try:
            handle, temporary = tempfile.mkstemp(dir=self._file.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as stream:
                pickle.dump({"format": FORMAT, "entries": self._entries}, stream)
            os.replace(temporary, self._file)
        except OSError:
            return
        self._dirty = False
