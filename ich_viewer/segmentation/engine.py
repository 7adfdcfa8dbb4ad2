"""The inference engine: device choice, loading by manifest with a checksum, warm-up, batched segmentation.

Used by the viewer's worker thread and by the headless commands. TensorFlow
is imported on first use, never at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ich_viewer.segmentation.field_of_view import Square
from ich_viewer.segmentation.model_file import (
    ModelFileError,
    NetworkManifest,
    Thresholds,
    default_model_path,
    read_manifest,
)
from ich_viewer.segmentation.postprocessing import clean, on_study_grid, skull_rule
from ich_viewer.segmentation.preprocessing import network_batch, study_square, study_views, to_study_grid
from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.study.model import Study

log = logging.getLogger(__name__)

class SegmentationCancelled(Exception):
    pass


# preview(slice indices, their preliminary masks (k, y, x) bool on the study grid)
PreviewCallback = Callable[[list[int], np.ndarray], None]


class Segmenter(Protocol):
    """What the viewer's worker and the headless commands need of an engine: SegmentationEngine,
    or the tests' fake one (tests/factories/fakes.py)."""

    device: str  # where it runs: "CPU", "GPU", "CPU (GPU failed)"
    info: ModelInfo | None

    def load(self) -> ModelInfo: ...

    def segment(self, study: Study, progress: Callable[[int, int], None] | None = None,
                is_cancelled: Callable[[], bool] | None = None, focus: Callable[[], int] | None = None,
                preview: PreviewCallback | None = None) -> SegmentationResult: ...


def nearest_slices(remaining: list[int], focus: int, count: int) -> list[int]:
    """The count slices of remaining (sorted) nearest to focus, in slice order; ties go to the lower slice.

    With focus 0 this is the first count slices, the order a study was always segmented in.
    """
    chosen = sorted(remaining, key=lambda z: (abs(z - focus), z))[:count]
    return sorted(chosen)


@dataclass
class NetworkOutput:
    """What the network saw and said, at its own resolution (z, S, S)."""

    probability: np.ndarray
    brain: np.ndarray
    bone: np.ndarray | None
    square: Square | None = None  # the part of the study's frame they cover (None: all of it)


