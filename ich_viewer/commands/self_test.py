"""`ich-viewer self-test` (or `--self-test`): prove that this installation works, with no network and no screen.

It opens the bundled sample in the real main window (offscreen), lets the
window segment it, checks the findings against what the shipped model is
known to find on the sample, and writes the report and every export to a
temporary folder, reading each one back. The DICOM SEG export needs a DICOM
source, so the sample is also written as a DICOM CT series and the mask is
exported against it. Settings and autosaved edits go to the temporary folder
too: the reader's own are never touched.

Exit code 0 when every check passed, 1 otherwise; each check prints one line.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

EXPECTED_FILE = "self_test_expected.json"  # beside the sample study: what the shipped model finds there
SAMPLE_SPACING_MM = (5.0, 0.5, 0.5)  # CT-ICH: about 5 mm slices, 0.4-0.5 mm pixels (its README)
SEGMENTATION_TIMEOUT_S = 300


class SelfTestFailure(Exception):
    pass


def add_parser(sub) -> None:
    p = sub.add_parser("self-test", help="check this installation offscreen on the sample study (open, "
                                         "segment, report, every export); exit 0 if all is well")
    p.add_argument("--keep", type=Path, default=None, help="write the outputs to this folder and keep them")
    p.set_defaults(run=lambda args: run_self_test(args.keep))


def run_self_test(keep: Path | None = None) -> int:
    """Run every check; keep: write the outputs there instead of a folder deleted afterwards."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ich-viewer-self-test-") as scratch, _isolated(Path(scratch)):
        out = keep or Path(scratch) / "outputs"
        out.mkdir(parents=True, exist_ok=True)
        try:
            checks = _run_checks(out, Path(scratch))
        except SelfTestFailure as failure:
            print(f"self-test FAILED: {failure}", flush=True)
            return 1
    print(f"self-test passed: {checks} checks in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


@contextmanager
def _isolated(scratch: Path):
    """Settings and autosaves of this run live in the scratch folder."""
    from PySide6.QtCore import QSettings

    from ich_viewer.ui.autosave import USER_DATA_ENV

    before = os.environ.get(USER_DATA_ENV)
    os.environ[USER_DATA_ENV] = str(scratch / "user_data")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(USER_DATA_ENV)
        else:
            os.environ[USER_DATA_ENV] = before


def _check(what: str, call: Callable[[], str]) -> None:
    """Run one check; it returns what it saw, or raises with what went wrong."""
    try:
        seen = call()
    except SelfTestFailure:
        raise
    except Exception as error:  # any failure of the installation is what the self-test reports
        raise SelfTestFailure(f"{what}: {type(error).__name__}: {error}") from error
    print(f"ok  {what}: {seen}", flush=True)


def _run_checks(out: Path, scratch: Path) -> int:
    from ich_viewer.study.loader import open_study
    from ich_viewer.ui.app import make_application, sample_study_path

    sample = sample_study_path()
    expected = json.loads((sample.parent / EXPECTED_FILE).read_text())
    app = make_application()
    state: dict = {}

    def open_sample() -> str:
        state["study"] = study = open_study(sample, spacing_mm=SAMPLE_SPACING_MM)
        return f"{study.n_slices} slices of {study.voxels.shape[2]} x {study.voxels.shape[1]}"

    def segment_in_window() -> str:
        state["review"] = review = _segmented_in_window(app, state["study"])
        return f"{review.result.model.label} on {review.result.device}"

    checks: list[tuple[str, Callable[[], str]]] = [
        ("open the sample study", open_sample),
        ("segment it in the main window (offscreen)", segment_in_window),
        ("findings as expected for the sample", lambda: _compare_findings(state["review"], expected)),
        ("PDF report", lambda: _write_report(state["review"], out)),
        ("NIfTI, CSV and key-image exports", lambda: _write_exports(state["review"], out)),
        ("DICOM SEG export, against the sample written as JPEG 2000 DICOM and read back",
         lambda: _write_dicom_seg(state["review"], out, scratch)),
    ]
    for what, call in checks:
        _check(what, call)
    return len(checks)


def _segmented_in_window(app, study):
    """Show the study in the main window and wait for its review (the worker thread's result).

    A message box the window raises (the model missing, segmentation failed) would wait
    for a click that never comes offscreen: it ends the wait with its text instead.
    """
    from PySide6.QtWidgets import QMessageBox

    from ich_viewer.ui.main_window import MainWindow

    told: list[str] = []

    def record(parent, title, text, *args, **kwargs):
        told.append(f"{title}: {text}")
        return QMessageBox.StandardButton.Cancel

    boxes = {kind: getattr(QMessageBox, kind) for kind in ("critical", "warning", "information", "question")}
    for kind in boxes:
        setattr(QMessageBox, kind, staticmethod(record))
    window = MainWindow()
    window.show()
    try:
        window.show_study(study)
        deadline = time.monotonic() + SEGMENTATION_TIMEOUT_S
        while window.review is None:
            if told:
                raise SelfTestFailure(f"the window said: {told[0]}")
            if time.monotonic() > deadline:
                raise SelfTestFailure(f"no segmentation after {SEGMENTATION_TIMEOUT_S} s")
            app.processEvents()
            time.sleep(0.01)
        return window.review
    finally:
        window.close()  # nothing was edited, so closing asks nothing
        app.processEvents()
        for kind, box in boxes.items():
            setattr(QMessageBox, kind, box)


def _compare_findings(review, expected: dict) -> str:
    """The shipped model's findings on the sample, to the tolerance in the expected file."""
    findings, model = review.findings, review.result.model
    if model.sha256 != expected["model_sha256"]:
        raise SelfTestFailure(f"the expected findings are for model {expected['model_sha256'][:12]}…, "
                              f"this installation runs {model.sha256[:12]}… ({model.label})")
    if findings.detected != expected["detected"]:
        raise SelfTestFailure(f"detected {findings.detected}, expected {expected['detected']}")
    if not findings.lesions:
        raise SelfTestFailure("no lesion found on the sample")
    largest = findings.lesions[0]
    want = expected["largest_lesion"]
    slices = [largest.slices[0], largest.slices[-1]]
    if slices != want["slices"]:
        raise SelfTestFailure(f"largest lesion on slices {slices}, expected {want['slices']}")
    if abs(largest.volume_ml - want["volume_ml"]) > want["tolerance_ml"]:
        raise SelfTestFailure(f"largest lesion {largest.volume_ml:.2f} mL, expected {want['volume_ml']} "
                              f"± {want['tolerance_ml']} mL")
    n = len(findings.lesions)
    return (f"detected, {n} lesion{'' if n == 1 else 's'}, the largest {largest.volume_ml:.1f} mL on slices "
            f"{slices[0] + 1}-{slices[1] + 1}")


def _write_report(review, out: Path) -> str:
    from ich_viewer.report.pdf import build_report

    pdf = build_report(review.study, review.findings, review.result, out / "report.pdf")
    head = pdf.read_bytes()[:5]
    if head != b"%PDF-":
        raise SelfTestFailure(f"{pdf} is not a PDF (starts {head!r})")
    return f"{pdf.name}, {pdf.stat().st_size // 1024} KiB"


def _write_exports(review, out: Path) -> str:
    import nibabel

    from ich_viewer.export.csv import export_findings_csv, export_lesions_csv
    from ich_viewer.export.nifti import export_image_nifti, export_mask_nifti
    from ich_viewer.export.png import export_key_images

    study, mask = review.study, review.mask
    mask_file = export_mask_nifti(study, mask, out / "mask.nii.gz", drawn_by=review.result.model.label)
    export_image_nifti(study, out / "ct.nii.gz")
    if int(nibabel.load(mask_file).get_fdata().sum()) != int(mask.sum()):
        raise SelfTestFailure(f"{mask_file} does not hold the mask's {int(mask.sum())} voxels")
    rows = export_findings_csv(study, review.findings, out / "per_slice.csv").read_text().count("\n")
    export_lesions_csv(study, review.findings, out / "lesions.csv")
    images = export_key_images(study, mask, out / "key_images")
    return f"2 NIfTI, 2 CSV ({rows} lines per slice), {len(images)} key images"


def _write_dicom_seg(review, out: Path, scratch: Path) -> str:
    import numpy as np
    import pydicom

    from ich_viewer.export.dicom_seg import export_dicom_seg
    from ich_viewer.study.loader import open_study

    series = _write_as_dicom(review.study, scratch / "sample_dicom")
    dicom_study = open_study(series)  # decoded as a compressed series is (study/jpeg2000.py)
    if dicom_study.voxels.shape != review.mask.shape:
        raise SelfTestFailure(f"the DICOM copy reads back as {dicom_study.voxels.shape}, not {review.mask.shape}")
    if not np.array_equal(dicom_study.voxels, np.round(review.study.voxels)):
        raise SelfTestFailure("the lossless JPEG 2000 copy of the sample reads back with other values")
    seg = export_dicom_seg(dicom_study, review.mask, out / "mask_seg.dcm", model=review.result.model)
    frames = int(pydicom.dcmread(seg).NumberOfFrames)
    return f"{seg.name}, {frames} frames"


def _write_as_dicom(study, folder: Path) -> Path:
    """The study's slices as a minimal CT series (display values as signed stored values), compressed as
    lossless JPEG 2000, as many archives send CT: reading it back checks the decoder of this installation."""
    import numpy as np
    from pydicom import Dataset
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, JPEG2000Lossless, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    dz, dy, dx = study.spacing_mm
    study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    for z, pixels in enumerate(study.voxels):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "SELF^TEST", "SELFTEST"
        ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20200101", 1, z + 1
        ds.ImagePositionPatient = [0.0, 0.0, z * dz]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing, ds.SliceThickness = [dy, dx], dz
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.PixelData = np.ascontiguousarray(pixels, dtype=np.int16).tobytes()
        ds.compress(JPEG2000Lossless, generate_instance_uid=False)
        ds.save_as(folder / f"{z + 1:04d}.dcm", enforce_file_format=True)
    return folder
