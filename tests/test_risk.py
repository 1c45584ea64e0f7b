"""The ranking rules of depgraph.risk, one test per row of the table, and their order."""

from __future__ import annotations

import pytest

from depgraph.model import Component, Role
from depgraph.risk import Level, LibraryState, Running, assess

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
