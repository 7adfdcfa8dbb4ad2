"""The PDF report, checked the way a reader sees it: pages, text, images and fonts (poppler)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from ich_viewer.analysis import compute_findings, compute_study_findings
from ich_viewer.atomic import ExportError
from ich_viewer.report import build_report
from ich_viewer.study.qc import QcKind, QcWarning
from tests.factories.synthetic_ct import (
    FAKE_SHA256,
    PATIENT_ID,
    display_study,
    fake_segmentation,
    hematoma_phantom,
    memory_dicom_study,
)

# A folder named after the patient, as PACS exports often are.
PATIENT_NAMED_FILE = "TESTPATIENT_ALICE/IM0003.dcm"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts", "pdfimages", "pdfinfo")),
    reason="poppler-utils (pdftotext, pdftoppm, pdffonts, pdfimages, pdfinfo) not installed",
)

SPACING = (5.0, 0.45, 0.45)
METRICS = {"per_patient_dice_mean": 0.712, "slice_auc": {"mean": 0.951, "ci95": [0.93, 0.97]},
           "patient_sensitivity": 0.91, "patient_specificity": 0.88, "n_patients": 82,
           "notes": None, "per_fold": [0.7, 0.72]}


def poppler(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def pdf_text(path) -> str:
    """The report's text with line breaks and runs of spaces as single spaces."""
    return " ".join(poppler("pdftotext", str(path), "-").split())


def quoted_ml(volume_ml: float, text: str) -> bool:
    return f"{volume_ml:.1f} mL" in text or f"{volume_ml:.2f} mL" in text


def page_count(path) -> int:
    info = poppler("pdfinfo", str(path))
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def image_rows(path) -> list[list[str]]:
    """pdfimages -list rows: page num type width height color comp bpc enc interp object ID x-ppi y-ppi ..."""
    return [line.split() for line in poppler("pdfimages", "-list", str(path)).splitlines()[2:]]


def font_rows(path) -> list[list[str]]:
    return [line.split() for line in poppler("pdffonts", str(path)).splitlines()[2:]]


def red_pixels(png_path) -> int:
    import cv2

    bgr = cv2.imread(str(png_path))
    b, g, r = (bgr[..., i].astype(int) for i in range(3))
    return int(((r > 180) & (g < 80) & (b < 80)).sum())


@pytest.fixture(scope="module")
def dicom_case():
    volume, mask = hematoma_phantom(n_slices=12, size=256)
    study = memory_dicom_study(volume, SPACING)
    study.warnings += (QcWarning(QcKind.SKIPPED_FILES, "Skipped 1 file: permission denied.",
                                 (PATIENT_NAMED_FILE,)),)
    segmentation = fake_segmentation(mask)
    return study, segmentation, compute_study_findings(study, segmentation)


@pytest.fixture(scope="module")
def dicom_report(dicom_case, tmp_path_factory):
    study, segmentation, findings = dicom_case
    return build_report(study, findings, segmentation, tmp_path_factory.mktemp("r") / "report.pdf", metrics=METRICS)


@pytest.fixture(scope="module")
def anonymised_report(dicom_case, tmp_path_factory):
    study, segmentation, findings = dicom_case
    out = tmp_path_factory.mktemp("anon") / "report.pdf"
    return build_report(study, findings, segmentation, out, anonymise=True, metrics=METRICS)


def test_pages_are_numbered(dicom_report):
    text = pdf_text(dicom_report)
    assert page_count(dicom_report) == 4  # summary, 2 pages of key images, input and method
    for page in range(1, 5):
        assert f"page {page} of 4" in text


def test_key_images_are_embedded_sharp_and_outlined(dicom_report, tmp_path):
    images = image_rows(dicom_report)
    assert len(images) == 12  # 6 key slices, each without and with the outline
    # 256-pixel slices are enlarged so that the printed images keep >= 150 dpi
    assert min(int(row[12]) for row in images) >= 150
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(dicom_report), str(tmp_path / "page")], check=True, timeout=60)
    assert red_pixels(tmp_path / "page-2.png") > 50  # red hemorrhage outlines
    assert red_pixels(tmp_path / "page-4.png") == 0  # method page: no images


def test_text_gives_the_figures(dicom_case, dicom_report):
    _study, segmentation, findings = dicom_case
    text = pdf_text(dicom_report)
    volume_ml = segmentation.mask.sum() * 5.0 * 0.45 * 0.45 / 1000
    assert quoted_ml(volume_ml, text)
    # The lesion table: the largest lesion's own ABC/2, and the standing notice.
    assert "Lesions (3-D connected), largest first" in text
    largest = findings.lesions[0]
    assert quoted_ml(largest.volume_ml, text)
    assert largest.abc2_ml is None or quoted_ml(largest.abc2_ml, text)
    assert "may be missed" in text
    assert FAKE_SHA256 in text
    assert "Detected: confidence high (score 0.92" in text
    assert "TESTPATIENT, ALICE" in text and PATIENT_ID in text and "1954-03-17" in text
    assert "Dice per patient (mean)" in text and "0.712" in text and "95% CI 0.930–0.970" in text
    assert "confirmed by a radiologist" in text
    assert "ICH Viewer 0.1.0" in text


def test_fonts_are_embedded(dicom_report):
    rows = font_rows(dicom_report)
    assert rows and all("DejaVuSans" in row[0] for row in rows)
    assert all(row[-5] == "yes" for row in rows)  # the 'emb' column


