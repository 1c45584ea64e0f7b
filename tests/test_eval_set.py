"""The labelled evaluation set (fixtures/eval) is whole, and the classifier beats the one-liner on it.

Accuracy itself is measured by ``make eval`` (and recorded in the closing notes), not asserted here;
these tests guard the set's integrity and that the evaluation runs the real classifier.
"""

from __future__ import annotations

import sys
import tomllib

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import eval as evaluation  # bench/eval.py, after the path is set

HARD_CASES = {
    "openssh-server",
    "openssh-client",
    "systemd",
    "rsync",
    "bind9",
    "squid",
    "squid-openssl",
    "nginx",
    "postgresql-15",
    "postgresql-client-15",
    "redis-server",
    "redis-tools",
    "python3.11",
    "ruby3.1",
    "nodejs",
    "curl",
    "openssl",
    "stunnel4",
    "openvpn",
    "tor",
    "dovecot-core",
    "postfix",
    "haproxy",
    "mariadb-server-core",
}


def test_set_is_whole_and_labels_agree() -> None:
    items, target = evaluation.load()
    names = {item.package.name for item in items}
    assert len(items) >= 120
    assert names >= HARD_CASES, HARD_CASES - names
    labels = tomllib.loads((evaluation.EVAL / "labels.toml").read_text())
    for item in items:
        assert item.label in evaluation.CLASSES
        assert labels[item.package.name]["label"] == item.label
        assert labels[item.package.name]["reason"]
    assert "SSL_accept" in target.exports["libssl.so.3"]


def test_classifier_beats_the_one_liner_with_files() -> None:
    items, target = evaluation.load()
    truth = {item.package.name: item.label for item in items}

    def accuracy(predicted: dict[str, str]) -> float:
        return sum(predicted[name] == label for name, label in truth.items()) / len(truth)

    ours = accuracy(evaluation.classify(items, target, "files"))
    assert ours > accuracy(evaluation.baseline(items)) + 0.2


def test_runtime_takes_the_role_of_the_library_it_links() -> None:
    """ruby3.1's interpreter links libruby-3.1, whose OpenSSL extension can accept TLS."""
    items, target = evaluation.load()
    verdict = evaluation.verdicts(items, target, "files")["ruby3.1"]
    assert verdict.role.value == "server"
    assert verdict.evidence[0].kind == "linked-library"
    assert "libruby3.1" in verdict.evidence[0].detail
