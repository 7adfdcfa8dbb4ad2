"""How figures and DICOM values are written in the report (no PDF code here)."""

from __future__ import annotations

import math
from pathlib import Path

from ich_viewer.analysis.annotations import readable_date, readable_name
from ich_viewer.analysis.edits import MaskEdits
from ich_viewer.analysis.findings import HemorrhageFindings
from ich_viewer.analysis.lesions import Lesion
from ich_viewer.study.model import DISPLAY_FULL_RANGE, Study, StudyMetadata, Window

SEX_NAMES = {"M": "male", "F": "female", "O": "other"}

# Shown beside every result, positive or negative: what the model is known to miss.
MISSED_BLEEDS_NOTICE = ("Hypodense, isodense and small bleeds may be missed: "
                        "read every slice; a negative result does not rule hemorrhage out.")
# The score says how sure the model is that a bleed is present, nothing about the outline.
SCORE_MEANING = "confidence that a bleed is present, not that the outline is complete"
HIGH_CONFIDENCE = 0.9


def format_ml(volume_ml: float) -> str:
    """Volumes as radiologists quote them: one decimal from 10 mL, two below."""
    return f"{volume_ml:.1f} mL" if volume_ml >= 10 else f"{volume_ml:.2f} mL"


def format_cm2(area_cm2: float) -> str:
    return f"{area_cm2:.2f} cm²"


def format_mm(length_mm: float) -> str:
    return f"{length_mm:.1f} mm"


def format_sex(value: str) -> str:
    return SEX_NAMES.get(value.strip().upper(), value.strip())


def format_window(window: Window, study: Study) -> str:
    if not study.is_hu and window == DISPLAY_FULL_RANGE:
        return "as stored in the 8-bit images"
    units = " HU" if study.is_hu else ""
    return f"L {window.level:g} / W {window.width:g}{units}"


def format_spacing(study: Study) -> str:
    if study.spacing_mm is None:
        return "unknown"
    dz, dy, dx = study.spacing_mm
    return f"{dy:.3g} × {dx:.3g} mm in plane, {dz:.3g} mm between slices"


def slice_name(study: Study, z: int) -> str:
    """'slice 14 of 30', or 'slice 14 (image 13 of 30)' when labels are not simply 1..n."""
    label = study.slice_labels[z]
    if label == str(z + 1):
        return f"slice {label} of {study.n_slices}"
    return f"slice {label} (image {z + 1} of {study.n_slices})"


def slice_ranges(study: Study, indices: list[int]) -> str:
    """Slice labels with consecutive runs collapsed: 'slices 12–15, 18'."""
    runs: list[list[int]] = []
    for z in sorted(indices):
        if runs and z == runs[-1][-1] + 1:
            runs[-1].append(z)
        else:
            runs.append([z])
    labels = study.slice_labels
    return ", ".join(labels[r[0]] if len(r) == 1 else f"{labels[r[0]]}–{labels[r[-1]]}" for r in runs)


def source_text(study: Study) -> str:
    """Where the study was read from, as an absolute path (the report outlives the working folder)."""
    return str(Path(study.source).resolve())


def spacing_is_estimate(study: Study) -> bool:
    """8-bit images carry no spacing: any spacing they have was typed in by the reader."""
    return study.spacing_mm is not None and not study.is_hu


def volume_unavailable_reason(study: Study) -> str:
    if study.is_hu:
        return "not available: pixel spacing not recorded in the DICOM headers"
    return "not available: pixel spacing unknown (8-bit images)"


def volume_text(study: Study, findings: HemorrhageFindings) -> str:
    if findings.volume_ml is None:
        if findings.spacing_mm is None:
            return volume_unavailable_reason(study)  # says which kind of study lacks it
        return findings.volume_note or "not measured"
    count = len(findings.lesions)
    text = f"{format_ml(findings.volume_ml)} ({_lesion_count(count)}; voxel count × voxel volume)"
    if spacing_is_estimate(study):
        text += "; estimate: spacing entered for 8-bit images, not read from DICOM"
    return text


def _lesion_count(count: int) -> str:
    return "no lesion" if count == 0 else f"{count} lesion{'s' if count != 1 else ''}"


def lesions_text(findings: HemorrhageFindings) -> str:
    """'2 lesions', with the largest's volume when there is one."""
    lesions = findings.lesions
    if not lesions:
        return "none outlined"
    text = _lesion_count(len(lesions))
    if len(lesions) > 1 and lesions[0].volume_ml is not None:
        text += f", the largest {format_ml(lesions[0].volume_ml)}"
    return text


def lesion_location(lesion: Lesion) -> str:
    return lesion.side or "side not known"


def lesion_volume_text(lesion: Lesion) -> str:
    return "—" if lesion.volume_ml is None else format_ml(lesion.volume_ml)


def lesion_area_text(lesion: Lesion) -> str:
    if lesion.largest_area_cm2 is None:
        return f"{lesion.largest_area_px} px"
    return format_cm2(lesion.largest_area_cm2)


def lesion_thickness_text(lesion: Lesion) -> str:
    """The greatest in-plane thickness ('12 mm'), or a dash without the pixel spacing."""
    return "—" if lesion.max_thickness_mm is None else f"{lesion.max_thickness_mm:.0f} mm"


