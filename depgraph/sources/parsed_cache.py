"""A cache of parsed Packages indexes, keyed by the index file's identity.

The archive's indexes are ~55 MB of text that change once a day at most, and parsing them is most
of a pure-Python ``--all`` run. The parsed packages are kept (pickled) under
``$XDG_CACHE_HOME/depgraph/parsed``, keyed by the file's path, size, modification time and inode,
so a changed or replaced index is parsed again. A missing, unreadable or corrupt cache entry is
ignored and rewritten, never fatal; a parse that produced warnings is not cached, so a lenient run
shows them every time. Like every depgraph cache it lives in the user's cache directory, never on
the audited system.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

from depgraph.cachedir import cache_dir
from depgraph.model import Package

FORMAT = "depgraph-parsed-packages-2"
"""Changes whenever :class:`Package` or the parser changes, so old entries are never read."""

MIN_SIZE = 1024 * 1024
"""Smaller files parse faster than a cache entry loads."""


def _entry(path: Path) -> Path | None:
    try:
        info = path.stat()
    except OSError:
        return None
    if info.st_size < MIN_SIZE:
        return None
    directory = cache_dir("parsed")
    if directory is None:
        return None
    identity = f"{FORMAT}\0{path.resolve()}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}"
    return directory / (hashlib.sha256(identity.encode()).hexdigest() + ".pickle")


def cached(path: Path, parse: Callable[[], tuple[list[Package], bool]]) -> list[Package]:
    """The packages of ``path`` from the cache, or from ``parse()`` (then cached if it was clean).

    ``parse`` returns the packages and whether parsing was clean (no warnings).
    """
    entry = _entry(path)
    if entry is not None:
        try:
            packages = pickle.loads(entry.read_bytes())
            if isinstance(packages, list) and all(isinstance(p, Package) for p in packages[:1]):
                return packages
        except FileNotFoundError:
            pass
        except Exception:  # a corrupt or foreign entry: parse again and overwrite it
            pass
    packages, clean = parse()
    if entry is not None and clean:
        _write(entry, packages)
    return packages


def _write(entry: Path, packages: list[Package]) -> None:
    try:
        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(packages, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, entry)
    except OSError:
        return
