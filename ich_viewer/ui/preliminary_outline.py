"""The model's outline while a study is still being segmented, slice by slice as batches finish.

The engine segments the slice on screen first and then outward from it
(engine.nearest_slices), so the reader sees the outline where they are
looking within a batch's time, long before a thin series is done. The
outline is preliminary: lesions too small to count are dropped, and the
findings computed, only once every slice is done; the finished result's
layers then take its place.
"""

from __future__ import annotations

import numpy as np

from ich_viewer.study.model import Study
from ich_viewer.ui.overlay import MODEL_COLOUR, MODEL_LAYER, MaskLayer, OverlayStack


class PreliminaryOutline:
    def __init__(self, overlays: OverlayStack) -> None:
        self._overlays = overlays
        self._study: Study | None = None
        self._mask: np.ndarray | None = None
        self._done = 0

    def start(self, study: Study) -> None:
        """A segmentation of this study begins: nothing drawn until its first batch."""
        self.drop()
        self._study = study

    def add(self, study: Study, indices: list[int], masks: np.ndarray) -> int | None:
        """Draw these slices' preliminary masks; the number of slices done, None if not for this study."""
        if study is not self._study:
            return None
        if self._mask is None:
            self._mask = np.zeros(study.voxels.shape, bool)  # C-contiguous: the layer draws from it
            self._overlays.add_layer(MaskLayer(MODEL_LAYER, self._mask, MODEL_COLOUR))
        self._mask[indices] = masks
        for z in indices:
            self._overlays.refresh_layer(MODEL_LAYER, z)
        self._done += len(indices)
        return self._done

    def drop(self) -> None:
        """Done, cancelled, failed or another study: take the preliminary outline off the screen."""
        if self._mask is not None and self._overlays.layer(MODEL_LAYER) is not None:
            self._overlays.remove_layer(MODEL_LAYER)
        self._study, self._mask, self._done = None, None, 0
