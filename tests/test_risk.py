"""The ranking rules of depgraph.risk, one test per row of the table, and their order."""

from __future__ import annotations

import pytest

from depgraph.model import Component, Role
from depgraph.risk import Level, LibraryState, OldCopy, Risk, Running, assess, worst_old_copy

UP = Running(maps_library=True, listening_public=True)
LOOPBACK = Running(maps_library=True, listening_loopback=True)
IDLE = Running()
STALE = Running(maps_library=True, stale=True)


def level(
    library: LibraryState = LibraryState.VULNERABLE,
    role: Role = Role.SERVER,
    component: Component = Component.LIBSSL,
    vulnerable: Component | None = Component.LIBSSL,
    running: Running = IDLE,
) -> Level:
    return assess(
        library=library,
        role=role,
        component=component,
        vulnerable_component=vulnerable,
        running=running,
    ).level


def test_critical_needs_a_vulnerable_listening_server() -> None:
    assert level(running=UP) is Level.CRITICAL
    assert level(running=Running(maps_library=True, stale=True, listening_public=True)) is (
        Level.CRITICAL
    )
    assert level(library=LibraryState.FIXED, running=UP) is Level.NONE


def test_high_for_idle_or_loopback_servers_and_for_old_code_still_running() -> None:
    assert level(running=IDLE) is Level.HIGH
    assert level(running=LOOPBACK) is Level.HIGH
    # fixed on disk, but a client process still runs the old copy
    assert level(library=LibraryState.FIXED, role=Role.CLIENT, running=STALE) is Level.HIGH


def test_medium_for_clients_and_low_for_libcrypto_users_of_a_libssl_bug() -> None:
    assert level(role=Role.CLIENT) is Level.MEDIUM
    assert level(role=Role.NON_SSL, component=Component.LIBCRYPTO) is Level.LOW
    # a libcrypto (or whole-library) bug spares nobody who uses the library
    assert level(role=Role.NON_SSL, component=Component.LIBCRYPTO, vulnerable=None) is (
        Level.MEDIUM
    )


def test_unknown_never_ranks_none() -> None:
    assert level(role=Role.UNKNOWN) is Level.LOW
    assert level(
        library=LibraryState.UNKNOWN, role=Role.NON_SSL, component=Component.LIBCRYPTO
    ) is (Level.LOW)
    partial = Running(partial=True)
    assert level(library=LibraryState.FIXED, running=partial) is Level.LOW
    # a running server with an unknown fix state is high, not critical, and says why
    risk = assess(
        library=LibraryState.UNKNOWN,
        role=Role.SERVER,
        component=Component.LIBSSL,
        vulnerable_component=Component.LIBSSL,
        running=UP,
    )
    assert risk.level is Level.HIGH
    assert any("unknown" in reason for reason in risk.reasons)


@pytest.mark.parametrize("first,second", [(UP, LOOPBACK), (LOOPBACK, IDLE)])
def test_score_orders_within_a_level(first: Running, second: Running) -> None:
    def score(running: Running) -> float:
        return assess(
            library=LibraryState.VULNERABLE,
            role=Role.SERVER,
            component=Component.LIBSSL,
            vulnerable_component=Component.LIBSSL,
            running=running,
        ).score

    assert score(first) > score(second)


def test_levels_compare_for_fail_on() -> None:
    assert Level.CRITICAL.at_least(Level.HIGH)
    assert Level.HIGH.at_least(Level.HIGH)
    assert not Level.MEDIUM.at_least(Level.HIGH)


def test_saved_lists_never_show_a_fixed_system_as_clean() -> None:
    """A saved status file says nothing of the processes: old code may still run."""
    unseen = Running(unseen=True)
    assert level(library=LibraryState.FIXED, running=unseen) is Level.LOW
    assert level(library=LibraryState.FIXED, running=IDLE) is Level.NONE


def risk_of(
    library: LibraryState = LibraryState.VULNERABLE,
    role: Role = Role.SERVER,
    running: Running = IDLE,
) -> Risk:
    return assess(
        library=library,
        role=role,
        component=Component.LIBSSL,
        vulnerable_component=Component.LIBSSL,
        running=running,
    )


def copy_of(state: LibraryState, version: str | None = "3.0.7-1", why: str = "") -> OldCopy:
    return OldCopy(42, "libssl3", state, version, why)


def stale_server(copy: OldCopy) -> Running:
    return Running(maps_library=True, stale=True, old_copy=copy, listening_public=True)


