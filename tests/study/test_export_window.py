"""The export window of 8-bit images: estimated from the brain, known for CT-ICH, and the bone window.

The estimator's error distribution over all of CT-ICH and the HU subset is in
the module docstring (benchmarks/bench_export_window.py); these tests pin
single cases and the loader's wiring.
"""

from __future__ import annotations

import numpy as np
import pytest

from ich_viewer.study.export_window import estimate_export_window
from ich_viewer.study.loader import open_study
from ich_viewer.study.model import CT_ICH_BONE_WINDOW, CT_ICH_BRAIN_WINDOW, Window
from ich_viewer.study.qc import QcKind
from tests.factories.images import (
    render_export,
    typical_head_hu,
    write_ct_ich_patient,
    write_image,
)
from tests.study.qc_support import naming

THREE_WINDOWS = (Window(40, 80), Window(50, 150), Window(35, 250))
# The target.
LEVEL_TOLERANCE_HU, WIDTH_TOLERANCE = 10, 0.15
# Three consecutive HU-subset slices of one patient whose brain is typical; for some other
# patients (050, 071, 080, 092) the width is off by 20-28 % at every window.
TYPICAL_PATIENT_SLICES = ("094_24", "094_25", "094_26")


def assert_close(found: Window, true: Window) -> None:
    assert abs(found.level - true.level) <= LEVEL_TOLERANCE_HU, (found, true)
    assert abs(found.width / true.width - 1) <= WIDTH_TOLERANCE, (found, true)


def write_folder(folder, display: np.ndarray, suffix: str = ".png") -> None:
    for z, image in enumerate(display):
        write_image(folder / f"IMG{z + 1:03d}{suffix}", image)


# --- the estimate ------------------------------------------------------------------------------
@pytest.mark.parametrize("window", THREE_WINDOWS, ids=str)
def test_a_typical_brain_is_read_back_through_its_window(window):
    estimate = estimate_export_window(render_export(typical_head_hu(), window).astype(np.float32))

    assert_close(estimate.window, window)
    assert not estimate.uncertain
    assert estimate.note.startswith("Export window estimated from the images: level ")


@pytest.mark.parametrize("window", THREE_WINDOWS, ids=str)
def test_hu_subset_slices_rendered_at_a_window_give_it_back(hu_subset_dir, window):
    import pydicom

    hu = np.stack([pydicom.dcmread(hu_subset_dir / "images" / f"{name}.dcm").pixel_array
                   for name in TYPICAL_PATIENT_SLICES]).astype(np.float32)

    estimate = estimate_export_window(render_export(hu, window, jpeg_quality=75).astype(np.float32))

    assert_close(estimate.window, window)


@pytest.mark.parametrize("kind", ["uniform noise", "black", "grey", "white"])
def test_an_image_that_is_not_a_head_is_uncertain(kind):
    rng = np.random.default_rng(1)
    images = {
        "uniform noise": rng.integers(0, 256, (4, 256, 256)),
        "black": np.zeros((4, 256, 256)),
        "grey": np.full((4, 256, 256), 128),
        "white": np.full((4, 256, 256), 255),
    }

    estimate = estimate_export_window(images[kind].astype(np.float32))

    assert estimate.uncertain
    assert "no brain found" in estimate.note
    assert estimate.window == CT_ICH_BRAIN_WINDOW  # what is assumed without an export window


# --- the loader --------------------------------------------------------------------------------
def test_a_folder_of_other_pngs_gets_an_estimated_window_and_its_note(tmp_path):
    window = Window(50, 150)
    write_folder(tmp_path / "export", render_export(typical_head_hu(), window))

    study = open_study(tmp_path / "export")

    assert_close(study.export_window, window)
    assert study.export_window_note.startswith("Export window estimated from the images: level ")
    assert not any(w.kind is QcKind.EXPORT_WINDOW for w in study.warnings)
    assert study.bone_voxels is None


