"""Inference time per slice of the shipped network under other runtimes, against TensorFlow as the engine ran it.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_runtimes.py [--rounds 5] [--cold-repeats 3]

(the optional runtimes: `pip install -e .[bench]`; a runtime that is not installed, or a
network that does not convert, is reported and left out.)

The network is models/ich_unet25d_final.keras at its manifest's input size and channels. Runtimes:

- TensorFlow as the engine ran it before ONNX Runtime (and still runs a network without an ONNX
  export): runtimes.compiled(), float32 (the reference, "TF" below);
- TensorFlow with XLA: the same graph with jit_compile=True, float32;
- TensorFlow in bfloat16 on oneDNN (AVX512-BF16 / AMX), three ways: grappler's
  auto_mixed_precision_onednn_bfloat16 rewrite of the same graph; the network rebuilt with
  Keras's mixed_bfloat16 policy and the same weights; oneDNN's ONEDNN_DEFAULT_FPMATH_MODE=BF16,
  which lets its float32 convolutions compute in bfloat16;
- LiteRT (ai-edge-litert) on TFLiteConverter output: float32, float16 weights, and int8
  (full-integer, float input and output), calibrated on real slices;
- ONNX Runtime (float32) on the shipped export, models/ich_unet25d_final.onnx, through the
  engine's own session (runtimes.OnnxNetwork): what the engine runs now.

Input: real CT-ICH slices through the engine's own preprocessing (study_square, study_views,
network_batch), in the engine's batches of 8. Timed: the first 30 slices of a fold-0 patient
with hemorrhage. int8 calibration: slices of patients of folds 1-4 (models/cv_folds.json), so
calibration and measurement never share a slice (the final network saw all 82 in training).

Each runtime lives in its own process (global settings such as the grappler rewrite, an
environment variable read when oneDNN loads, or a second copy of the TFLite kernels cannot
leak into another), with one thread. After a warm-up that also gives its probabilities,
each of --rounds rounds times every runtime once on the same 30 slices, the order rotating
each round; the ratio to TF is the median of the per-round ratios, so slow phases of the
shared machine hit both sides. Agreement with TF: the largest absolute difference of the
probabilities, and the share of pixels whose mask (probability >= the manifest's mask
threshold) differs, of all pixels and of TF's mask pixels.

For each runtime faster than TF (and TF itself, to compare): the converted model file, the
installed size of the runtime's package (du of its folder in site-packages), and the cold
start: a fresh interpreter that imports the runtime, loads the model and segments one batch
of 8, timed from outside (median of --cold-repeats).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One thread everywhere, before numpy or a runtime starts its pools: a fair comparison,
# and the machine's other jobs keep their core.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = ROOT / "models" / "ich_unet25d_final.keras"
BATCH_SIZE = 8  # the engine's default
N_SLICES = 30
CALIBRATION_SLICES_PER_PATIENT = 8


# --- the runtimes: each loader runs in the runtime's own process and returns batch -> (n, S, S) ---

def _tensorflow(files: dict, bf16: str | None = None, xla: bool = False):
    if bf16 == "fpmath":
        # Read by oneDNN when TensorFlow loads it: its float32 convolutions may then compute in bfloat16.
        os.environ["ONEDNN_DEFAULT_FPMATH_MODE"] = "BF16"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if bf16 == "grappler":
        # Must be set before the first function is optimised; it applies to every graph of the process.
        tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": True})
    import keras

    from ich_viewer.segmentation.runtimes import compiled

    model = keras.models.load_model(files["keras"], compile=False)
    if bf16 == "keras":
        model = _with_policy(model, "mixed_bfloat16")
    forward = _xla_compiled(model, files["size"]) if xla else compiled(model, files["size"])
    return lambda batch: np.asarray(forward(batch))[..., 0]


def _xla_compiled(model, size: int):
    """The engine's graph, compiled by XLA (fuses the network's ops into its own CPU kernels)."""
    import tensorflow as tf

    spec = tf.TensorSpec((None, size, size, model.input_shape[-1]), tf.float32)
    return tf.function(lambda batch: model(batch, training=False), input_signature=[spec], jit_compile=True)


def _with_policy(model, policy: str):
    """The same network and weights, every layer but the output (the sigmoid, float32 by design) in policy."""
    import keras

    config = model.get_config()
    output = model.layers[-1].name
    for layer in config["layers"]:
        if layer["class_name"] != "InputLayer" and layer["config"]["name"] != output:
            layer["config"]["dtype"] = policy
    rebuilt = keras.Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def _litert(files: dict, kind: str):
    from litert_runtime import LiteRTForward

    # A study's shorter last batch resizes the interpreter's tensors, paid here as the engine would.
    forward = LiteRTForward(files[kind], num_threads=1)
    return lambda batch: forward(batch)[..., 0]


def _onnxruntime(files: dict):
    from ich_viewer.segmentation.runtimes import OnnxNetwork

    return OnnxNetwork(Path(files["onnx"]), force_cpu=True)  # one thread: OMP_NUM_THREADS, set above


TF = "TensorFlow (before)"
SHIPS = "ONNX Runtime float32"  # what the engine runs (runtimes.OnnxNetwork)
# name: (loader, the converted file it needs, the package that runs it)
RUNTIMES = {
    TF: (_tensorflow, "keras", "tensorflow"),
    "TF XLA (jit_compile)": (lambda f: _tensorflow(f, xla=True), "keras", "tensorflow"),
    "TF bf16 grappler": (lambda f: _tensorflow(f, "grappler"), "keras", "tensorflow"),
    "TF bf16 Keras policy": (lambda f: _tensorflow(f, "keras"), "keras", "tensorflow"),
    "TF bf16 oneDNN fpmath": (lambda f: _tensorflow(f, "fpmath"), "keras", "tensorflow"),
    "LiteRT float32": (lambda f: _litert(f, "tflite_float32"), "tflite_float32", "ai_edge_litert"),
    "LiteRT float16": (lambda f: _litert(f, "tflite_float16"), "tflite_float16", "ai_edge_litert"),
    "LiteRT int8": (lambda f: _litert(f, "tflite_int8"), "tflite_int8", "ai_edge_litert"),
    SHIPS: (_onnxruntime, "onnx", "onnxruntime"),
}


def serve(name: str, folder: str, connection) -> None:
    """A runtime's process: load, warm up (sending its probabilities), then time the slices on each request."""
    files = json.loads((Path(folder) / "files.json").read_text())
    with np.load(Path(folder) / "batches.npz") as stored:
        batches = [stored[key] for key in sorted(stored.files)]
    try:
        predict = RUNTIMES[name][0](files)
        connection.send(np.concatenate([predict(batch) for batch in batches]).astype(np.float32))
    except Exception as error:  # noqa: BLE001 - a runtime that cannot run this network is reported, not fatal
        connection.send(f"{type(error).__name__}: {error}")
        return
    while connection.recv() == "time":
        start = time.perf_counter()
        for batch in batches:
            predict(batch)
        connection.send(time.perf_counter() - start)


