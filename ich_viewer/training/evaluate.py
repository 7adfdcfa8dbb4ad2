"""`ich-viewer evaluate`: cross-validation of the shipped fold networks.

Every CT-ICH slice is segmented, through the same engine the viewer uses,
by the fold network that never saw its patient, at the JPG's own 650 x 650
resolution, and compared with the radiologists' mask. The cross-validation
is then repeated under each robustness condition (robustness.py: other
windows, smaller heads, another grid, no bone window). The figures go to
models/metrics.json and the tables of models/MODEL_CARD.md.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ich_viewer import paths
from ich_viewer.segmentation.engine import NetworkOutput, SegmentationEngine
from ich_viewer.segmentation.model_file import Thresholds, read_manifest, shipped_network_path, update_thresholds
from ich_viewer.segmentation.postprocessing import skull_rule
from ich_viewer.segmentation.preprocessing import to_unit_range
from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, Study, Units
from ich_viewer.training import decision
from ich_viewer.training.ct_ich import SUBTYPES, CTIchPatient, read_patients
from ich_viewer.training.folds import N_FOLDS, load_folds
from ich_viewer.training.metrics import dice, per_slice_dice, roc_auc, sensitivity_specificity
from ich_viewer.training.robustness import CONDITIONS, NATIVE, Condition

# Acute blood is about 50-90 HU, brain 20-40 HU. A reference mask whose pixels are
# mostly below this outlines tissue that does not look like fresh blood on the
# image (hyperacute, subacute or small partial-volumed bleeds, or a generous outline).
HYPERDENSE_HU = 45.0


@dataclass
class PatientOutcome:
    patient: int
    fold: int
    has_hemorrhage: bool
    dice_3d: float  # NaN for patients without hemorrhage and no prediction
    dice_hemorrhage_slices: float  # Dice over the slices the radiologists marked
    slice_scores: np.ndarray
    slice_truth: np.ndarray  # bool per slice: the radiologists marked hemorrhage
    slice_dice: np.ndarray
    slice_subtypes: list[tuple[str, ...]]
    intersection: int
    predicted_px: int
    reference_px: int
    reference_hyperdense_fraction: float  # of the reference mask's pixels; NaN without hemorrhage
    detection_threshold: float  # this patient's fold network's

    @property
    def called(self) -> bool:
        """The study-level decision: a lesion remains at the detection threshold."""
        return bool(self.slice_scores.max() >= self.detection_threshold)

    @property
    def slices_called(self) -> np.ndarray:
        return self.slice_scores >= self.detection_threshold


def hyperdense_fraction(display_slices: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of the mask's pixels at HYPERDENSE_HU or more, from 8-bit brain-window images.

    Compared in the network's own [0, 1] brain-window scale, where both kinds of image meet.
    """
    if not mask.any():
        return math.nan
    threshold = to_unit_range(np.array([HYPERDENSE_HU]), Units.HU)[0]
    return float((to_unit_range(display_slices[mask], Units.DISPLAY) >= threshold).mean())


def study_of(patient: CTIchPatient) -> Study:
    """A CT-ICH patient as the viewer opens it: brain and bone windows, the known export window."""
    return Study(patient.load_slices().astype(np.float32), Units.DISPLAY, None, patient.folder,
                 export_window=CT_ICH_BRAIN_WINDOW, export_window_note="CT-ICH layout (known)",
                 bone_voxels=patient.load_bone_slices().astype(np.float32))


@dataclass
class Scan:
    """One patient as the network got it under a condition, and what it said."""

    patient: CTIchPatient
    fold: int
    condition: Condition
    study: Study
    reference: np.ndarray  # on the study's grid
    output: NetworkOutput


def scan_patient(engine: SegmentationEngine, patient: CTIchPatient, fold: int,
                 condition: Condition = NATIVE) -> Scan:
    study, reference = study_of(patient), patient.load_masks()
    if condition.transform is not None:
        study, reference = condition.transform(study, reference)
    output = engine.network_output(study, with_bone=condition.with_bone)
    return Scan(patient, fold, condition, study, reference, output)


def outcome_of(scan: Scan, engine: SegmentationEngine, thresholds: Thresholds | None = None) -> PatientOutcome:
    """Score a scan against its reference with these thresholds (default: the network's manifest)."""
    thresholds = thresholds or engine.manifest.thresholds
    result = engine.interpret(scan.output, scan.study.voxels.shape[1:], thresholds)
    predicted, reference = result.mask, scan.reference
    truth = reference.any(axis=(1, 2))
    return PatientOutcome(
        patient=scan.patient.patient,
        fold=scan.fold,
        has_hemorrhage=bool(truth.any()),
        dice_3d=dice(predicted, reference),
        dice_hemorrhage_slices=dice(predicted[truth], reference[truth]) if truth.any() else math.nan,
        slice_scores=result.slice_scores,
        slice_truth=truth,
        slice_dice=per_slice_dice(predicted, reference),
        slice_subtypes=[label.subtypes for label in scan.patient.labels],
        intersection=int(np.logical_and(predicted, reference).sum()),
        predicted_px=int(predicted.sum()),
        reference_px=int(reference.sum()),
        reference_hyperdense_fraction=(hyperdense_fraction(scan.study.voxels, reference)
                                       if scan.condition is NATIVE else math.nan),
        detection_threshold=thresholds.detection,
    )


