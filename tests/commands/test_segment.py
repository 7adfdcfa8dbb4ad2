"""`ich-viewer segment`: a folder of studies, outputs per study, failures skipped, re-runs."""

import errno
import json
import os
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from ich_viewer.cli import main
from ich_viewer.commands import reading
from tests.factories.dicom import write_ct_series
from tests.factories.images import write_ct_ich_patient
from tests.factories.synthetic_ct import fake_segmentation


class ThresholdEngine:
    """Stands in for the network: calls voxels above 60 HU (or 200 grey) hemorrhage."""

    calls = 0

    def segment(self, study):
        ThresholdEngine.calls += 1
        return fake_segmentation(study.voxels > (60 if study.is_hu else 200))


@pytest.fixture
def studies(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "load_engine", lambda force_cpu, command, model=None: ThresholdEngine())
    root = tmp_path / "incoming"
    series = write_ct_series(root / "ct_head", n_slices=6, rows=32, cols=32, spacing=(5.0, 0.5, 0.5))
    write_ct_ich_patient(root / "Patients_CT", "070", n_slices=4, mask_slices=[2])
    (root / "broken").mkdir()
    (root / "broken" / "1.jpg").write_bytes(b"not an image")
    ThresholdEngine.calls = 0
    return root, series


def test_segments_every_study_and_reports_the_failure(studies, tmp_path, capsys):
    root, series = studies
    out = tmp_path / "out"
    assert main(["segment", str(root), "--out", str(out)]) == 1  # one study failed
    printed = capsys.readouterr()
    assert "broken: FAILED" in printed.out and "2 of 3 studies done" in printed.out

    dicom = json.loads((out / "ct_head" / "findings.json").read_text())
    expected_voxels = int((series.hu > 60).sum())
    assert dicom["findings"]["voxel_count"] == expected_voxels
    assert dicom["findings"]["volume_ml"] == pytest.approx(expected_voxels * 5 * 0.5 * 0.5 / 1000)
    assert dicom["model"]["sha256"] and dicom["input"]["units"] == "HU"
    mask = np.asarray(nib.load(out / "ct_head" / "mask.nii.gz").dataobj)
    assert int(mask.sum()) == expected_voxels
    assert (out / "ct_head" / "slices.csv").read_text().count("\n") == 6 + 2  # header, slices, total

    images = json.loads((out / "Patients_CT_070" / "findings.json").read_text())
    assert images["findings"]["volume_ml"] is None  # 8-bit images: spacing unknown, no mL
    assert images["input"]["export_window"]["level"] == 40 and dicom["input"]["export_window"] is None
    assert "CT-ICH" in images["input"]["export_window"]["note"] and dicom["input"]["bone_window"]
    assert sorted(p.name for p in (out / "Patients_CT_070" / "mask").iterdir()) == [f"{s}.png" for s in "1234"]


def test_rerun_skips_complete_studies_unless_forced(studies, tmp_path, capsys):
    root, _ = studies
    out = tmp_path / "out"
    main(["segment", str(root), "--out", str(out)])
    assert ThresholdEngine.calls == 2
    main(["segment", str(root), "--out", str(out)])
    assert ThresholdEngine.calls == 2
    assert capsys.readouterr().out.count("done before, skipped") == 2
    main(["segment", str(root), "--out", str(out), "--force"])
    assert ThresholdEngine.calls == 4


def test_no_model_exits_2(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "load_engine", lambda force_cpu, command, model=None: None)
    write_ct_series(tmp_path / "ct", n_slices=2, rows=16, cols=16)
    assert main(["segment", str(tmp_path / "ct"), "--out", str(tmp_path / "out")]) == 2


