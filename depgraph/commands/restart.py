"""``depgraph restart``: the processes that still map an old (deleted or replaced) copy of the
library, the units to restart and the commands to do it; depgraph itself restarts nothing.

Start-up is most of its run time, so this module imports only the standard library at module level
and ``run`` only the ``depgraph.runtime`` modules it uses (no networkx, pyelftools or tabulate).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depgraph.commands import Outcome
from depgraph.commands.options import input_path

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics
    from depgraph.dpkg_log import ExposureHistory, ExposureWindow
    from depgraph.runtime.keys import KeyMaterial
    from depgraph.runtime.library import LibraryFiles
    from depgraph.runtime.plan import Action
    from depgraph.runtime.scan import RuntimeScan


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``restart`` to the command line."""
    restart = commands.add_parser(
        "restart",
        help="processes still running an old or vulnerable copy of the library",
        description=(
            "Processes that map a deleted or replaced copy of the library (or the installed one, "
            "when its version is vulnerable), with their package, unit or container, start time "
            "and listening sockets; the systemctl commands to restart them, and what needs a "
            "reboot. Read-only: nothing is restarted or signalled. Default library: libssl3 if "
            "installed (or libssl3t64, libssl1.1, libssl1.0.2), else libssl1.0.0; with --maps, "
            "any libssl.so.* as the advice's grep. With --root other than /, only saved inputs "
            "are read (--maps, dpkg.log, configurations), never this host's /proc."
        ),
    )
    restart.add_argument(
        "--root",
        type=input_path,
        metavar="DIR",
        help="read a chroot or unpacked image like / (no /proc)",
    )
    restart.add_argument(
        "--library",
        metavar="PKG",
        help="the library package (its .so files from dpkg's list), or a soname or glob",
    )
    restart.add_argument(
        "--maps",
        type=input_path,
        metavar="FILE",
        help="saved output of grep 'libssl.*(deleted)' /proc/*/maps (or one maps file)",
    )
    restart.add_argument(
        "--fixed-version",
        metavar="VERSION",
        help="first fixed version: an older installed library counts as 'vulnerable version'",
    )
    restart.add_argument(
        "--format",
        choices=["table", "json"],
        default="table",
        help="output format (default: table)",
    )
    restart.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report to FILE"
    )
    restart.set_defaults(run=run)


def _is_live(root: Path) -> bool:
    try:
        return root.resolve() == Path("/")
    except OSError:
        return False


def _installed_version(root: Path, package: str) -> str | None:
    """The installed version of a package, from dpkg's status file under ``root``."""
    from depgraph.errors import DepgraphError
    from depgraph.rootpath import under_root
    from depgraph.sources.files import Kind, read_text

    try:
        text = read_text(under_root(root, "var/lib/dpkg/status"), Kind.STATUS)
    except DepgraphError:
        return None
    for paragraph in text.split("\n\n"):
        if not paragraph.lstrip("\n").startswith(f"Package: {package}\n"):
            continue
        fields = dict(
            line.split(": ", 1) for line in paragraph.strip("\n").splitlines() if ": " in line
        )
        if fields.get("Status", "").endswith(" installed") and "Version" in fields:
            return fields["Version"]
    return None


def _library(args: argparse.Namespace, root: Path) -> LibraryFiles:
    from depgraph.errors import UsageError
    from depgraph.runtime.library import ADVICE_PATTERN, default_package, library_files

    spec = args.library
    if spec is None:
        spec = ADVICE_PATTERN if args.maps is not None else default_package(root)
    library = library_files(root, spec)
    if library is None:
        raise UsageError(
            f"--library {spec}: no file list under {root} and no soname follows from the name; "
            "give a soname or glob such as libfoo.so.1 or 'libfoo.so.*'"
        )
    return library


def _vulnerable(args: argparse.Namespace, root: Path, library: LibraryFiles) -> bool | None:
    if args.fixed_version is None:
        return None
    from depgraph.debian.versions import compare
    from depgraph.errors import UsageError

    if library.package is None:
        raise UsageError("--fixed-version needs --library to name a package, not a soname")
    installed = _installed_version(root, library.package)
    if installed is None:
        return None
    try:
        return compare(installed, args.fixed_version) < 0
    except ValueError as error:
        raise UsageError(f"--fixed-version {args.fixed_version}: {error}") from None


