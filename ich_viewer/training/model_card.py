"""models/MODEL_CARD.md, written by `ich-viewer evaluate` from the measured figures."""

from __future__ import annotations

import json
from pathlib import Path

from ich_viewer import paths
from ich_viewer.segmentation.model_file import manifest_path, read_manifest, shipped_network_path
from ich_viewer.training.train import OURS, REFINE, TUNE


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _sha256_lines() -> list[str]:
    lines = []
    for weights in sorted(paths.models_dir().glob("*.keras")):
        if manifest_path(weights).exists():
            manifest = read_manifest(weights)
            size = weights.stat().st_size / 1e6
            lines.append(f"| `{weights.name}` | {size:.1f} MB | `{manifest.sha256}` |")
            if manifest.onnx:
                onnx = weights.with_name(manifest.onnx)
                lines.append(f"| `{onnx.name}` | {onnx.stat().st_size / 1e6:.1f} MB | `{manifest.onnx_sha256}` |")
    return lines


def _decision(m: dict) -> list[str]:
    chosen = m.get("decision_thresholds")
    if not chosen:
        return ["Not computed (run `ich-viewer evaluate`)."]
    lines = ["| Network | Chosen on | Smallest lesion (network pixels) | Detection threshold |",
             "|---|---|---|---|"]
    for name, t in chosen.items():
        on = "all 5 folds' outputs" if name == "final" else "the other 4 folds' outputs"
        lines.append(f"| {name} | {on} | {t['min_lesion_px']} | {t['detection']} |")
    return lines


def _robustness(m: dict) -> list[str]:
    rows = m.get("robustness")
    if not rows:
        return ["Not computed (run `ich-viewer evaluate`)."]
    lines = ["| Condition | Per-patient Dice | Slice AUC | Patients detected | Negatives cleared |",
             "|---|---|---|---|---|"]
    for row in rows.values():
        lines.append(f"| {row['description']} | {_f(row['per_patient_dice_mean'])} | {_f(row['slice_auc'])} | "
                     f"{row['patients_detected']} | {row['negatives_cleared']} |")
    return lines


def _cross_validation(m: dict) -> list[str]:
    d, h = m["per_patient_dice"], m["hemorrhage_slice_dice"]
    fp = m["false_positive_px_per_negative_patient"]
    return [
        "| Metric (patient-wise 5-fold CV) | Value |",
        "|---|---|",
        f"| 1. Per-patient 3D Dice, {d['n']} patients with hemorrhage: mean ± SD (median) "
        f"| **{_f(d['mean'])}** ± {_f(d['sd'])} ({_f(d['median'])}) |",
        f"| 1. Pooled Dice over all voxels, {m['n_patients']} patients | {_f(m['pooled_dice'])} |",
        f"| 2. Dice on hemorrhage slices only, mean over patients (Hssayeni et al.: 0.31) "
        f"| **{_f(h['mean'])}** ± {_f(h['sd'])} ({_f(h['median'])}) |",
        f"| 3. Slice detection AUC ({m['n_slices']} slices, {m['n_hemorrhage_slices']} with hemorrhage) "
        f"| **{_f(m['slice_auc'])}** |",
        f"| 3. Slice sensitivity / specificity at each fold network's detection threshold "
        f"| {_f(m['slice_sensitivity'])} / {_f(m['slice_specificity'])} |",
        f"| 4. Patient detection AUC (score: the study's highest slice score), {m['n_patients']} patients "
        f"| {_f(m['patient_auc'])} |",
        f"| 4. Patient sensitivity ({m['patients_detected']}) / specificity ({m['negatives_cleared']}) "
        f"| {_f(m['patient_sensitivity'])} / {_f(m['patient_specificity'])} |",
        f"| 4. False-positive area per patient without hemorrhage (pixels of 650²): mean (median) "
        f"| {_f(fp['mean'], 0)} ({_f(fp['median'], 0)}) |",
        "| Per-fold mean Dice | " + ", ".join(f"{k}: {_f(v)}" for k, v in m["per_fold_dice"].items()) + " |",
    ]


def _subtypes(m: dict) -> list[str]:
    lines = ["| Subtype (CSV label) | Slices | Detection rate | Mean slice Dice |", "|---|---|---|---|"]
    for name, row in m["per_subtype"].items():
        lines.append(f"| {name} | {row['slices']} | {_f(row['detection_rate'])} | {_f(row['mean_slice_dice'])} |")
    return lines


def _density(m: dict) -> list[str]:
    r = m.get("dice_by_reference_density")
    if not r:
        return ["Not computed (run `ich-viewer evaluate`)."]
    hu = _f(r["hyperdense_hu"], 0)
    lines = ["| Reference mask | Patients | Per-patient Dice: mean (median) |", "|---|---|---|"]
    for key, label in (("mostly_hyperdense", f"at least half its pixels ≥ {hu} HU"),
                       ("mostly_not", f"more than half below {hu} HU")):
        d = r[key]
        lines.append(f"| {label} | {d['n']} | {_f(d['mean'])} ({_f(d['median'])}) |")
    lines.append(f"\nSpearman correlation between the fraction of the reference at ≥ {hu} HU "
                 f"and the patient's Dice: {_f(r['spearman_fraction_vs_dice'], 2)}.")
    return lines


