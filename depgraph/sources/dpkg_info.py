"""dpkg's per-package file lists, ``/var/lib/dpkg/info/PACKAGE[:ARCH].list`` (dpkg(1), "FILES").

Multi-Arch: same packages (and, since dpkg 1.16.2, every package of a multiarch-aware system) keep
their list as ``PACKAGE:ARCH.list``; older systems use ``PACKAGE.list``. Both are tried.
"""

from __future__ import annotations

from pathlib import Path

from depgraph.errors import DepgraphError
from depgraph.rootpath import under_root
from depgraph.sources.files import InputError, Kind, Why, iter_lines

INFO_PATH = Path("var/lib/dpkg/info")


def file_list(
    root: Path, name: str, architecture: str | None, refused: list[str] | None = None
) -> list[str] | None:
    """The paths dpkg installed for a package, or None when its list is missing or unreadable;
    why a list that is there was not read (a FIFO, a device, over the size limit, permission
    denied) is added to ``refused``, so that it is said rather than taken for a missing list."""
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
        except InputError as error:
            if refused is not None and error.why is not Why.MISSING:
                refused.append(error.user_message())
        except DepgraphError as error:
            if refused is not None:
                refused.append(error.user_message())
    return None
