"""Where depgraph may keep caches: ``$XDG_CACHE_HOME/depgraph`` (XDG Base Directory spec); and
where it unpacks scratch files (:func:`scratch_base`).

depgraph never writes to the system it audits; a cache lives in the invoking user's own cache
directory, and when that cannot be created or written the caller simply goes without.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path | None:
    """``$XDG_CACHE_HOME/depgraph/<parts>`` (default ``~/.cache``), created 0700; None if unusable."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    directory = root.joinpath("depgraph", *parts)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(directory, os.W_OK | os.X_OK):
        return None
    return directory


SCRATCH_ENVIRONMENT = "DEPGRAPH_SCRATCH"
"""Names the folder scratch files go in: set by ``depgraph fleet`` for its processes (a private
folder it removes at the end, :mod:`depgraph.fleet.scratch`)."""
SHM = "/dev/shm"


def scratch_base() -> str | None:
    """Where scratch folders (an unpacked snapshot) go, for :func:`tempfile.mkdtemp`'s ``dir``:
    ``$DEPGRAPH_SCRATCH`` when set; else its default when ``$TMPDIR`` is set (None); else
    ``/dev/shm`` (memory: a snapshot is ~1,500 small files, which a disk creates three times
    slower) when it can be written; else None, the system's temporary folder."""
    given = os.environ.get(SCRATCH_ENVIRONMENT)
    if given:
        return given
    if os.environ.get("TMPDIR"):
        return None
    return SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK | os.X_OK) else None
