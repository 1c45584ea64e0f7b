"""Fuzzing depgraph's parsers: Hypothesis strategies (``strategies``), one target per parser
(``targets``) and a runner (``python -m tests.fuzz``, ``make fuzz``) that keeps failing inputs in
``tests/corpus/PARSER/`` for ``tests/test_fuzz.py`` to replay."""
