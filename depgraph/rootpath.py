"""Paths of an audited tree resolved *inside* it, as if it were ``/`` (like ``chroot`` would).

A chroot or unpacked image is full of symlinks meant for its own ``/``: ``lib -> usr/lib`` is
harmless, but ``usr/bin -> /usr/bin`` or ``../../..`` would lead a naive ``root / path`` out of the
tree and into the host. Every component is resolved here with absolute targets rebased onto the root
and ``..`` stopping at it (the semantics of ``openat2(RESOLVE_IN_ROOT)``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
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


def resolve_each(root: Path, paths: Iterable[str], *, follow_last: bool = True) -> Iterator[str]:
    """:func:`resolve_in_root` of each of ``paths`` (as strings; a loop is left out), resolving
    each folder once: a package that lists two million files in a few thousand folders costs a few
    thousand resolutions, not two million (each several ``lstat`` calls and Path objects)."""
    if root == Path("/"):
        for path in paths:
            yield "/" + path.lstrip("/")
        return
    folders: dict[str, str | None] = {}
    for path in paths:
        head, _, name = path.rstrip("/").rpartition("/")
        if name in ("", ".", ".."):
            whole = resolve_in_root(root, path, follow_last=follow_last)
            if whole is not None:
                yield str(whole)
            continue
        if head not in folders:
            folder = resolve_in_root(root, head or "/")
            folders[head] = str(folder) if folder is not None else None
        parent = folders[head]
        if parent is None:
            continue
        candidate = f"{parent.rstrip('/')}/{name}"
        if follow_last and os.path.islink(candidate):
            whole = resolve_in_root(root, path)
            if whole is not None:
                yield str(whole)
            continue
        yield candidate


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
    return root / (path.lstrip("/") + LOOP_SUFFIX)


LOOP_SUFFIX = " (symlink loop in the tree)"
"""What :func:`under_root` appends to a path that ends in a symlink loop."""


def is_loop(path: Path) -> bool:
    """``path`` came from :func:`under_root` and ends in a symlink loop."""
    return str(path).endswith(LOOP_SUFFIX)
