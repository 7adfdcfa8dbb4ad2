"""Does another CPU runtime change the cross-validation? The fold networks under ONNX Runtime
(float32 and int8), OpenVINO (f32 and bf16), LiteRT int8 and TF bf16, against TensorFlow (issue 16).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_runtime_agreement.py [--folds 0,1,2,3,4]
        [--runtimes tf,onnx,bf16,int8,ov,ovbf16,ortint8]

Issue 16 keeps the fastest CPU runtime only if it changes the cross-validation per-patient
Dice by no more than 0.005 and changes no patient-level decision. benchmarks/bench_runtimes.py
timed the runtimes on 30 slices of the final network; this measures what they do to the
cross-validation itself, each patient scored as `ich-viewer evaluate` scores it.

For each fold k of models/cv_folds.json, with the fold network models/ich_unet25d_fold{k}.keras
(its manifest beside it) and the CT-ICH data ($ICH_DATA/ct-ich, default ../shared/data):

- LiteRT int8: the fold network converted by TFLiteConverter to a full-integer model (every op
  int8, float32 input and output; benchmarks/litert_runtime.py), calibrated on
  slices of that fold's TRAINING patients only, made by the engine's own preprocessing
  (study_of, study_square, study_views, network_batch): every training patient gives the slice
  (j + 0.5) / 82 of the way through its scan, j its place in patient order (so the heights step
  from skull base to vertex across the patients), and each training patient with hemorrhage also
  its middle slice marked in hemorrhage_diagnosis.csv; 91-94 slices a fold;
- ONNX Runtime int8: the fold network's ONNX export quantized by onnxruntime.quantization
  (quantize_int8, below: int8 weights per channel, uint8 activations, QDQ,
  min-max ranges from the same calibration slices as LiteRT's; only the output convolution
  stays float32, or, with --int8-float-full-size, every convolution at the input's size);
- TF bf16 grappler: the same engine with grappler's auto_mixed_precision_onednn_bfloat16
  rewrite of its graph (set before the first function is traced; it applies to the process);
- ONNX Runtime: the engine running the fold network's ONNX export (its manifest lists it);
- OpenVINO f32 / bf16: the same export compiled by OpenVINO for the CPU, at float32 or with
  bfloat16 inference (AMX / AVX512-BF16; what OpenVINO picks by itself on such a CPU);
- TensorFlow as the engine runs a network without an export (the reference, "TF").

Every held-out patient of the fold goes through the engine's whole pipeline, as the evaluation
runs it: ich_viewer.training.evaluate.scan_patient (the engine's network_output: preprocessing,
batches of 8) and outcome_of (the engine's interpret: the manifest's thresholds, skull rule,
minimum lesion size, the study-level decision; Dice against the radiologists' mask). Only the
forward pass differs: the engine keeps its network as self._network (batch -> (n, S, S)), which
_predict calls; MeasuredEngine (a subclass, defined here) loads as the engine does in the runtime
asked for and then puts a timed wrapper around it, and for LiteRT, LiteRTEngine sets
self._network to a LiteRT interpreter instead of loading Keras at all. engine.py is unchanged.
Lesions are counted as the findings list them (analysis.lesions.find_lesions on the final mask).

Each runtime lives in its own process (the grappler option is process-wide; LiteRT's process
imports no TensorFlow), all with one thread (OMP, TensorFlow, LiteRT, OpenCV), and only one of
them works at a time. Patient by patient, each runtime segments the patient in turn, the order
rotating, so slow phases of the shared machine hit all of them alike. Timed: the forward pass
(the calls of self._network, after the engine's warm-up) and the whole pipeline per patient;
ms per slice is the median over the patients, "x TF" the median of the per-patient ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# One thread everywhere, before numpy or a runtime starts its pools (the spawned workers inherit it).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402 - after the thread settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ich_viewer.segmentation import runtimes  # noqa: E402 - after the thread settings
from ich_viewer.segmentation.engine import SegmentationEngine  # noqa: E402

TF = "TensorFlow"
ORT = "ONNX Runtime (engine)"
BF16 = "TF bf16 grappler"
INT8 = "LiteRT int8"
OV_F32 = "OpenVINO f32"
OV_BF16 = "OpenVINO bf16"
ORT_INT8 = "ONNX Runtime int8"
OPENVINO_PRECISION = {OV_F32: "f32", OV_BF16: "bf16"}
RUNTIMES = (TF, ORT, BF16, INT8, OV_F32, OV_BF16, ORT_INT8)
SHORT_NAMES = {"tf": TF, "onnx": ORT, "bf16": BF16, "int8": INT8, "ov": OV_F32, "ovbf16": OV_BF16,
               "ortint8": ORT_INT8}
DICE_TOLERANCE = 0.005  # issue 16


# --- the engine with its forward pass substituted (runs in each runtime's process) ---

def _timed(forward, engine: MeasuredEngine):
    """forward, adding the time of each call (its output made a numpy array) to engine.forward_seconds."""
    def call(batch):
        start = time.perf_counter()
        out = np.asarray(forward(batch))
        engine.forward_seconds += time.perf_counter() - start
        return out

    return call


class MeasuredEngine(SegmentationEngine):
    """The engine as shipped (CPU, as evaluate.fold_engines makes it); its forward pass timed,
    its last interpretation kept (for the lesion count and the mask)."""

    def __init__(self, model_path: Path, runtime: str = runtimes.TENSORFLOW):
        super().__init__(model_path, force_cpu=True, runtime=runtime)
        self.forward_seconds = 0.0
        self.last_result = None

    def load(self):
        fresh = self.info is None
        info = super().load()  # manifest and sha256, the network in its runtime, the warm-up
        if fresh:
            self._network = _timed(self._network, self)
        return info

    def interpret(self, output, study_shape_yx, thresholds=None):
        self.last_result = super().interpret(output, study_shape_yx, thresholds)
        return self.last_result


class OpenVinoEngine(MeasuredEngine):
    """The engine with OpenVINO running the fold network's ONNX export, at the precision asked for."""

    def __init__(self, model_path: Path, precision: str):
        super().__init__(model_path, runtimes.OPENVINO)
        self.precision = precision

    def _open_network(self, manifest):
        from ich_viewer.segmentation.model_file import onnx_network_path

        return runtimes.OpenVinoNetwork(onnx_network_path(self.model_path, manifest), self.precision)