def score_patient(engine: SegmentationEngine, patient: CTIchPatient, fold: int,
                  condition: Condition = NATIVE) -> PatientOutcome:
    return outcome_of(scan_patient(engine, patient, fold, condition), engine)


def fold_engines() -> list[SegmentationEngine]:
    return [SegmentationEngine(shipped_network_path(f"fold{k}"), force_cpu=True) for k in range(N_FOLDS)]


def held_out_scans(data: Path, condition: Condition = NATIVE, log=print):
    """(scan, engine) for every patient, scanned by the fold network that never saw it."""
    folds = load_folds()
    patients = read_patients(data)
    for fold, engine in enumerate(fold_engines()):
        held_out = [p for p in patients if folds[p.patient] == fold]
        for patient in held_out:
            yield scan_patient(engine, patient, fold, condition), engine
        log(f"{condition.name}, fold {fold}: {len(held_out)} patients scored")


def cross_validate(data: Path, condition: Condition = NATIVE, log=print) -> list[PatientOutcome]:
    """Each patient scored by the fold network that never saw it, with that network's thresholds."""
    return [outcome_of(scan, engine) for scan, engine in held_out_scans(data, condition, log)]


def save_output(folder: Path, output: NetworkOutput, patient: int) -> None:
    """The network's output for one patient, for later analysis (runs/cv_outputs)."""
    folder.mkdir(parents=True, exist_ok=True)
    bone = np.zeros_like(output.brain) if output.bone is None else output.bone
    np.savez_compressed(folder / f"{patient:03d}.npz", probability=output.probability.astype(np.float16),
                        brain=np.round(output.brain * 255).astype(np.uint8),
                        bone=np.round(bone * 255).astype(np.uint8))


def _describe(values: list[float]) -> dict:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return {"mean": math.nan, "sd": math.nan, "median": math.nan, "n": 0}
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "median": statistics.median(values),
        "n": len(values),
    }


def summarise(outcomes: list[PatientOutcome]) -> dict:
    positive = [o for o in outcomes if o.has_hemorrhage]
    negative = [o for o in outcomes if not o.has_hemorrhage]
    scores = np.concatenate([o.slice_scores for o in outcomes])
    truth = np.concatenate([o.slice_truth for o in outcomes])
    slice_sens, slice_spec = sensitivity_specificity(np.concatenate([o.slices_called for o in outcomes]), truth)
    patient_scores = np.array([o.slice_scores.max() for o in outcomes])  # the study's most suspicious slice
    patient_called = np.array([o.called for o in outcomes])
    patient_truth = np.array([o.has_hemorrhage for o in outcomes])
    pat_sens, pat_spec = sensitivity_specificity(patient_called, patient_truth)
    intersection = sum(o.intersection for o in outcomes)
    total = sum(o.predicted_px + o.reference_px for o in outcomes)
    per_patient_dice = _describe([o.dice_3d for o in positive])
    return {
        "n_patients": len(outcomes),
        "n_patients_with_hemorrhage": len(positive),
        "n_slices": int(truth.size),
        "n_hemorrhage_slices": int(truth.sum()),
        "per_patient_dice": per_patient_dice,
        "per_patient_dice_mean": per_patient_dice["mean"],
        "pooled_dice": 2 * intersection / total if total else math.nan,
        "hemorrhage_slice_dice": _describe([o.dice_hemorrhage_slices for o in positive]),
        "slice_auc": roc_auc(scores, truth),
        "slice_sensitivity": slice_sens,
        "slice_specificity": slice_spec,
        "patient_auc": roc_auc(patient_scores, patient_truth),
        "patient_sensitivity": pat_sens,
        "patient_specificity": pat_spec,
        "patients_detected": f"{int((patient_called & patient_truth).sum())}/{int(patient_truth.sum())}",
        "negatives_cleared": f"{int((~patient_called & ~patient_truth).sum())}/{int((~patient_truth).sum())}",
        "false_positive_px_per_negative_patient": _describe([o.predicted_px for o in negative]),
        "detection_thresholds": sorted({o.detection_threshold for o in outcomes}),
        "per_subtype": _per_subtype(outcomes),
        "dice_by_reference_density": _by_reference_density(positive),
        "per_fold_dice": {
            str(k): _describe([o.dice_3d for o in positive if o.fold == k])["mean"] for k in range(N_FOLDS)
        },
    }


def _by_reference_density(positive: list[PatientOutcome]) -> dict:
    """Per-patient Dice, split by whether the reference mask mostly looks like fresh blood."""
    dense = [o.reference_hyperdense_fraction >= 0.5 for o in positive]
    return {
        "hyperdense_hu": HYPERDENSE_HU,
        "mostly_hyperdense": _describe([o.dice_3d for o, d in zip(positive, dense) if d]),
        "mostly_not": _describe([o.dice_3d for o, d in zip(positive, dense) if not d]),
        "spearman_fraction_vs_dice": _spearman([o.reference_hyperdense_fraction for o in positive],
                                               [o.dice_3d for o in positive]),
    }


