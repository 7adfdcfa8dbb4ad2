"""The study and its hemorrhage mask as NIfTI (.nii.gz) for research tools.

NIfTI stores arrays as (x, y, z) = (column, row, slice) with an affine to
RAS+ millimetres; DICOM geometry is LPS+. So the (z, y, x) volume is
transposed and the affine's first two rows are negated.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ich_viewer.atomic import ExportError, ensure_mask_fits, ensure_outside_study_folder, write_atomic
from ich_viewer.study.model import Study

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
# Assumed when there is no DICOM geometry: axial slices shown the usual way
# (patient's left on the image's right, anterior at the top), i.e. the DICOM
# orientation (1, 0, 0, 0, 1, 0) with the first slice at the origin.
STANDARD_AXIAL_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _require_spacing(study: Study) -> tuple[float, float, float]:
    if study.spacing_mm is None:
        raise ExportError(
            "Cannot export NIfTI: the voxel spacing of this study is unknown (8-bit images). "
            "Enter the pixel spacing and slice thickness first."
        )
    return study.spacing_mm


def _slice_step_lps(study: Study, normal: np.ndarray, dz: float) -> np.ndarray:
    """Vector from one slice to the next, from the positions when there are several."""
    geometry = study.geometry
    positions = np.asarray(geometry.positions, np.float64)
    if positions.shape != (study.n_slices, 3):
        raise ExportError(
            f"Cannot export NIfTI: the study has {study.n_slices} slices but "
            f"{len(positions)} slice positions."
        )
    if study.n_slices == 1:
        return normal * dz
    return (positions[-1] - positions[0]) / (study.n_slices - 1)


def nifti_affine(study: Study) -> np.ndarray:
    """4x4 voxel (column, row, slice) -> RAS mm affine of the study's volume."""
    dz, dy, dx = _require_spacing(study)
    geometry = study.geometry
    orientation = np.asarray(geometry.orientation if geometry else STANDARD_AXIAL_ORIENTATION, np.float64)
    along_row, along_column = orientation[:3], orientation[3:]  # +column index, +row index
    normal = np.cross(along_row, along_column)
    affine = np.eye(4)
    affine[:3, 0] = along_row * dx
    affine[:3, 1] = along_column * dy
    if geometry is None:
        affine[:3, 2] = normal * dz
    else:
        affine[:3, 2] = _slice_step_lps(study, normal, dz)
        affine[:3, 3] = np.asarray(geometry.positions[0], np.float64)
    return LPS_TO_RAS @ affine


def _nifti_bytes_writer(array_zyx: np.ndarray, study: Study, description: str):
    import nibabel as nib

    # A view, not a copy: nibabel writes NIfTI's (x, y, z) Fortran order slice by slice from it.
    image = nib.Nifti1Image(array_zyx.transpose(2, 1, 0), nifti_affine(study))
    # "scanner" when the positions come from DICOM, "aligned" when assumed.
    code = "scanner" if study.geometry is not None else "aligned"
    image.set_sform(image.affine, code=code)
    image.set_qform(image.affine, code=code)
    image.header.set_xyzt_units("mm")
    image.header["descrip"] = description[:79].encode("ascii", "replace")

    def write(file) -> None:
        # mtime=0 so the same export gives the same bytes
        with gzip.GzipFile(fileobj=file, mode="wb", mtime=0) as compressed:
            image.to_stream(compressed)

    return write


def _image_array(study: Study) -> np.ndarray:
    """int16 HU / uint8 display values when exact, float32 otherwise."""
    voxels = study.voxels
    if study.is_hu:
        if np.array_equal(voxels, np.rint(voxels)) and voxels.min() >= -32768 and voxels.max() <= 32767:
            return voxels.astype(np.int16)
        return voxels.astype(np.float32)
    if np.array_equal(voxels, np.rint(voxels)) and voxels.min() >= 0 and voxels.max() <= 255:
        return voxels.astype(np.uint8)
    return voxels.astype(np.float32)


def _check_nifti_destination(study: Study, dest: Path | str, allow_study_folder: bool) -> None:
    if not str(dest).endswith(".nii.gz"):
        raise ExportError(f"Cannot export NIfTI to {dest}: the file name must end in .nii.gz")
    ensure_outside_study_folder(dest, study.source, allow_study_folder)


def export_image_nifti(study: Study, dest: Path | str, allow_study_folder: bool = False) -> Path:
    """Write the study's voxels (HU or display values) to a .nii.gz file."""
    _check_nifti_destination(study, dest, allow_study_folder)
    _require_spacing(study)
    units = "HU" if study.is_hu else "display values"
    writer = _nifti_bytes_writer(_image_array(study), study, f"ICH Viewer CT image ({units})")
    return write_atomic(dest, writer)


def export_mask_nifti(
    study: Study, mask: np.ndarray, dest: Path | str, allow_study_folder: bool = False, drawn_by: str = ""
) -> Path:
    """Write the bool (z, y, x) hemorrhage mask as a 0/1 uint8 .nii.gz on the study's grid.

    drawn_by: the model that drew it (ModelInfo.label), kept in the header's description.
    """
    _check_nifti_destination(study, dest, allow_study_folder)
    _require_spacing(study)
    mask = np.asarray(mask)
    ensure_mask_fits(study.voxels.shape, mask, "NIfTI")
    description = "ICH Viewer hemorrhage mask (1)" + (f"; model {drawn_by}" if drawn_by else "")
    # A bool mask is already 0/1 bytes: viewed as uint8 rather than copied.
    values = mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8)
    writer = _nifti_bytes_writer(values, study, description)
    return write_atomic(dest, writer)
