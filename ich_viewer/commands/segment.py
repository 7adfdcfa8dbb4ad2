"""`ich-viewer segment PATH... --out DIR`: segment many studies headless.

For each study (a DICOM folder, an image folder, a CT-ICH patient, or every
study inside a folder of studies) it writes, in DIR/<study name>/:
  mask.nii.gz         the mask, when the voxel spacing is known, or
  mask/<slice>.png    one 0/255 PNG per slice otherwise
  slices.csv          per-slice areas (and Dice against a reference mask)
  findings.json       the findings panel's numbers, the model and the input QC
findings.json is written last, so its presence marks a complete study: a
re-run skips those unless --force, and removes the temporary files a killed
run left. A study that fails is reported and the batch goes on; the exit code
is 1 if any failed, 2 if the model or the output folder is unusable (DIR inside
an input folder, or not writable: refused before any study is read).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ich_viewer import __version__
from ich_viewer.atomic import (
    ExportError,
    ensure_outside_study_folder,
    remove_stale_temps,
    study_folder,
    write_atomic,
)
from ich_viewer.commands import reading
from ich_viewer.commands.reading import MODEL_HELP

if TYPE_CHECKING:
    import numpy as np

    from ich_viewer.study.model import Study

# numpy, pydicom and the exports are imported by the functions that use them, so that
# `ich-viewer` (whose parser lists this command) starts the viewer without waiting for them.

EXIT_OK, EXIT_SOME_FAILED, EXIT_NO_MODEL, EXIT_UNUSABLE_OUT = 0, 1, 2, 2
FINDINGS_FILE = "findings.json"
MASK_FOLDER = "mask"
# Written and removed once before the first study, to learn that --out takes files.
WRITE_PROBE = ".ich-viewer-write-test"


@dataclass(frozen=True)
class BatchItem:
    study_path: Path
    name: str  # output folder name, unique within the batch


def collect_studies(paths: list[str]) -> list[BatchItem]:
    """Every study under the given paths, each with an output folder name of its own.

    A study is named by its path below the given folder (or the given folder's
    name); two studies that would share a name (p1/CT and p2/CT) take as many of
    their parent folders' names as it needs to tell them apart (p1_CT, p2_CT), so
    one never passes for the other, already done.
    """
    from ich_viewer.study.loader import find_studies

    parts_used: dict[Path, int] = {}  # study -> how many trailing path parts name it
    stems: dict[Path, str] = {}  # a single file is named without its suffix
    for given in map(Path, paths):
        if given.is_file():
            parts_used.setdefault(given.resolve(), 1)
            stems[given.resolve()] = given.stem
            continue
        for study in find_studies(given) or [given]:
            parts_used.setdefault(study.resolve(), max(1, len(study.relative_to(given).parts)))
    names = _unique_names(parts_used, stems)
    return [BatchItem(path, names[path]) for path in parts_used]


def _unique_names(parts_used: dict[Path, int], stems: dict[Path, str]) -> dict[Path, str]:
    def name(path: Path) -> str:
        parts = [*path.parent.parts[1:], stems.get(path, path.name)]
        return "_".join(parts[-parts_used[path]:]) or "study"

    while True:
        names = {path: name(path) for path in parts_used}
        taken = list(names.values())
        clashes = [p for p, n in names.items() if taken.count(n) > 1 and parts_used[p] < len(p.parts) - 1]
        if not clashes:
            return names
        for path in clashes:
            parts_used[path] += 1


def write_not_hu(study: Study, out_dir: Path) -> dict:
    """No mask and no verdict, only findings.json saying why (the values are not HU)."""
    from ich_viewer.study.model import NOT_HU_RESULT

    record = {"findings": None, "verdict": None,
              "not_hu": f"{NOT_HU_RESULT} ({study.not_hu_reason}).",
              "input": _input_record(study), "program": f"ICH Viewer {__version__}"}
    _write_findings(study, record, out_dir)
    return record


def _write_findings(study: Study, record: dict, out_dir: Path) -> None:
    dest = out_dir / FINDINGS_FILE
    ensure_outside_study_folder(dest, study.source)
    write_atomic(dest, json.dumps(record, indent=1).encode())


def _input_record(study: Study) -> dict:
    return {"source": str(study.source), "description": study.description,
            "units": study.units.value, "n_slices": study.n_slices,
            "spacing_mm": list(study.spacing_mm) if study.spacing_mm else None,
            # 8-bit studies: the HU window the images were read through, and how it is known.
            "export_window": (None if study.export_window is None else
                              {"level": study.export_window.level, "width": study.export_window.width,
                               "note": study.export_window_note}),
            "bone_window": study.is_hu or study.bone_voxels is not None,
            "warnings": [{"kind": w.kind.value, "text": w.text, "files": list(w.files)} for w in study.warnings]}


def write_outputs(read: reading.Reading, out_dir: Path) -> dict:
    """Mask, per-slice CSV, then findings.json (the completion marker)."""
    from ich_viewer.export.csv import export_findings_csv
    from ich_viewer.export.nifti import export_mask_nifti

    study, segmentation, findings = read.study, read.segmentation, read.findings
    if study.spacing_mm is not None:
        export_mask_nifti(study, segmentation.mask, out_dir / "mask.nii.gz", drawn_by=segmentation.model.label)
    else:
        _write_png_masks(study, segmentation.mask, out_dir / MASK_FOLDER)
    export_findings_csv(study, findings, out_dir / "slices.csv")
    record = {
        "findings": findings.to_dict(),
        "model": {"name": segmentation.model.name, "file": segmentation.model.file,
                  "version": segmentation.model.version,
                  "sha256": segmentation.model.sha256, "threshold": segmentation.model.threshold,
                  "detection_threshold": segmentation.model.detection_threshold,
                  "device": segmentation.device},
        "verdict": "hemorrhage" if findings.detected else "no hemorrhage",
        "input": _input_record(study),
        "program": f"ICH Viewer {__version__}",
    }
    _write_findings(study, record, out_dir)
    return record


def _write_png_masks(study: Study, mask: np.ndarray, folder: Path) -> None:
    import numpy as np

    from ich_viewer.rendering import encode_png

    for label, slice_mask in zip(study.slice_labels, mask):
        dest = folder / f"{label}.png"
        ensure_outside_study_folder(dest, study.source)
        write_atomic(dest, encode_png(slice_mask.astype(np.uint8) * 255))


def _progress_line(done: int, total: int, name: str, status: str) -> str:
    width = 30
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} {name}: {status}"


def add_parser(sub) -> None:
    p = sub.add_parser("segment", help="segment studies headless and write masks and findings")
    p.add_argument("paths", nargs="+")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--force", action="store_true", help="redo studies whose outputs exist")
    p.add_argument("--cpu", action="store_true", help="never use a GPU")
    p.add_argument("--model", help=MODEL_HELP)
    p.set_defaults(run=lambda args: run_batch(args.paths, args.out, args.force, args.cpu, args.model))


def run_batch(paths: list[str], out: str, force: bool = False, force_cpu: bool = False,
              model: str | None = None) -> int:
    items = collect_studies(paths)
    if not items:
        print("ich-viewer segment: no studies found", file=sys.stderr)
        return EXIT_SOME_FAILED
    refusal = _out_refusal(paths, items, Path(out))
    if refusal:
        print(f"ich-viewer segment: {refusal}", file=sys.stderr)
        return EXIT_UNUSABLE_OUT
    engine = reading.load_engine(force_cpu, "segment", model)
    if engine is None:
        return EXIT_NO_MODEL
    failed = []
    for k, item in enumerate(items, start=1):
        status = _run_one(item, engine, Path(out), force)
        if status.startswith("FAILED"):
            failed.append(item.name)
        print(_progress_line(k, len(items), item.name, status), flush=True)
    print(f"{len(items) - len(failed)} of {len(items)} studies done; outputs in {out}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


def _out_refusal(paths: list[str], items: list[BatchItem], out: Path) -> str:
    """Why --out cannot take the outputs ("" when it can), said before any study is read."""
    return _inside_input(paths, items, out) or _unwritable(out)


def _inside_input(paths: list[str], items: list[BatchItem], out: Path) -> str:
    """Outputs inside an input folder would be read back as slices or studies next time."""
    # The studies too: one reached through a link lies outside the folder given. A path
    # that does not exist holds nothing to protect (its study fails, naming it).
    sources = [Path(source) for source in [*paths, *(item.study_path for item in items)]]
    inputs = {study_folder(source) for source in sources if source.exists()}
    for folder in [out, *(out / item.name for item in items)]:
        folder = folder.resolve()
        inside = inputs.intersection([folder, *folder.parents])
        if inside:
            return (f"--out {out}: the outputs would be written inside the input folder "
                    f"{min(inside)}, which is never written to. Choose an --out folder outside it.")
    return ""


def _unwritable(out: Path) -> str:
    """Create --out and write a file in it now, not after segmenting the first study."""
    probe = out / WRITE_PROBE
    try:
        write_atomic(probe, b"")
        probe.unlink()
    except (ExportError, OSError) as error:
        return f"--out {out} cannot be used: {error}"
    return ""


def _run_one(item: BatchItem, engine, out: Path, force: bool) -> str:
    """One study's status line; any failure is reported and the batch goes on."""
    from ich_viewer.study import loader
    from ich_viewer.study.dicom_volume import is_decoder_failure
    from ich_viewer.study.errors import StudyLoadError

    out_dir = out / item.name
    done_before = _done_before(out_dir, item)
    if done_before.startswith("FAILED"):
        return done_before  # another study's folder: not ours to clean either
    for folder in (out_dir, out_dir / MASK_FOLDER):
        remove_stale_temps(folder)  # left by a run killed mid-write, even when the study is done
    if done_before and not force:
        return done_before
    started = time.perf_counter()
    try:
        read = reading.segment_and_measure(loader.open_study(item.study_path), engine)
        if read.findings is None:
            return write_not_hu(read.study, out_dir)["not_hu"]
        record = write_outputs(read, out_dir)
    except (StudyLoadError, ExportError, OSError) as error:
        return f"FAILED: {error}"
    except BaseException as error:  # a decoder's own error or panic: this study only
        if not is_decoder_failure(error):
            raise
        return f"FAILED: {item.study_path}: unexpected {type(error).__name__} ({error})"
    return f"{record['verdict']} ({time.perf_counter() - started:.1f} s)"


def _done_before(out_dir: Path, item: BatchItem) -> str:
    """"done before, skipped" when out_dir holds this study's outputs; a failure when another's."""
    try:
        record = json.loads((out_dir / FINDINGS_FILE).read_text())
    except (OSError, ValueError):
        return ""  # absent or half-written: (re)do it
    source = record.get("input", {}).get("source", "") if isinstance(record, dict) else ""
    if source and Path(source).resolve() != item.study_path:
        return (f"FAILED: {out_dir} holds the outputs of another study ({source}); "
                "choose another --out folder")
    return "done before, skipped"
