"""``make eval``: how well depgraph tells TLS servers, clients and non-SSL users apart.

The labelled set is ``fixtures/eval`` (real bookworm packages, evidence recorded from their .debs,
labels from the software's documentation, see its README). Each package is classified three ways
by the same :class:`depgraph.classify.Classifier` that runs on a live system:

* ``files``: its ELF files (recorded DT_NEEDED and libssl imports), units and metadata;
* ``metadata``: units, Provides and the library it reaches libssl3 through, no ELF files;
* ``names``: nothing but the package list (the saved ``dpkg -l`` case: names, versions and the
  synopsis of each description).

Without ELF files (``metadata``, ``names``) the classifier falls back on the knowledge base. The
shipped one (``depgraph/data/knowledge.toml``) was written by ``bench/build_knowledge.py`` from ELF
scans, among them those of this set's packages: with it, a package of the set is looked up in an
entry made from its own files (no label is ever used), which is what a user with a saved
``dpkg -l`` of these packages gets. The ``cross-validated`` lines measure the other question, how
the rules and the patterns do on packages the knowledge base has never scanned: each half of the set
is judged with a knowledge base built from the other half only.

For each mode it prints accuracy, per-class precision and recall and the confusion matrix, and the
same for the classic one-liner's filter (every installed non-``lib*`` package flagged, read here as
"server"), the baseline. Targets (issue 3): files >= 95 %, metadata >= 85 %, names >= 75 %.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from depgraph.classify import Classifier, TargetLibrary
from depgraph.debian.relations import parse_provides, parse_relations
from depgraph.elf import ElfFacts
from depgraph.knowledge import Knowledge
from depgraph.model import Node, Origin, Package, RelationKind, Role, RoleVerdict
from depgraph.universe import Universe

EVAL = Path(__file__).resolve().parent.parent / "fixtures" / "eval"
CLASSES = ("server", "client", "non-ssl")
TARGETS = {"files": 0.95, "metadata": 0.85, "names": 0.75}


@dataclass(frozen=True, slots=True)
class Labelled:
    package: Package
    via: tuple[str, ...]
    label: str
    record: dict[str, object]


class RecordedFiles:
    """:class:`depgraph.package_files.PackageFiles` over the recorded evidence."""

    def __init__(self, records: dict[str, dict[str, object]], *, with_elf: bool) -> None:
        self.records = records
        self.with_elf = with_elf

    def files(self, package: Package) -> list[str] | None:
        record = self.records.get(package.name)
        if record is None:
            return None
        # every file but the documentation, as dpkg's list would name it
        return [str(name) for name in record.get("files") or []]  # type: ignore[attr-defined]

    def elves(
        self, package: Package, sonames: frozenset[str] | None, *, with_exports: bool = False
    ) -> list[ElfFacts]:
        record = self.records.get(package.name)
        if record is None:
            return []
        if not self.with_elf:
            # listed but not at hand, like a file list whose binaries were not saved
            return [
                ElfFacts(path=str(e["path"]), problem="ELF file not at hand (metadata only)")
                for e in record.get("elf") or []  # type: ignore[attr-defined]
            ]
        return [
            ElfFacts(
                path=str(e["path"]),
                soname=e.get("soname"),
                needed=tuple(e.get("needed") or ()),
                imports=frozenset(e.get("ssl_imports") or ()),
            )
            for e in record.get("elf") or []  # type: ignore[attr-defined]
        ]


def load() -> tuple[list[Labelled], TargetLibrary]:
    library = json.loads((EVAL / "libssl3.json").read_text())
    target = TargetLibrary("libssl3", {k: frozenset(v) for k, v in library["sonames"].items()})
    found = []
    for path in sorted((EVAL / "packages").glob("*.json")):
        record = json.loads(path.read_text())
        provides = parse_provides(record["provides"]) if record.get("provides") else ()
        relations = tuple(
            (kind, parse_relations(record[field]))
            for kind, field in (
                (RelationKind.PRE_DEPENDS, "pre_depends"),
                (RelationKind.DEPENDS, "depends"),
            )
            if record.get(field)
        )
        package = Package(
            name=record["package"],
            version=record.get("version"),
            architecture=record.get("architecture"),
            state="installed",
            origin=Origin.PACKAGES,
            where=str(path.relative_to(EVAL.parent.parent)),
            relations=relations,
            provides=provides,
            section=record.get("section"),
            description=record.get("description"),
            want="install",
        )
        via = tuple(record.get("reaches_libssl3_via") or ("libssl3",))
        found.append(Labelled(package, via, record["label"], record))
    return found, target


def verdicts(
    items: list[Labelled],
    target: TargetLibrary,
    mode: str,
    kb: tuple[Knowledge, ...] | None = None,
) -> dict[str, RoleVerdict]:
    """The classifier's verdicts on the set in one mode (``kb``: the knowledge base to use)."""
    records = {item.package.name: item.record for item in items}
    universe = Universe(available=[item.package for item in items], installed_only=False)
    files = None if mode == "names" else RecordedFiles(records, with_elf=mode == "files")
    classifier = Classifier(universe, files, {"libssl3": target}, kb)
    nodes: list[Node] = []
    hops: dict[str, set[str]] = {}
    # libraries first (they are the hops of the others), then the rest
    for item in sorted(items, key=lambda i: (i.via != ("libssl3",), i.package.name)):
        hop = item.via[0]
        name = item.package.name
        path = (name, "libssl3") if hop == "libssl3" else (name, hop, "libssl3")
        nodes.append(Node(name, item.package.version, True, len(path) - 1, path))
        hops[name] = set() if hop == "libssl3" else set(item.via)
    return classifier.classify_nodes(nodes, hops)


