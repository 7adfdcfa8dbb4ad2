"""A network without TensorFlow, for the viewer, worker and command tests.

FakeEngine implements the engine's Segmenter protocol (ich_viewer/segmentation/engine.py): it
segments slice by slice, nearest to the reader's slice first, as the real engine batches, with
progress, previews and cancellation; fake_engine(**options) is the factory the window takes.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ich_viewer.segmentation.engine import SegmentationCancelled, nearest_slices
from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.study.model import Study

FAKE_MODEL = ModelInfo("fake", "0", "0" * 64, 0.5, 0.5, "none")
FAKE_INSIDE, FAKE_OUTSIDE = 0.9, 0.05  # probabilities inside / outside the fake mask


def bright_voxels(study: Study) -> np.ndarray:
    return study.voxels > 50


class FakeEngine:
    """Stands in for SegmentationEngine: segments slice by slice (like the real batches), no TensorFlow.

    mask_of(study) is the "model's" mask; the probability is FAKE_INSIDE on it, FAKE_OUTSIDE elsewhere.
    """

    def __init__(self, force_cpu=False, mask_of=bright_voxels, delay_s=0.0, fail=None, device="CPU",
                 model_path=None):
        self.force_cpu = force_cpu
        self.model_path = model_path
        self.device = device
        # Named as the real engine names a model: by its file in models/.
        self.info = replace(FAKE_MODEL, file=Path(model_path).stem) if model_path else FAKE_MODEL
        self.mask_of, self.delay_s, self.fail = mask_of, delay_s, fail

    def load(self):
        return self.info

    def warm_up(self, is_cancelled=None):
        """Nothing to warm: a fake's mask_of sees only the reader's studies."""

    def segment(self, study, progress=None, is_cancelled=None, focus=None, preview=None):
        if self.fail:
            raise self.fail
        mask = np.asarray(self.mask_of(study), bool)
        remaining = list(range(study.n_slices))
        while remaining:  # a slice a batch, nearest to the reader's slice first, as the real engine
            if is_cancelled and is_cancelled():
                raise SegmentationCancelled()
            time.sleep(self.delay_s)
            done = nearest_slices(remaining, focus() if focus else 0, 1)
            remaining.remove(done[0])
            if preview:
                preview(done, mask[done])
            if progress:
                progress(study.n_slices - len(remaining), study.n_slices)
        probability = np.where(mask, FAKE_INSIDE, FAKE_OUTSIDE).astype(np.float32)
        return SegmentationResult(probability, mask, probability.max(axis=(1, 2)), self.info, self.device)


def fake_engine(**options):
    """An engine factory, as SegmentationControl and MainWindow take it."""
    return lambda force_cpu=False, model_path=None: FakeEngine(force_cpu, model_path=model_path, **options)


# -- mouse --------------------------------------------------------------------------------------
