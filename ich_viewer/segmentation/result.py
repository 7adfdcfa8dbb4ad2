"""What a segmentation run hands to the rest of the program."""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from ich_viewer.segmentation.field_of_view import Square
from ich_viewer.segmentation.preprocessing import to_study_grid


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


class StudyProbability:
    """The model's probability on the study's (z, y, x) grid, stored at the network's resolution.

    A slice is resampled to the study grid when asked for (probability[z]): the heat map shows one
    slice at a time, and the whole grid in float16 would take half a long series' float32 volume.
    np.asarray(probability) gives the whole (z, y, x) grid in float16.
    """

    ndim = 3
    dtype = np.dtype(np.float16)

    def __init__(self, maps: np.ndarray, study_shape_yx: tuple[int, int], square: Square | None = None):
        self._maps = maps  # (z, S, S) float16
        self._square = square  # the part of the study's frame the maps cover (None: all of it)
        self.shape = (maps.shape[0], *study_shape_yx)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, z: int) -> np.ndarray:
        """Slice z (y, x) on the study grid, float16."""
        z = range(len(self))[operator.index(z)]  # negative indices count from the end; IndexError beyond
        return to_study_grid(self._maps[z:z + 1], self.shape[1:], self._square)[0].astype(np.float16)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        grid = np.empty(self.shape, np.float16)
        for z in range(len(self)):
            grid[z] = self[z]
        return grid if dtype is None else grid.astype(dtype)


@dataclass
class SegmentationResult:
    """The model's output for one Study, in the Study's own (z, y, x) grid."""

    probability: np.ndarray | StudyProbability  # (z, y, x) in [0, 1]: probability[z] is one slice
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
