"""Vulnerability profiles as data: the built-in TOML files beside this module and their loader."""

from depgraph.model import Impact
from depgraph.profiles.loader import (
    ANY_RELEASE,
    AffectedRange,
    CveId,
    Exposure,
    FixedVersion,
    Profile,
    ProfileError,
    Remediation,
    adhoc_profile,
    builtin_names,
    builtin_profiles,
    load_profile,
    parse_affected,
    parse_profile,
)

__all__ = [
    "ANY_RELEASE",
    "AffectedRange",
    "CveId",
    "Exposure",
    "FixedVersion",
    "Impact",
    "Profile",
    "ProfileError",
    "Remediation",
    "adhoc_profile",
    "builtin_names",
    "builtin_profiles",
    "load_profile",
    "parse_affected",
    "parse_profile",
]