def _scan(
    args: argparse.Namespace, root: Path, library: LibraryFiles, vulnerable: bool | None
) -> RuntimeScan | None:
    from depgraph.runtime.scan import read_maps_text, scan_maps_file, scan_processes

    if args.maps is not None:
        text = read_maps_text(args.maps)
        return scan_maps_file(library, args.maps, text, installed_vulnerable=vulnerable)
    if not _is_live(root):
        return None
    # The table shows only what needs a restart; JSON lists every process mapping the library.
    return scan_processes(
        library, installed_vulnerable=vulnerable, only_needing_restart=args.format == "table"
    )


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """Scan, plan and render; exit 1 when something must be restarted or the view is partial."""
    root = args.root or Path("/")
    if args.root is not None and not args.root.is_dir():
        from depgraph.errors import SourceError

        raise SourceError(args.root, "not a directory")
    library = _library(args, root)
    vulnerable = _vulnerable(args, root, library)
    scan = _scan(args, root, library, vulnerable)
    warnings: list[str] = []
    if args.fixed_version is not None and vulnerable is None:
        warnings.append(
            f"no installed version of {library.package} in the dpkg status under {root}: "
            "--fixed-version cannot judge the installed copy (only deleted or replaced ones count)"
        )
    if library.package is not None and not library.paths:
        from depgraph.runtime.library import installed_in_status

        if library.package in installed_in_status(root):
            warnings.append(
                f"{library.package} is installed but has no dpkg file list under {root}: its "
                f"sonames are guessed from its name ({', '.join(sorted(library.names))}); "
                "plugins and other shared objects it ships are not looked for"
            )
    if scan is None:
        warnings.append(
            f"--root {root} is not the running system: no processes were scanned (depgraph never "
            "reads this host's /proc for another root); give --maps FILE saved on that system"
        )
    else:
        warnings.extend(scan.notes)
        if scan.partial:
            shown = ", ".join(f"{pid} ({name})" for pid, name in scan.unreadable[:10])
            more = len(scan.unreadable) - 10
            warnings.append(
                f"partial: the maps of {len(scan.unreadable)} processes could not be read "
                f"({_unreadable_hint()}): {shown}{f' and {more} more' if more > 0 else ''}"
            )
    to_restart = scan.to_restart if scan is not None else ()
    actions: tuple[Action, ...] = ()
    if scan is not None and to_restart:
        from depgraph.runtime.plan import restart_plan

        actions = restart_plan(scan)
    history: ExposureHistory | None = None
    windows: tuple[ExposureWindow, ...] = ()
    keys: tuple[KeyMaterial, ...] = ()
    if to_restart:
        from depgraph.dpkg_log import exposure_windows

        if library.package is not None:
            history, windows = exposure_windows(
                root, library.package, [(p.pid, p.started) for p in to_restart], warnings
            )
        servers = [p for p in to_restart if p.listening]
        if servers or (scan is not None and not scan.live):
            from depgraph.runtime.keys import find_key_material

            packages = [p.package for p in servers if p.package]
            keys = find_key_material(root, packages if scan is not None and scan.live else None)
    for warning in warnings:
        diagnostics.note("restart", warning)
    source: dict[str, Any] = (
        {"kind": "maps-file", "path": str(args.maps)}
        if args.maps is not None
        else {"kind": "proc", "path": "/proc"}
        if scan is not None
        else {"kind": "root", "path": str(root)}
    )
    if scan is None:
        summary = "no processes scanned (--root is not the running system)"
    else:
        summary = (
            f"{len(to_restart)} of {scan.scanned} processes keep an old or vulnerable copy of "
            f"{library.describe()}; {sum(1 for a in actions if a.command)} commands to run"
        )
        if scan.partial:
            summary += f"; partial: {len(scan.unreadable)} processes unreadable"
    diagnostics.summary = summary
    status = 1 if to_restart or scan is None or scan.partial else 0
    if args.format == "json":
        from depgraph.runtime.report import restart_json

        extra = {
            "source": source,
            "library": {
                "package": library.package,
                "names": sorted(library.names) + list(library.patterns),
                "paths": list(library.paths),
                "where": library.where,
                "installed_vulnerable": vulnerable,
            },
            "exposure": _exposure_json(history, windows),
            "keys": [_key_json(k) for k in keys],
        }
        return Outcome(restart_json(scan, actions, warnings, extra), status)
    from depgraph.formats.escape import block  # paths and names from the audited system

    text = _table(scan, actions, history, windows, keys, library, warnings)
    return Outcome(block(text), status)


def _unreadable_hint() -> str:
    import os

    if os.geteuid() != 0:
        return "not root: run as root to see them"
    if not _may_ptrace():
        return "root without CAP_SYS_PTRACE: run with full privileges to see them"
    return "even as root: another user namespace or a protected process"


