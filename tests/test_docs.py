"""Docs that cannot rot: the README's usage blocks are the real ``--help`` output.

Run ``python -m tests.test_docs`` to rewrite them after changing the command line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import REPO

README = REPO / "README.md"
BLOCK = re.compile(r"(<!-- usage: (?P<command>[^>]+?) -->\n```text\n)(?P<body>.*?)(```)", re.S)


def help_text(command: str) -> str:
    words = command.split()
    assert words[0] == "depgraph" and words[-1] == "--help"
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-m", "depgraph", *words[1:]],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO,
    )
    return done.stdout


def expected_readme() -> str:
    text = README.read_text()
    return BLOCK.sub(lambda m: m.group(1) + help_text(m.group("command")) + m.group(4), text)


def test_readme_usage_matches_help() -> None:
    text = README.read_text()
    commands = [m.group("command") for m in BLOCK.finditer(text)]
    from depgraph.cli import build_parser

    subcommands = [
        name
        for action in build_parser()._actions
        if action.__class__.__name__ == "_SubParsersAction"
        for name in action.choices
    ]
    # One usage block for the top level and one for every subcommand, in any order.
    assert sorted(commands) == sorted(
        ["depgraph --help", *(f"depgraph {name} --help" for name in subcommands)]
    )
    assert text == expected_readme(), "README usage is stale: run python -m tests.test_docs"


def test_readme_starts_with_the_two_commands() -> None:
    head = README.read_text().splitlines()[:6]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_every_subcommand_has_help() -> None:
    from depgraph.cli import build_parser

    parser = build_parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for action in actions:
        for choice in action._choices_actions:
            assert choice.help, f"subcommand {choice.dest} has no help text"
        for name, sub in action.choices.items():
            assert sub.description, f"subcommand {name} has no description"
            for option in sub._actions:
                assert option.help, f"{name} {option.option_strings or option.dest} has no help"


if __name__ == "__main__":
    README.write_text(expected_readme())
