"""The loader's public surface: no Qt, quick to import, errors that carry the path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ich_viewer.study.loader import SeriesInfo, StudyLoadError, find_studies, list_series
from tests.factories.dicom import write_ct_series


def test_importing_the_loader_pulls_in_neither_qt_nor_pydicom():
    code = ("import sys, ich_viewer.study.loader; "
            "print(sorted(m for m in ('PySide6', 'pydicom', 'cv2') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "[]"


def test_study_load_error_carries_path_and_message(tmp_path):
    error = StudyLoadError(tmp_path / "x.dcm", "x.dcm: not a DICOM file")
    assert error.path == tmp_path / "x.dcm"
    assert error.message == str(error) == "x.dcm: not a DICOM file"
    assert error.studies == []


def test_list_series_describes_a_dicom_series(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=4)

    (info,) = list_series(tmp_path / "ct")

    assert info == SeriesInfo(series.series_uid, "Head 5mm", "CT", 4, 64, 64, True,
                              "3: Head 5mm - CT, 4 slices, 64x64, axial", "3", slice_thickness_mm=5.0)


def test_find_studies_returns_dicom_series_folders(tmp_path):
    write_ct_series(tmp_path / "root" / "a" / "SE1", n_slices=1)
    write_ct_series(tmp_path / "root" / "b", n_slices=1)

    assert find_studies(tmp_path / "root") == [tmp_path / "root" / "a" / "SE1",
                                               tmp_path / "root" / "b"]
    assert find_studies(tmp_path / "root" / "b") == [tmp_path / "root" / "b"]
    assert find_studies(tmp_path / "nowhere") == []