def lesion_hu_text(lesion: Lesion) -> str:
    return "—" if lesion.mean_hu is None else f"{lesion.mean_hu:.0f} HU"


def lesion_abc2_text(lesion: Lesion) -> str:
    """'27.3 mL (A 52.1 × B 35.0 × C 30.0 mm / 2)', or why ABC/2 is not given."""
    if lesion.abc2_ml is None:
        if lesion.abc2_note:
            return lesion.abc2_note
        return "not available: voxel size unknown"
    a, b, c = lesion.abc2_axes_mm
    return f"{format_ml(lesion.abc2_ml)} (A {a:.0f} × B {b:.0f} × C {c:.0f} mm / 2)"


def lesion_slices_text(study: Study, lesion: Lesion) -> str:
    return slice_ranges(study, lesion.slices)


def lesion_summary(study: Study, lesion: Lesion) -> str:
    """One line per lesion for a list: number, side, slices, volume, area, thickness, ABC/2."""
    return (f"{lesion.number}. {lesion_location(lesion)}, slices {lesion_slices_text(study, lesion)}: "
            f"{lesion_volume_text(lesion)}, largest {lesion_area_text(lesion)}, thickest "
            f"{lesion_thickness_text(lesion)}; ABC/2 {lesion_abc2_text(lesion)}")


def largest_area_text(study: Study, findings: HemorrhageFindings) -> str:
    if findings.largest_area_slice is None:
        return "none"
    label = study.slice_labels[findings.largest_area_slice]
    if findings.largest_area_cm2 is None:
        return f"{findings.largest_area_px} pixels on slice {label} (cm² need the pixel spacing)"
    return f"{format_cm2(findings.largest_area_cm2)} on slice {label}"


def confidence_words(score: float, threshold: float) -> str:
    """The detection score in words; below the threshold nothing sounds like an all-clear."""
    score = round(float(score), 2)  # judged as shown: "0.90" must not read "moderate"
    if score >= HIGH_CONFIDENCE:
        return "high"
    if score >= threshold:
        return "moderate"
    if score >= threshold / 2:
        return "low (borderline)"
    return "very low"


def detection_text(findings: HemorrhageFindings) -> str:
    """'Detected: confidence high (score 0.93, threshold 0.50)'."""
    verdict = "Detected" if findings.detected else "Not detected"
    if findings.detection_score is None:
        return f"{verdict} (no detection score: judged from the mask)"
    score, threshold = findings.detection_score, findings.detection_threshold
    words = confidence_words(score, threshold)
    text = f"{verdict}: confidence {words} (score {score:.2f}, threshold {threshold:.2f})"
    if findings.detected and findings.voxel_count == 0:
        # The score is the model's; the reader erased its outline, so nothing is measured.
        text += "; the accepted mask is empty"
    return text


def reference_text(findings: HemorrhageFindings) -> str | None:
    """Agreement with a reference mask, for the comparison view (None without a reference)."""
    if findings.dice_study is None:
        return None
    if findings.reference_voxel_count == 0:
        outlined = "the model's mask is empty too" if findings.voxel_count == 0 else "Dice is 0 by definition"
        return f"reference: no hemorrhage ({outlined})"
    if math.isnan(findings.dice_study):
        return "both empty"
    return f"Dice {findings.dice_study:.2f} (whole study)"


def format_metric(value) -> str | None:
    """A validation figure from metrics.json, whatever shape it came in; None if unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)  # counts (patients, folds)
    if isinstance(value, float):
        return f"{value:.3f}" if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:80]
    if isinstance(value, dict):
        main = format_metric(value.get("mean", value.get("value")))
        interval = value.get("ci95") or value.get("ci")
        if main and isinstance(interval, (list, tuple)) and len(interval) == 2:
            low, high = (format_metric(v) for v in interval)
            if low and high:
                return f"{main} (95% CI {low}–{high})"
        return main
    return None


def edits_text(edits: MaskEdits | None, from_model: bool) -> str:
    if edits is None or not edits.edited:
        if from_model:
            return "none: the mask is the model's output"
        return "mask not produced by the model in this session"
    text = f"edited by the reader: {edits.voxels_added} voxels added, {edits.voxels_removed} removed"
    if edits.volume_before_ml is not None and edits.volume_after_ml is not None:
        before, after = format_ml(edits.volume_before_ml), format_ml(edits.volume_after_ml)
        text += f"; volume {before} before edits, {after} after"
    return text


def identifying_rows(metadata: StudyMetadata) -> list[tuple[str, str]]:
    """Patient and study identifiers present in the metadata (all left out when anonymising)."""
    rows = [
        ("Patient", readable_name(metadata.patient_name)),
        ("Patient ID", metadata.patient_id.strip()),
        ("Birth date", readable_date(metadata.birth_date)),
        ("Sex", format_sex(metadata.sex)),
        ("Study date", readable_date(metadata.study_date)),
        ("Accession", metadata.accession_number.strip()),
        ("Study", metadata.study_description.strip()),
        ("Series", metadata.series_description.strip()),
        ("Institution", metadata.institution.strip()),
    ]
    return [(label, value) for label, value in rows if value]
