"""The shipped networks: checksums, a real hemorrhage found, JPG and HU paths agreeing."""

import subprocess

import numpy as np
import pydicom
import pytest

from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.model_file import (
    ModelFileError,
    file_sha256,
    manifest_path,
    read_manifest,
    shipped_network_path,
)
from ich_viewer.segmentation.preprocessing import to_unit_range
from ich_viewer.study.model import Study, Units
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.evaluate import study_of
from ich_viewer.training.folds import N_FOLDS
from ich_viewer.training.metrics import dice

SHIPPED = ["final"] + [f"fold{k}" for k in range(N_FOLDS)]


@pytest.fixture(scope="module")
def engine():
    engine = SegmentationEngine(force_cpu=True)
    engine.load()
    return engine


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_match_their_manifest(name):
    path = shipped_network_path(name)
    manifest = read_manifest(path)
    assert manifest.sha256 == file_sha256(path) and manifest.weights == path.name
    assert manifest.training


def _copy_of_final(folder):
    weights = folder / "ich_unet25d_final.keras"
    weights.write_bytes(shipped_network_path("final").read_bytes())
    manifest_path(weights).write_text(manifest_path(shipped_network_path("final")).read_text())
    return weights


def test_a_corrupted_network_file_is_refused(tmp_path):
    fake = _copy_of_final(tmp_path)
    with open(fake, "r+b") as f:
        f.seek(100)
        f.write(b"corrupt")
    with pytest.raises(ModelFileError, match="does not match"):
        SegmentationEngine(fake).load()


def test_finds_a_large_hemorrhage(engine, ct_ich_dir):
    # Patient 066, slice 19: a large epidural hemorrhage.
    patient = next(p for p in read_patients(ct_ich_dir) if p.patient == 66)
    result = engine.segment(study_of(patient))
    z = patient.slice_numbers.index(19)
    reference = patient.load_masks()[z]
    assert result.slice_scores[z] >= result.model.detection_threshold
    assert result.detected
    assert dice(result.mask[z], reference) > 0.5


def _hu_and_jpg_studies(hu_subset_dir, ct_ich_dir, name):
    """The HU slice and the CT-ICH JPG showing the same slice, as one-slice studies.

    The subset's slice numbers do not always follow the JPG numbering, so the JPG is
    found by content: the slice closest to the HU slice rendered in the brain window.
    """
    import cv2

    patient = int(name.split("_")[0])
    hu = pydicom.dcmread(hu_subset_dir / "images" / f"{name}.dcm").pixel_array.astype(np.float32)
    # The subset's NIfTI export is turned against the JPGs: a 90-degree turn lines them up.
    hu = np.ascontiguousarray(np.rot90(hu))
    ct_ich = next(p for p in read_patients(ct_ich_dir) if p.patient == patient)
    jpgs = ct_ich.load_slices().astype(np.float32)
    rendered = cv2.resize(to_unit_range(hu, Units.HU) * 255, jpgs.shape[:0:-1])
    difference = np.abs(jpgs - rendered).mean(axis=(1, 2))
    z = int(difference.argmin())
    assert difference[z] < 15, f"{name}: no CT-ICH JPG matches (closest differs by {difference[z]:.0f} grey levels)"
    bone = ct_ich.load_bone_slices()[z:z + 1].astype(np.float32)  # the JPG study's bone window
    return (Study(hu[None], Units.HU, None, hu_subset_dir),
            Study(jpgs[z:z + 1], Units.DISPLAY, None, ct_ich_dir, bone_voxels=bone))


