"""``python -m depgraph``."""

import sys

from depgraph.cli import main

sys.exit(main())
