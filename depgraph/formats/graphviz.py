"""Drawing DOT text with Graphviz's ``dot`` (Debian package ``graphviz``), run as a subprocess.

``dot -Tsvg`` / ``dot -Tpng`` (dot(1)) read the graph on stdin and write the drawing on stdout.
It is the only program depgraph starts to draw; it runs with a time limit, and a missing ``dot``
is one line on stderr and exit status 2 (a :class:`GraphvizError`), never a traceback.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from depgraph.errors import DepgraphError

TIMEOUT = 120.0
"""Seconds ``dot`` may take; a folded picture takes well under one."""


class GraphvizError(DepgraphError):
    """Graphviz is missing, failed, or took too long."""


def dot_program() -> str | None:
    """The path of ``dot``, or None when Graphviz is not installed."""
    return shutil.which("dot")


def draw(dot_text: str, output: str) -> bytes:
    """``dot_text`` drawn in ``output`` format (``svg``, ``png``)."""
    program = dot_program()
    if program is None:
        raise GraphvizError(
            f"--format {output} needs Graphviz's 'dot', which is not installed "
            "(apt-get install graphviz)"
        )
    try:
        done = subprocess.run(
            [program, f"-T{output}"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"{program} took more than {TIMEOUT:.0f} s; try --max-nodes") from None
    except OSError as error:
        raise GraphvizError(f"{program}: {error.strerror or error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizError(f"{program} failed: {message[0] if message else done.returncode}")
    return done.stdout


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)


def inline_svg(svg: str) -> str:
    """An ``<svg>`` element fit for inlining in HTML: no XML prolog or DOCTYPE, and scalable
    (Graphviz's fixed ``width``/``height`` in points dropped; its ``viewBox`` keeps the shape)."""
    svg = _PROLOG.sub("", svg, count=1)
    return re.sub(
        r'<svg width="[^"]*" height="[^"]*"',
        '<svg class="graph" preserveAspectRatio="xMinYMin meet"',
        svg,
        count=1,
    )
