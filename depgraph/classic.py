"""The classic one-liner of the Heartbleed advice, reproduced exactly, for comparison::

    apt-cache rdepends libssl1.0.0 | tail -n +3 | xargs dpkg -l 2>/dev/null \\
        | grep '^ii' | grep -v '^ii  lib'

``apt-cache rdepends`` lists every package with any relationship (all fields, Breaks and Conflicts
included) on the target, prefixing with ``|`` those where the target is an alternative other than the
last of its OR-group (apt's ``Dep::Or`` flag). ``xargs`` passes ``|name`` to ``dpkg -l``, which matches
nothing, so those dependents silently drop out. ``grep '^ii'`` keeps packages selected for install and
installed (not held, ``hi``), and ``grep -v '^ii  lib'`` drops names starting with ``lib``. It neither
recurses nor follows Provides.
"""

from __future__ import annotations

from depgraph.model import Package, RelationKind
from depgraph.sources.interface import PackageIndex


def classic_dependents(index: PackageIndex, target: str) -> list[Package]:
    """The packages the one-liner prints for ``target``, in ``dpkg -l`` (name) order."""
    result: dict[str, Package] = {}
    for entry in index.reverse(target, tuple(RelationKind)):
        if not entry.last or entry.dependent in result:
            continue
        package = index.lookup(entry.dependent)
        if package is None or package.want != "install" or package.state != "installed":
            continue
        if not package.name.startswith("lib"):
            result[entry.dependent] = package
    return [result[key] for key in sorted(result)]