class OnnxFileEngine(MeasuredEngine):
    """The engine with ONNX Runtime running another ONNX file of the fold network (its int8 form)."""

    def __init__(self, model_path: Path, onnx_path: Path):
        super().__init__(model_path, runtimes.ONNXRUNTIME)
        self.onnx_path = onnx_path

    def _open_network(self, manifest):
        return runtimes.OnnxNetwork(self.onnx_path, force_cpu=True)


class LiteRTEngine(MeasuredEngine):
    """The same engine with a LiteRT interpreter as its forward pass; no TensorFlow is loaded."""

    def __init__(self, model_path: Path, tflite_path: Path):
        super().__init__(model_path)
        self.tflite_path = tflite_path

    def load(self):
        if self.info is not None:
            return self.info
        from litert_runtime import LiteRTForward

        from ich_viewer.segmentation.model_file import read_manifest
        from ich_viewer.segmentation.result import ModelInfo

        # What SegmentationEngine.load does, with the interpreter in place of Keras and its graph.
        manifest = read_manifest(self.model_path)  # also checks the Keras weights' sha256
        self.device = "CPU"
        interpreter = LiteRTForward(self.tflite_path, num_threads=1)
        self._network = lambda batch: interpreter(batch)[..., 0]
        self.manifest = manifest
        spec = manifest.input
        self.info = ModelInfo(manifest.name, manifest.version, manifest.sha256, manifest.thresholds.mask,
                              manifest.thresholds.detection, spec.describe(), self.model_path.stem)
        self._predict(np.zeros((1, spec.size, spec.size, spec.channels), np.float32))  # the warm-up
        self._network = _timed(self._network, self)
        return self.info


