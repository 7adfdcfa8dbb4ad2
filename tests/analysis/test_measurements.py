"""Ruler, ROI and midline-shift figures on known geometry."""

from __future__ import annotations

import numpy as np
import pytest

from ich_viewer.analysis.measurements import (
    ELLIPSE,
    MIDLINE,
    RULER,
    Measurement,
    describe,
    ellipse_mask,
    midline_shift,
    roi_statistics,
    ruler_length,
)


def test_ruler_uses_the_pixel_spacing_of_each_axis():
    # 40 columns of 0.25 mm and 30 rows of 0.5 mm: 10 mm and 15 mm, 18.03 mm apart.
    assert ruler_length((0, 0), (40, 30), (0.5, 0.25)) == pytest.approx(np.hypot(10, 15))
    assert ruler_length((0, 0), (3, 4), None) == pytest.approx(5.0)  # pixels without spacing


def test_roi_on_a_uniform_region_gives_its_hu():
    image = np.full((64, 64), -1000.0, np.float32)
    image[10:50, 10:50] = 62.0
    stats = roi_statistics(image, (15, 15), (45, 45), (0.5, 0.5))
    assert (stats.mean, stats.sd, stats.minimum, stats.maximum) == (62.0, 0.0, 62.0, 62.0)
    # A 30-pixel circle: about pi * 15² pixels of 0.25 mm².
    assert stats.area_mm2 == pytest.approx(np.pi * 15 ** 2 * 0.25, rel=0.03)


def test_roi_statistics_of_two_values():
    image = np.zeros((20, 20), np.float32)
    image[:, 10:] = 100.0
    stats = roi_statistics(image, (0, 0), (20, 20), None)
    assert stats.mean == pytest.approx(50.0) and stats.sd == pytest.approx(50.0)
    assert stats.area_mm2 is None


def test_an_empty_drag_is_no_roi():
    assert not ellipse_mask((10, 10), (3, 3), (3, 8)).any()
    assert roi_statistics(np.zeros((10, 10)), (3, 3), (3, 8), None) is None


def test_descriptions_name_the_slice_and_the_figures():
    voxels = np.full((2, 32, 32), 40.0, np.float32)
    ruler = describe(Measurement(RULER, 1, (0, 0), (20, 0)), voxels, (0.5, 0.5), True, "12")
    assert ruler == "Slice 12 · ruler 10.0 mm"
    roi = describe(Measurement(ELLIPSE, 1, (4, 4), (24, 24)), voxels, (0.5, 0.5), True, "12")
    assert roi.startswith("Slice 12 · ROI 0.") and "mean 40.0 HU, SD 0.0, min 40, max 40" in roi


@pytest.mark.parametrize("shift_mm", [0.0, 3.2, 7.5, 12.0])
def test_midline_shift_of_a_septum_displaced_by_a_known_distance(shift_mm):
    # The falx attached at the middle column front and back of a 256-pixel slice, the septum
    # pellucidum displaced towards higher columns; rows and columns of different sizes.
    spacing, mid = (0.5, 0.45), 128.0
    anterior, posterior, septum = (mid, 20.0), (mid, 236.0), (mid + shift_mm / spacing[1], mid)
    shift, side = midline_shift(anterior, posterior, septum, spacing)
    assert shift == pytest.approx(shift_mm, abs=0.5)
    assert side == (0 if shift_mm == 0 else 1)


def test_midline_shift_along_an_oblique_falx_and_its_side():
    # A head turned 30 degrees: the falx runs obliquely; the septum 5 mm off it, either side.
    spacing, angle = (0.5, 0.5), np.radians(30)
    a, b = np.array([100.0, 40.0]), np.array([100.0, 40.0]) + 200 * np.array([np.sin(angle), np.cos(angle)])
    normal = np.array([np.cos(angle), -np.sin(angle)])  # unit, pointing to higher columns
    middle = (a + b) / 2
    for sign in (1, -1):
        septum = middle + sign * normal * (5.0 / 0.5)
        shift, side = midline_shift(tuple(a), tuple(b), tuple(septum), spacing)
        assert shift == pytest.approx(5.0, abs=1e-6) and side == sign


def test_midline_shift_is_described_with_the_patients_side():
    voxels = np.zeros((1, 64, 64), np.float32)
    m = Measurement(MIDLINE, 0, (32, 5), (32, 60), (40, 30))  # 8 columns of 0.5 mm: 4 mm
    assert describe(m, voxels, (0.5, 0.5), True, "7", "left") == "Slice 7 · midline shift 4.0 mm to the patient's left"
    assert describe(m, voxels, (0.5, 0.5), True, "7", "right").endswith("to the patient's right")
    assert describe(m, voxels, None, True, "7").endswith("8.0 px (side not known)")
    pending = Measurement(MIDLINE, 0, (32, 5), (32, 60))
    assert "click the septum pellucidum" in describe(pending, voxels, (0.5, 0.5), True, "7")
    assert Measurement.from_dict(m.to_dict()) == m and Measurement.from_dict(pending.to_dict()) == pending

