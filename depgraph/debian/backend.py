"""Which backend is present: python-apt's ``apt_pkg`` or the pure-Python path.

python-apt is a fast backend, not a requirement (python-debian's ``AptPkgVersion`` or
``NativeVersion`` choice). Two environment variables steer the choice, for the tests and CI:

``DEPGRAPH_NO_APT=1``
    behave as if python-apt were not installed (the pure-Python path);
``DEPGRAPH_REQUIRE_APT=1``
    a missing python-apt is an error, not a silent fallback (python-debian's
    ``FORBID_MISSING_APT_PKG``).
"""

from __future__ import annotations

import functools
import os
from types import ModuleType


class AptMissingError(RuntimeError):
    """python-apt was required (``DEPGRAPH_REQUIRE_APT``) but cannot be imported."""


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0", "no", "false")


_pure = False


def use_pure() -> None:
    """Take the pure-Python path for the rest of the process (``--pure``), even with python-apt."""
    global _pure
    _pure = True
    apt_pkg.cache_clear()


@functools.cache
def apt_pkg() -> ModuleType | None:
    """The initialised ``apt_pkg`` module, or None on the pure-Python path."""
    if _pure or _flag("DEPGRAPH_NO_APT"):
        return None
    try:
        import apt_pkg as module
    except ImportError as error:
        if _flag("DEPGRAPH_REQUIRE_APT"):
            raise AptMissingError(
                "DEPGRAPH_REQUIRE_APT is set but python-apt cannot be imported "
                f"({error}); install python3-apt and use a venv with --system-site-packages"
            ) from error
        return None
    module.init_config()
    module.init_system()
    return module
