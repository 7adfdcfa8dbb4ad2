"""QC warnings are structured: a kind, a text that names no file, and the files apart."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ich_viewer.study import dicom_volume
from ich_viewer.study.dicom_series import scan_dicom_files
from ich_viewer.study.loader import open_study
from ich_viewer.study.model import Study, Units
from ich_viewer.study.qc import QcKind, QcWarning, skipped_file_warnings
from tests.factories.dicom import write_ct_series


def test_a_gap_is_a_missing_slices_warning_naming_the_files_on_either_side(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=6, missing_slices=[3], shuffle=False)
    name = dicom_volume._namer(tmp_path / "ct")
    slices, _ = scan_dicom_files(series.files, tmp_path / "ct")
    slices, order_warnings = dicom_volume._order_slices(slices, name)

    warnings = dicom_volume._qc_geometry(slices, name)

    assert order_warnings == []
    assert [(w.kind, w.files) for w in warnings] == [(QcKind.MISSING_SLICES, ("IM0002.dcm", "IM0003.dcm"))]
    assert "Gap of 10.00 mm between slice 3 and slice 5" in warnings[0].text
    assert ".dcm" not in warnings[0].text


def test_skipped_files_are_grouped_by_problem_with_their_files():
    problems = [("a.dcm", "not a DICOM file"), ("b.dcm", "permission denied"), ("c.dcm", "not a DICOM file")]

    warnings = skipped_file_warnings(problems)

    assert warnings == [
        QcWarning(QcKind.SKIPPED_FILES, "Skipped 2 files (not a DICOM file).", ("a.dcm", "c.dcm")),
        QcWarning(QcKind.SKIPPED_FILES, "Skipped 1 file: permission denied.", ("b.dcm",)),
    ]
    assert str(warnings[0]) == "Skipped 2 files (not a DICOM file). Files: a.dcm, c.dcm."


def test_the_report_line_leaves_the_files_out_only_when_anonymised():
    warning = QcWarning(QcKind.SKIPPED_FILES, "Skipped 1 file: permission denied.", ("DOE^JOHN/IM1.dcm",))

    assert warning.for_report(anonymised=False) == "Skipped 1 file: permission denied. File: DOE^JOHN/IM1.dcm."
    assert warning.for_report(anonymised=True) == "Skipped 1 file: permission denied."


def test_no_warning_text_names_a_file_of_a_messy_series_in_a_patient_named_folder(tmp_path):
    folder = tmp_path / "DOE^JOHN"
    series = write_ct_series(folder / "head", n_slices=8, missing_slices=[5], shuffle=False,
                             omit_tags=["PixelSpacing"])
    series.files[2].write_bytes(series.files[2].read_bytes()[:3000])  # pixel data cut short
    (folder / "head" / "DOE_JOHN_notes.dcm").write_bytes(os.urandom(500))

    study = open_study(folder)

    kinds = {w.kind for w in study.warnings}
    assert {QcKind.SKIPPED_FILES, QcKind.MISSING_SLICES, QcKind.MISSING_TAGS} <= kinds
    named = {file for w in study.warnings for file in w.files}
    assert {"head/DOE_JOHN_notes.dcm", "head/IM0002.dcm"} <= named
    for warning in study.warnings:
        assert "DOE" not in warning.text and ".dcm" not in warning.text, warning


def test_a_study_refuses_free_text_warnings():
    with pytest.raises(TypeError, match="QcWarning"):
        Study(voxels=np.zeros((1, 2, 2), np.float32), units=Units.HU, spacing_mm=None,
              source=Path("/nowhere"), warnings=["IM0001.dcm of DOE^JOHN is unreadable"])
