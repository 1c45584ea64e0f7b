"""Progress lines on stderr while a long command works, only when stderr is a terminal.

A cron job or a pipe sees nothing (the issue: "progress on stderr when stderr is a terminal;
nothing otherwise"). Each stage overwrites the previous one on the same line (``\\r`` and
erase-to-end, as apt's own progress does) and the line is cleared when the work is done, so the
report that follows starts on a clean line.
"""

from __future__ import annotations

from typing import TextIO


class Progress:
    """Tells the person at the terminal which stage the work is in; silent elsewhere."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._shown = False

    @classmethod
    def for_terminal(cls, stream: TextIO) -> Progress:
        """A progress writer on ``stream`` when it is a terminal, a silent one otherwise."""
        try:
            terminal = stream.isatty()
        except (AttributeError, ValueError):
            terminal = False
        return cls(stream if terminal else None)

    def stage(self, text: str) -> None:
        """Show ``text`` (one short line, e.g. "reading changelogs") in place of the last one."""
        if self._stream is None:
            return
        self._stream.write(f"\r\033[Kdepgraph: {text}...")
        self._stream.flush()
        self._shown = True

    def done(self) -> None:
        """Clear the progress line."""
        if self._stream is None or not self._shown:
            return
        self._stream.write("\r\033[K")
        self._stream.flush()
        self._shown = False


SILENT = Progress(None)
