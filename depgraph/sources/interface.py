"""The seam between package sources and the graph: :class:`PackageIndex`.

A source (saved files parsed in pure Python, or python-apt's cache) answers these questions, and the
graph needs nothing else:

* which version of a package counts (the installed one, else the newest available);
* which relationships of those versions name a given (real or virtual) package;
* which packages Provide a virtual package;
* whether only installed packages are wanted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Protocol

from depgraph.model import Package, RelationKind, ReverseRelation


class PackageIndex(Protocol):
    """What the reverse-dependency walk asks of a source."""

    @property
    def installed_only(self) -> bool:
        """Only installed packages take part (the default on a live system)."""
        ...

    @property
    def native_arch(self) -> str | None:
        """dpkg's native architecture, for telling ``name`` from ``name:arch``."""
        ...

    @property
    def backend(self) -> str:
        """``python-apt`` or ``pure-python``: which code read the packages."""
        ...

    @property
    def description(self) -> str:
        """Where the packages come from, in words, for reports."""
        ...

    def lookup(self, key: str) -> Package | None:
        """The version of package ``key`` (``name`` or ``name:arch``) that counts, or None.

        Its ``relations`` may be empty when the backend serves them through :meth:`reverse` only
        (python-apt); everything else about the package is filled in.
        """
        ...

    def record(self, key: str) -> Package | None:
        """Any record of package ``key`` a source read, whatever the scope and its state: a dpkg
        status paragraph (``config-files``, ``not-installed``), a ``dpkg -l`` line or a Packages
        entry; None when no source read names it as a package (a typo, or another release's)."""
        ...

    def copies(self, key: str) -> tuple[Package, ...]:
        """Every record of package ``key`` when a source read more than one for the same
        name:architecture (a duplicate paragraph or ``dpkg -l`` row, warned about when read), in
        the order read; empty when it was recorded once. The fix check judges each of them."""
        ...

    def details(self, key: str) -> Package | None:
        """:meth:`lookup` with ``relations`` and ``description`` always filled in (python-apt reads
        them on demand: the walk does not need them, the classifier does)."""
        ...

    def reverse(self, name: str, kinds: Collection[RelationKind]) -> Iterable[ReverseRelation]:
        """The relationships of the counting versions of all packages that name ``name``."""
        ...

    def providers(self, name: str) -> Iterable[str]:
        """Keys of packages that Provide the virtual package ``name``."""
        ...

    def is_virtual(self, name: str) -> bool:
        """``name`` is not a real package but some package Provides it."""
        ...
