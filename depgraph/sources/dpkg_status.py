"""dpkg's status database, ``/var/lib/dpkg/status`` (dpkg(1), deb822(5)).

Every paragraph is a package dpkg knows of, with its ``Status: want flag state``; packages in
``not-installed`` are kept (they matter for ``rc`` history) but never count as installed.
"""

from __future__ import annotations

import re
from pathlib import Path

from depgraph.diagnostics import Diagnostics
from depgraph.model import Origin, Package
from depgraph.rootpath import under_root
from depgraph.sources.control import read_control_file

STATUS_PATH = Path("var/lib/dpkg/status")


def read_status(path: Path, diagnostics: Diagnostics, option: str | None = None) -> list[Package]:
    """All packages of a saved or live dpkg status file; ``option`` (``--status``) names where the
    path came from, in errors."""
    return list(read_control_file(path, Origin.STATUS, diagnostics, option))


def check_status(path: Path) -> None:
    """Refuse a root's status file that cannot be read as one, before any reader (or libapt) tries:
    missing is "no dpkg status file"; a FIFO, device, loop, oversize file or a folder dpkg's
    database is in that cannot be entered is the reason itself (:mod:`depgraph.sources.files`)."""
    from depgraph.errors import SourceError
    from depgraph.sources.files import InputError, Kind, Why, open_input

    try:
        open_input(path, Kind.STATUS).close()
    except InputError as error:
        if error.why is Why.MISSING:
            raise SourceError(
                path, "no dpkg status file (is this the root of a Debian system?)"
            ) from None
        raise


def status_under(root: Path) -> Path:
    """Where dpkg keeps its status file under ``root``."""
    return under_root(root, str(STATUS_PATH))


_NAME_AND_STATUS = re.compile(r"^(Package|Status): *(\S.*)$", re.MULTILINE)


def dpkg_states(root: Path) -> dict[str, str]:
    """Package name -> dpkg state (the third word of ``Status``) of the status file under ``root``,
    by a quick scan (no full parse); empty when the file cannot be read."""
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_text

    try:
        text = read_text(status_under(root), Kind.STATUS)
    except DepgraphError:
        return {}
    states: dict[str, str] = {}
    for paragraph in text.split("\n\n"):
        fields = dict(_NAME_AND_STATUS.findall(paragraph))
        words = fields.get("Status", "").split()
        if "Package" in fields and len(words) == 3:
            states.setdefault(fields["Package"].strip(), words[2])
    return states