def _start_runtime(name: str) -> None:
    """Process-wide settings, before the first op."""
    import cv2

    cv2.setNumThreads(1)  # the skull rule and the resampling
    if name in (INT8, ORT, ORT_INT8, *OPENVINO_PRECISION):
        return
    import tensorflow as tf

    from ich_viewer.training.train import configure_tensorflow

    configure_tensorflow(1)
    if name == BF16:
        # Read when a function is first optimised; it applies to every graph of the process.
        tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": True})


def serve(name: str, data: str, connection) -> None:
    """A runtime's process: ("fold", k, {kind: converted file}) loads a fold network, ("patient", number)
    scores one."""
    from ich_viewer.analysis.lesions import find_lesions
    from ich_viewer.segmentation.model_file import shipped_network_path
    from ich_viewer.training.ct_ich import read_patients
    from ich_viewer.training.evaluate import outcome_of, scan_patient

    patients = {p.patient: p for p in read_patients(Path(data))}
    engine, fold, started = None, None, False
    while True:
        message = connection.recv()
        try:
            if message[0] == "stop":
                return
            if not started:
                _start_runtime(name)
                started = True
            if message[0] == "fold":
                fold, converted = message[1], message[2]
                path = shipped_network_path(f"fold{fold}")
                if name == INT8:
                    engine = LiteRTEngine(path, Path(converted[INT8]))
                elif name == ORT_INT8:
                    engine = OnnxFileEngine(path, Path(converted[ORT_INT8]))
                elif name in OPENVINO_PRECISION:
                    engine = OpenVinoEngine(path, OPENVINO_PRECISION[name])
                else:
                    engine = MeasuredEngine(path, runtimes.ONNXRUNTIME if name == ORT else runtimes.TENSORFLOW)
                start = time.perf_counter()
                engine.load()
                connection.send(time.perf_counter() - start)
                continue
            engine.forward_seconds = 0.0
            start = time.perf_counter()
            scan = scan_patient(engine, patients[message[1]], fold)
            outcome = outcome_of(scan, engine)
            seconds = time.perf_counter() - start
            result = engine.last_result
            connection.send({
                "outcome": outcome,
                "lesions": len(find_lesions(result.mask)),
                "slices": scan.study.n_slices,
                "forward_s": engine.forward_seconds,
                "pipeline_s": seconds,
                "probability": scan.output.probability,
                "mask": np.packbits(result.mask),
            })
        except Exception as error:  # noqa: BLE001 - a runtime that fails is reported, not fatal
            connection.send(f"{type(error).__name__}: {error}")


# --- the int8 conversion (in the main process) ---

