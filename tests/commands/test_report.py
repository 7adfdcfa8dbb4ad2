"""`ich-viewer report`: exit 0 with a PDF, 1 for a bad study or destination, 2 without a model."""

from __future__ import annotations

import sys

import pytest

from ich_viewer.commands.report import run_report
from ich_viewer.segmentation import engine as engine_module
from ich_viewer.segmentation.model_file import ModelFileError
from ich_viewer.study import loader
from tests.factories.synthetic_ct import fake_segmentation, hematoma_phantom, memory_dicom_study


class FakeEngine:
    """Stands in for the network: 'finds' the phantom's hematoma."""

    load_error: Exception | None = None

    def __init__(self, model_path=None, force_cpu: bool = False):
        self.model_path, self.force_cpu = model_path, force_cpu

    def load(self):
        if self.load_error:
            raise self.load_error

    def segment(self, study):
        return fake_segmentation(study.reference_mask)


@pytest.fixture
def fake_study(monkeypatch, tmp_path):
    volume, mask = hematoma_phantom(n_slices=6, size=64)
    study = memory_dicom_study(volume, source=tmp_path / "study")
    study.reference_mask = mask  # what FakeEngine returns
    monkeypatch.setattr(loader, "open_study", lambda path, **kwargs: study)
    monkeypatch.setattr(engine_module, "SegmentationEngine", FakeEngine)
    monkeypatch.setattr(FakeEngine, "load_error", None)
    monkeypatch.setenv("ICH_VIEWER_MODELS", str(tmp_path / "models"))
    return study


def test_writes_the_report(fake_study, tmp_path, capsys):
    out = tmp_path / "reports" / "ct.pdf"
    assert run_report("any/study", out, anonymise=True, force_cpu=True) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert f"Report written to {out}" in capsys.readouterr().out


def test_missing_model_exits_2(fake_study, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(FakeEngine, "load_error", ModelFileError("models/final.keras: network file not found"))
    assert run_report("any/study", tmp_path / "ct.pdf") == 2
    assert "segmentation model is not available" in capsys.readouterr().err
    assert not (tmp_path / "ct.pdf").exists()


def test_engine_that_cannot_be_imported_exits_2(fake_study, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ich_viewer.segmentation.engine", None)  # import raises ImportError
    assert run_report("any/study", tmp_path / "ct.pdf") == 2
    assert "segmentation model is not available" in capsys.readouterr().err


def test_unreadable_study_exits_1(tmp_path, capsys):
    assert run_report(tmp_path / "does-not-exist", tmp_path / "ct.pdf") == 1
    assert "cannot open the study" in capsys.readouterr().err


def test_unwritable_destination_exits_1(fake_study, tmp_path, capsys):
    (tmp_path / "reports").write_text("a file where a folder should be")
    assert run_report("any/study", tmp_path / "reports" / "ct.pdf") == 1
    assert "is a file, not a folder" in capsys.readouterr().err
