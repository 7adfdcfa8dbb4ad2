"""The robustness conditions change the input as an exporter would, and the reference with it."""

import numpy as np

from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, Study, Units
from ich_viewer.training.robustness import CONDITIONS, resampled, shrunk


def _study():
    voxels = np.zeros((2, 100, 100), np.float32)
    voxels[:, 20:80, 20:80] = 110  # head
    voxels[:, 40:50, 40:50] = 230  # bleed
    reference = voxels == 230
    bone = np.where(voxels > 0, 80.0, 0.0).astype(np.float32)
    study = Study(voxels, Units.DISPLAY, None, ".", export_window=CT_ICH_BRAIN_WINDOW, bone_voxels=bone)
    return study, reference


def test_shrinking_moves_image_bone_and_reference_together():
    study, reference = _study()
    small, mask = shrunk(0.6)(study, reference)
    assert small.voxels.shape == study.voxels.shape and small.bone_voxels.shape == study.voxels.shape
    assert 0.3 < mask.sum() / reference.sum() < 0.42  # 0.6^2 of the area
    assert (small.voxels[mask] > 200).mean() > 0.9  # the reference still lies on the bleed


def test_resampling_changes_the_grid():
    study, reference = _study()
    small, mask = resampled(64)(study, reference)
    assert small.voxels.shape == (2, 64, 64) and mask.shape == (2, 64, 64) and mask.any()


def test_every_condition_keeps_the_reference_on_the_image():
    study, reference = _study()
    for condition in CONDITIONS:
        if condition.transform is None:
            continue
        changed, mask = condition.transform(study, reference)
        assert changed.voxels.shape[1:] == mask.shape[1:], condition.name
        assert mask.any(), condition.name