def test_images_that_are_no_head_warn_that_the_window_must_be_set(tmp_path):
    noise = np.random.default_rng(2).integers(0, 256, (3, 128, 128)).astype(np.uint8)
    write_folder(tmp_path / "export", noise)

    study = open_study(tmp_path / "export")

    assert study.export_window == CT_ICH_BRAIN_WINDOW
    warning = next(w.text for w in study.warnings if w.kind is QcKind.EXPORT_WINDOW)
    assert "could not be estimated reliably" in warning and "View > Export window…" in warning


def test_a_ct_ich_folder_gets_the_known_brain_window(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=3)

    study = open_study(patient.folder)

    assert study.export_window == CT_ICH_BRAIN_WINDOW
    assert study.export_window_note == "CT-ICH layout: brain window L40/W120 (known)"
    assert not any(w.kind is QcKind.EXPORT_WINDOW for w in study.warnings)


def test_a_ct_ich_bone_folder_gets_the_bone_window_and_is_its_own_bone_window(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=3)

    study = open_study(patient.folder / "bone")

    assert study.export_window == CT_ICH_BONE_WINDOW
    assert study.export_window_note == "CT-ICH layout: bone window L700/W3200 (known)"
    assert study.bone_voxels is study.voxels


# --- the CT-ICH bone window ------------------------------------------------------------------------
def write_bone_images(patient, numbers, value_of=lambda s: 200 - 20 * s) -> None:
    """Bone-window images unlike the brain ones, so a mix-up shows."""
    for s in numbers:
        write_image(patient.folder / "bone" / f"{s}.jpg", np.full((48, 48), value_of(s), np.uint8))


def test_bone_voxels_are_read_beside_the_brain_slices(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=4)
    write_bone_images(patient, range(1, 5))

    study = open_study(patient.folder)

    assert study.bone_voxels.shape == study.voxels.shape and study.bone_voxels.dtype == np.float32
    for z, label in enumerate(study.slice_labels):
        assert abs(study.bone_voxels[z].mean() - (200 - 20 * int(label))) < 2  # JPEG is lossy
    assert not any("bone" in str(w) for w in study.warnings)


def test_a_missing_or_odd_sized_bone_image_leaves_zeros_and_is_named(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=4)
    write_bone_images(patient, range(1, 5))
    (patient.folder / "bone" / "2.jpg").unlink()
    write_image(patient.folder / "bone" / "3.jpg", np.full((40, 48), 90, np.uint8))

    study = open_study(patient.brain)

    assert study.bone_voxels[[1, 2]].max() == 0
    assert study.bone_voxels[[0, 3]].min() > 0
    assert naming(study, "2.jpg").kind is QcKind.BONE_WINDOW
    assert "48x40" in naming(study, "bone/3.jpg").text


def test_no_bone_images_at_all_is_no_bone_window_and_no_warning(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=3)
    for path in (patient.folder / "bone").iterdir():
        path.unlink()

    study = open_study(patient.folder)

    assert study.bone_voxels is None
    assert not any("bone" in str(w) for w in study.warnings)


def test_a_single_ct_ich_slice_brings_its_bone_image(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=3)
    write_bone_images(patient, [2])

    study = open_study(patient.brain / "2.jpg")

    assert study.export_window == CT_ICH_BRAIN_WINDOW
    assert abs(study.bone_voxels[0].mean() - 160) < 2


def test_real_ct_ich_patient_has_its_bone_window_except_where_a_file_is_missing(ct_ich_dir):
    study = open_study(ct_ich_dir / "Patients_CT" / "050")  # bone/22.jpg is missing from this copy

    missing = study.slice_labels.index("22")
    assert study.bone_voxels.shape == study.voxels.shape
    assert study.bone_voxels[missing].max() == 0
    assert all(study.bone_voxels[z].max() > 0 for z in range(study.n_slices) if z != missing)
    assert naming(study, "22.jpg").kind is QcKind.BONE_WINDOW
    assert study.export_window == CT_ICH_BRAIN_WINDOW
