"""The rules of the on-image text, without a window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ich_viewer.analysis.annotations import (
    ANONYMISED,
    age_sex,
    age_years,
    corner_text,
    direction_letters,
    orientation_letters,
    readable_date,
    readable_name,
    scale_bar_mm,
    slice_position_mm,
)
from ich_viewer.study.model import DicomGeometry, Study, StudyMetadata, Units, Window

AXIAL = (1, 0, 0, 0, 1, 0)


def test_axial_slice_seen_from_the_feet_has_the_patients_right_on_the_left():
    letters = orientation_letters(AXIAL)
    assert (letters.left, letters.right, letters.top, letters.bottom) == ("R", "L", "A", "P")


def test_flipped_rows_put_the_patients_left_on_the_left():
    letters = orientation_letters((-1, 0, 0, 0, 1, 0))
    assert (letters.left, letters.right) == ("L", "R")
    assert (letters.top, letters.bottom) == ("A", "P")


def test_coronal_and_oblique_directions():
    coronal = orientation_letters((1, 0, 0, 0, 0, -1))
    assert (coronal.top, coronal.bottom) == ("H", "F")
    tilted = np.array([1.0, 0.0, 0.0]) * np.cos(0.5) + np.array([0.0, -1.0, 0.0]) * np.sin(0.5)
    assert direction_letters(tilted) == "LA"  # 29° towards anterior: both letters
    assert direction_letters((0.99, 0.1, 0.0)) == "L"  # a few degrees: one letter


def test_no_orientation_no_letters():
    assert orientation_letters(None) is None


@pytest.mark.parametrize("pn, readable", [
    ("TEST^SYNTHETIC", "TEST, SYNTHETIC"),
    ("Phantom^Head^J", "Phantom, Head J"),
    ("DOE", "DOE"),
    ("^John", "John"),
    ("YAMADA^TARO=山田^太郎", "YAMADA, TARO"),
    ("", ""),
])
def test_dicom_person_names_read_as_family_comma_given(pn, readable):
    assert readable_name(pn) == readable


def test_dates_and_age():
    assert readable_date("20240101") == "2024-01-01"
    assert age_years("19800615", "20240614") == 43
    assert age_years("19800615", "20240615") == 44
    assert age_years("", "20240101") is None
    assert age_sex("19800615", "20240615", "F") == "44 y F"


def _study(**meta) -> Study:
    voxels = np.zeros((3, 8, 8), np.float32)
    positions = np.array([[0, 0, 10.0], [0, 0, 15.0], [0, 0, 20.0]])
    metadata = StudyMetadata(patient_name="TEST^SYNTHETIC", patient_id="ID-7", birth_date="19800101",
                             sex="M", study_date="20240101", series_number="3",
                             series_description="Head 5mm", slice_thickness_mm=5.0, **meta)
    return Study(voxels=voxels, units=Units.HU, spacing_mm=(5.0, 0.5, 0.5), source=Path("/x"),
                 metadata=metadata, geometry=DicomGeometry(positions=positions, orientation=AXIAL))


def test_corner_text_names_the_patient_study_slice_and_display():
    text = corner_text(_study(), 1, Window(40, 80), 1.5, anonymise=False)
    assert text.top_left == ["TEST, SYNTHETIC", "ID-7", "44 y M"]
    assert "2024-01-01" in text.top_right and "Se 3 Head 5mm" in text.top_right
    assert text.bottom_left == ["Im 2 / 3  (#2)", "Pos 15.0 mm", "Thk 5 mm"]
    assert text.bottom_right == ["W 80  L 40", "Zoom 1.50×"]


def test_anonymised_corner_text_has_no_name_id_or_birth_date():
    text = corner_text(_study(institution="St Elsewhere"), 0, Window(40, 80), 1.0, anonymise=True)
    shown = "\n".join(text.top_left + text.top_right + text.bottom_left + text.bottom_right)
    for identifier in ("TEST", "SYNTHETIC", "ID-7", "44 y", "St Elsewhere"):
        assert identifier not in shown
    assert text.top_left[0] == ANONYMISED


def test_slice_position_only_with_patient_geometry():
    assert slice_position_mm(_study(), 2) == pytest.approx(20.0)
    plain = Study(voxels=np.zeros((2, 4, 4), np.float32), units=Units.DISPLAY, spacing_mm=None,
                  source=Path("/jpg"))
    assert slice_position_mm(plain, 0) is None
    assert corner_text(plain, 0, Window(127.5, 255), 1.0, False).bottom_left == ["Im 1 / 2  (#1)"]


def test_scale_bar_is_the_longest_round_length_that_fits():
    assert scale_bar_mm(0.5, 120) == 50  # 50 mm = 100 px fits, 100 mm = 200 px does not
    assert scale_bar_mm(0.1, 150) == 10
    assert scale_bar_mm(0.0, 100) is None