class Calibration:
    """Calibration slices per patient, made once by the engine's own preprocessing."""

    def __init__(self, patients, spec):
        self.patients, self.spec, self._slices = patients, spec, {}

    def of(self, patient) -> np.ndarray:
        if patient.patient not in self._slices:
            from ich_viewer.segmentation.preprocessing import network_batch, study_square, study_views
            from ich_viewer.training.evaluate import study_of

            study = study_of(patient)
            brain, bone = study_views(study, self.spec, True, study_square(study, self.spec))
            n, j = len(brain), self.patients.index(patient)
            picks = {min(n - 1, int((j + 0.5) / len(self.patients) * n))}
            marked = [z for z, label in enumerate(patient.labels) if label.subtypes]
            if marked:
                picks.add(marked[len(marked) // 2])
            self._slices[patient.patient] = network_batch(brain, bone, sorted(picks), self.spec.context_slices)
        return self._slices[patient.patient]


def quantize_int8(export: Path, target: Path, calibration: np.ndarray, float_at_full_size: bool = False) -> Path:
    """The ONNX export with int8 weights (per channel) and uint8 activations, as QDQ pairs that ONNX
    Runtime fuses into integer kernels (AVX512-VNNI here); activation ranges from the calibration
    batches (n, S, S, channels; min-max). With float_at_full_size the convolutions at the input's
    size stay float32 (the first and last level: where the outline's edge is drawn); else only
    the output convolution does."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = target.with_suffix(".prepared.onnx")
    quant_pre_process(str(export), str(prepared), skip_symbolic_shape=True)
    model = onnx.load(str(prepared))
    graph, size = model.graph, calibration.shape[1]
    convolutions = [node for node in graph.node if node.op_type == "Conv"]
    kept_float = {convolutions[-1].name}  # the output convolution, always
    if float_at_full_size:
        heights = {info.name: info.type.tensor_type.shape.dim[2].dim_value for info in graph.value_info
                   if len(info.type.tensor_type.shape.dim) == 4}
        kept_float |= {node.name for node in convolutions if heights.get(node.output[0]) == size}

    class Slices(CalibrationDataReader):
        def __init__(self):
            self._next = iter(calibration[k:k + 1] for k in range(len(calibration)))

        def get_next(self):
            batch = next(self._next, None)
            return None if batch is None else {graph.input[0].name: batch.astype(np.float32)}

    quantize_static(str(prepared), str(target), Slices(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=sorted(kept_float))
    prepared.unlink()
    return target


def quantize_fold(fold: int, training, calibration: Calibration, folder: Path,
                  float_at_full_size: bool = False) -> tuple[Path, str]:
    """The fold network's ONNX export quantized for ONNX Runtime (int8, QDQ), calibrated on its training
    patients; (file, a line saying how)."""
    from ich_viewer.segmentation.model_file import onnx_network_path, read_manifest, shipped_network_path

    path = shipped_network_path(f"fold{fold}")
    slices = np.concatenate([calibration.of(p) for p in training])
    start = time.perf_counter()
    target = quantize_int8(onnx_network_path(path, read_manifest(path)), folder / f"fold{fold}_int8.onnx", slices,
                           float_at_full_size)
    line = (f"ONNX Runtime int8: {len(slices)} calibration slices, {time.perf_counter() - start:.0f} s, "
            f"{target.stat().st_size / 2**20:.1f} MB")
    return target, line


def convert_fold(fold: int, training, calibration: Calibration, folder: Path) -> tuple[Path, str]:
    """The fold network as LiteRT int8, calibrated on its training patients; (file, a line saying how)."""
    import keras
    from litert_runtime import convert_int8

    from ich_viewer.segmentation.model_file import read_manifest, shipped_network_path

    path = shipped_network_path(f"fold{fold}")
    spec = read_manifest(path).input  # also checks the weights' sha256
    slices = np.concatenate([calibration.of(p) for p in training])
    start = time.perf_counter()
    model = keras.models.load_model(path, compile=False)
    target = folder / f"fold{fold}_int8.tflite"
    target.write_bytes(convert_int8(model, spec.size, [slices]))
    del model
    keras.backend.clear_session()
    line = (f"int8 calibration: {len(slices)} slices of {len(training)} training patients; "
            f"conversion {time.perf_counter() - start:.0f} s, {target.stat().st_size / 2**20:.1f} MB")
    return target, line


# --- the figures ---

def against_tf(rows: dict, patient: int) -> None:
    """Reduce one patient's mask and probabilities to their differences from TF's (kept: the counts)."""
    ref = rows[TF][patient]
    for name in RUNTIMES:
        own = rows[name].get(patient)
        if own is None:
            continue
        own["mask_px"] = int(np.unpackbits(own["mask"]).sum())
        own["mask_differ"] = int(np.unpackbits(own["mask"] ^ ref["mask"]).sum())
        own["probability_delta"] = float(np.abs(own["probability"] - ref["probability"]).max())
    for name in RUNTIMES:
        if patient in rows[name]:
            del rows[name][patient]["mask"], rows[name][patient]["probability"]


def _median(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def compare(name: str, rows: dict, patients: list[int]) -> dict:
    """The runtime's outcomes against TF's, over these patients."""
    ref = {p: rows[TF][p] for p in patients}
    own = {p: rows[name][p] for p in patients}
    positive = [p for p in patients if ref[p]["outcome"].has_hemorrhage]
    delta = {p: own[p]["outcome"].dice_3d - ref[p]["outcome"].dice_3d for p in positive}
    worst = max(positive, key=lambda p: abs(delta[p])) if positive else None
    differ = sum(own[p]["mask_differ"] for p in patients)
    tf_mask = sum(ref[p]["mask_px"] for p in patients)

    def ms(p, key):
        return 1000 * own[p][key] / own[p]["slices"]

    return {
        "dice_mean": statistics.fmean(own[p]["outcome"].dice_3d for p in positive) if positive else math.nan,
        "max_abs_delta": abs(delta[worst]) if positive else math.nan,
        "worst": worst,
        "mean_delta": statistics.fmean(delta.values()) if positive else math.nan,
        "worst_three": sorted(positive, key=lambda p: -abs(delta[p]))[:3],
        "delta": delta,
        "beyond": [p for p in positive if abs(delta[p]) > DICE_TOLERANCE],
        "decisions": [p for p in patients if own[p]["outcome"].called != ref[p]["outcome"].called],
        "lesion_counts": [p for p in patients if own[p]["lesions"] != ref[p]["lesions"]],
        "max_score_delta": max(abs(float(own[p]["outcome"].slice_scores.max())
                                   - float(ref[p]["outcome"].slice_scores.max())) for p in patients),
        "mask_px_differ": differ / max(tf_mask, 1),
        "max_prob_delta": max(own[p]["probability_delta"] for p in patients),
        "forward_ms": _median(ms(p, "forward_s") for p in patients),
        "pipeline_ms": _median(ms(p, "pipeline_s") for p in patients),
        "ratio": _median(own[p]["forward_s"] / ref[p]["forward_s"] for p in patients),
        "detected": sum(own[p]["outcome"].called for p in positive),
        "cleared": sum(not own[p]["outcome"].called for p in patients if p not in positive),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default="0,1,2,3,4", help="comma-separated folds (default: all five)")
    parser.add_argument("--data", type=Path, default=None, help="CT-ICH folder (default: $ICH_DATA/ct-ich)")
    parser.add_argument("--limit", type=int, default=None,
                        help="only the first LIMIT held-out patients of each fold (a quick check)")
    parser.add_argument("--runtimes", default="tf,onnx,bf16,int8,ov,ovbf16,ortint8",
                        help="comma-separated, of tf (always), onnx, bf16, int8 (LiteRT), ov (OpenVINO f32), "
                             "ovbf16, ortint8 (ONNX Runtime int8) (default: all)")
    parser.add_argument("--int8-float-full-size", action="store_true",
                        help="ONNX Runtime int8 with the convolutions at the input's size kept float32")
    args = parser.parse_args()
    chosen = {TF, *(SHORT_NAMES[n.strip()] for n in args.runtimes.split(",") if n.strip())}
    chosen_folds = [int(f) for f in args.folds.split(",") if f.strip()]

    from ich_viewer import paths
    from ich_viewer.segmentation.model_file import read_manifest, shipped_network_path
    from ich_viewer.training.ct_ich import read_patients
    from ich_viewer.training.folds import load_folds
    from ich_viewer.training.train import configure_tensorflow

    data = args.data or paths.ct_ich_dir()
    folds = load_folds()
    patients = read_patients(data)
    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    print(f"data {data}: {len(patients)} patients; folds {chosen_folds}; one thread "
          f"(OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}); cpu:",
          " ".join(f for f in ("avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if f in flags), flush=True)
    configure_tensorflow(1)  # for the conversions in this process
    import cv2

    cv2.setNumThreads(1)
    spec = read_manifest(shipped_network_path(f"fold{chosen_folds[0]}")).input
    calibration = Calibration(patients, spec)

    context = multiprocessing.get_context("spawn")
    workers = {}
    failed = {name: "not asked for (--runtimes)" for name in RUNTIMES if name not in chosen}
    for name in (name for name in RUNTIMES if name in chosen):
        ours, theirs = context.Pipe()
        process = context.Process(target=serve, args=(name, str(data), theirs), daemon=True)
        process.start()
        theirs.close()  # so that a worker that dies is seen as the end of its pipe
        workers[name] = (ours, process)

    def ask(name, message):
        """Send to one runtime and wait for its answer; a failure takes the runtime out."""
        connection = workers[name][0]
        try:
            connection.send(message)
            answer = connection.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            answer = f"its process ended (exit code {workers[name][1].exitcode})"
        if isinstance(answer, str):
            failed[name] = f"{message[0]} {message[1]}: {answer}"
            return None
        return answer

    rows = {name: {} for name in RUNTIMES}
    scored: list[int] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_runtime_agreement_") as tmp:
        for fold in chosen_folds:
            training = [p for p in patients if folds[p.patient] != fold]
            held_out = [p for p in patients if folds[p.patient] == fold][:args.limit]
            converted, lines = {}, []
            for name, convert in ((INT8, convert_fold), (ORT_INT8, quantize_fold)):
                if name in chosen and name not in failed:
                    try:
                        options = {"float_at_full_size": args.int8_float_full_size} if name == ORT_INT8 else {}
                        converted[name], line = convert(fold, training, calibration, Path(tmp), **options)
                        lines.append(line)
                    except Exception as error:  # noqa: BLE001 - converters fail in many ways; reported, not fatal
                        failed[name] = f"conversion of fold {fold}: {type(error).__name__}: {error}"
            line = "; ".join(lines) or "no int8 conversion"
            converted = {name: str(file) for name, file in converted.items()}
            active = [name for name in RUNTIMES if name not in failed]
            loads = {name: ask(name, ("fold", fold, converted)) for name in active}
            active = [name for name in active if name not in failed]
            if TF not in active:
                raise SystemExit(f"TensorFlow as the engine runs it did not run: {failed.get(TF)}")
            for i, patient in enumerate(held_out):
                for name in active[i % len(active):] + active[:i % len(active)]:
                    if name not in failed:
                        answer = ask(name, ("patient", patient.patient))
                        if answer is not None:
                            rows[name][patient.patient] = answer
                if TF in failed:
                    raise SystemExit(f"TensorFlow as the engine runs it failed: {failed[TF]}")
                against_tf(rows, patient.patient)
            scored += [p.patient for p in held_out]
            print(f"fold {fold}: {len(held_out)} patients ({sum(p.has_hemorrhage for p in held_out)} with "
                  f"hemorrhage); {line}; load+warm-up "
                  + ", ".join(f"{n} {s:.0f} s" for n, s in loads.items() if s is not None)
                  + f"; {time.perf_counter() - started:.0f} s so far", flush=True)
    for connection, process in workers.values():
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.send(("stop",))
        process.join(timeout=30)

    report(rows, scored, failed, folds, chosen_folds, time.perf_counter() - started)


def report(rows: dict, scored: list[int], failed: dict, folds: dict, chosen_folds: list[int], seconds: float):
    import json

    from ich_viewer import paths

    results = {name: compare(name, rows, scored) for name in RUNTIMES if name not in failed}
    ref = results[TF]
    positive = len(ref["delta"])
    slices = sum(rows[TF][p]["slices"] for p in scored)
    print(f"\n{len(scored)} patients ({positive} with hemorrhage), {slices} slices, folds "
          f"{','.join(map(str, chosen_folds))}; {seconds / 60:.1f} min in all. Per-patient Dice on the "
          f"{positive} patients with hemorrhage; decisions and lesion counts on all {len(scored)}.")
    header = (f"{'runtime':20s} {'ms/slice':>8s} {'x TF':>5s} {'pipeline':>8s} {'Dice mean':>9s} "
              f"{'max|dDice|':>10s} {'(patient)':>9s} {'>0.005':>6s} {'mean dDice':>10s} {'decisions':>9s} "
              f"{'lesion n':>8s} {'max|dscore|':>11s} {'mask px':>7s} {'max|dp|':>7s} {'detected':>8s} {'cleared':>7s}")
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        worst = f"({r['worst']})" if r["worst"] is not None and name != TF else ""
        print(f"{name:20s} {r['forward_ms']:8.1f} {r['ratio']:5.2f} {r['pipeline_ms']:8.1f} {r['dice_mean']:9.4f} "
              f"{r['max_abs_delta']:10.4f} {worst:>9s} {len(r['beyond']):6d} {r['mean_delta']:+10.4f} "
              f"{len(r['decisions']):9d} {len(r['lesion_counts']):8d} {r['max_score_delta']:11.4f} "
              f"{r['mask_px_differ']:7.2%} {r['max_prob_delta']:7.3f} {r['detected']:5d}/{positive} "
              f"{r['cleared']:4d}/{len(scored) - positive}")
    print(f"ms/slice: the forward pass, median over the patients; x TF: median of the per-patient ratios;\n"
          f"pipeline: scan_patient + outcome_of per slice (reading, preprocessing, forward, postprocessing);\n"
          f">0.005: patients whose |dDice| exceeds {DICE_TOLERANCE}; lesion n: patients whose lesion count changed;\n"
          f"max|dscore|: the study score (the highest slice score); mask px: pixels of the final mask that differ, "
          f"of TF's mask pixels;\nmax|dp|: the network's probability.")
    margin = min(abs(float(rows[TF][p]["outcome"].slice_scores.max()) - rows[TF][p]["outcome"].detection_threshold)
                 for p in scored)
    print(f"TF's study scores: the closest to its detection threshold is {margin:.4f} away.")

    stored = json.loads((paths.models_dir() / "metrics.json").read_text()).get("per_fold_dice", {})
    by_fold = {k: [rows[TF][p]["outcome"].dice_3d for p in scored if folds[p] == k and p in ref["delta"]]
               for k in chosen_folds}
    print("TF per-fold Dice (this run / models/metrics.json): "
          + ", ".join(f"fold {k} {statistics.fmean(v):.4f}/{stored.get(str(k), math.nan):.4f}"
                      for k, v in by_fold.items() if v))

    print(f"\nissue 16 rule: |dDice| <= {DICE_TOLERANCE} for every patient with hemorrhage, and no patient's "
          "decision changed")
    for name, r in results.items():
        if name == TF:
            continue
        worst = ", ".join(f"{p} {r['delta'][p]:+.4f}" for p in r["worst_three"])
        ok_dice = not r["beyond"]  # (no patient with hemorrhage scored: nothing to exceed)
        ok_decisions = not r["decisions"]
        verdict = "PASSES" if ok_dice and ok_decisions else "FAILS"
        print(f"{name}: {verdict} - max |dDice| {r['max_abs_delta']:.4f} "
              f"{'<=' if ok_dice else '>'} {DICE_TOLERANCE} (largest: {worst}); "
              f"{len(r['decisions'])} decision(s) changed{' ' + str(r['decisions']) if r['decisions'] else ''}; "
              f"{len(r['lesion_counts'])} lesion count(s) changed; mean dDice {r['mean_delta']:+.4f} "
              f"({'within' if abs(r['mean_delta']) <= DICE_TOLERANCE else 'beyond'} {DICE_TOLERANCE} "
              f"on the mean); {r['ratio']:.2f}x TF's time")
        for p in r["decisions"]:
            theirs, ours = rows[TF][p]["outcome"], rows[name][p]["outcome"]
            print(f"    patient {p} (fold {folds[p]}, {'hemorrhage' if theirs.has_hemorrhage else 'no hemorrhage'}): "
                  f"study score {theirs.slice_scores.max():.4f} -> {ours.slice_scores.max():.4f} "
                  f"(detection threshold {theirs.detection_threshold}): "
                  f"{'called' if theirs.called else 'cleared'} -> {'called' if ours.called else 'cleared'}")
    for name, why in failed.items():
        print(f"{name}: not measured - {why}")


if __name__ == "__main__":
    main()
