"""Collects warnings and applies the strict/lenient policy (python-debian ``Changelog(strict=...)``).

Strict mode (the default) turns a malformed record into a :class:`ParseError`; lenient mode records a
warning with file and line and goes on. Warnings are values, reported on stderr and in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from depgraph.errors import ParseError
from depgraph.model import Warning_


@dataclass(slots=True)
class Diagnostics:
    """The strictness of this run and the warnings gathered so far."""

    strict: bool = True
    warnings: list[Warning_] = field(default_factory=list)
    summary: str = ""

    def warn(self, path: str, line: int, message: str) -> None:
        """Record a warning at ``path:line`` (line 0: the file as a whole)."""
        where = f"{path}:{line}" if line else path
        self.warnings.append(Warning_(where=where, message=message))

    def problem(self, path: str, line: int, message: str) -> None:
        """A malformed record: an error when strict, a warning (and the record skipped) when not."""
        if self.strict:
            raise ParseError(path, line, message)
        self.warn(path, line, message + "; skipped")

    def note(self, where: str, message: str) -> None:
        """A warning that is not tied to a line of an input file."""
        self.warnings.append(Warning_(where=where, message=message))
