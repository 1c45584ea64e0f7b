"""dpkg's per-package file lists, ``/var/lib/dpkg/info/PACKAGE[:ARCH].list`` (dpkg(1), "FILES").

Multi-Arch: same packages (and, since dpkg 1.16.2, every package of a multiarch-aware system) keep
their list as ``PACKAGE:ARCH.list``; older systems use ``PACKAGE.list``. Both are tried.
"""

from __future__ import annotations

from pathlib import Path

from depgraph.errors import DepgraphError
from depgraph.rootpath import under_root
from depgraph.sources.files import Kind, iter_lines

INFO_PATH = Path("var/lib/dpkg/info")


def file_list(root: Path, name: str, architecture: str | None) -> list[str] | None:
    """The paths dpkg installed for a package, or None when its list is missing or unreadable."""
    directory = under_root(root, str(INFO_PATH))
    candidates = [f"{name}:{architecture}.list"] if architecture else []
    candidates.append(f"{name}.list")
    for candidate in candidates:
        try:
            return [
                line
                for line in iter_lines(directory / candidate, Kind.FILE_LIST)
                if line.startswith("/")
            ]
        except DepgraphError:
            continue
    return None