def test_an_old_copy_that_was_already_fixed_is_never_critical() -> None:
    """Issue 21, 1: a reachable server maps a replaced copy, and dpkg's log says the version it
    loaded was fixed: a restart is due (low), not "still runs the old, vulnerable library"."""
    risk = risk_of(LibraryState.FIXED, running=stale_server(copy_of(LibraryState.FIXED)))
    assert risk.level is Level.LOW
    assert risk.reasons == (
        "maps an older copy (3.0.7-1, fixed): restart it to load the newest library",
    )
    not_affected = copy_of(LibraryState.NOT_AFFECTED, "1.1.1n-0+deb11u5")
    assert risk_of(LibraryState.FIXED, running=stale_server(not_affected)).level is Level.LOW
    # the copy it runs is fixed, but what a restart would load is not: high, never critical
    risk = risk_of(LibraryState.VULNERABLE, running=stale_server(copy_of(LibraryState.FIXED)))
    assert risk.level is Level.HIGH
    assert "upgrade before restarting" in risk.reasons[-1]


def test_an_old_copy_that_is_vulnerable_or_untold_ranks_as_before() -> None:
    vulnerable = copy_of(LibraryState.VULNERABLE, "3.0.5-1")
    risk = risk_of(LibraryState.FIXED, running=stale_server(vulnerable))
    assert risk.level is Level.CRITICAL
    assert risk.reasons[0] == (
        "still runs the old, vulnerable library: maps an older copy (3.0.5-1, vulnerable)"
    )
    untold = copy_of(LibraryState.UNKNOWN, None, "no dpkg log under /var/log")
    risk = risk_of(LibraryState.FIXED, running=stale_server(untold))
    assert risk.level is Level.CRITICAL
    assert risk.reasons[0] == (
        "maps an older copy whose version could not be told: no dpkg log under /var/log: "
        "counted as vulnerable"
    )
    client = Running(maps_library=True, stale=True, old_copy=untold)
    assert risk_of(LibraryState.FIXED, Role.CLIENT, client).level is Level.HIGH
    assert worst_old_copy([copy_of(LibraryState.FIXED), untold, vulnerable]) is vulnerable


def test_a_not_affected_library_is_not_affected() -> None:
    """Issue 21, 8 (xz-backdoor): a version that predates the bug is "not affected", never
    "fix in; ... may run old code", even on a partial view of the processes."""
    partial = Running(partial=True, unreadable="pid 1 (process_api)")
    risk = risk_of(LibraryState.NOT_AFFECTED, Role.NON_SSL, partial)
    assert (risk.level, risk.reasons) == (
        Level.NONE,
        ("not affected: the installed version predates the bug",),
    )


def test_reasons_name_the_unreadable_processes_and_agree_with_what_runs() -> None:
    """Issue 21, 8: a partial view names who could not be read; a server seen running is never
    "running unknown" or "not running"."""
    partial = Running(partial=True, unreadable="pid 1 (process_api)")
    risk = risk_of(running=partial)
    assert risk.level is Level.HIGH  # a vulnerable installed server is high anyway
    assert risk.reasons == (
        "TLS server; not seen running, but pid 1 (process_api) could not be read",
    )
    risk = risk_of(LibraryState.FIXED, running=partial)
    assert risk.level is Level.LOW  # the fix is in: low at most
    assert risk.reasons == ("fix in; pid 1 (process_api) could not be read: may run old code",)
    running = Running(maps_library=True, partial=True, unreadable="pid 1 (process_api)")
    assert risk_of(running=running).reasons == ("TLS server running, not listening",)
    unknown_sockets = Running(maps_library=True, sockets_unknown=True)
    assert risk_of(running=unknown_sockets).reasons == (
        "TLS server running; its sockets could not be read",
    )


def test_an_old_copy_of_the_part_the_bug_is_not_in_is_a_restart_due() -> None:
    """raspbian-wheezy-stale, live: a deleted libcrypto under a libssl-only bug is said so, at
    low, not "nothing runs the old code"."""
    running = Running(maps_library=True, old_other="libcrypto.so.1.0.0")
    risk = risk_of(LibraryState.FIXED, Role.CLIENT, running)
    assert risk.level is Level.LOW
    assert risk.reasons == (
        "fix in; maps an old libcrypto.so.1.0.0, which this bug is not in: restart it to load "
        "the newest",
    )
    unattributed = Running(unattributed="pid 2214")
    risk = risk_of(LibraryState.FIXED, Role.CLIENT, unattributed)
    assert (risk.level, risk.reasons) == (
        Level.LOW,
        ("fix in; pid 2214 maps an old copy, its package unknown",),
    )
