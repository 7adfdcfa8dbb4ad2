"""The inference engine: loading by manifest with a checksum, warm-up, batched segmentation.

Used by the viewer's worker thread and by the headless commands. The runtime
(ONNX Runtime or TensorFlow, runtimes.py) is imported on first use, never at
import time.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ich_viewer.segmentation import runtimes
from ich_viewer.segmentation.field_of_view import Square
from ich_viewer.segmentation.model_file import (
    ModelFileError,
    NetworkManifest,
    Thresholds,
    default_model_path,
    onnx_network_path,
    read_manifest,
)
from ich_viewer.segmentation.postprocessing import Postprocessor, postprocess
from ich_viewer.segmentation.preprocessing import batch_input, study_square
from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.segmentation.warm_up import warm_up_study
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

    def warm_up(self, is_cancelled: Callable[[], bool] | None = None) -> None: ...

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


class SegmentationEngine:
    """Owns one network; call load() once (slow), then segment() per study.

    The network's manifest (beside its weights) says how to prepare its input and
    read its output, so any network with a manifest loads without a code change.
    """

    def __init__(self, model_path: Path | None = None, force_cpu: bool = False, batch_size: int = 8,
                 runtime: str = runtimes.AUTO):
        if runtime not in runtimes.CHOICES:
            raise ValueError(f"runtime {runtime!r}: one of {', '.join(runtimes.CHOICES)}")
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.force_cpu = force_cpu
        self.batch_size = batch_size
        self.runtime_choice = runtime
        self.device = ""
        self.runtime = ""  # once loaded: "ONNX Runtime 1.x", "TensorFlow 2.x" or "OpenVINO 2026.x (f32)"
        self.info: ModelInfo | None = None
        self.manifest: NetworkManifest | None = None
        self._network = None  # batch (n, S, S, channels) -> probabilities (n, S, S)

    def load(self) -> ModelInfo:
        if self._network is not None:
            return self.info
        manifest = read_manifest(self.model_path)
        network = self._open_network(manifest)
        if network.channels != manifest.input.channels:
            raise ModelFileError(f"{self.model_path}: the network takes {network.channels} channels, "
                                 f"its manifest describes {manifest.input.channels}")
        self._network, self.manifest = network, manifest
        self.device, self.runtime = network.device, network.runtime
        spec = manifest.input
        self.info = ModelInfo(manifest.name, manifest.version, manifest.sha256, manifest.thresholds.mask,
                              manifest.thresholds.detection, spec.describe(), self.model_path.stem)
        self._predict(np.zeros((1, spec.size, spec.size, spec.channels), np.float32))
        log.info("%s loaded on %s by %s", self.model_path.name, self.device, self.runtime)
        return self.info

    def warm_up(self, is_cancelled: Callable[[], bool] | None = None) -> None:
        """Load, then run the whole pipeline once on a synthetic head (warm_up.py), so that the first
        study is as fast as the next; it stops between batches when is_cancelled() says so."""
        self.load()
        with contextlib.suppress(SegmentationCancelled):
            self.segment(warm_up_study(), is_cancelled=is_cancelled, preview=lambda indices, masks: None)

    def _open_network(self, manifest: NetworkManifest):
        """The manifest's ONNX export when it lists one, in ONNX Runtime (or OpenVINO when asked for);
        TensorFlow for a network without an export, or when asked for."""
        choice = self.runtime_choice
        onnx = None if choice == runtimes.TENSORFLOW else onnx_network_path(self.model_path, manifest)
        if choice in (runtimes.ONNXRUNTIME, runtimes.OPENVINO) and onnx is None:
            raise ModelFileError(f"{self.model_path}: its manifest lists no ONNX export")
        if onnx is None:
            return runtimes.KerasNetwork(self.model_path, manifest.input.size, self.force_cpu)
        if choice == runtimes.OPENVINO:
            return runtimes.OpenVinoNetwork(onnx)
        if choice == runtimes.ONNXRUNTIME or runtimes.installed("onnxruntime"):
            return runtimes.OnnxNetwork(onnx, self.force_cpu)
        return runtimes.KerasNetwork(self.model_path, manifest.input.size, self.force_cpu)

    def segment(self, study: Study, progress: Callable[[int, int], None] | None = None,
                is_cancelled: Callable[[], bool] | None = None, with_bone: bool = True,
                focus: Callable[[], int] | None = None, preview: PreviewCallback | None = None) -> SegmentationResult:
        """Segment every slice; progress(done, total) after each batch; cancellation between batches.

        with_bone=False withholds the study's bone window (evaluation of studies without one).
        focus() names the slice the reader is looking at: each batch takes the slices nearest to it
        that are not done yet, so the slice on screen is among the first (asked again every batch,
        so scrolling away moves the work with the reader). preview(indices, masks) receives each
        batch's preliminary mask on the study grid (skull rule and mask threshold; lesions smaller
        than the smallest lesion are only dropped once every slice is done). With a preview, the
        first batch is the slice on screen alone: its outline appears after one slice's inference.
        """
        self.load()
        square = study_square(study, self.manifest.input)
        steps = Postprocessor(study.n_slices, self.manifest.input.size, study.voxels.shape[1:],
                              self.manifest.thresholds, square)
        for indices, probability, brain, bone in self._batches(study, square, with_bone, progress,
                                                               is_cancelled, focus, first=1 if preview else None):
            preliminary = steps.add(indices, probability, brain, bone)
            if preview:
                preview(indices, preliminary)
        return self._result(*steps.finish())

    def network_output(self, study: Study, progress: Callable[[int, int], None] | None = None,
                       is_cancelled: Callable[[], bool] | None = None, with_bone: bool = True,
                       focus: Callable[[], int] | None = None) -> NetworkOutput:
        """The network's raw probabilities at its own resolution, with the views it saw, for the whole
        study (for evaluation, which tries other thresholds on them; segment() keeps neither)."""
        self.load()
        spec = self.manifest.input
        square = study_square(study, spec)
        shape = (study.n_slices, spec.size, spec.size)
        probability, brain = np.empty(shape, np.float32), np.empty(shape, np.float32)
        bone = None if spec.bone_window is None else np.empty(shape, np.float32)
        for indices, batch_probability, batch_brain, batch_bone in self._batches(study, square, with_bone, progress,
                                                                                 is_cancelled, focus):
            probability[indices], brain[indices] = batch_probability, batch_brain
            if bone is not None:
                bone[indices] = batch_bone
        return NetworkOutput(probability, brain, bone, square)

    def _batches(self, study: Study, square: Square | None, with_bone: bool,
                 progress: Callable[[int, int], None] | None, is_cancelled: Callable[[], bool] | None,
                 focus: Callable[[], int] | None, first: int | None = None):
        """(slice indices, network probabilities, brain, bone) of each batch, nearest focus() first;
        the first batch of `first` slices when given.

        Each batch's views are made for it alone (batch_input), never for the whole study.
        Cancellation is checked before each batch; progress is told once the caller has taken one.
        """
        spec, n = self.manifest.input, study.n_slices
        remaining = list(range(n))
        while remaining:
            if is_cancelled and is_cancelled():
                raise SegmentationCancelled()
            size = first if first and len(remaining) == n else self.batch_size
            indices = nearest_slices(remaining, focus() if focus else 0, size)
            batch, brain, bone = batch_input(study, spec, indices, with_bone, square)
            yield indices, self._predict(batch), brain, bone
            taken = set(indices)
            remaining = [z for z in remaining if z not in taken]
            if progress:
                progress(n - len(remaining), n)

    def interpret(self, output: NetworkOutput, study_shape_yx: tuple[int, int],
                  thresholds: Thresholds | None = None) -> SegmentationResult:
        """The mask, slice scores and decision from the network's output (the manifest's thresholds)."""
        thresholds = thresholds or self.manifest.thresholds
        return self._result(*postprocess(output.probability, output.brain, output.bone, study_shape_yx,
                                         thresholds, output.square))

    def _result(self, probability, mask: np.ndarray, scores: np.ndarray) -> SegmentationResult:
        return SegmentationResult(probability, mask, scores, self.info, self.device)

    def _predict(self, batch: np.ndarray) -> np.ndarray:
        try:
            return self._network(batch)
        except Exception as error:
            if self.device == "CPU":
                raise
            log.warning("GPU inference failed (%s); falling back to the CPU", error)
            self.device = "CPU (GPU failed)"
            self._network = self._network.on_cpu()
            return self._network(batch)