# The reference notebook's own figures (random slice split, pixel level), as the issue quotes them.
NOTEBOOK_REPORTED = {"reference_unet": (0.94, 0.32), "two_branch_net": (0.98, 0.56)}
NETWORK_LABELS = {"reference_unet": "Notebook U-Net", "two_branch_net": "Notebook two-branch",
                  "ich_unet25d": "Ours (ich_unet25d)",
                  "pool_ich_unet25d": "Ours, trained on the notebook's pool (its leak too), 24 epochs",
                  "pool_long_ich_unet25d": "Ours, trained on the notebook's pool (its leak too), 60 epochs",
                  "pool_150_ich_unet25d": "Ours, trained on the notebook's pool (its leak too), 150 epochs",
                  "ich_unet25d_notebook_reading": "Ours, read as the notebook reads (0.5, no rules)"}


def _label(run: str) -> str:
    return NETWORK_LABELS.get(run.removeprefix("notebook_"), run)


def _baselines(b: dict) -> list[str]:
    notebook, folds = b.get("notebook_protocol"), b.get("patient_folds")
    if not notebook:
        return ["Baseline runs not available (run `ich-viewer train` first)."]
    lines = ["| Network | Notebook protocol: pixel AUC / IoU (original test slices) | Patient folds "
             f"{_folds_label(folds)}: per-patient Dice | Slice AUC | Patients detected | Negatives cleared |",
             "|---|---|---|---|---|---|"]
    for run, row in notebook.items():
        o = row["original_slices"]
        f = (folds or {}).get(run.removeprefix("notebook_"), {})
        lines.append(f"| {_label(run)} | {_f(o['pixel_auc'])} / {_f(o['iou'])} | {_f(f.get('per_patient_dice_mean'))} "
                     f"| {_f(f.get('slice_auc'))} | {f.get('patients_detected', 'n/a')} | "
                     f"{f.get('negatives_cleared', 'n/a')} |")
    if folds and "ich_unet25d_notebook_reading" in folds:
        f = folds["ich_unet25d_notebook_reading"]
        lines.append(f"| {_label('ich_unet25d_notebook_reading')} | | {_f(f['per_patient_dice_mean'])} | "
                     f"{_f(f['slice_auc'])} | {f['patients_detected']} | {f['negatives_cleared']} |")
    lines += _margins(notebook, folds or {})
    lines += ["", "The notebook's protocol in full (160 x 160 pixels of the test split; \"as counted\": every "
              "test slice, augmented copies included, as the notebook's figures must have been):", "",
              "| Network | Slices counted | Pixel AUC | IoU | Mean IoU of both classes | AUC of the 0/1 mask | "
              "F1 hemorrhage | F1 background | TN / FP / FN / TP |", "|---|---|---|---|---|---|---|---|---|"]
    for run, (auc, iou) in NOTEBOOK_REPORTED.items():
        lines.append(f"| {_label(run)}, the notebook's report | random split | {auc} | {iou} | | | | | |")
    for run, row in notebook.items():
        for counted in ("as_notebook_counted", "original_slices"):
            if counted in row:
                lines.append(_pixel_row(_label(run), counted, row[counted]))
    lines += ["", "How the notebook's networks were trained (notebook_recipe.py; 1 CPU thread each):", "",
              "| Run | First-level filters | Parameters | Adam rate | Batch | Epochs (best) | Stopped | Minutes | "
              "Validation loss by epoch | Validation IoU at 0.5 by epoch |", "|---" * 10 + "|"]
    trainings = [(run, row["training"], row.get("parameters")) for run, row in notebook.items() if "training" in row]
    for name, f in (folds or {}).items():
        trainings += [(f"{fold}_{name}", t, None) for fold, t in f.get("training", {}).items()]
    for run, t, parameters in trainings:
        curve = ", ".join(f"{v:.3f}" for v in t["validation_loss"])
        stopped = t["stopped"] + (f" (continued in a later session after epoch {t['continued_after_epoch']}, "
                                  "from the best weights)" if t.get("continued_after_epoch") else "")
        lines.append(f"| {run} | {t['base']} | {'' if parameters is None else f'{parameters:,}'} | "
                     f"{t['learning_rate']:g} | {t['batch_size']} | {t['epochs']} ({t['best_epoch']}) | {stopped} | "
                     f"{t['minutes']:.0f} | {curve} | {_iou_curve(t.get('validation_iou') or [])} |")
    return lines


NOTEBOOK_FIGURES = (("pixel AUC", "pixel_auc"), ("IoU", "iou"), ("F1 hemorrhage", "f1_hemorrhage"))
FOLD_FIGURES = (("per-patient Dice", "per_patient_dice_mean"), ("slice AUC", "slice_auc"))


