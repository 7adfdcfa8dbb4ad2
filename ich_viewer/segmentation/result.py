"""What a segmentation run hands to the rest of the program."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModelInfo:
    name: str  # e.g. "ich-unet25d"
    version: str
    sha256: str
    threshold: float  # probability above which a voxel is hemorrhage
    detection_threshold: float  # slice score above which a slice counts as positive
    preprocessing: str  # one line for the report
    file: str = ""  # its name among the shipped models (models/<file>.keras), as --model and the Model menu say it

    @property
    def label(self) -> str:
        """'ich_unet25d, version 2.1 (ich_unet25d_final)': which network drew the mask, for every output."""
        text = f"{self.name}, version {self.version}"
        return f"{text} ({self.file})" if self.file and self.file != self.name else text


@dataclass
class SegmentationResult:
    """The model's output for one Study, in the Study's own (z, y, x) grid."""

    probability: np.ndarray  # float32 (z, y, x) in [0, 1]
    mask: np.ndarray  # bool (z, y, x): probability >= model.threshold, after postprocessing
    slice_scores: np.ndarray  # float32 (z,): per-slice detection score in [0, 1]
    model: ModelInfo
    device: str  # "CPU" or "GPU:0"

    @property
    def detection_score(self) -> float:
        """Study-level score: the highest slice score."""
        return float(self.slice_scores.max()) if self.slice_scores.size else 0.0

    @property
    def detected(self) -> bool:
        return self.detection_score >= self.model.detection_threshold
