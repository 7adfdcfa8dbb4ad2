"""Findings on masks whose areas, volumes and diameters are known exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ich_viewer.analysis import (
    compare_masks,
    compute_findings,
    dice,
    per_slice_dice,
)
from ich_viewer.analysis.geometry import longest_axes_mm

SPACING = (5.0, 0.5, 0.5)  # (z, y, x) mm: 5 mm slices, 0.5 mm pixels


def box_mask(shape=(6, 64, 64), slices=(1, 2, 3), rows=(10, 20), cols=(30, 50)) -> np.ndarray:
    """A 10 x 20 pixel rectangle (rows x columns) on the given slices."""
    mask = np.zeros(shape, bool)
    for z in slices:
        mask[z, rows[0]:rows[1], cols[0]:cols[1]] = True
    return mask


def ellipsoid_mask(semi_axes_mm, spacing, shape) -> np.ndarray:
    """Voxels whose centre lies inside an ellipsoid centred on the volume."""
    c, b, a = semi_axes_mm  # z, y, x
    dz, dy, dx = spacing
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    zc, yc, xc = [(n - 1) / 2 for n in shape]
    return (((z - zc) * dz / c) ** 2 + ((y - yc) * dy / b) ** 2 + ((x - xc) * dx / a) ** 2) <= 1.0


def test_rectangle_areas_and_volume_are_exact():
    findings = compute_findings(box_mask(), SPACING)
    # 10 x 20 px = 200 px; a pixel is 0.5 x 0.5 = 0.25 mm2, so 50 mm2 = 0.5 cm2 per slice.
    assert findings.per_slice_area_px.tolist() == [0, 200, 200, 200, 0, 0]
    assert findings.per_slice_area_cm2 == pytest.approx([0, 0.5, 0.5, 0.5, 0, 0])
    assert findings.largest_area_cm2 == pytest.approx(0.5)
    assert findings.largest_area_slice == 1  # ties go to the first slice
    # 600 voxels x 1.25 mm3 = 750 mm3 = 0.75 mL
    assert findings.voxel_count == 600
    assert findings.volume_ml == pytest.approx(0.75)
    assert findings.n_slices_involved == 3
    assert findings.affected_slices == [1, 2, 3]


def test_rectangle_abc2_equals_box_volume():
    (lesion,) = compute_findings(box_mask(), SPACING).lesions
    a_mm, b_mm, c_mm = lesion.abc2_axes_mm
    # A is the 5 x 10 mm rectangle's diagonal, B its width across that diagonal
    # (2wh/diagonal), so A*B = 2wh and ABC/2 is exactly the box volume.
    assert a_mm == pytest.approx(math.hypot(5, 10))
    assert b_mm == pytest.approx(2 * 5 * 10 / math.hypot(5, 10))
    assert c_mm == pytest.approx(15.0)  # 3 slices x 5 mm
    assert lesion.abc2_ml == pytest.approx(0.75)


def test_non_square_pixels_are_measured_in_mm():
    mask = np.zeros((1, 20, 20), bool)
    mask[0, 5:15, 2:4] = True  # 10 rows x 2 columns
    a_mm, b_mm = longest_axes_mm(mask[0], (0.4, 0.8))  # 4 mm tall, 1.6 mm wide
    assert a_mm == pytest.approx(math.hypot(4.0, 1.6))
    assert b_mm == pytest.approx(2 * 4.0 * 1.6 / math.hypot(4.0, 1.6))


def test_single_pixel_has_its_own_diagonal():
    mask = np.zeros((3, 3), bool)
    mask[1, 1] = True
    assert longest_axes_mm(mask, (0.5, 0.5))[0] == pytest.approx(math.hypot(0.5, 0.5))


def test_ellipsoid_voxel_volume_and_abc2():
    spacing = (5.0, 0.5, 0.5)
    semi_axes = (25.0, 20.0, 30.0)  # z, y, x in mm
    mask = ellipsoid_mask(semi_axes, spacing, shape=(11, 100, 140))
    findings = compute_findings(mask, spacing)
    true_ml = 4 / 3 * math.pi * 25 * 20 * 30 / 1000  # 62.8 mL
    assert findings.volume_ml == pytest.approx(true_ml, rel=0.03)

    (lesion,) = findings.lesions
    a_mm, b_mm, c_mm = lesion.abc2_axes_mm
    assert a_mm == pytest.approx(60.0, abs=1.5)  # the long diameter, to about a pixel
    assert b_mm == pytest.approx(40.0, abs=1.5)
    # Slice centres at z = 0, +-5 ... +-20 mm hold the ellipsoid (its tips at +-25 mm hold no
    # voxel centre): C = 9 slices x 5 mm.
    assert c_mm == pytest.approx(45.0)
    assert lesion.abc2_ml == pytest.approx(a_mm * b_mm * c_mm / 2 / 1000)


def test_empty_mask():
    findings = compute_findings(np.zeros((4, 8, 8), bool), SPACING, slice_scores=np.full(4, 0.1))
    assert not findings.detected
    assert findings.detection_score == pytest.approx(0.1)
    assert findings.volume_ml == 0.0 and findings.lesions == []
    assert findings.n_slices_involved == 0 and findings.affected_slices == []
    assert findings.largest_area_slice is None
    assert findings.key_slices() == []


def test_unknown_spacing_gives_no_physical_figures():
    findings = compute_findings(box_mask(), None)
    assert findings.volume_ml is None
    assert findings.lesions[0].abc2_ml is None and findings.lesions[0].volume_ml is None
    assert findings.per_slice_area_cm2 is None and findings.largest_area_cm2 is None
    assert findings.per_slice_area_px.tolist() == [0, 200, 200, 200, 0, 0]
    assert findings.detected and findings.detection_score is None


def test_detection_uses_the_highest_slice_score():
    mask = box_mask()
    scores = np.array([0.1, 0.6, 0.2, 0.3, 0.0, 0.0])
    assert compute_findings(mask, SPACING, scores, detection_threshold=0.5).detected
    high = compute_findings(mask, SPACING, scores, detection_threshold=0.7)
    assert not high.detected and high.detection_score == pytest.approx(0.6)


def test_dice_against_a_reference():
    mask = box_mask(slices=(1, 2))
    reference = box_mask(slices=(2, 3))
    findings = compute_findings(mask, SPACING, reference_mask=reference)
    assert findings.dice_study == pytest.approx(2 * 200 / 800)
    per_slice = findings.per_slice_dice
    assert per_slice[1] == 0.0 and per_slice[2] == 1.0 and per_slice[3] == 0.0
    assert np.isnan(per_slice[0]) and np.isnan(per_slice[5])  # both empty


def test_dice_of_two_empty_masks_is_undefined():
    empty = np.zeros((2, 4, 4), bool)
    assert math.isnan(dice(empty, empty))
    assert np.isnan(per_slice_dice(empty, empty)).all()


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="shapes"):
        dice(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="slice score"):
        compute_findings(box_mask(), SPACING, slice_scores=np.zeros(3))
    with pytest.raises(ValueError, match="spacing"):
        compute_findings(box_mask(), (5.0, 0.0, 0.5))


def test_to_dict_is_strict_json():
    findings = compute_findings(box_mask(), SPACING, np.linspace(0, 1, 6), reference_mask=box_mask())
    data = json.loads(json.dumps(findings.to_dict(), allow_nan=False))
    assert data["volume_ml"] == pytest.approx(0.75)
    assert data["per_slice_dice"][0] is None and data["per_slice_dice"][1] == 1.0
    assert "mask" not in data


def test_key_slices_are_the_largest_in_slice_order():
    mask = np.zeros((9, 10, 10), bool)
    for z, n in enumerate([0, 5, 9, 1, 7, 3, 8, 2, 6]):
        mask[z].flat[:n] = True
    findings = compute_findings(mask, None)
    assert findings.key_slices(3) == [2, 4, 6]
    assert findings.key_slices(20) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_compare_masks_counts_the_reader_edits():
    model = box_mask(slices=(1, 2))
    edited = box_mask(slices=(2, 3))
    edits = compare_masks(model, edited, SPACING)
    assert edits.edited and edits.voxels_added == 200 and edits.voxels_removed == 200
    assert edits.volume_before_ml == pytest.approx(0.5) and edits.volume_after_ml == pytest.approx(0.5)
    assert not compare_masks(model, model, None).edited