def test_jpg_and_hu_paths_give_the_same_mask(engine, hu_subset_dir, ct_ich_dir):
    """Same slice, HU DICOM vs 8-bit JPG: the shared preprocessing makes the masks agree.

    Scored as Dice pooled over the 26 slices and as the median slice Dice: a few
    slices with small, borderline findings (and a JPG that differs more from its HU
    source, 050_21) disagree more, and a per-slice mean would be ruled by them.
    """
    import cv2

    intersection = total = 0
    dices = []
    for path in sorted((hu_subset_dir / "images").glob("*.dcm")):
        hu_study, jpg_study = _hu_and_jpg_studies(hu_subset_dir, ct_ich_dir, path.stem)
        hu_mask = engine.segment(hu_study).mask[0]
        jpg_mask = engine.segment(jpg_study).mask[0]
        hu_on_jpg_grid = cv2.resize(hu_mask.astype(np.uint8), jpg_mask.shape[::-1],
                                    interpolation=cv2.INTER_NEAREST).astype(bool)
        intersection += int((hu_on_jpg_grid & jpg_mask).sum())
        total += int(hu_on_jpg_grid.sum() + jpg_mask.sum())
        dices.append(dice(hu_on_jpg_grid, jpg_mask))
    assert sum(not np.isnan(d) for d in dices) >= 20  # something found on (nearly) all 26 bleeds
    assert 2 * intersection / total >= 0.9
    assert np.nanmedian(dices) >= 0.9, dices


def test_report_of_the_sample_study(tmp_path):
    """`ich-viewer report` on the bundled sample, with the shipped network, read back with poppler."""
    from ich_viewer.cli import main
    from ich_viewer.ui.app import sample_study_path
    from tests.report.test_report_pdf import font_rows, page_count, pdf_text, red_pixels

    out = tmp_path / "sample.pdf"
    assert main(["report", str(sample_study_path()), "--out", str(out), "--cpu"]) == 0
    text = pdf_text(out)
    assert "not available" in text  # 8-bit JPGs: no spacing, so no mL
    assert file_sha256(shipped_network_path("final")) in text.replace(" ", "")
    assert page_count(out) >= 2
    assert all(row[-5] == "yes" for row in font_rows(out))  # the 'emb' column
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "2", "-l", "2", str(out), str(tmp_path / "p")],
                   check=True)
    assert red_pixels(next(tmp_path.glob("p*.png"))) > 50  # key images outline the bleed in red


