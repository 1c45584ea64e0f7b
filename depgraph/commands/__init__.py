"""One module per subcommand: ``register`` adds its parser and sets ``run`` as its default.

A command module imports only the standard library at module level, so ``depgraph restart`` does
not pay for networkx or pyelftools; what ``run`` needs it imports when it runs.
``run(args, diagnostics)`` returns an :class:`Outcome`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command produced: the report and the exit status (contract: 0 fine, 1 findings)."""

    text: str | bytes | Iterable[str]
    """The report; bytes for a binary format (``--format png``); pieces of text for a report
    written as it is made (``depgraph restart --format json``)."""
    status: int = 0
