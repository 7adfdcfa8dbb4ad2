"""What runs the network's forward pass: its ONNX export when the manifest lists one, else TensorFlow.

Each takes a float32 batch (n, S, S, channels) and gives the probabilities (n, S, S).
ONNX Runtime runs the export by default: it imports and opens a network in 0.1-0.3 s,
where TensorFlow's import alone takes 2.5 s (5 s on a busy machine); on the whole
cross-validation its forward pass takes 0.95x TensorFlow's time and not one mask pixel
differs (benchmarks/bench_runtime_agreement.py --runtimes onnx,ov,ovbf16, 1 thread).
OpenVINO (runtime "openvino", the optional extra of that name) takes 0.82x at float32,
also with no pixel changed, and 0.28x at bfloat16 (AMX), which moves two patients' Dice
by more than 0.005 (issue 16's rule). It is not the default: `import openvino` starts its
telemetry sender (a thread pool) and writes a client-id folder under ~/intel, in an offline
product, and its CPU plugin, core and ONNX reader alone are 88 MB (du), for 1.16x over
ONNX Runtime.
int8 (ONNX Runtime, onnxruntime.quantization: int8 weights, uint8 activations calibrated on the
fold's training slices) takes 0.32x TensorFlow's time but moves five patients' Dice by more than
0.005 (up to 0.011) and 29 lesion counts; with every full-size convolution left float32, 0.61x
and still three patients (up to 0.010). Neither is used; no decision changed in either.
TensorFlow stays for networks without an export (a run just trained) and is what
training uses. ONNX Runtime (onnxruntime-gpu's CUDA provider) or TensorFlow use the GPU
when there is one and can fall back to the CPU.

Nothing here is imported at start-up: each runtime is imported on first use.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

AUTO, TENSORFLOW, ONNXRUNTIME, OPENVINO = "auto", "tensorflow", "onnxruntime", "openvino"
CHOICES = (AUTO, TENSORFLOW, ONNXRUNTIME, OPENVINO)
CUDA = "CUDAExecutionProvider"


def installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def thread_count() -> int | None:
    """OMP_NUM_THREADS when set (tests, benchmarks and training jobs share the cores), else the runtime's own."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class OnnxNetwork:
    """The network's ONNX export in an ONNX Runtime session."""

    def __init__(self, path: Path, force_cpu: bool = False) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: its warnings are about graph fusions, not the reader's study
        threads = thread_count()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if not force_cpu and CUDA in ort.get_available_providers():
            providers.insert(0, CUDA)
        self.path, self._options = path, options
        self._session = ort.InferenceSession(str(path), options, providers=providers)
        self.device = "GPU:0" if self._session.get_providers()[0] == CUDA else "CPU"
        given = self._session.get_inputs()[0]
        self._input, self.channels = given.name, given.shape[-1]
        self.runtime = f"ONNX Runtime {ort.__version__}"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: batch})[0][..., 0]

    def on_cpu(self) -> OnnxNetwork:
        return OnnxNetwork(self.path, force_cpu=True)


class OpenVinoNetwork:
    """The network's ONNX export compiled by OpenVINO for the CPU.

    precision: "f32", or "bf16" (what OpenVINO picks by itself on a CPU with AMX or AVX512-BF16).
    """

    device = "CPU"

    def __init__(self, path: Path, precision: str = "f32") -> None:
        import openvino as ov

        config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
        threads = thread_count()
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.path = path
        core = ov.Core()
        model = core.read_model(str(path))
        self.channels = int(model.inputs[0].get_partial_shape()[-1].get_length())
        self._compiled = core.compile_model(model, "CPU", config)
        self.runtime = f"OpenVINO {ov.__version__.split('-')[0]} ({precision})"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._compiled(batch)[0][..., 0]

    def on_cpu(self) -> OpenVinoNetwork:
        return self


class KerasNetwork:
    """The Keras network as one TensorFlow graph (compiled, below), on the device configure_device picked."""

    def __init__(self, path: Path, size: int, force_cpu: bool = False) -> None:
        self.device = configure_device(force_cpu)
        import keras
        import tensorflow as tf

        self._model = keras.models.load_model(path, compile=False)
        self._forward = compiled(self._model, size)
        self.channels = self._model.input_shape[-1]
        self.runtime = f"TensorFlow {tf.__version__}"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._forward(batch))[..., 0]

    def on_cpu(self) -> KerasOnCpu:
        return KerasOnCpu(self._model)


class KerasOnCpu:
    """A Keras network whose GPU failed: each batch placed on the CPU."""

    device = "CPU"

    def __init__(self, model) -> None:
        self._model = model

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        with tf.device("/CPU:0"):
            return np.asarray(self._model(batch, training=False))[..., 0]

    def on_cpu(self) -> KerasOnCpu:
        return self


def configure_device(force_cpu: bool = False) -> str:
    """Pick TensorFlow's device before it runs its first op: the GPU when there is one."""
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
