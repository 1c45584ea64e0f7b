"""Where depgraph may keep caches: ``$XDG_CACHE_HOME/depgraph`` (XDG Base Directory spec).

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
