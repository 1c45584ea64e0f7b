"""Errors a user can act on.

Every error the user may see derives from :class:`DepgraphError`; the command line turns it into one
line on stderr and exit status 2, never a traceback (contract: ``../shared/contract/CLI.md``).
"""

from __future__ import annotations

from pathlib import Path


class DepgraphError(Exception):
    """An error caused by the input or the invocation, not by a bug in depgraph."""

    def user_message(self) -> str:
        """The one line shown on stderr."""
        return str(self)


class SourceError(DepgraphError):
    """An input could not be read at all (missing, a directory, permission, corrupt compression)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class ParseError(DepgraphError):
    """An input was read but its content is not what its format allows, at a known line."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class UsageError(DepgraphError):
    """The command line asks for something that cannot be done (e.g. a package that is not there)."""