def test_gui_thread_keeps_running_while_the_real_model_segments(qtbot):
    """A GUI timer keeps firing (no gap over 100 ms) while a 20-slice 512 x 512 study is segmented."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    from ich_viewer.segmentation.engine import SegmentationEngine
    from ich_viewer.ui.segmentation_control import ProgressIndicator, SegmentationControl

    status = ProgressIndicator()
    qtbot.addWidget(status)
    control = SegmentationControl(SegmentationEngine, status, force_cpu=lambda: True)
    try:
        with qtbot.waitSignal(control.model_ready, timeout=120000):
            control.load_model()
        gaps, clock = [], QElapsedTimer()
        timer = QTimer(interval=10)
        timer.timeout.connect(lambda: (gaps.append(clock.restart())))
        rng = np.random.default_rng(0)
        study = Study(rng.normal(30, 20, (20, 512, 512)).astype(np.float32), Units.HU, (5, .5, .5), ".")
        clock.start()
        timer.start()
        with qtbot.waitSignal(control.result_ready, timeout=120000):
            control.segment(study)
        timer.stop()
        assert len(gaps) > 10
        assert max(gaps[1:]) < 100, f"longest GUI gap {max(gaps[1:])} ms"
    finally:
        control.shutdown()


@pytest.mark.xfail(strict=True, reason="issue 10 goal not reached: at L50/W150 (estimated L48/W137) the "
                   "version-2.1 mask agrees with the HU mask at Dice 0.792 (2.0: 0.766; L40/W80: 0.876)")
def test_hu_subset_renderings_at_other_windows_give_the_hu_mask(engine, hu_subset_dir):
    """Large bleeds of the HU subset exported as 8-bit at three windows (no bone images, window
    estimated from the images) are outlined as on the HU slices themselves."""
    from ich_viewer.study.export_window import estimate_export_window
    from tests.factories.images import render_export
    from tests.study.test_export_window import THREE_WINDOWS, TYPICAL_PATIENT_SLICES

    hu = np.stack([pydicom.dcmread(hu_subset_dir / "images" / f"{name}.dcm").pixel_array
                   for name in TYPICAL_PATIENT_SLICES]).astype(np.float32)
    native = engine.segment(Study(hu, Units.HU, None, hu_subset_dir)).mask
    assert native.sum() > 3000  # large bleeds: Dice is about the bleed, not its border pixels
    for window in THREE_WINDOWS:
        grey = render_export(hu, window).astype(np.float32)
        estimate = estimate_export_window(grey)
        study = Study(grey, Units.DISPLAY, None, hu_subset_dir, export_window=estimate.window)
        agreement = dice(engine.segment(study).mask, native)
        print(f"{window}: estimated {estimate.window}, Dice with the HU mask {agreement:.3f}")
        assert agreement >= 0.8, (window, estimate.window, agreement)


# Slices of patients without hemorrhage below or at the skull base, where the version-1
# networks drew confident outlines (score 1.0; 116/3: 2291 px, 128/1: 2248, 103/1: 828,
# 118/8: 201). The version-2.0 networks still outlined three of them (524, 831 and 133 px),
# version 2.1 more (2649, 1585 and 165 px, measured with --runxfail): the goal of issue 10
# is not reached there, and strict xfail makes CI say so when it is.
_NOT_YET = "issue 10 goal not reached: the version-2.1 network still outlines this neck / skull-base slice"
LOOKALIKE_SLICES = [
    pytest.param(116, 3, marks=pytest.mark.xfail(strict=True, reason=_NOT_YET)),
    pytest.param(128, 1, marks=pytest.mark.xfail(strict=True, reason=_NOT_YET)),
    (103, 1),
    pytest.param(118, 8, marks=pytest.mark.xfail(strict=True, reason=_NOT_YET)),
]


@pytest.mark.parametrize("patient_number, slice_number", LOOKALIKE_SLICES)
def test_no_outline_below_the_brain_of_a_normal_head(ct_ich_dir, patient_number, slice_number):
    """Scored by the fold network that never saw the patient, as in the cross-validation."""
    from dataclasses import replace

    from ich_viewer.training.folds import load_folds

    patient = next(p for p in read_patients(ct_ich_dir) if p.patient == patient_number)
    study = study_of(patient)
    z = patient.slice_numbers.index(slice_number)
    near = slice(max(z - 1, 0), z + 2)  # the slice and its neighbours, as the network reads them
    study = replace(study, voxels=study.voxels[near], bone_voxels=study.bone_voxels[near],
                    slice_labels=study.slice_labels[near.start:near.stop])
    fold = load_folds()[patient_number]
    result = SegmentationEngine(shipped_network_path(f"fold{fold}"), force_cpu=True).segment(study)
    assert not result.mask[z - near.start].any(), f"{result.mask[z - near.start].sum()} px outlined"


@pytest.fixture(scope="module")
def notebook_results(ct_ich_dir):
    """Patient 066 (the large epidural bleed above) through each notebook network, by its manifest."""
    from ich_viewer.segmentation.model_file import model_path

    patient = next(p for p in read_patients(ct_ich_dir) if p.patient == 66)
    z = patient.slice_numbers.index(19)
    results = {}
    for name in ("reference_unet", "two_branch_net"):
        engine = SegmentationEngine(model_path(name), force_cpu=True)
        results[name] = (engine, engine.segment(study_of(patient)))
    return results, z, patient.load_masks()[z]


@pytest.mark.parametrize("name", ["reference_unet", "two_branch_net"])
def test_each_notebook_network_loads_by_its_manifest_and_sees_the_large_hemorrhage(name, notebook_results):
    results, z, reference = notebook_results
    engine, result = results[name]
    assert result.model.name == name and result.model.file == name  # outputs name the network
    assert engine.manifest.input.equalised and not engine.manifest.thresholds.inside_skull_only
    # Its probability is higher on the bleed than around it (measured: 13x for the U-Net, 147x for
    # the two-branch network) ...
    probability = result.probability[z]
    assert probability[reference].mean() > 2 * probability[~reference].mean()


UNET_REASON = ("measured: Dice 0.0 at the notebook's 0.5 on this slice (the bleed's mean probability 0.029 "
               "against 0.0009 around it): stopped by its 3-hour CPU budget, the U-Net outlines little "
               "(IoU 0.21 on the notebook's protocol; model card, baselines)")


@pytest.mark.parametrize("name", [pytest.param("reference_unet", marks=pytest.mark.xfail(strict=True,
                                                                                          reason=UNET_REASON)),
                                  "two_branch_net"])
def test_each_notebook_network_outlines_the_large_hemorrhage(name, notebook_results):
    results, z, reference = notebook_results
    assert dice(results[name][1].mask[z], reference) > 0.3
