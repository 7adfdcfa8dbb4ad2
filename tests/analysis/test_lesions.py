"""Per-lesion findings: 3-D lesions, ABC/2 of one hematoma alone, crescents, volumes only where they mean something."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ich_viewer.analysis import LesionContext, compute_findings, find_lesions, lesion_region, volume_limitation
from ich_viewer.analysis.lesions import CRESCENT_REASON, MIN_LESION_VOXELS

SPACING = (2.0, 0.5, 0.5)  # thin slices, so C is resolved to within a slice of the axis
SHAPE = (40, 220, 300)


def ellipsoid(centre_mm, semi_axes_mm, spacing=SPACING, shape=SHAPE) -> np.ndarray:
    """Voxels whose centre lies inside an ellipsoid; centre and semi-axes are (z, y, x) mm."""
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    terms = [((i + 0.5) * d - c) / r for i, d, c, r in zip((z, y, x), spacing, centre_mm, semi_axes_mm)]
    return sum(t**2 for t in terms) <= 1.0


def analytic_abc2_ml(semi_axes_mm) -> float:
    """ABC/2 of the exact axes: (2c)(2b)(2a)/2.

    The ellipsoids below are centred on a slice centre and 2c is an odd number
    of slices thick, so the slices they cover span exactly 2c (C is a slice count).
    """
    c, b, a = semi_axes_mm
    return (2 * a) * (2 * b) * (2 * c) / 2 / 1000


def test_one_ellipsoid_abc2_within_5_percent_of_the_analytic_value():
    axes = (15.0, 20.0, 30.0)
    (lesion,) = find_lesions(ellipsoid((41.0, 55.0, 75.0), axes), LesionContext(SPACING))
    assert lesion.abc2_ml == pytest.approx(analytic_abc2_ml(axes), rel=0.05)
    assert lesion.abc2_note is None
    # ABC/2 of an ellipsoid is 6/pi ~ 0.955 of its volume.
    assert lesion.volume_ml == pytest.approx(4 / 3 * math.pi * 15 * 20 * 30 / 1000, rel=0.03)


def test_two_lesions_far_apart_are_measured_each_alone_largest_first():
    small_axes, large_axes = (9.0, 10.0, 12.0), (15.0, 20.0, 25.0)
    mask = ellipsoid((21.0, 30.0, 30.0), small_axes) | ellipsoid((45.0, 60.0, 110.0), large_axes)
    findings = compute_findings(mask, SPACING)
    large, small = findings.lesions
    assert (large.number, small.number) == (1, 2)
    assert large.abc2_ml == pytest.approx(analytic_abc2_ml(large_axes), rel=0.05)
    assert small.abc2_ml == pytest.approx(analytic_abc2_ml(small_axes), rel=0.05)
    # The total is the sum of the lesions, which is the voxel count times the voxel volume.
    voxel_ml = math.prod(SPACING) / 1000
    assert findings.volume_ml == pytest.approx(large.volume_ml + small.volume_ml)
    assert findings.volume_ml == pytest.approx(int(mask.sum()) * voxel_ml)


def test_a_stray_stroke_elsewhere_on_the_same_slice_leaves_the_first_lesion_alone():
    axes = (15.0, 20.0, 30.0)
    mask = ellipsoid((41.0, 55.0, 75.0), axes)
    before = find_lesions(mask, LesionContext(SPACING))[0]
    stroke = mask.copy()
    z = before.largest_area_slice
    stroke[z, 180:186, 200:290] = True  # a brush stroke 45 mm away, on the slice of largest area
    after = find_lesions(stroke, LesionContext(SPACING))
    assert len(after) == 2
    assert after[0].abc2_ml == pytest.approx(before.abc2_ml)
    assert after[0].abc2_axes_mm == pytest.approx(before.abc2_axes_mm)


def crescent(spacing=SPACING, shape=SHAPE) -> np.ndarray:
    """A subdural-like collection: the band between two circles, over 10 slices."""
    _, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    dy, dx = spacing[1:]
    outer = ((y - 110) * dy) ** 2 + ((x - 150) * dx) ** 2 <= 50.0**2
    inner = ((y - 110) * dy) ** 2 + ((x - 160) * dx) ** 2 <= 46.0**2
    band = outer & ~inner & ((x - 150) * dx < -20)  # the left part of the ring only
    mask = np.zeros(shape, bool)
    mask[10:20] = band[0]
    return mask


def test_a_crescent_gets_a_volume_but_its_abc2_is_not_valid():
    (lesion,) = find_lesions(crescent(), LesionContext(SPACING))
    assert lesion.solidity < 0.7
    assert lesion.abc2_ml is None and lesion.abc2_note == CRESCENT_REASON
    assert lesion.volume_ml == pytest.approx(int(crescent().sum()) * math.prod(SPACING) / 1000)


def test_lesions_are_26_connected_and_specks_are_not_listed_but_counted():
    mask = np.zeros((4, 20, 20), bool)
    mask[0, 2:6, 2:6] = True
    mask[1, 6:10, 6:10] = True  # touches the first only at a corner across slices
    mask[3, 15, 15] = True  # one voxel: below the minimum size
    findings = compute_findings(mask, (5.0, 1.0, 1.0))
    assert MIN_LESION_VOXELS > 1
    (lesion,) = findings.lesions
    assert lesion.slices == [0, 1] and lesion.voxel_count == 32
    assert findings.volume_ml == pytest.approx(33 * 5 / 1000)


def test_lesion_region_finds_a_lesion_again_by_its_seed():
    mask = ellipsoid((20.0, 30.0, 30.0), (8.0, 10.0, 12.0)) | ellipsoid((45.0, 60.0, 110.0), (10.0, 10.0, 10.0))
    lesions = find_lesions(mask)
    region = lesion_region(mask, lesions[1].seed)
    assert int(region.sum()) == lesions[1].voxel_count
    assert not lesion_region(mask & ~region, lesions[1].seed).any()


@pytest.mark.parametrize("n_slices", [1, 2])
def test_one_or_two_slices_give_no_volume_and_say_why(n_slices):
    mask = np.zeros((n_slices, 40, 40), bool)
    mask[:, 10:30, 10:30] = True
    findings = compute_findings(mask, (5.0, 0.5, 0.5))
    assert findings.volume_ml is None
    assert "not measured" in findings.volume_note and "at least 3 slices" in findings.volume_note
    (lesion,) = findings.lesions
    assert lesion.volume_ml is None and lesion.abc2_ml is None
    assert lesion.abc2_note == findings.volume_note
    assert lesion.largest_area_cm2 == pytest.approx(1.0)  # areas still mean what they say


def test_uneven_slice_spacing_gives_no_volume():
    steps = [5.0, 5.0, 10.0, 10.0]
    note = volume_limitation(5, (5.0, 0.5, 0.5), steps)
    assert note.startswith("not measured: slice spacing uneven (5–10 mm")
    assert volume_limitation(5, (5.0, 0.5, 0.5), [5.0, 5.02, 4.98, 5.0]) is None


def test_side_is_told_only_with_a_known_orientation():
    hu = np.full((3, 20, 40), 30.0)  # the head fills the image: midline at column 19.5
    mask = np.zeros(hu.shape, bool)
    mask[:, 5:10, 25:35] = True  # higher columns
    unknown = find_lesions(mask, LesionContext((5.0, 1.0, 1.0), hu_voxels=hu))
    left = find_lesions(mask, LesionContext((5.0, 1.0, 1.0), hu_voxels=hu, columns_to_patient_left=True))
    right = find_lesions(mask, LesionContext((5.0, 1.0, 1.0), hu_voxels=hu, columns_to_patient_left=False))
    assert unknown[0].side is None and left[0].side == "left" and right[0].side == "right"
    assert left[0].mean_hu == pytest.approx(30.0)


@pytest.mark.parametrize("thickness_mm", [4.0, 9.5, 15.0])
def test_the_thickest_part_of_a_crescent_collection_is_measured_across_it(thickness_mm):
    """A subdural-like crescent: a ring segment of known radial width, on 0.45 x 0.5 mm pixels."""
    dy, dx = 0.45, 0.5
    yy, xx = np.mgrid[:400, :400]
    r = np.hypot((yy - 200) * dy, (xx - 200) * dx)  # mm from the centre of the head
    crescent = (r >= 80) & (r < 80 + thickness_mm) & (xx > 230)
    mask = np.stack([np.zeros_like(crescent), crescent, crescent & (yy < 250)])
    lesion, = find_lesions(mask, LesionContext(spacing_mm=(5.0, dy, dx)))
    assert lesion.max_thickness_mm == pytest.approx(thickness_mm, abs=0.5)


def test_the_deepest_point_is_found_in_the_lesions_box_as_in_the_whole_frame():
    from scipy import ndimage

    from ich_viewer.analysis.geometry import deepest_mm

    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:60, :70]
    for _ in range(100):
        mask = np.zeros((60, 70), bool)
        for _ in range(rng.integers(1, 4)):  # ellipses, some cut by the frame
            y, x, r = rng.integers(0, 60), rng.integers(0, 70), rng.integers(1, 15)
            mask |= (yy - y) ** 2 / r**2 + (xx - x) ** 2 / (1.5 * r) ** 2 < 1
        spacing = tuple(rng.uniform(0.3, 1.0, 2))
        whole_frame = ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing).max()
        assert deepest_mm(mask, spacing) == pytest.approx(whole_frame, abs=1e-12)
