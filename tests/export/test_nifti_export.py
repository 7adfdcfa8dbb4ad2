"""NIfTI exports read back equal, with the RAS affine the DICOM geometry implies."""

from __future__ import annotations

import numpy as np
import pytest

from ich_viewer.atomic import ExportError
from ich_viewer.export.nifti import export_image_nifti, export_mask_nifti, nifti_affine
from ich_viewer.study.model import DicomGeometry
from tests.factories.synthetic_ct import display_study, hematoma_phantom, memory_dicom_study, slice_positions

SPACING = (5.0, 0.6, 0.4)  # non-square pixels, so a swapped row/column spacing shows


def study_with_geometry(orientation, origin=(-100.0, -120.0, 30.0)):
    volume, mask = hematoma_phantom(n_slices=6, size=32)
    study = memory_dicom_study(volume, SPACING)
    study.geometry = DicomGeometry(
        positions=slice_positions(6, SPACING, origin, orientation), orientation=orientation
    )
    return study, mask


def test_axial_affine():
    study, _ = study_with_geometry((1, 0, 0, 0, 1, 0))
    # LPS: columns go to patient left (+x), rows to posterior (+y), slices superior (+z).
    # RAS negates x and y.
    expected = np.array([
        [-0.4, 0.0, 0.0, 100.0],
        [0.0, -0.6, 0.0, 120.0],
        [0.0, 0.0, 5.0, 30.0],
        [0.0, 0.0, 0.0, 1.0],
    ])
    np.testing.assert_allclose(nifti_affine(study), expected)


def test_coronal_affine():
    # Rows run to patient left, columns downwards (inferior); slices step posterior.
    study, _ = study_with_geometry((1, 0, 0, 0, 0, -1))
    expected = np.array([
        [-0.4, 0.0, 0.0, 100.0],
        [0.0, 0.0, -5.0, 120.0],
        [0.0, -0.6, 0.0, 30.0],
        [0.0, 0.0, 0.0, 1.0],
    ])
    np.testing.assert_allclose(nifti_affine(study), expected)


def test_slices_ordered_superior_to_inferior_step_downwards():
    study, _ = study_with_geometry((1, 0, 0, 0, 1, 0))
    study.geometry.positions = study.geometry.positions[::-1].copy()
    affine = nifti_affine(study)
    np.testing.assert_allclose(affine[:3, 2], [0, 0, -5.0])
    np.testing.assert_allclose(affine[:3, 3], [100.0, 120.0, 55.0])


def test_oblique_voxel_lands_where_dicom_puts_it():
    c, s = np.cos(0.3), np.sin(0.3)  # 17 degree gantry tilt about x
    orientation = (1.0, 0.0, 0.0, 0.0, c, -s)
    study, _ = study_with_geometry(orientation)
    col, row, k = 7, 11, 4
    lps = (
        study.geometry.positions[k]
        + col * SPACING[2] * np.array(orientation[:3])
        + row * SPACING[1] * np.array(orientation[3:])
    )
    ras = nifti_affine(study) @ [col, row, k, 1]
    np.testing.assert_allclose(ras[:3], lps * [-1, -1, 1], atol=1e-9)


def test_mask_and_image_read_back_equal(tmp_path):
    import nibabel as nib

    study, mask = study_with_geometry((1, 0, 0, 0, 1, 0))
    mask_path = export_mask_nifti(study, mask, tmp_path / "mask.nii.gz")
    image_path = export_image_nifti(study, tmp_path / "image.nii.gz")

    mask_image = nib.load(mask_path)
    assert mask_image.shape == (32, 32, 6)  # (x, y, z)
    assert mask_image.get_data_dtype() == np.uint8
    np.testing.assert_array_equal(np.asarray(mask_image.dataobj).transpose(2, 1, 0), mask.astype(np.uint8))
    np.testing.assert_allclose(mask_image.affine, nifti_affine(study))
    assert mask_image.header.get_sform(coded=True)[1] == 1  # scanner coordinates

    ct = nib.load(image_path)
    assert ct.get_data_dtype() == np.int16
    np.testing.assert_array_equal(np.asarray(ct.dataobj).transpose(2, 1, 0), study.voxels)
    assert ct.header.get_zooms() == pytest.approx((0.4, 0.6, 5.0))


def test_spacing_only_gives_a_diagonal_affine(tmp_path):
    import nibabel as nib

    study, mask = study_with_geometry((1, 0, 0, 0, 1, 0))
    study.geometry = None  # e.g. JPG slices with spacing entered by the reader
    # Assumed standard axial display: image right = patient left, image down = posterior.
    np.testing.assert_allclose(nifti_affine(study), np.diag([-0.4, -0.6, 5.0, 1.0]))
    path = export_mask_nifti(study, mask, tmp_path / "mask.nii.gz")
    assert nib.load(path).header.get_sform(coded=True)[1] == 2  # aligned, not scanner


def test_the_mask_names_the_model_that_drew_it(tmp_path):
    import nibabel as nib

    study, mask = study_with_geometry((1, 0, 0, 0, 1, 0))
    path = export_mask_nifti(study, mask, tmp_path / "mask.nii.gz", drawn_by="reference_unet, version 1.0")
    description = nib.load(path).header["descrip"].item().decode()
    assert description == "ICH Viewer hemorrhage mask (1); model reference_unet, version 1.0"


def test_unknown_spacing_is_refused(tmp_path):
    volume, mask = hematoma_phantom(n_slices=4, size=32)
    study = display_study(volume)
    with pytest.raises(ExportError, match="spacing of this study is unknown"):
        export_mask_nifti(study, mask, tmp_path / "mask.nii.gz")
    with pytest.raises(ExportError, match="spacing of this study is unknown"):
        export_image_nifti(study, tmp_path / "image.nii.gz")
    assert list(tmp_path.iterdir()) == []


def test_bad_requests_are_refused(tmp_path):
    study, mask = study_with_geometry((1, 0, 0, 0, 1, 0))
    with pytest.raises(ExportError, match=r"must end in \.nii\.gz"):
        export_mask_nifti(study, mask, tmp_path / "mask.nii")
    with pytest.raises(ExportError, match="mask shape"):
        export_mask_nifti(study, mask[:3], tmp_path / "mask.nii.gz")
    study.source = tmp_path
    with pytest.raises(ExportError, match="study's own folder"):
        export_mask_nifti(study, mask, tmp_path / "mask.nii.gz")
