"""From the network's probability maps to a mask and per-slice detection scores.

Thresholds are fixed before evaluation (not tuned on the test folds) and
shared by the viewer, the headless commands and `ich-viewer evaluate`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ich_viewer.segmentation.preprocessing import to_study_grid

MASK_THRESHOLD = 0.5
DETECTION_THRESHOLD = 0.5
# Specks smaller than this (in network pixels, about 2 mm^2 on a 512 scan) are noise, not bleeds.
MIN_COMPONENT_PX = 6


def drop_small_components(probability: np.ndarray, threshold: float = MASK_THRESHOLD,
                          min_px: int = MIN_COMPONENT_PX) -> np.ndarray:
    """Zero the probability of above-threshold specks smaller than min_px, slice by slice."""
    cleaned = probability.copy()
    for z, prob in enumerate(probability):
        above = (prob >= threshold).astype(np.uint8)
        if not above.any():
            continue
        n, labels, stats, _ = cv2.connectedComponentsWithStats(above, connectivity=8)
        small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_px)
        small = small[small != 0]  # label 0 is the background
        if small.size:
            cleaned[z][np.isin(labels, small)] = 0.0
    return cleaned


def slice_scores(probability: np.ndarray) -> np.ndarray:
    """Detection score of each slice: its highest probability once specks are removed."""
    return probability.reshape(probability.shape[0], -1).max(axis=1).astype(np.float32)


def postprocess(network_probability: np.ndarray, study_shape_yx: tuple[int, int]):
    """(z, S, S) network output -> (probability, mask, slice scores) on the study grid."""
    cleaned = drop_small_components(network_probability)
    scores = slice_scores(cleaned)
    if network_probability.shape[1:] == tuple(study_shape_yx):
        probability = cleaned
    else:
        probability = to_study_grid(cleaned, study_shape_yx)
    return probability, probability >= MASK_THRESHOLD, scores


