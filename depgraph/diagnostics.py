"""Collects warnings and applies the strict/lenient policy (python-debian ``Changelog(strict=...)``).

Strict mode (the default) turns a malformed record into a :class:`ParseError`; lenient mode records a
warning with file and line and goes on. Warnings are values, reported on stderr and in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from depgraph.errors import ParseError, SourceError
from depgraph.model import Warning_
from depgraph.progress import SILENT, Progress


@dataclass(slots=True)
class Diagnostics:
    """The strictness of this run and the warnings gathered so far."""

    strict: bool = True
    warnings: list[Warning_] = field(default_factory=list)
    summary: str = ""
    progress: Progress = SILENT

    def warn(self, path: str, line: int, message: str) -> None:
        """Record a warning at ``path:line`` (line 0: the file as a whole)."""
        where = f"{path}:{line}" if line else path
        self.warnings.append(Warning_(where=where, message=message))

    def problem(self, path: str, line: int, message: str) -> None:
        """A malformed record: an error when strict, a warning (and the record skipped) when not.

        Line 0 means the file as a whole (empty, no header): the error then names the file alone,
        as :meth:`warn` does, rather than a line 0 that no editor can jump to.
        """
        if self.strict:
            if not line:
                raise SourceError(path, message)
            raise ParseError(path, line, message)
        self.warn(path, line, message + "; skipped")

    def note(self, where: str, message: str) -> None:
        """A warning that is not tied to a line of an input file."""
        self.warnings.append(Warning_(where=where, message=message))


def quoted(value: str, limit: int = 40) -> str:
    """``value`` quoted for a message and cut to ``limit`` characters, so that a 10 MB field or line
    still gives a one-line message a person can read."""
    shown = value if len(value) <= limit else value[: limit - 3] + "..."
    return repr(shown)
