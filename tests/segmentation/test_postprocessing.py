"""The rules after the network: outlines only inside the skull, lesions not specks."""

import cv2
import numpy as np

from ich_viewer.segmentation.model_file import Thresholds
from ich_viewer.segmentation.postprocessing import (
    drop_small_lesions,
    intracranial_space,
    label_lesions,
    on_study_grid,
    postprocess,
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


def test_on_the_study_grid_the_mask_is_thresholded_before_the_probability_is_stored_compactly():
    rng = np.random.default_rng(3)
    cleaned = rng.random((3, 64, 64), dtype=np.float32)
    thresholds = Thresholds(mask=0.5)
    probability, mask, scores = on_study_grid(cleaned, (128, 128), thresholds)
    full = to_study_grid(cleaned, (128, 128))
    np.testing.assert_array_equal(mask, full >= 0.5)  # not from the float16 copy: no pixel flips
    assert probability.dtype == np.float16 and np.abs(probability - full).max() < 1e-3
    np.testing.assert_allclose(scores, cleaned.reshape(3, -1).max(axis=1))


def test_lesion_labels_are_16_bit_when_they_fit_and_wider_when_not():
    few = np.zeros((2, 8, 8), bool)
    few[0, 1, 1] = few[1, 5, 5] = True
    labels, count = label_lesions(few)
    assert labels.dtype == np.uint16 and count == 2
    many = np.zeros((1, 600, 600), bool)
    many[0, ::2, ::2] = True  # 90000 separate voxels: more than 16 bits can number
    labels, count = label_lesions(many)
    assert count == 90000 and labels.max() == 90000