def configure_device(force_cpu: bool = False) -> str:
    """Pick the device before TensorFlow runs its first op: the GPU when there is one."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if force_cpu or not gpus:
        if gpus:
            tf.config.set_visible_devices([], "GPU")
        return "CPU"
    try:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError as error:  # already initialised: keep what is configured
        log.warning("could not set GPU memory growth: %s", error)
    return "GPU:0"


def compiled(model, size: int):
    """The network as one TensorFlow graph for size x size input, any batch size.

    In a graph, TensorFlow fuses each convolution with its batch normalisation
    and ReLU, which is faster on a CPU (measured by benchmarks/bench_inference.py:
    ich_unet25d_compiled_speedup). The size is fixed because the graph needs it
    (bilinear upsampling cannot be traced for an unknown size); the batch is left
    free, so a study's shorter last batch does not trace a second graph.
    """
    import tensorflow as tf

    spec = tf.TensorSpec((None, size, size, model.input_shape[-1]), tf.float32)
    return tf.function(lambda batch: model(batch, training=False), input_signature=[spec], autograph=False)


class SegmentationEngine:
    """Owns one network; call load() once (slow), then segment() per study.

    The network's manifest (beside its weights) says how to prepare its input and
    read its output, so any network with a manifest loads without a code change.
    """

    def __init__(self, model_path: Path | None = None, force_cpu: bool = False, batch_size: int = 8):
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.force_cpu = force_cpu
        self.batch_size = batch_size
        self.device = ""
        self.info: ModelInfo | None = None
        self.manifest: NetworkManifest | None = None
        self._model = None

    def load(self) -> ModelInfo:
        if self._model is not None:
            return self.info
        manifest = read_manifest(self.model_path)
        self.device = configure_device(self.force_cpu)
        import keras

        self._model = keras.models.load_model(self.model_path, compile=False)
        if self._model.input_shape[-1] != manifest.input.channels:
            raise ModelFileError(f"{self.model_path}: the network takes {self._model.input_shape[-1]} channels, "
                                 f"its manifest describes {manifest.input.channels}")
        spec = manifest.input
        self._forward = compiled(self._model, spec.size)
        self.manifest = manifest
        self.info = ModelInfo(manifest.name, manifest.version, manifest.sha256, manifest.thresholds.mask,
                              manifest.thresholds.detection, spec.describe(), self.model_path.stem)
        self._predict(np.zeros((1, spec.size, spec.size, spec.channels), np.float32))
        return self.info

    def segment(self, study: Study, progress: Callable[[int, int], None] | None = None,
                is_cancelled: Callable[[], bool] | None = None, with_bone: bool = True,
                focus: Callable[[], int] | None = None, preview: PreviewCallback | None = None) -> SegmentationResult:
        """Segment every slice; progress(done, total) after each batch; cancellation between batches.

        with_bone=False withholds the study's bone window (evaluation of studies without one).
        focus() names the slice the reader is looking at: each batch takes the slices nearest to it
        that are not done yet, so the slice on screen is among the first (asked again every batch,
        so scrolling away moves the work with the reader). preview(indices, masks) receives each
        batch's preliminary mask on the study grid (skull rule and mask threshold; lesions smaller
        than the smallest lesion are only dropped once every slice is done).
        """
        output = self.network_output(study, progress, is_cancelled, with_bone, focus, preview)
        cleaned, square = clean(output.probability, output.brain, output.bone, self.manifest.thresholds), output.square
        del output  # the network's views are not needed on the study's grid: a long series' peak drops
        return self._on_study_grid(cleaned, square, study.voxels.shape[1:], self.manifest.thresholds)

    def network_output(self, study: Study, progress: Callable[[int, int], None] | None = None,
                       is_cancelled: Callable[[], bool] | None = None, with_bone: bool = True,
                       focus: Callable[[], int] | None = None,
                       preview: PreviewCallback | None = None) -> NetworkOutput:
        """The network's raw probabilities at its own resolution, with the views it saw."""
        self.load()
        spec = self.manifest.input
        square = study_square(study, spec)
        brain, bone = study_views(study, spec, with_bone, square)
        n = study.n_slices
        probability = np.empty((n, spec.size, spec.size), np.float32)
        remaining = list(range(n))
        while remaining:
            if is_cancelled and is_cancelled():
                raise SegmentationCancelled()
            indices = nearest_slices(remaining, focus() if focus else 0, self.batch_size)
            batch = network_batch(brain, bone, indices, spec.context_slices)
            probability[indices] = self._predict(batch)
            taken = set(indices)
            remaining = [z for z in remaining if z not in taken]
            if preview:
                preview(indices, self._preview(probability[indices], brain[indices],
                                               None if bone is None else bone[indices], study, square))
            if progress:
                progress(n - len(remaining), n)
        return NetworkOutput(probability, brain, bone, square)

    def _preview(self, probability, brain, bone, study: Study, square: Square | None) -> np.ndarray:
        """Some slices' preliminary mask on the study grid (no 3-D lesion rule: the volume is not done)."""
        thresholds = self.manifest.thresholds
        inside = skull_rule(probability, brain, bone, thresholds)
        return to_study_grid(inside, study.voxels.shape[1:], square) >= thresholds.mask

    def interpret(self, output: NetworkOutput, study_shape_yx: tuple[int, int],
                  thresholds: Thresholds | None = None) -> SegmentationResult:
        """The mask, slice scores and decision from the network's output (the manifest's thresholds)."""
        thresholds = thresholds or self.manifest.thresholds
        cleaned = clean(output.probability, output.brain, output.bone, thresholds)
        return self._on_study_grid(cleaned, output.square, study_shape_yx, thresholds)

    def _on_study_grid(self, cleaned: np.ndarray, square: Square | None, study_shape_yx: tuple[int, int],
                       thresholds: Thresholds) -> SegmentationResult:
        prob, mask, scores = on_study_grid(cleaned, study_shape_yx, thresholds, square)
        return SegmentationResult(prob, mask, scores, self.info, self.device)

    def _predict(self, batch: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(self._forward(batch))[..., 0]
        except Exception as error:
            if self.device == "CPU":
                raise
            log.warning("GPU inference failed (%s); falling back to the CPU", error)
            import tensorflow as tf

            self.device = "CPU (GPU failed)"
            with tf.device("/CPU:0"):
                return np.asarray(self._model(batch, training=False))[..., 0]
