"""DICOMDIR: the files it lists are read (relative to it), missing ones are named, damage is told."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from pydicom.fileset import FileSet

from ich_viewer.study.dicomdir import MISSING, OUTSIDE, dicomdir_files
from ich_viewer.study.errors import StudyLoadError
from ich_viewer.study.loader import list_series, open_study
from ich_viewer.study.preview import series_preview
from tests.factories.dicom import write_ct_series


def _dicomdir_tags(ds, z):
    ds.StudyTime, ds.StudyID = "120000", "1"  # what a DICOMDIR's STUDY record needs


def write_cd(tmp_path: Path, n_slices: int = 5):
    series = write_ct_series(tmp_path / "export", n_slices=n_slices, edit=_dicomdir_tags)
    file_set = FileSet()
    for path in series.files:
        file_set.add(path)
    file_set.write(tmp_path / "cd")
    return tmp_path / "cd" / "DICOMDIR", series


def test_a_dicomdir_and_its_folder_open_the_series_it_lists(tmp_path):
    dicomdir, series = write_cd(tmp_path)
    for path in (dicomdir, dicomdir.parent):
        (info,) = list_series(path)
        assert (info.series_instance_uid, info.n_slices, info.slice_thickness_mm) == (series.series_uid, 5, 5.0)
        study = open_study(path)
        np.testing.assert_array_equal(study.voxels, series.hu)
        assert not study.warnings


def test_names_on_a_cd_mounted_in_lower_case_are_found(tmp_path):
    dicomdir, series = write_cd(tmp_path)
    lower = tmp_path / "lower"
    for path in sorted(dicomdir.parent.rglob("*")):
        target = lower / path.relative_to(dicomdir.parent).as_posix().lower()
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    study = open_study(lower / "dicomdir")
    np.testing.assert_array_equal(study.voxels, series.hu)


def test_a_missing_file_is_named_and_the_others_load(tmp_path):
    dicomdir, _ = write_cd(tmp_path)
    missing = sorted(dicomdir.parent.rglob("IM*"))[2]
    missing.unlink()
    study = open_study(dicomdir)
    assert study.n_slices == 4
    (warning,) = [w for w in study.warnings if MISSING in w.text]
    assert warning.files == (missing.relative_to(dicomdir.parent).as_posix(),)


def test_a_dicomdir_whose_files_are_all_gone_says_which(tmp_path):
    dicomdir, _ = write_cd(tmp_path, n_slices=2)
    for path in dicomdir.parent.rglob("IM*"):
        path.unlink()
    with pytest.raises(StudyLoadError) as error:
        open_study(dicomdir)
    assert MISSING in error.value.message and "PT000000/ST000000/SE000000/IM000000" in error.value.message


def test_a_damaged_dicomdir_opened_itself_is_an_error_in_a_folder_it_is_passed_over(tmp_path):
    dicomdir, series = write_cd(tmp_path)
    dicomdir.write_bytes(dicomdir.read_bytes()[:200])
    with pytest.raises(StudyLoadError) as error:
        open_study(dicomdir)
    assert str(dicomdir) in error.value.message and "cannot be used as a DICOMDIR" in error.value.message
    study = open_study(dicomdir.parent)  # the folder: searched as if there were no DICOMDIR
    np.testing.assert_array_equal(study.voxels, series.hu)


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")  # pydicom on the hostile '..' written here
def test_a_listed_path_leading_outside_its_folder_is_not_opened(tmp_path):
    import pydicom

    dicomdir, _ = write_cd(tmp_path, n_slices=2)
    dataset = pydicom.dcmread(dicomdir)
    image = next(r for r in dataset.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE")
    image.ReferencedFileID = ["..", "export", "IM0000.dcm"]
    dataset.save_as(dicomdir)
    files, problems = dicomdir_files(dicomdir)
    assert len(files) == 1 and problems == [("../export/IM0000.dcm", OUTSIDE)]


def test_the_preview_decodes_the_middle_slice(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=7)
    (info,) = list_series(tmp_path / "ct")
    values, window = series_preview(info)
    np.testing.assert_array_equal(values, series.hu[3])  # the middle one along the slice normal
    assert (window.level, window.width) == (40, 80)
