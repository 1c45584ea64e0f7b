"""Paths of an audited tree resolved *inside* it, as if it were ``/`` (like ``chroot`` would).

A chroot or unpacked image is full of symlinks meant for its own ``/``: ``lib -> usr/lib`` is
harmless, but ``usr/bin -> /usr/bin`` or ``../../..`` would lead a naive ``root / path`` out of the
tree and into the host. Every component is resolved here with absolute targets rebased onto the root
and ``..`` stopping at it (the semantics of ``openat2(RESOLVE_IN_ROOT)``).
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_LINKS = 40
"""Like the kernel's limit: more symlinks than this in one path is a loop."""


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def resolve_in_root(root: Path, path: str, *, follow_last: bool = True) -> Path | None:
    """``path`` (as the tree's own ``/`` sees it) as a real path under ``root``; None on a loop.

    With ``follow_last=False`` a symlink in the last component is returned as it is.
    """
    if root == Path("/"):
        return Path("/") / path.lstrip("/")
    base = root.resolve()
    current = base
    pending = _parts(path)
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if current != base:
                current = current.parent
            continue
        candidate = current / part
        if _is_symlink(candidate) and (pending or follow_last):
            links += 1
            if links > MAX_LINKS:
                return None
            try:
                target = os.readlink(candidate)
            except OSError:
                return None
            if target.startswith("/"):
                current = base
            pending = _parts(target) + pending
            continue
        current = candidate
    return current


def _is_symlink(path: Path) -> bool:
    """``path`` is a symlink; False when it cannot be looked at (a directory on the way without
    search permission): the caller's open then fails and says so, as it would for any file."""
    try:
        return path.is_symlink()
    except OSError:
        return False


def under_root(root: Path, path: str) -> Path:
    """Like :func:`resolve_in_root`, but a path with a symlink loop becomes one that does not exist
    (and says why), never the host's file that a naive join would reach."""
    resolved = resolve_in_root(root, path)
    if resolved is not None:
        return resolved
    return root / (path.lstrip("/") + " (symlink loop in the tree)")
