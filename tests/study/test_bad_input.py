"""Bad input never crashes: a clear message naming the file, and what can load, loads."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest

from ich_viewer.study.loader import StudyLoadError, find_studies, list_series, open_study
from ich_viewer.study.qc import QcKind
from tests.factories.dicom import save_dataset, write_ct_series
from tests.factories.images import slice_image, write_ct_ich_patient, write_image
from tests.study.qc_support import naming, shown


@pytest.fixture
def unreadable(monkeypatch):
    """Files added to the returned set raise PermissionError on open (tests run as root)."""
    denied: set[Path] = set()
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file) in denied:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    return denied


def load_error(path, **kwargs) -> StudyLoadError:
    with pytest.raises(StudyLoadError) as error:
        open_study(path, **kwargs)
    assert error.value.path == Path(path)
    return error.value


def truncate(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def without_pixel_data(source: Path, target: Path) -> Path:
    ds = pydicom.dcmread(source)
    del ds.PixelData
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    save_dataset(ds, target)
    return target


# --- nothing loadable: StudyLoadError names the path and the problem ---------------------


def test_missing_path(tmp_path):
    error = load_error(tmp_path / "nowhere")
    assert "does not exist" in str(error) and "nowhere" in str(error)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "is empty" in str(load_error(tmp_path / "empty"))


def test_folder_without_images_names_its_files(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("report")
    assert "notes.txt" in str(load_error(tmp_path / "docs"))


def test_single_file_that_is_neither_dicom_nor_image(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("not an image")
    error = load_error(path)
    assert "report.txt: not a DICOM file" in str(error)


def test_all_dicom_files_damaged(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=2, shuffle=False)
    truncate(series.files[0], 100)
    truncate(series.files[1], 2000)  # header fine, pixels cut off
    error = load_error(tmp_path / "ct")
    assert "IM0001.dcm" in str(error) and "truncated" in str(error)


def test_dicom_without_pixel_data_alone(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=1)
    path = without_pixel_data(series.files[0], tmp_path / "no_pixels.dcm")
    error = load_error(path)
    assert "no_pixels.dcm: DICOM without pixel data" in str(error)


def test_no_readable_images(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "1.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (folder / "2.png").write_bytes(b"")
    error = load_error(folder)
    assert "1.jpg" in str(error) and "2.png" in str(error) and "not a readable image" in str(error)


def test_single_damaged_image(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG broken")
    assert "scan.png: not a readable image" in str(load_error(path))


def test_unreadable_folder(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    error = load_error(folder)
    assert "permission denied" in str(error) and "locked" in str(error)


def test_folder_of_dicom_patients(tmp_path):
    def patient(pid):
        return lambda ds, z: setattr(ds, "PatientID", pid)
    write_ct_series(tmp_path / "all" / "alice", n_slices=2, edit=patient("A1"))
    write_ct_series(tmp_path / "all" / "bob", n_slices=2, edit=patient("B2"))
    error = load_error(tmp_path / "all")
    assert "2 patients" in str(error)
    assert error.studies == [tmp_path / "all" / "alice", tmp_path / "all" / "bob"]
    with pytest.raises(StudyLoadError):
        list_series(tmp_path / "all")


def test_folder_mixing_dicom_and_image_studies(tmp_path):
    write_ct_series(tmp_path / "mixed" / "dicom", n_slices=2)
    write_ct_ich_patient(tmp_path / "mixed", "066", n_slices=2)
    error = load_error(tmp_path / "mixed")
    assert "folder of 2 studies" in str(error)
    assert find_studies(tmp_path / "mixed") == [tmp_path / "mixed" / "066",
                                                tmp_path / "mixed" / "dicom"]


# --- partly bad: the rest loads, warnings name each skipped file -------------------------


def test_truncated_and_non_dicom_files_among_dicom(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=8, shuffle=False)
    truncate(series.files[2], 3000)  # pixel data cut short
    truncate(series.files[5], 400)  # cut inside the header
    (tmp_path / "ct" / "readme.txt").write_text("burned by PACS")
    (tmp_path / "ct" / "junk.dcm").write_bytes(os.urandom(500))

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu[[0, 1, 3, 4, 6, 7]])
    text = " ".join(shown(study))
    for name in ("IM0002.dcm", "IM0005.dcm", "readme.txt", "junk.dcm"):
        assert name in text, f"{name} not named in {study.warnings}"
    assert "pixel data is truncated" in naming(study, "IM0002.dcm").text
    assert "DICOM header is incomplete" in naming(study, "IM0005.dcm").text
    assert len([w for w in study.warnings if w.kind is QcKind.MISSING_SLICES]) == 2  # the holes they leave


def test_dicom_without_pixel_data_among_slices(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3)
    without_pixel_data(series.files[0], tmp_path / "ct" / "dose_report.dcm")

    study = open_study(tmp_path / "ct")

    assert study.n_slices == 3
    assert "DICOM without pixel data" in naming(study, "dose_report.dcm").text


def test_images_of_different_sizes_keep_the_majority(tmp_path):
    folder = tmp_path / "imgs"
    for number in (1, 2, 3):
        write_image(folder / f"{number}.png", slice_image(number))
    write_image(folder / "4.png", slice_image(4, size=(32, 40)))

    study = open_study(folder)

    assert study.voxels.shape == (3, 48, 48)
    warning = naming(study, "4.png")
    assert warning.kind is QcKind.MISMATCHED_SLICES and "40x32" in warning.text


def test_truncated_jpeg_among_slices(tmp_path):
    folder = tmp_path / "imgs"
    for number in (1, 2, 3):
        write_image(folder / f"{number}.jpg", slice_image(number))
    truncate(folder / "2.jpg", (folder / "2.jpg").stat().st_size - 10)

    study = open_study(folder)

    assert study.slice_labels == ["1", "3"]
    assert "truncated JPEG" in naming(study, "2.jpg").text


def test_unreadable_dicom_file_is_skipped(tmp_path, unreadable):
    series = write_ct_series(tmp_path / "ct", n_slices=4, shuffle=False)
    unreadable.add(series.files[1])

    study = open_study(tmp_path / "ct")

    assert study.n_slices == 3
    assert "permission denied" in naming(study, "IM0001.dcm").text


def test_unreadable_image_is_skipped(tmp_path, unreadable):
    patient = write_ct_ich_patient(tmp_path / "P", "066", n_slices=3, mask_slices=[2])
    unreadable.update({patient.brain / "3.jpg", patient.brain / "2_HGE_Seg.png"})

    study = open_study(patient.folder)

    assert study.slice_labels == ["1", "2"]
    assert "permission denied" in naming(study, "3.jpg").text
    assert "permission denied" in naming(study, "2_HGE_Seg.png").text


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_real_file_permissions(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3, shuffle=False)
    series.files[0].chmod(0)
    try:
        study = open_study(tmp_path / "ct")
    finally:
        series.files[0].chmod(0o644)
    assert "permission denied" in naming(study, "IM0000.dcm").text


def test_loading_never_writes_into_the_input(tmp_path):
    write_ct_series(tmp_path / "ct", n_slices=3)
    (tmp_path / "ct" / "junk.dcm").write_bytes(b"junk")
    write_ct_ich_patient(tmp_path / "P", "066", n_slices=3, mask_slices=[1])
    before = snapshot(tmp_path)

    for folder in (tmp_path / "ct", tmp_path / "P" / "066"):
        list_series(folder)
        open_study(folder)

    assert snapshot(tmp_path) == before


def snapshot(folder: Path) -> dict:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
