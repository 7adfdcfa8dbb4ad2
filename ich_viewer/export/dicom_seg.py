"""The hemorrhage mask as a DICOM Segmentation object that PACS can show over the CT.

Each SEG frame references the CT image (SOP Instance UID) it was drawn on,
so a PACS or viewer lines the mask up slice by slice with the source series.
Only studies read from DICOM can have one: the SEG copies the patient,
study and frame-of-reference of the source images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ich_viewer import __version__
from ich_viewer.atomic import ExportError, ensure_mask_fits, ensure_outside_study_folder, write_atomic
from ich_viewer.segmentation.result import ModelInfo
from ich_viewer.study.model import Study

SEGMENT_LABEL = "Hemorrhage"
SEG_SERIES_DESCRIPTION = "ICH Viewer hemorrhage segmentation"
SEG_SERIES_NUMBER = 901  # any number that sorts after the usual CT series
# CIELab of pure red, so viewers draw the segment in the same red as ICH Viewer.
RED_CIELAB = (53.24, 80.09, 67.20)
# Type 2 patient/study attributes the SEG copies from its source: they must exist
# but may be empty. Anonymised or home-made series often drop them altogether.
COPIED_TYPE2_ATTRIBUTES = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex",
    "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName",
)


def _read_source_images(study: Study) -> list:
    """The CT datasets the mask was drawn on (headers only): one per slice in the study's
    slice order, or the one multi-frame image that holds every slice."""
    if study.geometry is None or len(study.slice_files) != study.n_slices:
        raise ExportError(
            "Cannot export DICOM SEG: it needs a study read from a DICOM series "
            "(this one has no DICOM geometry, e.g. it was read from 8-bit images)."
        )
    if study.geometry.frame_numbers:
        if len(set(study.slice_files)) != 1:
            raise ExportError("Cannot export DICOM SEG: the series is split over several "
                              "multi-frame images, which a SEG cannot reference as one.")
        datasets = [_read_header(study.slice_files[0])]
        expected = study.geometry.sop_instance_uids[:1]
    else:
        datasets = [_read_header(path) for path in study.slice_files]
        expected = study.geometry.sop_instance_uids
    _check_sources_match(study, datasets, expected)
    return datasets


def _read_header(path: Path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
    except (OSError, InvalidDicomError) as error:
        raise ExportError(
            f"Cannot export DICOM SEG: the source image {path} cannot be read ({error})."
        ) from error
    for keyword in COPIED_TYPE2_ATTRIBUTES:  # in this in-memory copy only
        if keyword not in dataset:
            setattr(dataset, keyword, "")
    return dataset


def _check_sources_match(study: Study, datasets: list, expected: list[str]) -> None:
    """The files on disk must still be the images that were segmented."""
    found = [str(ds.SOPInstanceUID) for ds in datasets]
    if expected and found != list(expected):
        raise ExportError(
            "Cannot export DICOM SEG: the files in the study folder changed since it was opened; "
            "reopen the study."
        )
    rows, columns = study.voxels.shape[1:]
    for ds in datasets:
        if (ds.Rows, ds.Columns) != (rows, columns):
            raise ExportError(
                f"Cannot export DICOM SEG: {ds.filename} is {ds.Rows}x{ds.Columns}, the study {rows}x{columns}."
            )


def _frames_in_source_order(study: Study, mask: np.ndarray, sources: list) -> np.ndarray:
    """SEG frame i is drawn on source frame i: a multi-frame source keeps its own frame order."""
    frame_numbers = study.geometry.frame_numbers
    if not frame_numbers:
        return mask
    ordered = np.zeros((int(sources[0].NumberOfFrames), *mask.shape[1:]), bool)
    ordered[np.asarray(frame_numbers) - 1] = mask
    return ordered


def _algorithm(model: ModelInfo | None, edited_by_reader: bool):
    """(algorithm type, identification): automatic, reader-edited (semi-automatic) or manual."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    if model is None:
        return hd.seg.SegmentAlgorithmTypeValues.MANUAL, None
    identification = hd.AlgorithmIdentificationSequence(
        name=model.name,
        family=codes.cid7162.ArtificialIntelligence,
        version=model.version,
        parameters={"sha256": model.sha256, "threshold": f"{model.threshold:g}", "model": model.file or model.name},
    )
    kind = "SEMIAUTOMATIC" if edited_by_reader else "AUTOMATIC"
    return hd.seg.SegmentAlgorithmTypeValues[kind], identification


def _hemorrhage_segment(model: ModelInfo | None, edited_by_reader: bool):
    import highdicom as hd
    from pydicom.sr.codedict import codes

    algorithm_type, identification = _algorithm(model, edited_by_reader)
    return hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=SEGMENT_LABEL,
        # SCT 49755003 (CID 7150), pydicom's keyword for "Morphologically Altered Structure"
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Hemorrhage,  # SCT 50960005
        algorithm_type=algorithm_type,
        algorithm_identification=identification,
        tracking_uid=hd.UID(),
        tracking_id="Intracranial hemorrhage",
        display_color=hd.color.CIELabColor(*RED_CIELAB),
    )


def build_dicom_seg(
    study: Study, mask: np.ndarray, model: ModelInfo | None = None, edited_by_reader: bool = False
):
    """The highdicom Segmentation of a bool (z, y, x) mask on the study's DICOM series."""
    import highdicom as hd

    mask = np.asarray(mask, bool)
    ensure_mask_fits(study.voxels.shape, mask, "DICOM SEG")
    sources = _read_source_images(study)
    return hd.seg.Segmentation(
        source_images=sources,
        pixel_array=_frames_in_source_order(study, mask, sources).astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_hemorrhage_segment(model, edited_by_reader)],
        series_instance_uid=hd.UID(),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="ICH Viewer",
        manufacturer_model_name="ICH Viewer",
        software_versions=__version__,
        device_serial_number="none",
        series_description=SEG_SERIES_DESCRIPTION,
        content_label="HEMORRHAGE",
        content_description="Intracranial hemorrhage",
    )


def export_dicom_seg(
    study: Study,
    mask: np.ndarray,
    dest: Path | str,
    model: ModelInfo | None = None,
    edited_by_reader: bool = False,
    allow_study_folder: bool = False,
) -> Path:
    """Write the mask as a DICOM SEG file referencing the study's series; returns dest.

    model identifies the network (omit for a hand-drawn mask); edited_by_reader
    marks a model mask the reader corrected (semi-automatic).
    """
    ensure_outside_study_folder(dest, study.source, allow_study_folder)
    try:
        segmentation = build_dicom_seg(study, mask, model, edited_by_reader)
    except (ValueError, AttributeError, KeyError) as error:
        # highdicom rejects sources lacking geometry (e.g. Secondary Capture without spacing)
        raise ExportError(f"Cannot export DICOM SEG: the source series is not suitable ({error}).") from error
    return write_atomic(dest, lambda file: segmentation.save_as(file, enforce_file_format=True))