def test_anonymised_report_has_no_identifiers(dicom_case, anonymised_report):
    study = dicom_case[0]
    text = pdf_text(anonymised_report) + poppler("pdfinfo", str(anonymised_report))
    metadata = study.metadata
    for identifier in ("TESTPATIENT", "ALICE", PATIENT_ID, metadata.accession_number, "1954-03-17",
                       "2024-02-11", metadata.institution, str(study.source)):
        assert identifier not in text, identifier
    assert "Anonymised" in text
    assert FAKE_SHA256 in text  # the method stays


def test_warnings_name_their_files_unless_anonymised(dicom_report, anonymised_report):
    named, anonymised = pdf_text(dicom_report), pdf_text(anonymised_report)
    assert f"Skipped 1 file: permission denied. File: {PATIENT_NAMED_FILE}." in named
    assert "Skipped 1 file: permission denied." in anonymised  # the problem is still reported
    assert "IM0003.dcm" not in anonymised and "TESTPATIENT" not in anonymised


def test_8bit_study_without_spacing_says_why_there_is_no_volume(tmp_path):
    volume, mask = hematoma_phantom(n_slices=6, size=128)
    study = display_study(volume)
    findings = compute_findings(mask, None, slice_scores=mask.max(axis=(1, 2)).astype(float))
    path = build_report(study, findings, fake_segmentation(mask), tmp_path / "report.pdf", metrics={})
    text = pdf_text(path)
    assert "not available: pixel spacing unknown (8-bit images)" in text
    assert not re.search(r"\d mL", text)  # no volume, not even 0 mL
    assert "8-bit display images" in text and "pixels on slice" in text
    assert min(int(row[12]) for row in image_rows(path)) >= 150


def test_8bit_study_report_says_how_its_export_window_is_known(tmp_path):
    volume, mask = hematoma_phantom(n_slices=4, size=64)
    study = display_study(volume)
    study.export_window_note = "set by the reader: L50/W150"
    findings = compute_findings(mask, None, slice_scores=mask.max(axis=(1, 2)).astype(float))
    path = build_report(study, findings, fake_segmentation(mask), tmp_path / "report.pdf", metrics={})
    assert "Export window set by the reader: L50/W150" in pdf_text(path)


def test_reader_edits_are_reported(dicom_case, tmp_path):
    study, segmentation, _ = dicom_case
    edited = segmentation.mask.copy()
    edited[5] = False  # the reader removed one slice of the outline
    findings = compute_study_findings(study, segmentation, mask=edited)
    text = pdf_text(build_report(study, findings, segmentation, tmp_path / "report.pdf", metrics={}))
    removed = int(segmentation.mask[5].sum())
    assert f"edited by the reader: 0 voxels added, {removed} removed" in text
    assert "before edits" in text


def test_no_hemorrhage(tmp_path):
    volume, _ = hematoma_phantom(n_slices=4, size=64)
    empty = np.zeros(volume.shape, bool)
    study = memory_dicom_study(volume, SPACING)
    segmentation = fake_segmentation(empty)
    findings = compute_study_findings(study, segmentation)
    path = build_report(study, findings, segmentation, tmp_path / "report.pdf", metrics={})
    text = pdf_text(path)
    assert "Not detected" in text and "No hemorrhage segmented" in text
    assert image_rows(path) == []


def test_missing_metrics_file_says_not_available(dicom_case, tmp_path, monkeypatch):
    study, segmentation, findings = dicom_case
    monkeypatch.setenv("ICH_VIEWER_MODELS", str(tmp_path / "no-models"))
    text = pdf_text(build_report(study, findings, segmentation, tmp_path / "report.pdf"))
    assert "Validation figures: not available (metrics.json not found)" in text


def test_metrics_file_is_read(dicom_case, tmp_path, monkeypatch):
    study, segmentation, findings = dicom_case
    (tmp_path / "metrics.json").write_text(json.dumps({"patient_sensitivity": 0.875, "odd": [1]}))
    monkeypatch.setenv("ICH_VIEWER_MODELS", str(tmp_path))
    text = pdf_text(build_report(study, findings, segmentation, tmp_path / "out" / "report.pdf"))
    assert "Patient-level sensitivity" in text and "0.875" in text


def test_markup_in_names_is_printed_literally(dicom_case, tmp_path):
    study, segmentation, findings = dicom_case
    study = memory_dicom_study(study.voxels, SPACING)
    study.metadata.patient_name = "O'BRIEN & <SONS>^JO"
    text = pdf_text(build_report(study, findings, segmentation, tmp_path / "report.pdf", metrics={}))
    assert "O'BRIEN & <SONS>, JO" in text


def test_report_is_not_written_into_the_study_folder(dicom_case, tmp_path):
    study, segmentation, findings = dicom_case
    study = memory_dicom_study(study.voxels, SPACING, source=tmp_path)
    with pytest.raises(ExportError, match="study's own folder"):
        build_report(study, findings, segmentation, tmp_path / "report.pdf", metrics={})
    build_report(study, findings, segmentation, tmp_path / "report.pdf", metrics={}, allow_study_folder=True)
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temporary file left


def test_reader_measurements_are_reported(dicom_case, tmp_path):
    study, segmentation, _ = dicom_case
    findings = compute_study_findings(study, segmentation)
    lines = ("Slice 4 · ruler 31.5 mm", "Slice 5 · ROI 1.20 cm²: mean 62.0 HU, SD 3.1, min 55, max 70")
    text = pdf_text(build_report(study, findings, segmentation, tmp_path / "report.pdf", metrics={},
                                 measurements=lines))
    assert "Measurements by the reader" in text
    assert "ruler 31.5 mm" in text and "mean 62.0 HU, SD 3.1, min 55, max 70" in text