def _margins(notebook: dict, folds: dict) -> list[str]:
    """Ours against the stronger of the notebook's two networks, figure by figure, on both protocols.
    On the notebook's protocol ours is one run, its best by IoU, for every figure (not the best run
    of each figure)."""
    theirs = {run: row["original_slices"] for run, row in notebook.items()
              if run.removeprefix("notebook_") in NOTEBOOK_REPORTED}
    ours = {run: row["original_slices"] for run, row in notebook.items() if run not in theirs}
    if not theirs or not ours:
        return []
    best = max(ours, key=lambda run: ours[run]["iou"])
    rows = [("Notebook's (original test slices)", figure, ours[best][key], theirs, key)
            for figure, key in NOTEBOOK_FIGURES]
    their_folds = {name: folds[name] for name in NOTEBOOK_REPORTED if name in folds}
    if "ich_unet25d" in folds and their_folds:
        rows += [(f"Patient folds {_folds_label(folds)}", figure, folds["ich_unet25d"][key], their_folds, key)
                 for figure, key in FOLD_FIGURES]
    lines = ["", f"Ours against the stronger of the notebook's two networks on each figure (ours: on the notebook's "
                 f"protocol the row \"{_label(best)}\", on the patient folds the shipped fold networks):", "",
             "| Protocol | Figure | Ours | Stronger baseline | Margin |", "|---|---|---|---|---|"]
    for protocol, figure, value, baselines, key in rows:
        strongest = max(baselines, key=lambda run: baselines[run][key])
        theirs_value = baselines[strongest][key]
        lines.append(f"| {protocol} | {figure} | {_f(value)} | {_f(theirs_value)} ({_label(strongest)}) | "
                     f"{value - theirs_value:+.3f} |")
    return lines


def _iou_curve(ious: list) -> str:
    """The epochs whose IoU was logged (runs before the log had it have none)."""
    logged = [(epoch, v) for epoch, v in enumerate(ious, start=1) if v is not None]
    if not logged:
        return "not logged"
    return f"epochs {logged[0][0]}-{logged[-1][0]}: " + ", ".join(f"{v:.3f}" for _, v in logged)


def _folds_label(folds: dict | None) -> str:
    scored = sorted({k for row in (folds or {}).values() for k in row.get("folds", [])})
    return "(" + ", ".join(map(str, scored)) + ")" if scored else ""


def _pixel_row(name: str, counted: str, t: dict) -> str:
    cm = t["confusion_matrix"]
    how = "all, copies included" if counted == "as_notebook_counted" else "originals only"
    return (f"| {name} | {t['slices']} ({how}) | {_f(t['pixel_auc'])} | {_f(t['iou'])} | "
            f"{_f(t['mean_iou_two_classes'])} | {_f(t['auc_of_mask'])} | {_f(t['f1_hemorrhage'])} | "
            f"{_f(t['f1_background'])} | {cm['tn']} / {cm['fp']} / {cm['fn']} / {cm['tp']} |")


def _cost(c: dict) -> list[str]:
    lines = ["| Network | ms per slice (alone) | ms per slice (30-slice study) | ms per 30-slice study |",
             "|---|---|---|---|"]
    for name in ("ich_unet25d", "ich_unet25d_onnx_runtime", "ich_unet25d_v1", "reference_unet", "two_branch_net"):
        if name not in c:  # figures of an older evaluation
            continue
        r = c[name]
        lines.append(f"| {name} | {_f(r['ms_per_slice_single'], 1)} | {_f(r['ms_per_slice_in_study'], 1)} | "
                     f"{_f(r['ms_per_30_slice_study'], 0)} |")
    lines.append(f"\nTime against version 1 (3 channels, no skull rule, same run): "
                 f"{_f(c.get('slowdown_vs_version_1'), 2)}x "
                 f"({c['note']}). "
                 f"Running ours as one compiled graph instead of layer by layer: "
                 f"{_f(c.get('ich_unet25d_compiled_speedup'), 2)}x.")
    return lines


def write_model_card(metrics: dict, path: Path | None = None) -> Path:
    path = path or paths.models_dir() / "MODEL_CARD.md"
    template = (Path(__file__).parent / "model_card_template.md").read_text()
    manifest = read_manifest(shipped_network_path("final"))
    thresholds = manifest.thresholds
    text = template.format(
        name=manifest.name, version=manifest.version, preprocessing=manifest.input.describe(),
        mask_threshold=thresholds.mask, detection_threshold=thresholds.detection,
        min_lesion=thresholds.min_lesion_px, ours=OURS, refine=REFINE, tune=TUNE,
        cross_validation="\n".join(_cross_validation(metrics)),
        robustness="\n".join(_robustness(metrics)),
        decision="\n".join(_decision(metrics)),
        subtypes="\n".join(_subtypes(metrics)),
        density="\n".join(_density(metrics)),
        baselines="\n".join(_baselines(metrics.get("baselines") or {})),
        cost="\n".join(_cost(metrics["inference_cost"])),
        sha256="\n".join(_sha256_lines()),
        metrics_json=json.dumps({k: metrics[k] for k in ("per_patient_dice_mean", "slice_auc")}, default=str),
    )
    path.write_text(text)
    return path
