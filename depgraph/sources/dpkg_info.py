"""dpkg's per-package file lists, ``/var/lib/dpkg/info/PACKAGE[:ARCH].list`` (dpkg(1), "FILES").

Multi-Arch: same packages (and, since dpkg 1.16.2, every package of a multiarch-aware system) keep
their list as ``PACKAGE:ARCH.list``; older systems use ``PACKAGE.list``. Both are tried.
"""

from __future__ import annotations

from pathlib import Path

from depgraph.rootpath import under_root

INFO_PATH = Path("var/lib/dpkg/info")


def file_list(root: Path, name: str, architecture: str | None) -> list[str] | None:
    """The paths dpkg installed for a package, or None when its list is missing or unreadable."""
    directory = under_root(root, str(INFO_PATH))
    candidates = [f"{name}:{architecture}.list"] if architecture else []
    candidates.append(f"{name}.list")
    for candidate in candidates:
        try:
            text = (directory / candidate).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        return [line for line in text.splitlines() if line.startswith("/")]
    return None