def cold_start(name: str, folder: str) -> None:
    """Run in a fresh interpreter: import the runtime, load the model, segment one batch."""
    files = json.loads((Path(folder) / "files.json").read_text())
    with np.load(Path(folder) / "batches.npz") as stored:
        batch = stored[sorted(stored.files)[0]]
    RUNTIMES[name][0](files)(batch)


# --- the data: real slices through the engine's preprocessing ---

def real_slices(spec) -> tuple[list[np.ndarray], np.ndarray, str]:
    """The timed batches (the engine's batches of the first N_SLICES slices of a fold-0 patient),
    the calibration slices (folds 1-4), and a line saying which."""
    from ich_viewer.paths import ct_ich_dir
    from ich_viewer.segmentation.preprocessing import network_batch, study_square, study_views
    from ich_viewer.training.ct_ich import read_patients
    from ich_viewer.training.evaluate import study_of
    from ich_viewer.training.folds import load_folds

    def views(patient):
        study = study_of(patient)
        return study_views(study, spec, True, study_square(study, spec))

    folds = load_folds()
    patients = read_patients(ct_ich_dir())

    def bleeding_slices(p):
        return sum(bool(label.subtypes) for label in p.labels)

    timed = max((p for p in patients if folds[p.patient] == 0 and len(p.slice_numbers) >= N_SLICES),
                key=bleeding_slices)
    brain, bone = views(timed)
    # What the engine's loop takes with the reader on the first slice: slices in order, 8 at a time.
    batches = [network_batch(brain, bone, range(start, min(start + BATCH_SIZE, N_SLICES)), spec.context_slices)
               for start in range(0, N_SLICES, BATCH_SIZE)]

    # Per training fold, the first two patients with hemorrhage and the first without; slices evenly
    # through each scan, so skull base, brain and vertex are all in the activation ranges.
    chosen = []
    for fold in sorted(set(folds.values()) - {0}):
        members = [p for p in patients if folds[p.patient] == fold]
        chosen += [p for p in members if p.has_hemorrhage][:2] + [p for p in members if not p.has_hemorrhage][:1]
    calibration = []
    for patient in chosen:
        brain_c, bone_c = views(patient)
        picks = np.linspace(0, len(brain_c) - 1, CALIBRATION_SLICES_PER_PATIENT).round().astype(int)
        calibration.append(network_batch(brain_c, bone_c, picks, spec.context_slices))
    line = (f"timed: patient {timed.patient} (fold 0, {bleeding_slices(timed)} hemorrhage slices of "
            f"{len(timed.slice_numbers)}), slices 1-{N_SLICES} in batches of {BATCH_SIZE}; int8 calibration: "
            f"{sum(len(c) for c in calibration)} slices of patients {', '.join(str(p.patient) for p in chosen)}")
    return batches, np.concatenate(calibration), line


