"""Image studies: JPG/PNG folders, single images and the CT-ICH layout."""

from __future__ import annotations

import numpy as np
import pytest

from ich_viewer.study.loader import StudyLoadError, find_studies, list_series, open_study
from ich_viewer.study.model import Units
from ich_viewer.study.qc import QcKind
from tests.factories.images import (
    hemorrhage_mask,
    slice_image,
    write_ct_ich_patient,
    write_image,
)
from tests.study.qc_support import naming


def test_image_folder_loads_in_natural_order(tmp_path):
    for number in (10, 2, 1):
        write_image(tmp_path / "imgs" / f"{number}.png", slice_image(number))

    study = open_study(tmp_path / "imgs")

    assert study.slice_labels == ["1", "2", "10"]
    assert [v for v in study.voxels[:, 24, 24]] == [25, 30, 70]
    assert study.units is Units.DISPLAY
    assert study.voxels.dtype == np.float32
    assert study.reference_mask is None


def test_spacing_is_none_unless_given(tmp_path):
    write_image(tmp_path / "imgs" / "1.png", slice_image(1))

    unknown = open_study(tmp_path / "imgs")
    given = open_study(tmp_path / "imgs", spacing_mm=(5, 0.45, 0.45))

    assert unknown.spacing_mm is None
    assert any(w.kind is QcKind.VOXEL_SPACING for w in unknown.warnings)
    assert given.spacing_mm == (5.0, 0.45, 0.45)
    with pytest.raises(ValueError, match="positive"):
        open_study(tmp_path / "imgs", spacing_mm=(0, 1, 1))


def test_colour_images_become_grayscale(tmp_path):
    colour = np.dstack([slice_image(3)] * 3)
    write_image(tmp_path / "imgs" / "1.jpg", colour)

    study = open_study(tmp_path / "imgs")

    assert study.voxels.shape == (1, 48, 48)
    assert abs(study.voxels[0, 24, 24] - 35) <= 2  # JPEG is lossy


def test_single_image_is_a_one_slice_study(tmp_path):
    path = write_image(tmp_path / "one.png", slice_image(4))

    study = open_study(path)

    assert study.n_slices == 1 and study.voxels[0, 24, 24] == 40
    assert study.slice_files == [path]


@pytest.mark.parametrize("opened", ["patient", "brain"])
def test_ct_ich_patient_loads_slices_and_reference_mask(tmp_path, opened):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=5, mask_slices=[3, 4])

    study = open_study(patient.folder if opened == "patient" else patient.brain)

    assert study.n_slices == 5  # masks are not slices
    assert study.slice_labels == ["1", "2", "3", "4", "5"]
    assert study.description == "CT-ICH patient 007 (brain window)"
    assert study.reference_mask.dtype == bool
    assert study.reference_mask.shape == study.voxels.shape
    marked = [i for i in range(5) if study.reference_mask[i].any()]
    assert marked == [2, 3]
    expected = hemorrhage_mask(background=60) >= 128  # background 60 must stay False
    np.testing.assert_array_equal(study.reference_mask[2], expected)


def test_ct_ich_patient_without_hemorrhage_has_an_empty_reference(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "008", n_slices=3)

    study = open_study(patient.folder)

    assert study.reference_mask is not None and not study.reference_mask.any()


def test_ct_ich_jpeg_masks_are_thresholded_at_128(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "P", "009", n_slices=3, mask_slices=[2],
                                   mask_suffix=".jpg")
    import cv2

    decoded = cv2.imread(str(patient.brain / "2_HGE_Seg.jpg"), cv2.IMREAD_GRAYSCALE)
    study = open_study(patient.folder)

    np.testing.assert_array_equal(study.reference_mask[1], decoded >= 128)
    assert (decoded > 0).sum() > study.reference_mask[1].sum()  # the noise is really there


def test_ct_ich_missing_slice_loads_and_is_reported(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "049", n_slices=5, missing=[1])

    study = open_study(patient.folder)

    assert study.slice_labels == ["2", "3", "4", "5"]
    assert any("Slice 1 missing" in w.text for w in study.warnings)


def test_mask_without_its_slice_is_reported(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "P", "010", n_slices=3, mask_slices=[2])
    write_image(patient.brain / "7_HGE_Seg.png", hemorrhage_mask())

    study = open_study(patient.folder)

    assert study.n_slices == 3
    assert "without its slice" in naming(study, "7_HGE_Seg.png").text


def test_single_ct_ich_slice_brings_its_mask(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "P", "011", n_slices=3, mask_slices=[2])

    study = open_study(patient.brain / "2.jpg")

    assert study.n_slices == 1 and study.reference_mask[0].any()


def test_list_series_of_an_image_study_has_one_entry(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "P", "012", n_slices=4, mask_slices=[1])

    (info,) = list_series(patient.folder)

    assert info.n_slices == 4 and (info.rows, info.cols) == (48, 48)
    assert info.series_instance_uid == ""
    assert "CT-ICH patient 012" in info.label


def test_patients_root_is_a_folder_of_studies(tmp_path):
    root = tmp_path / "Patients_CT"
    for number in ("049", "050", "051"):
        write_ct_ich_patient(root, number, n_slices=2)

    with pytest.raises(StudyLoadError, match="folder of 3 studies") as error:
        open_study(root)

    assert error.value.studies == [root / "049", root / "050", root / "051"]
    assert find_studies(root) == [root / "049", root / "050", root / "051"]


def test_folder_wrapping_one_patient_opens_it(tmp_path):
    patient = write_ct_ich_patient(tmp_path / "export" / "Patients_CT", "066", n_slices=2)

    study = open_study(tmp_path / "export")

    assert study.slice_files[0].parent == patient.brain
