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
    for key in index.naming(target):
        package = index.lookup(key)
        if package is None or package.want != "install" or package.state != "installed":
            continue
        if package.name.startswith("lib") or not _listed_without_bar(package, target):
            continue
        result[key] = package
    return [result[key] for key in sorted(result)]


def _listed_without_bar(package: Package, target: str) -> bool:
    for kind in RelationKind:
        for group in package.groups(kind):
            for position, relation in enumerate(group):
                if relation.name == target and position == len(group) - 1:
                    return True
    return False