def test_studies_with_the_same_folder_name_are_all_segmented(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(reading, "load_engine", lambda force_cpu, command, model=None: ThresholdEngine())
    for patient in ("p1", "p2"):
        write_ct_series(tmp_path / patient / "CT", n_slices=2, rows=16, cols=16)
    out = tmp_path / "out"
    assert main(["segment", str(tmp_path / "p1" / "CT"), str(tmp_path / "p2" / "CT"), "--out", str(out)]) == 0
    assert "skipped" not in capsys.readouterr().out
    sources = {json.loads((out / name / "findings.json").read_text())["input"]["source"] for name in ("p1_CT", "p2_CT")}
    assert sources == {str((tmp_path / p / "CT").resolve()) for p in ("p1", "p2")}

    # An earlier run's outputs of another study under the same name are never taken as done.
    assert main(["segment", str(tmp_path / "p2" / "CT"), "--out", str(out / "p1_CT" / "..")]) == 0
    write_ct_series(tmp_path / "p3" / "p1_CT", n_slices=2, rows=16, cols=16)
    assert main(["segment", str(tmp_path / "p3" / "p1_CT"), "--out", str(out)]) == 1
    assert "holds the outputs of another study" in capsys.readouterr().out


def test_not_hu_study_gets_no_verdict_and_the_batch_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(reading, "load_engine", lambda force_cpu, command, model=None: ThresholdEngine())
    write_ct_series(tmp_path / "in" / "mr", n_slices=2, rows=16, cols=16, modality="MR")
    write_ct_series(tmp_path / "in" / "ct", n_slices=2, rows=16, cols=16)
    out = tmp_path / "out"
    assert main(["segment", str(tmp_path / "in"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mr: Not a CT in Hounsfield units" in printed and "Modality is MR" in printed
    record = json.loads((out / "mr" / "findings.json").read_text())
    assert record["verdict"] is None and "Not a CT in Hounsfield units" in record["not_hu"]
    assert sorted(p.name for p in (out / "mr").iterdir()) == ["findings.json"]  # no mask
    assert json.loads((out / "ct" / "findings.json").read_text())["verdict"] in ("hemorrhage", "no hemorrhage")


def test_unexpected_decoder_error_fails_one_study_only(tmp_path, monkeypatch, capsys):
    from ich_viewer.study import loader

    class PanicException(BaseException):
        pass

    monkeypatch.setattr(reading, "load_engine", lambda force_cpu, command, model=None: ThresholdEngine())
    write_ct_series(tmp_path / "in" / "a", n_slices=2, rows=16, cols=16)
    write_ct_series(tmp_path / "in" / "b", n_slices=2, rows=16, cols=16)
    real_open = loader.open_study

    def open_or_panic(path):
        if path.name == "a":
            raise PanicException("decoder panicked")
        return real_open(path)

    monkeypatch.setattr(loader, "open_study", open_or_panic)
    assert main(["segment", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    assert "a: FAILED" in printed and "decoder panicked" in printed and "1 of 2 studies done" in printed
    assert not (tmp_path / "out" / "a").exists()


def test_model_option_reaches_the_engine(tmp_path, monkeypatch):
    chosen = []

    def record(force_cpu, command, model=None):
        chosen.append((command, model))
        return ThresholdEngine()

    monkeypatch.setattr(reading, "load_engine", record)
    write_ct_series(tmp_path / "ct", n_slices=2, rows=16, cols=16)
    assert main(["segment", str(tmp_path / "ct"), "--out", str(tmp_path / "out"),
                 "--model", "ich_unet25d_fold0"]) == 0
    assert chosen == [("segment", "ich_unet25d_fold0")]


@pytest.mark.parametrize("command", ["segment", "report"])
def test_unknown_model_is_refused_with_the_list_of_models(tmp_path, capsys, command):
    write_ct_series(tmp_path / "ct", n_slices=2, rows=16, cols=16)
    out = ["--out", str(tmp_path / ("out" if command == "segment" else "r.pdf"))]
    assert main([command, str(tmp_path / "ct"), *out, "--model", "no_such_net"]) == 2
    error = capsys.readouterr().err
    assert "no model named 'no_such_net'" in error
    assert "ich_unet25d_final" in error and "ich_unet25d_fold0" in error
    assert not (tmp_path / "r.pdf").exists()


# --- issue 15: hostile inputs, interrupted runs, output folders that cannot be used -------


def listing(folder):
    """Every path below folder (links not followed), to show nothing was added or removed."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_folder_links_back_up_the_input_are_walked_once(studies, tmp_path, capsys, hang_guard):
    root, _ = studies
    (root / "ct_head" / "loop").symlink_to(root)
    (root / "Patients_CT" / "up").symlink_to("..")
    (root / "Patients_CT" / "back").symlink_to(root)
    out = tmp_path / "out"
    assert main(["segment", str(root), "--out", str(out)]) == 1  # only "broken" fails
    assert "2 of 3 studies done" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["Patients_CT_070", "ct_head"]


@pytest.mark.parametrize("out_below_input", ["", "out", "ct_head/out", "ct_head"])
def test_out_in_the_input_is_refused_before_writing(studies, capsys, out_below_input):
    root, _ = studies
    before = listing(root)
    out = root / out_below_input

    assert main(["segment", str(root), "--out", str(out)]) == 2

    error = capsys.readouterr().err
    assert "inside the input" in error and str(root) in error
    assert listing(root) == before and ThresholdEngine.calls == 0


def test_out_beside_a_single_file_input_is_refused(studies, capsys):
    _, series = studies
    before = listing(series.files[0].parent)
    assert main(["segment", str(series.files[0]), "--out", str(series.files[0].parent / "out")]) == 2
    assert "inside the input" in capsys.readouterr().err
    assert listing(series.files[0].parent) == before


def test_out_whose_study_folder_would_be_the_input_is_refused(studies, capsys):
    root, _ = studies
    before = listing(root)
    # --out root's parent, input root/ct_head: the study's outputs would go to root/ct_head itself.
    assert main(["segment", str(root / "ct_head"), "--out", str(root)]) == 2
    assert "inside the input" in capsys.readouterr().err
    assert listing(root) == before


def test_out_beside_an_input_that_does_not_exist_is_used(studies, capsys):
    root, _ = studies
    assert main(["segment", str(root / "no_such_study"), "--out", str(root / "out")]) == 1
    assert "no_such_study does not exist" in capsys.readouterr().out


def test_out_that_cannot_be_a_folder_is_refused_before_any_study_is_read(studies, tmp_path, capsys,
                                                                        monkeypatch):
    from ich_viewer.study import loader

    root, _ = studies
    opened = []
    monkeypatch.setattr(loader, "open_study", lambda path: opened.append(path))
    (tmp_path / "a_file").write_text("")

    assert main(["segment", str(root), "--out", str(tmp_path / "a_file" / "out")]) == 2

    assert "is a file, not a folder" in capsys.readouterr().err
    assert opened == [] and ThresholdEngine.calls == 0


def test_read_only_out_is_refused_before_any_study_is_read(studies, tmp_path, capsys, monkeypatch):
    from ich_viewer.study import loader

    root, _ = studies
    opened = []
    monkeypatch.setattr(loader, "open_study", lambda path: opened.append(path))

    def refuse(*args, **kwargs):  # tests run as root, for whom chmod does not block writes
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert main(["segment", str(root), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert str(tmp_path / "out") in error and "permission denied" in error
    assert opened == [] and ThresholdEngine.calls == 0


def _stale_temp(folder, dest_name):
    """A temporary file as write_atomic names it, left behind by a run killed mid-write."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=folder, prefix=f".{dest_name}.", suffix=".part")
    os.write(fd, b"half a mask")
    os.close(fd)
    return Path(path)


def test_rerun_removes_the_temporary_files_of_a_killed_run(studies, tmp_path):
    root, _ = studies
    out = tmp_path / "out"
    main(["segment", str(root), "--out", str(out)])
    stale = [_stale_temp(out / "ct_head", "mask.nii.gz"), _stale_temp(out / "ct_head", "findings.json"),
             _stale_temp(out / "Patients_CT_070" / "mask", "3.png")]
    others = [_stale_temp(root / "ct_head", "IM0000.dcm"),  # in the input: never touched
              out / "ct_head" / "notes.part"]  # not a name write_atomic makes
    others[1].write_text("the reader's own file")

    main(["segment", str(root), "--out", str(out)])  # both studies skipped as done

    assert not any(p.exists() for p in stale) and all(p.exists() for p in others)


def test_dicom_seg_on_its_own_gets_no_verdict(tmp_path, monkeypatch, capsys):
    from ich_viewer.export.dicom_seg import export_dicom_seg
    from ich_viewer.study.loader import open_study
    from tests.factories.synthetic_ct import fake_model

    monkeypatch.setattr(reading, "load_engine", lambda force_cpu, command, model=None: ThresholdEngine())
    ThresholdEngine.calls = 0
    write_ct_series(tmp_path / "ct", n_slices=3, rows=16, cols=16)
    ct = open_study(tmp_path / "ct")
    export_dicom_seg(ct, ct.voxels > 60, tmp_path / "in" / "seg" / "seg.dcm", model=fake_model())
    out = tmp_path / "out"

    assert main(["segment", str(tmp_path / "in" / "seg"), "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "seg: Not a CT in Hounsfield units" in printed and "Modality is SEG" in printed
    assert not [line for line in printed.splitlines() if line.endswith(" s)")]  # no verdict line
    assert ThresholdEngine.calls == 0
    record = json.loads((out / "seg" / "findings.json").read_text())
    assert record["verdict"] is None and record["findings"] is None
    assert sorted(p.name for p in (out / "seg").iterdir()) == ["findings.json"]  # no mask
