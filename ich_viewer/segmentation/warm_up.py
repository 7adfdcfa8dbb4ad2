"""A small synthetic head, segmented once the network is loaded and before any study.

The first pass through each step of the pipeline costs more than the next ones (the
runtime's buffers for a new batch shape, OpenCV and SciPy paths run for the first time).
benchmarks/bench_warm_up.py, the sample study (29 slices), 3 fresh processes each: the first
segmentation after the network's own warm-up takes 1.31 s (median; the second 1.09 s), after
this warm-up 1.10 s. The viewer pays it while the reader is still choosing a study (the worker
stops it as soon as one is sent), not on their first one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ich_viewer.study.model import Study, Units

SLICES = 9  # the slice on screen alone, then a batch of 8: the two batch shapes segment() uses
SIZE = 160
BRAIN_HU, BONE_HU, AIR_HU = 35.0, 1200.0, -1000.0


def warm_up_study() -> Study:
    """Air, a ring of skull and brain inside it, on every slice: enough for every step to run."""
    y, x = np.mgrid[:SIZE, :SIZE] - SIZE / 2
    radius = np.hypot(y, x)
    head = np.where(radius < 0.38 * SIZE, BRAIN_HU, np.where(radius < 0.42 * SIZE, BONE_HU, AIR_HU))
    voxels = np.repeat(head[None].astype(np.float32), SLICES, axis=0)
    return Study(voxels, Units.HU, (5.0, 0.5, 0.5), Path("warm-up"))
