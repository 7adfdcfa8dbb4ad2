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


def test_listing_then_opening_reads_the_headers_once_and_a_changed_file_again(tmp_path, monkeypatch):
    import os

    from ich_viewer.study import dicom_series, loader
    from tests.factories.dicom import write_ct_series

    write_ct_series(tmp_path, n_slices=4)
    scans = []
    real = dicom_series.scan_dicom_files
    monkeypatch.setattr(dicom_series, "scan_dicom_files", lambda *a: scans.append(1) or real(*a))
    monkeypatch.setattr(loader, "_last_header_pass", None)
    loader.list_series(tmp_path)
    study = loader.open_study(tmp_path)
    assert len(scans) == 1 and study.n_slices == 4
    changed = sorted(tmp_path.glob("*.dcm"))[0]
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))  # a newer file
    assert loader.open_study(tmp_path).n_slices == 4 and len(scans) == 2