def classify(
    items: list[Labelled], target: TargetLibrary, mode: str, *, cross: bool = False
) -> dict[str, str]:
    """Predicted roles. With the shipped knowledge base, or (``cross``) two-fold cross-validated:
    each half is judged with a knowledge base built only from the other half's ELF scans, so no
    package is looked up in an entry made from its own files."""
    if not cross:
        return {name: v.role.value for name, v in verdicts(items, target, mode).items()}
    from build_knowledge import build  # bench/build_knowledge.py

    scanned = verdicts(items, target, "files")
    halves = (items[0::2], items[1::2])
    result: dict[str, str] = {}
    for judged, other in (halves, halves[::-1]):
        found = {i.package.name: (i.package.version or "?", scanned[i.package.name]) for i in other}
        kb = tuple(build(found, "other half of the evaluation set"))
        result.update(
            {name: v.role.value for name, v in verdicts(judged, target, mode, kb).items()}
        )
    return result


def baseline(items: list[Labelled]) -> dict[str, str]:
    """The one-liner: every installed package not named lib* is flagged (read as a server)."""
    return {
        item.package.name: "non-ssl" if item.package.name.startswith("lib") else Role.SERVER.value
        for item in items
    }


def report(name: str, items: list[Labelled], predicted: dict[str, str]) -> float:
    truth = {item.package.name: item.label for item in items}
    correct = sum(predicted[p] == truth[p] for p in truth)
    accuracy = correct / len(truth)
    target = TARGETS.get(name)
    status = "" if target is None else (" PASS" if accuracy >= target else " MISS")
    shown = f" (target {target:.0%}){status}" if target is not None else ""
    print(f"\n== {name}: accuracy {accuracy:.1%} ({correct}/{len(truth)}){shown}")
    matrix = Counter((truth[p], predicted[p]) for p in truth)
    columns = [*CLASSES, "unknown"]
    corner = "label / predicted"
    print(f"{corner:<18}" + "".join(f"{c:>9}" for c in columns))
    for label in CLASSES:
        print(f"{label:<18}" + "".join(f"{matrix[(label, c)]:>9}" for c in columns))
    for label in CLASSES:
        tp = matrix[(label, label)]
        said = sum(matrix[(t, label)] for t in CLASSES)
        real = sum(matrix[(label, c)] for c in columns)
        precision = tp / said if said else 0.0
        recall = tp / real if real else 0.0
        print(f"  {label:<8} precision {precision:6.1%}  recall {recall:6.1%}")
    wrong = sorted(p for p in truth if predicted[p] != truth[p])
    if wrong:
        print("  wrong: " + ", ".join(f"{p} ({truth[p]}->{predicted[p]})" for p in wrong[:40]))
    return accuracy


def main() -> int:
    if not (EVAL / "packages").is_dir():
        print("eval: fixtures/eval/packages is missing", file=sys.stderr)
        return 2
    items, target = load()
    counts = Counter(item.label for item in items)
    print(
        f"eval: {len(items)} labelled packages: " + ", ".join(f"{counts[c]} {c}" for c in CLASSES)
    )
    for mode in ("files", "metadata", "names"):
        report(mode, items, classify(items, target, mode))
    for mode in ("metadata", "names"):
        report(f"{mode}, cross-validated", items, classify(items, target, mode, cross=True))
    report("baseline (one-liner)", items, baseline(items))
    return 0


if __name__ == "__main__":
    sys.exit(main())