CAP_SYS_PTRACE = 19
"""capabilities(7): reading another user's (or a more privileged) process's maps needs it."""


def _may_ptrace() -> bool:
    """This process has CAP_SYS_PTRACE in its effective set (proc(5), ``CapEff``)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_PTRACE & 1)
    except (OSError, ValueError, IndexError):
        pass
    return True


def _stamp(seconds: float | None) -> str | None:
    import time

    if seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))


def _exposure_json(
    history: ExposureHistory | None, windows: tuple[ExposureWindow, ...]
) -> dict[str, Any] | None:
    if history is None:
        return None
    return {
        "package": history.package,
        "logs": list(history.logs),
        "versions": [
            {
                "version": p.version,
                "installed": _stamp(p.installed),
                "replaced": _stamp(p.replaced),
                "removed": p.removed,
                "evidence": [
                    {"path": e.path, "line": e.line, "detail": e.detail} for e in p.evidence
                ],
            }
            for p in history.periods
        ],
        "processes": [
            {
                "pid": w.pid,
                "version": w.version,
                "since": _stamp(w.start),
                "replaced_on_disk": _stamp(w.replaced_on_disk),
            }
            for w in windows
        ],
    }


def _key_json(key: KeyMaterial) -> dict[str, Any]:
    return {
        "server": key.server,
        "kind": key.material.value,
        "path": key.path,
        "exists": key.exists,
        "holds_private_key": key.holds_private_key,
        "certificates": [
            {
                "subject": c.subject,
                "not_before": _stamp(c.not_before),
                "not_after": _stamp(c.not_after),
                "sha256": c.sha256,
                "serial": c.serial,
            }
            for c in key.certificates
        ],
        "config": f"{key.evidence.path}:{key.evidence.line}",
        "problem": key.problem,
    }


def _table(
    scan: RuntimeScan | None,
    actions: tuple[Action, ...],
    history: ExposureHistory | None,
    windows: tuple[ExposureWindow, ...],
    keys: tuple[KeyMaterial, ...],
    library: LibraryFiles,
    warnings: list[str],
) -> str:
    out: list[str] = []
    if scan is None:
        out.append("No processes scanned: --root is not the running system (see the warning).\n")
        return "".join(out)
    to_restart = scan.to_restart
    if not to_restart:
        if scan.partial:
            out.append(
                f"Nothing found among the {scan.scanned - len(scan.unreadable)} processes that "
                f"could be read, but the view is PARTIAL: {len(scan.unreadable)} could not be "
                f"read ({_unreadable_hint()}).\n"
            )
        else:
            out.append(
                f"No process keeps an old copy of {library.describe()} "
                f"({scan.scanned} processes scanned from {scan.source}).\n"
            )
        return "".join(out)
    from depgraph.formats.escape import terminal
    from depgraph.runtime.report import PROCESS_HEADERS, action_entry, columns, process_rows

    out.append(
        f"Processes keeping an old or vulnerable copy of {library.describe()}"
        f"{' (PARTIAL view)' if scan.partial else ''}:\n\n"
    )
    out.append(columns(process_rows(to_restart), PROCESS_HEADERS))
    out.append("\nTo do (depgraph runs none of this itself):\n")
    for action in actions:
        entry = action_entry(action)
        pids = ", ".join(map(str, action.pids))
        line = f"  [{entry['step']}] {entry['text']}    # pid {pids}: {action.why}"
        out.append(f"{terminal(line)}\n")
    if windows and history is not None:
        out.append(f"\nVersions of {history.package} the processes loaded (from dpkg.log):\n")
        for window in windows:
            replaced = _stamp(window.replaced_on_disk) or "not yet"
            out.append(
                f"  pid {window.pid}: {window.version} since {_stamp(window.start)} "
                f"(replaced on disk: {replaced})\n"
            )
    if keys:
        out.append(
            "\nKeys and certificates these servers serve: if the library they ran was vulnerable, "
            "replace every certificate issued before the fix and revoke the old one:\n"
        )
        for key in keys:
            detail = key.problem or (
                "; ".join(
                    f"notBefore {_stamp(c.not_before)} sha256 {c.sha256[:23]}..."
                    for c in key.certificates
                )
                or ("private key" if key.holds_private_key else "no certificate")
            )
            out.append(
                f"  {key.server}: {key.material.value} {key.path} ({detail}) "
                f"[{key.evidence.path}:{key.evidence.line}]\n"
            )
    return "".join(out)
