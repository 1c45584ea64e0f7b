"""The key material a snapshot recorded (``depgraph-snapshot/keys.json``): for each file a server's
configuration names, where and what for, whether it holds a private key, and the metadata of its
certificates; never a key. Read back as :class:`~depgraph.runtime.keys.KeyMaterial`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.model import Evidence
from depgraph.runtime.keys import Certificate, KeyMaterial, Material, servers_for
from depgraph.sources.files import Kind, read_raw
from depgraph.sources.snapshot import META, open_snapshot

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics


def snapshot_key_material(
    path: Path, packages: Iterable[str], diagnostics: Diagnostics
) -> tuple[KeyMaterial, ...] | None:
    """The recorded material of the servers run by ``packages``; None when none was recorded (the
    shell collector keeps the configuration files instead, read like a root's). A malformed
    record is the snapshot's error (strict), or a warning and then None (``--lenient``)."""
    saved = open_snapshot(path).file("keys.json")
    if saved is None:
        return None
    try:
        data = json.loads(read_raw(saved, Kind.SNAPSHOT_MEMBER).decode("utf-8"))
        records = data["material"]
        wanted = set(servers_for(packages))
        found = []
        for record in records:
            if record["server"] not in wanted:
                continue
            evidence = record["evidence"]
            found.append(
                KeyMaterial(
                    server=str(record["server"]),
                    material=Material(record["material"]),
                    path=str(record["path"]),
                    exists=bool(record["exists"]),
                    certificates=tuple(
                        Certificate(
                            subject=str(cert["subject"]),
                            not_before=float(cert["not_before"]),
                            not_after=float(cert["not_after"]),
                            sha256=str(cert["sha256"]),
                            serial=str(cert["serial"]),
                        )
                        for cert in record["certificates"]
                    ),
                    holds_private_key=bool(record["holds_private_key"]),
                    evidence=Evidence(
                        str(evidence["kind"]),
                        str(evidence["detail"]),
                        evidence.get("path"),
                        evidence.get("line"),
                    ),
                    problem=record.get("problem"),
                )
            )
    except RecursionError:  # "[[[[..." thousands deep: json's decoder recurses per level
        diagnostics.problem(f"{path}:{META}/keys.json", 0, "nests too deeply to be a key record")
        return None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        why = f"missing field {error}" if isinstance(error, KeyError) else str(error)
        diagnostics.problem(f"{path}:{META}/keys.json", 0, f"malformed key record: {why}")
        return None
    return tuple(found)