# --- the conversions ---

def convert(size: int, calibration: np.ndarray, folder: Path) -> tuple[dict, dict]:
    """The converted files by kind, and why any conversion failed."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from ich_viewer.segmentation.runtimes import compiled

    model = keras.models.load_model(MODEL, compile=False)
    forward = compiled(model, size)  # the graph the engine runs, batch dimension free
    files, failed = {"keras": str(MODEL), "size": size}, {}

    def tflite(kind, setup):
        converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], model)
        setup(converter)
        path = folder / f"{kind}.tflite"
        path.write_bytes(converter.convert())
        return path

    def float16(converter):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]

    def int8(kind, _setup):
        from litert_runtime import convert_int8

        path = folder / f"{kind}.tflite"
        path.write_bytes(convert_int8(model, size, [calibration]))
        return path

    def onnx(_kind, _setup):
        from ich_viewer.segmentation.model_file import onnx_network_path, read_manifest

        return onnx_network_path(MODEL, read_manifest(MODEL))  # the shipped export, checked

    steps = [("tflite_float32", tflite, lambda c: None), ("tflite_float16", tflite, float16),
             ("tflite_int8", int8, None), ("onnx", onnx, None)]
    for kind, make, setup in steps:
        try:
            files[kind] = str(make(kind, setup))
        except Exception as error:  # noqa: BLE001 - converters fail in many ways; each is reported, not fatal
            failed[kind] = f"{type(error).__name__}: {str(error).strip().splitlines()[-1][:300]}"
    return files, failed


# --- the figures ---

def package_mb(module: str) -> float:
    """du of the module's folder in site-packages (MB), without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    folder = next(iter(spec.submodule_search_locations))
    return int(subprocess.run(["du", "-sk", folder], capture_output=True, text=True).stdout.split()[0]) / 1024


