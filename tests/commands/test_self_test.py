"""`ich-viewer --self-test`, and a whole session (open, segment, report, every export) without a connection."""

from __future__ import annotations

import re
import socket
from types import SimpleNamespace

import pytest

from ich_viewer import cli
from ich_viewer.commands import self_test


@pytest.fixture
def connections(monkeypatch):
    """Every attempt to reach another machine (or to look one up), refused and recorded."""
    attempts: list[str] = []

    def refuse(what):
        def call(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise OSError(f"the self-test may not use the network ({what})")
        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("socket.sendto"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    return attempts


@pytest.mark.slow
def test_the_self_test_passes_and_makes_no_connection_attempt(connections, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # nothing of the user's is read or written
    assert cli.main(["--self-test"]) == 0
    out = capsys.readouterr().out
    for step in ("open the sample study", "segment it in the main window", "findings as expected",
                 "PDF report", "NIfTI, CSV and key-image exports", "DICOM SEG export"):
        assert f"ok  {step}" in out
    assert "self-test passed: 6 checks" in out
    assert connections == []


def _review(sha256="a" * 64, detected=True, slices=(12, 13, 14), volume_ml=37.0):
    lesion = SimpleNamespace(slices=list(slices), volume_ml=volume_ml)
    return SimpleNamespace(findings=SimpleNamespace(detected=detected, lesions=[lesion]),
                           result=SimpleNamespace(model=SimpleNamespace(sha256=sha256, label="test model")))


EXPECTED = {"model_sha256": "a" * 64, "detected": True,
            "largest_lesion": {"slices": [12, 14], "volume_ml": 37.0, "tolerance_ml": 1.0}}


@pytest.mark.parametrize("review, reason", [
    (_review(sha256="b" * 64),
     "the expected findings are for model aaaaaaaaaaaa…, this installation runs bbbbbbbbbbbb…"),
    (_review(detected=False), "detected False, expected True"),
    (_review(slices=(11, 12, 13, 14)), "largest lesion on slices [11, 14], expected [12, 14]"),
    (_review(volume_ml=38.5), "largest lesion 38.50 mL, expected 37.0 ± 1.0 mL"),
])
def test_findings_unlike_the_expected_ones_fail_with_the_reason(review, reason):
    with pytest.raises(self_test.SelfTestFailure, match=re.escape(reason)):
        self_test._compare_findings(review, EXPECTED)


def test_findings_within_the_tolerance_pass():
    assert self_test._compare_findings(_review(volume_ml=37.9), EXPECTED).startswith("detected, 1 lesion, the largest")
