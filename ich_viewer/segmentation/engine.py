"""The inference engine: device choice, loading with a checksum, warm-up, batched segmentation.

Used by the viewer's worker thread and by the headless commands. TensorFlow
is imported on first use, never at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ich_viewer.segmentation.model_file import verified_sha256
from ich_viewer.segmentation.postprocessing import DETECTION_THRESHOLD, MASK_THRESHOLD, postprocess
from ich_viewer.segmentation.preprocessing import (
    CONTEXT_SLICES,
    NETWORK_SIZE,
    network_view,
    stack_neighbours,
)
from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.study.model import Study

log = logging.getLogger(__name__)

MODEL_NAME = "ich_unet25d"
MODEL_VERSION = "1.0"
PREPROCESSING = (f"brain window L40/W120 HU (8-bit images used as is) scaled to 0-1, "
                 f"resized to {NETWORK_SIZE}x{NETWORK_SIZE}, slice plus {CONTEXT_SLICES} neighbour "
                 f"each side as channels")


class SegmentationCancelled(Exception):
    pass


def default_model_path() -> Path:
    from ich_viewer.training.pipeline import shipped_network_path  # noqa: PLC0415

    return shipped_network_path("final")


def configure_device(force_cpu: bool = False) -> str:
    """Pick the device before TensorFlow runs its first op: the GPU when there is one."""
    import tensorflow as tf  # noqa: PLC0415

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
    import tensorflow as tf  # noqa: PLC0415

    spec = tf.TensorSpec((None, size, size, model.input_shape[-1]), tf.float32)
    return tf.function(lambda batch: model(batch, training=False), input_signature=[spec], autograph=False)


class SegmentationEngine:
    """Owns one network; call load() once (slow), then segment() per study."""

    def __init__(self, model_path: Path | None = None, force_cpu: bool = False, batch_size: int = 8):
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.force_cpu = force_cpu
        self.batch_size = batch_size
        self.device = ""
        self.info: ModelInfo | None = None
        self._model = None

    def load(self) -> ModelInfo:
        if self._model is not None:
            return self.info
        sha256 = verified_sha256(self.model_path)
        self.device = configure_device(self.force_cpu)
        import keras  # noqa: PLC0415

        self._model = keras.models.load_model(self.model_path, compile=False)
        self._forward = compiled(self._model, NETWORK_SIZE)
        self.info = ModelInfo(MODEL_NAME, MODEL_VERSION, sha256, MASK_THRESHOLD, DETECTION_THRESHOLD,
                              PREPROCESSING)
        self._predict(np.zeros((1, NETWORK_SIZE, NETWORK_SIZE, 2 * CONTEXT_SLICES + 1), np.float32))
        return self.info

    def segment(self, study: Study, progress: Callable[[int, int], None] | None = None,
                is_cancelled: Callable[[], bool] | None = None) -> SegmentationResult:
        """Segment every slice; progress(done, total) after each batch; cancellation between batches."""
        self.load()
        view = network_view(study.voxels, study.units)
        n = study.n_slices
        probability = np.empty((n, NETWORK_SIZE, NETWORK_SIZE), np.float32)
        for start in range(0, n, self.batch_size):
            if is_cancelled and is_cancelled():
                raise SegmentationCancelled()
            indices = range(start, min(start + self.batch_size, n))
            probability[indices.start:indices.stop] = self._predict(stack_neighbours(view, indices))
            if progress:
                progress(indices.stop, n)
        prob, mask, scores = postprocess(probability, study.voxels.shape[1:])
        return SegmentationResult(prob, mask, scores, self.info, self.device)

    def _predict(self, batch: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(self._forward(batch))[..., 0]
        except Exception as error:  # noqa: BLE001  a GPU failure must not end the review
            if self.device == "CPU":
                raise
            log.warning("GPU inference failed (%s); falling back to the CPU", error)
            import tensorflow as tf  # noqa: PLC0415

            self.device = "CPU (GPU failed)"
            with tf.device("/CPU:0"):
                return np.asarray(self._model(batch, training=False))[..., 0]
