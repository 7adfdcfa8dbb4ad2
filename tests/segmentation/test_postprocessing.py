"""The rules after the network: outlines only inside the skull, lesions not specks."""

import cv2
import numpy as np
import pytest

from ich_viewer.segmentation.field_of_view import Square
from ich_viewer.segmentation.model_file import Thresholds
from ich_viewer.segmentation.postprocessing import (
    LesionsBySlice,
    Postprocessor,
    drop_small_lesions,
    intracranial_space,
    label_lesions,
    postprocess,
    skull_rule,
)
from ich_viewer.segmentation.preprocessing import to_study_grid


def _head(size=128, gap_degrees=0):
    """A brain-window slice: a skull ring (white) around brain (grey), optionally with a gap."""
    brain = np.zeros((size, size), np.float32)
    centre = (size // 2, size // 2)
    cv2.ellipse(brain, centre, (50, 42), 0, 0, 360, 0.45, -1)
    cv2.ellipse(brain, centre, (50, 42), 0, gap_degrees, 360, 1.0, 4)
    return brain


def test_inside_the_skull_is_intracranial_and_outside_is_not():
    space = intracranial_space(_head(), None)
    assert space[64, 64] and space[64, 20]  # centre; just inside the inner table
    assert not space[5, 5] and not space[64, 125]  # air outside the head


def test_a_gap_in_the_skull_does_not_empty_the_head():
    """A fracture or thin temporal bone: rays still meet bone in most directions."""
    space = intracranial_space(_head(gap_degrees=25), None)
    assert space[64, 64] and space[50, 40]


def test_a_slice_below_the_skull_gets_no_outline():
    """The neck: soft tissue and no bone ring; a confident network outline there is dropped."""
    neck = np.zeros((1, 128, 128), np.float32)
    cv2.circle(neck[0], (64, 64), 40, 0.45, -1)
    probability = np.zeros_like(neck)
    probability[0, 55:70, 55:70] = 0.99
    _, mask, scores = postprocess(probability, neck, None, (128, 128), Thresholds())
    assert not mask.any() and scores[0] == 0


def test_a_bleed_inside_the_skull_is_kept_and_uses_the_bone_window_when_there_is_one():
    brain = _head()[None]
    bone = np.where(brain == 1.0, 0.6, np.where(brain > 0, 0.29, 0.0)).astype(np.float32)
    probability = np.zeros_like(brain)
    probability[0, 50:60, 50:60] = 0.9
    for bone_view in (None, bone):
        _, mask, scores = postprocess(probability, brain, bone_view, (256, 256), Thresholds())
        assert mask.sum() > 300 and scores[0] > 0.85  # resized back to the 256 study grid


def test_lesions_are_connected_across_slices():
    probability = np.zeros((3, 32, 32), np.float32)
    probability[0:3, 10:12, 10:12] = 0.9  # 12 voxels over three slices: one lesion
    probability[1, 25:27, 25:27] = 0.9  # 4 voxels alone: a speck
    cleaned = drop_small_lesions(probability, 0.5, 12)
    assert (cleaned[:, 10:12, 10:12] == 0.9).all()
    assert not cleaned[1, 25:27, 25:27].any()


def _noisy_output(n_slices=6, size=128, seed=3):
    """Network output below the threshold, with a lesion and many specks just above it beside values just under."""
    rng = np.random.default_rng(seed)
    probability = rng.random((n_slices, size, size), dtype=np.float32) * 0.5
    specks = rng.random(probability.shape) < 0.02
    probability[specks] = 0.5 + 0.5 * rng.random(int(specks.sum()), dtype=np.float32)
    probability[1:5, 50:60, 50:60] = 0.9
    return probability


def _whole_volume(probability, brain, thresholds, study_shape_yx, square):
    """What postprocessing computed before it worked batch by batch: the cleaned float32 volume, then the grid."""
    cleaned = drop_small_lesions(skull_rule(probability, brain, None, thresholds), thresholds.mask,
                                 thresholds.min_lesion_px)
    grid = to_study_grid(cleaned, study_shape_yx, square)
    return grid, grid >= thresholds.mask, cleaned.reshape(len(cleaned), -1).max(axis=1)


@pytest.mark.parametrize("study_shape_yx, square", [((256, 256), None), ((240, 220), Square(-20, 10, 200)),
                                                    ((100, 100), None)])
@pytest.mark.parametrize("inside_skull_only", [False, True])
def test_batch_by_batch_gives_the_mask_and_scores_of_cleaning_the_whole_float32_volume(
        study_shape_yx, square, inside_skull_only):
    probability = _noisy_output()
    brain = np.repeat(_head()[None], len(probability), axis=0)
    thresholds = Thresholds(mask=0.5, min_lesion_px=12, inside_skull_only=inside_skull_only)
    grid, mask, scores = _whole_volume(probability, brain, thresholds, study_shape_yx, square)
    steps, preliminary = Postprocessor(len(probability), 128, study_shape_yx, thresholds, square), 0
    for batch in ([2, 3], [0, 1], [4, 5]):  # in the order a reader's focus may ask for them
        preliminary += steps.add(batch, probability[batch], brain[batch], None).sum()
    got_probability, got_mask, got_scores = steps.finish()
    assert 0 < got_mask.sum() < preliminary  # specks were dropped, the lesion kept
    np.testing.assert_array_equal(got_mask, mask)
    np.testing.assert_array_equal(got_scores, scores)
    # The heat map's slice, resampled on demand from float16 at the network's resolution: float16's precision.
    for z in range(len(probability)):
        assert got_probability[z].dtype == np.float16 and np.abs(got_probability[z] - grid[z]).max() < 1e-3
    assert got_probability.shape == grid.shape and np.abs(np.asarray(got_probability) - grid).max() < 1e-3
    np.testing.assert_array_equal(got_probability[-1], got_probability[len(probability) - 1])
    with pytest.raises(IndexError):
        got_probability[len(probability)]


def test_lesion_labels_are_16_bit_when_they_fit_and_wider_when_not():
    few = np.zeros((2, 8, 8), bool)
    few[0, 1, 1] = few[1, 5, 5] = True
    labels, count = label_lesions(few)
    assert labels.dtype == np.uint16 and count == 2
    many = np.zeros((1, 600, 600), bool)
    many[0, ::2, ::2] = True  # 90000 separate voxels: more than 16 bits can number
    labels, count = label_lesions(many)
    assert count == 90000 and labels.max() == 90000



@pytest.mark.parametrize("seed", range(5))
def test_lesions_found_slice_by_slice_are_label_lesions_lesions(seed):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.random((8, 60, 70)), sigma=1.2)
    mask = noise > np.quantile(noise, 0.8)  # dozens of lesions, some joined only across slices or corners
    labels, count = label_lesions(mask)
    found = LesionsBySlice(mask)
    by_slice = np.stack([found.plane(z) for z in range(len(mask))])
    assert found.count == count > 10
    # The same voxels in each: every lesion of one is exactly one lesion of the other.
    pairs = np.unique(np.stack([labels[mask], by_slice[mask]], axis=1), axis=0)
    assert len(pairs) == count and not by_slice[~mask].any()
    for number, (box, size) in enumerate(zip(found.boxes, found.sizes), start=1):
        (label,) = pairs[pairs[:, 1] == number, 0]
        assert size == (labels == label).sum() and box == ndimage.find_objects(labels)[label - 1]
        assert found.on_slice(box[0].start) >= {number}