def _spearman(x: list[float], y: list[float]) -> float:
    if len(x) < 3:
        return math.nan
    ranks = [np.argsort(np.argsort(v, kind="stable")) for v in (x, y)]
    return float(np.corrcoef(*ranks)[0, 1])


def _per_subtype(outcomes: list[PatientOutcome]) -> dict:
    table = {}
    for subtype in SUBTYPES:
        detected, dices = [], []
        for o in outcomes:
            for z, subtypes in enumerate(o.slice_subtypes):
                if subtype in subtypes and o.slice_truth[z]:
                    detected.append(o.slices_called[z])
                    dices.append(o.slice_dice[z])
        table[subtype] = {
            "slices": len(detected),
            "detection_rate": float(np.mean(detected)) if detected else math.nan,
            "mean_slice_dice": float(np.nanmean(dices)) if dices else math.nan,
        }
    return table


def robustness_row_of(summary: dict) -> dict:
    keys = ("per_patient_dice_mean", "slice_auc", "patients_detected", "negatives_cleared")
    return {k: summary[k] for k in keys}


def native_cross_validation(data: Path, runs_dir: Path) -> list[PatientOutcome]:
    """The cross-validation with the decision thresholds chosen nested (decision.py).

    The networks run once; their outputs are kept, the thresholds of each fold
    network are chosen on the other folds' patients and written into its
    manifest (the final network's on all patients), then every patient is scored.
    """
    scans = list(held_out_scans(data))
    for scan, _ in scans:
        save_output(runs_dir / "cv_outputs", scan.output, scan.patient.patient)
    base = scans[0][1].manifest.thresholds
    lesions = [_lesions(scan, engine.manifest.thresholds) for scan, engine in scans]
    chosen = decision.nested_choices(lesions, list(range(N_FOLDS)), base)
    for name, thresholds in chosen.items():
        update_thresholds(shipped_network_path(name), thresholds)
    return [outcome_of(scan, engine, chosen[f"fold{scan.fold}"]) for scan, engine in scans]


def _lesions(scan: Scan, thresholds: Thresholds) -> decision.PatientLesions:
    output = scan.output
    probability = skull_rule(output.probability, output.brain, output.bone, thresholds)
    sizes, peaks = decision.lesions_of(probability, thresholds.mask)
    return decision.PatientLesions(scan.patient.patient, scan.fold, bool(scan.reference.any()), sizes, peaks)


def evaluate_all(data: Path, runs_dir: Path, threads: int | None, baselines_only: bool = False) -> int:
    """The whole evaluation; baselines_only: re-measure the baseline comparison and the inference
    cost only, keeping the stored cross-validation (models/metrics.json) of the shipped networks."""
    from ich_viewer.training.train import configure_tensorflow

    configure_tensorflow(threads)
    if baselines_only:
        metrics = json.loads((paths.models_dir() / "metrics.json").read_text())
        return _write_evaluation(metrics, data, runs_dir)
    metrics = summarise(native_cross_validation(data, runs_dir))
    metrics["decision_thresholds"] = {
        name: asdict(read_manifest(shipped_network_path(name)).thresholds)
        for name in [f"fold{k}" for k in range(N_FOLDS)] + ["final"]
    }
    rows = {NATIVE.name: {"description": NATIVE.description, **robustness_row_of(metrics)}}
    for condition in CONDITIONS:
        if condition is not NATIVE:
            summary = summarise(cross_validate(data, condition))
            rows[condition.name] = {"description": condition.description, **robustness_row_of(summary)}
    metrics["robustness"] = rows
    return _write_evaluation(metrics, data, runs_dir)


def _write_evaluation(metrics: dict, data: Path, runs_dir: Path) -> int:
    """Add the inference cost and the baseline tables; write metrics.json, baselines.json, the model card."""
    from ich_viewer.training.baselines import baseline_tables, inference_cost
    from ich_viewer.training.model_card import write_model_card

    metrics["inference_cost"] = inference_cost()
    baselines_file = paths.models_dir() / "baselines.json"
    earlier = json.loads(baselines_file.read_text()) if baselines_file.exists() else {}
    baselines = baseline_tables(data, runs_dir, earlier)
    baselines_file.write_text(json.dumps(_clean(baselines), indent=1) + "\n")
    metrics["baselines"] = baselines
    (paths.models_dir() / "metrics.json").write_text(json.dumps(_clean(metrics), indent=1) + "\n")
    write_model_card(metrics)
    print(json.dumps(_clean({k: v for k, v in metrics.items() if k != "baselines"}), indent=1))
    return 0


def _clean(value):
    """JSON without NaN (not valid JSON): NaN becomes null."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        # Significant digits, not decimals: a learning rate of 1e-5 must not become 0.
        return None if math.isnan(value) else float(f"{value:.4g}")
    if isinstance(value, np.integer):
        return int(value)
    return value
