"""A shipped network: its weights and the manifest beside them (models/<name>.json).

The manifest says everything the engine needs to run the network without a
code change (as nnU-Net's plans.json does): the input it expects (size,
neighbouring slices, brain and bone windows), the thresholds that turn its
output into a mask and a decision, what it was trained on, its version, and
the sha256 of its weights, checked before they are loaded. It may also name
the same network exported for ONNX Runtime (weights.onnx, with its own
sha256): the engine runs that one on the CPU, as it starts in a fraction of
TensorFlow's time (ich_viewer/training/onnx_export.py checks the export
against the Keras network before it is listed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ich_viewer import paths
from ich_viewer.segmentation.preprocessing import CT_ICH_INPUT, NetworkInput
from ich_viewer.study.model import Window

MANIFEST_FORMAT = 1
DEFAULT_MODEL = "ich_unet25d_final"  # ours, trained on all 82 patients: what runs unless the reader picks another


class ModelFileError(Exception):
    """The network or its manifest is missing, unreadable, or not what was shipped."""


@dataclass(frozen=True)
class Thresholds:
    """How the network's probabilities become a mask and a study-level decision."""

    mask: float = 0.5  # probability at or above which a pixel is hemorrhage
    detection: float = 0.5  # a lesion (or slice) counts as a finding at this score
    # Outlines are grouped into lesions (3-D connected across slices); a lesion smaller
    # than this many network pixels (about 2 mm^2 each) is noise, not a finding.
    min_lesion_px: int = 12
    # Outlines are kept only inside the skull (see postprocessing.intracranial_space).
    inside_skull_only: bool = True


@dataclass(frozen=True)
class NetworkManifest:
    name: str  # e.g. "ich_unet25d"
    version: str
    weights: str  # file name of the weights, beside the manifest
    sha256: str  # of the weights
    input: NetworkInput = CT_ICH_INPUT
    thresholds: Thresholds = field(default_factory=Thresholds)
    training: str = ""  # what it was trained on, in one paragraph
    onnx: str = ""  # file name of the same network for ONNX Runtime, beside the manifest ("" if none)
    onnx_sha256: str = ""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_network_path(name: str) -> Path:
    """models/ich_unet25d_final.keras, models/ich_unet25d_fold0.keras, ..."""
    return paths.models_dir() / f"ich_unet25d_{name}.keras"


def shipped_models() -> dict[str, Path]:
    """Every network in models/ that has a manifest, by name (the file name without .keras)."""
    return {path.stem: path for path in sorted(paths.models_dir().glob("*.keras"))
            if manifest_path(path).exists()}


def default_model_path() -> Path:
    """What runs unless the reader or --model picks another: the network trained on all CT-ICH patients."""
    return paths.models_dir() / f"{DEFAULT_MODEL}.keras"


def model_path(name: str) -> Path:
    """The weights of the shipped model of this name; ModelFileError listing the models if there is none.

    The default is returned even when missing: loading it then says so, with the advice to reinstall
    (a mistyped name gets the list of models instead).
    """
    if name == DEFAULT_MODEL:
        return default_model_path()
    models = shipped_models()
    if name not in models:
        listed = ", ".join(models) or "none"
        raise ModelFileError(f"no model named {name!r} in {paths.models_dir()}; the models are: {listed}")
    return models[name]


def manifest_path(weights: Path) -> Path:
    """models/ich_unet25d_final.keras -> models/ich_unet25d_final.json"""
    return weights.with_suffix(".json")


def write_manifest(weights: Path, name: str, version: str, training: str,
                   network_input: NetworkInput = CT_ICH_INPUT,
                   thresholds: Thresholds | None = None) -> NetworkManifest:
    manifest = NetworkManifest(name, version, weights.name, file_sha256(weights), network_input,
                               thresholds or Thresholds(), training)
    _write(manifest, manifest_path(weights))
    return manifest


def _write(manifest: NetworkManifest, path: Path) -> None:
    record = {"format": MANIFEST_FORMAT, **asdict(manifest)}
    path.write_text(json.dumps(record, indent=1) + "\n")


def update_thresholds(weights: Path, thresholds: Thresholds) -> NetworkManifest:
    """Rewrite a network's manifest with new thresholds (chosen by `ich-viewer evaluate`)."""
    manifest = replace(read_manifest(weights), thresholds=thresholds)
    _write(manifest, manifest_path(weights))
    return manifest


def read_manifest(weights: Path) -> NetworkManifest:
    """The manifest of these weights, after checking the weights are the ones it describes."""
    path = manifest_path(weights)
    if not weights.exists():
        raise ModelFileError(f"{weights}: network file not found")
    if not path.exists():
        raise ModelFileError(f"{path}: manifest not found (every shipped network has one)")
    try:
        record = json.loads(path.read_text())
        manifest = _from_record(record)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelFileError(f"{path}: not a readable network manifest ({error})") from None
    if manifest.weights != weights.name:
        raise ModelFileError(f"{path}: describes {manifest.weights}, not {weights.name}")
    _check_sha256(weights, manifest.sha256)
    return manifest


def _check_sha256(path: Path, expected: str) -> None:
    actual = file_sha256(path)
    if actual != expected:
        raise ModelFileError(f"{path}: sha256 {actual[:12]}... does not match the manifest's "
                             f"{expected[:12]}... (file corrupt or replaced)")


def onnx_network_path(weights: Path, manifest: NetworkManifest) -> Path | None:
    """The ONNX export the manifest lists, after checking it is the one exported; None if it lists none."""
    if not manifest.onnx:
        return None
    path = weights.with_name(manifest.onnx)
    if not path.exists():
        raise ModelFileError(f"{path}: ONNX network listed in {manifest_path(weights).name} not found")
    _check_sha256(path, manifest.onnx_sha256)
    return path


def list_onnx(weights: Path, onnx: Path) -> NetworkManifest:
    """Rewrite a network's manifest to list its ONNX export (made and checked by training.onnx_export)."""
    manifest = replace(read_manifest(weights), onnx=onnx.name, onnx_sha256=file_sha256(onnx))
    _write(manifest, manifest_path(weights))
    return manifest


def _from_record(record: dict) -> NetworkManifest:
    if record.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"manifest format {record.get('format')!r}, this program reads {MANIFEST_FORMAT}")
    given = record["input"]
    bone = given.get("bone_window")
    network_input = NetworkInput(
        size=int(given["size"]),
        context_slices=int(given["context_slices"]),
        brain_window=Window(**given["brain_window"]),
        bone_window=Window(**bone) if bone else None,
        head_span=given.get("head_span"),  # absent in the first manifests: the whole frame
        equalised=bool(given.get("equalised", False)),  # absent before the notebook's networks shipped
    )
    return NetworkManifest(
        name=record["name"], version=record["version"], weights=record["weights"], sha256=record["sha256"],
        input=network_input, thresholds=Thresholds(**record["thresholds"]), training=record.get("training", ""),
        onnx=record.get("onnx", ""), onnx_sha256=record.get("onnx_sha256", ""),  # absent before ONNX exports
    )