def cold_seconds(name: str, folder: Path, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--cold-child", name, "--folder", str(folder)], check=True,
                       cwd=ROOT, capture_output=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--cold-child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        cold_start(args.cold_child, args.folder)
        return

    from ich_viewer.segmentation.model_file import read_manifest

    manifest = read_manifest(MODEL)  # also checks the weights' sha256
    spec, threshold = manifest.input, manifest.thresholds.mask
    print(f"network {MODEL.name}: {spec.size}x{spec.size}, {spec.channels} channels, mask threshold {threshold}")
    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    print("cpu flags:", " ".join(f for f in ("avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
                                 if f in flags), f"| OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    batches, calibration, line = real_slices(spec)
    print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench_runtimes_") as tmp:
        folder = Path(tmp)
        np.savez(folder / "batches.npz", **{f"b{i}": b for i, b in enumerate(batches)})
        started = time.perf_counter()
        files, failed = convert(spec.size, calibration, folder)
        (folder / "files.json").write_text(json.dumps(files))
        print(f"conversions: {time.perf_counter() - started:.0f} s", flush=True)

        # One process per runtime, started one after another so warm-ups do not overlap.
        context = multiprocessing.get_context("spawn")
        workers, probability = {}, {}
        for name, (_, kind, _) in RUNTIMES.items():
            if kind not in files:
                continue
            ours, theirs = context.Pipe()
            process = context.Process(target=serve, args=(name, tmp, theirs), daemon=True)
            process.start()
            theirs.close()  # so that a worker that dies is seen as the end of its pipe
            try:
                answer = ours.recv()
            except EOFError:
                answer = f"its process ended (exit code {process.join() or process.exitcode})"
            if isinstance(answer, str):
                failed[name] = answer
                process.join()
                continue
            workers[name], probability[name] = (ours, process), answer
            print(f"  {name}: ready", flush=True)
        if TF not in workers:
            raise SystemExit(f"TensorFlow as the engine ran it did not run: {failed.get(TF)}")

        names = list(workers)
        ms = {name: [] for name in names}
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                connection = workers[name][0]
                connection.send("time")
                ms[name].append(1000 * connection.recv() / N_SLICES)
        for connection, process in workers.values():
            connection.send("stop")
            process.join()

        reference = probability[TF]
        reference_mask = reference >= threshold
        print(f"\n{args.rounds} interleaved rounds of {N_SLICES} slices each, one thread; "
              f"TF's mask: {reference_mask.sum()} px of {reference_mask.size}")
        header = (f"{'runtime':24s} {'ms/slice':>9s} {'(min-max)':>13s} {'x TF':>6s} {'max |dp|':>9s} "
                  f"{'mask px differ':>15s} {'of TF mask':>11s}")
        print(header)
        print("-" * len(header))
        faster = []
        for name in names:
            ratio = statistics.median(t / b for t, b in zip(ms[name], ms[TF]))
            p = probability[name]
            differ = (p >= threshold) != reference_mask
            print(f"{name:24s} {statistics.median(ms[name]):9.1f} {min(ms[name]):6.1f}-{max(ms[name]):6.1f} "
                  f"{ratio:6.2f} {np.abs(p - reference).max():9.2e} {differ.mean():15.2e} "
                  f"{differ.sum() / max(reference_mask.sum(), 1):11.2%}")
            if name != TF and ratio < 1:
                faster.append(name)
        for kind, why in failed.items():
            print(f"{kind:24s} failed: {why}")

        print(f"\nfaster than TF: {', '.join(faster) or 'none'}; cold start (of those, TF and what ships) = fresh "
              f"interpreter, import, load, one batch of {BATCH_SIZE} (median of {args.cold_repeats})")
        print(f"{'runtime':24s} {'model file MB':>13s} {'package':>15s} {'package MB':>10s} {'cold start s':>12s}")
        for name in dict.fromkeys([TF, SHIPS, *faster]):
            if name in failed or RUNTIMES[name][1] not in files:  # did not run, or did not convert
                continue
            kind, module = RUNTIMES[name][1], RUNTIMES[name][2]
            model_mb = Path(files[kind]).stat().st_size / 2**20
            package = package_mb(module) + (package_mb("keras") if module == "tensorflow" else 0)
            label = "tensorflow+keras" if module == "tensorflow" else module
            print(f"{name:24s} {model_mb:13.2f} {label:>15s} {package:10.0f} "
                  f"{cold_seconds(name, folder, args.cold_repeats):12.2f}", flush=True)


if __name__ == "__main__":
    main()
