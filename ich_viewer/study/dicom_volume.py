"""One DICOM series -> Study: slice order, HU, spacing, geometry and QC warnings.

Slices are ordered by their distance along the slice normal (inferior to
superior for axial CT), not by file name or InstanceNumber, because exports
often shuffle both. The spacing between slices comes from those distances;
SliceThickness is what the detector saw, not how far apart the slices are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder, pixel_array
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from ich_viewer.study import jpeg2000, parallel
from ich_viewer.study.dicom_series import DicomSlice, float_values, slice_normal
from ich_viewer.study.errors import StudyLoadError
from ich_viewer.study.files import describe_problems, most_common, name_list, shown_name
from ich_viewer.study.memory import shortage
from ich_viewer.study.model import DicomGeometry, Study, StudyMetadata, Units, Window
from ich_viewer.study.qc import QcKind, QcWarning, skipped_file_warnings

# Two slices closer than this along the normal are the same slice location.
DUPLICATE_TOLERANCE_MM = 0.01
# A step this many times the median spacing means slices are missing.
GAP_FACTOR = 1.5
# Steps may differ by rounding in the exported positions, not more.
SPACING_TOLERANCE_MM = 0.05
# Positions this far off the slice normal mean a tilted gantry (or a sheared stack).
TILT_TOLERANCE_DEG = 0.5
# Missing tags and what their absence costs the reader.
TAG_CONSEQUENCES = (
    (("ImagePositionPatient", "ImageOrientationPatient"),
     "no patient geometry for NIfTI/DICOM SEG export"),
    (("PixelSpacing",), "pixel size unknown"),
    (("RescaleSlope", "RescaleIntercept"), "slope 1 and intercept 0 used"),
)
# Modalities whose rescaled values are never Hounsfield units.
NOT_HU_MODALITIES = frozenset({"MR", "PT", "NM", "US"})
# Raw values in this range, with air well below zero, are Hounsfield units
# even when the file does not say so (CT padding goes down to -3024).
HU_PLAUSIBLE_MIN, HU_PLAUSIBLE_MAX, HU_AIR_BELOW = -3100.0, 40000.0, -200.0
# Rescale values a CT scanner writes: a small positive slope, an intercept near -1024.
# Outside these, the tags are damaged and the values cannot be trusted as HU.
RESCALE_SLOPE_MAX, RESCALE_INTERCEPT_MAX = 100.0, 32768.0
# Decoders in the order tried. gdcm aborts the whole process (SIGABRT) on some damaged
# JPEG 2000 streams where pylibjpeg and Pillow raise an error (benchmarks/bench_fuzz.py),
# so it decodes only what no other installed decoder can (JPEG lossless, process 14).
DECODER_PREFERENCE = ("pylibjpeg", "pyjpegls", "pillow", "pydicom")
ABORTING_DECODER = "gdcm"


def load_dicom_series(
    slices: list[DicomSlice],
    source: Path,
    root: Path,
    spacing_mm: tuple[float, float, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Study:
    """Read the pixels of one series into a Study (HU when it is CT).

    progress(done, total) is called after each slice's pixels are read; it may raise
    to stop the reading (the reader cancelled).
    """
    name = _namer(root)
    slices, mismatched = _keep_consistent_slices(slices, name)
    slices, order_warnings = _order_slices(slices, name)
    _check_memory(slices, source)
    broken_rescale = _broken_rescale(slices, name)
    voxels, slices, rescaled, unreadable = _read_voxels(slices, source, name, progress,
                                                        apply_rescale=not broken_rescale)
    first = slices[0].header
    units, modality_warnings = _decide_units(voxels, first, rescaled)
    not_hu = broken_rescale or _not_hu_reason(voxels, first, rescaled)
    spacing, spacing_warnings = _spacing(slices, spacing_mm)
    warnings = (*mismatched, *order_warnings, *unreadable, *_missing_tag_warnings(slices, name),
                *_impossible_pixel_spacing(slices, name), *modality_warnings, *spacing_warnings,
                *_qc_geometry(slices, name))
    return Study(
        voxels=voxels,
        units=units,
        spacing_mm=spacing,
        source=source,
        metadata=study_metadata(first),
        warnings=warnings,
        slice_files=[s.path for s in slices],
        slice_labels=_slice_labels(slices),
        dicom_windows=dicom_windows(first),
        geometry=_geometry(slices),
        description=_description(first),
        not_hu_reason=not_hu,
    )


def _namer(root: Path) -> Callable[[DicomSlice], str]:
    return lambda dicom_slice: shown_name(dicom_slice.path, root)


# --- which slices ----------------------------------------------------------------------


def _keep_consistent_slices(slices, name) -> tuple[list[DicomSlice], list[QcWarning]]:
    """Drop what cannot stack into one volume: odd sizes, localizers."""
    problems = []
    size, orientation = most_common((s.size, s.orientation) for s in slices)
    for s in slices:
        if s.size != size:
            problems.append((name(s), f"{_pixels(s.size)}, the series is {_pixels(size)}"))
        elif s.orientation != orientation:
            problems.append((name(s), "another orientation than the series (a localizer?)"))
    kept = [s for s in slices if (s.size, s.orientation) == (size, orientation)]
    return kept, skipped_file_warnings(problems, kind=QcKind.MISMATCHED_SLICES)


def _pixels(size: tuple[int, int]) -> str:
    return f"{size[1]}x{size[0]} pixels"


def _order_slices(slices, name) -> tuple[list[DicomSlice], list[QcWarning]]:
    """Sort along the slice normal; fall back to InstanceNumber, then file order."""
    distances = _distances_along_normal(slices)
    if distances is not None:
        order = sorted(range(len(slices)),
                       key=lambda i: (distances[i], slices[i].instance_number or 0))
        ordered = [slices[i] for i in order]
        return _drop_duplicate_positions(ordered, distances[order], name)
    if len(slices) < 2:
        return slices, []
    if all(s.instance_number is not None for s in slices):
        return sorted(slices, key=lambda s: s.instance_number), [QcWarning(
            QcKind.SLICE_ORDER,
            "Slices ordered by InstanceNumber (no slice positions): check the slice order.")]
    return slices, [QcWarning(
        QcKind.SLICE_ORDER,
        "Slices ordered by file name (no slice positions, no InstanceNumber): check the slice order.")]


def _distances_along_normal(slices) -> np.ndarray | None:
    orientation = slices[0].orientation
    positions = [s.position for s in slices]
    if orientation is None or any(p is None for p in positions):
        return None
    return np.array(positions) @ slice_normal(orientation)


def _drop_duplicate_positions(slices, distances, name) -> tuple[list[DicomSlice], list[QcWarning]]:
    """Two images at one location would count that slice twice in every volume."""
    kept, problems = [slices[0]], []
    for dicom_slice, step in zip(slices[1:], np.diff(distances)):
        if step >= DUPLICATE_TOLERANCE_MM:
            kept.append(dicom_slice)
            continue
        same_image = _sop_uid(dicom_slice) == _sop_uid(kept[-1])
        what = "a second copy of a slice kept" if same_image else "at the same position as a slice kept"
        problems.append((name(dicom_slice), what))
    return kept, skipped_file_warnings(problems, verb="Duplicate slice position: skipped",
                                       kind=QcKind.DUPLICATE_POSITIONS)


def _sop_uid(dicom_slice: DicomSlice) -> str:
    return str(dicom_slice.header.get("SOPInstanceUID", ""))


# --- pixels -------------------------------------------------------------------------------


def _check_memory(slices, source) -> None:
    rows, cols = slices[0].size
    lacking = shortage(len(slices) * rows * cols * 4)
    if lacking:
        raise StudyLoadError(source, f"Cannot open {source}: its {len(slices)} slices of {cols}x{rows} "
                                     f"pixels {lacking}.")


def _read_voxels(slices, source, name, progress=None,
                 apply_rescale=True) -> tuple[np.ndarray, list[DicomSlice], bool, list[QcWarning]]:
    """Fill one preallocated float32 volume slice by slice (peak memory ~1x the volume).

    Returns the volume, the slices that made it in, whether any rescale tag was found,
    and the warnings about the slices that did not. apply_rescale=False keeps the stored
    values (the rescale tags are broken).
    """
    rows, cols = slices[0].size
    voxels = np.empty((len(slices), rows, cols), np.float32)
    kept, problems, rescaled = [], [], False
    decoded = _decoded_slices(slices)
    for done, (dicom_slice, stored) in enumerate(zip(slices, decoded)):
        if progress is not None:
            progress(done, len(slices))
        if isinstance(stored, DecodeFailure):  # skip the slice, keep the series
            problems.append((name(dicom_slice), stored.problem))
            continue
        if stored.shape != (rows, cols):
            problems.append((name(dicom_slice), f"pixel data of shape {stored.shape}, "
                                                f"expected {(rows, cols)}"))
            continue
        slope, intercept, found = _rescale(dicom_slice.header)
        rescaled |= found
        if not apply_rescale:
            slope, intercept = 1.0, 0.0
        _rescale_into(voxels[len(kept)], stored, slope, intercept)
        kept.append(dicom_slice)
    if not kept:
        raise StudyLoadError(source, f"No readable slices in {source}: "
                                     f"{describe_problems(problems)}.")
    if len(kept) < len(slices):
        voxels = voxels[: len(kept)].copy()  # rare; a copy keeps the peak at 2x
    return voxels, kept, rescaled, skipped_file_warnings(problems)


def _decoded_slices(slices):
    """Each slice's stored values or DecodeFailure, in order; a compressed series on every core."""
    if jpeg2000.applies(slices[0]):
        return jpeg2000.map_in_order(slices, fallback=decode_slice)
    if _is_compressed(slices[0]):
        return parallel.map_in_order(decode_slice, slices)
    return map(decode_slice, slices)


@dataclass(frozen=True)
class DecodeFailure:
    """A slice whose pixel data no decoder could read, and why (in a reader's words)."""

    problem: str


def decode_slice(dicom_slice: DicomSlice) -> np.ndarray | DecodeFailure:
    """The stored values of one slice, or why they cannot be read (also in a decoding worker process)."""
    try:
        return _stored_pixels(dicom_slice)
    except BaseException as error:
        if not is_decoder_failure(error):
            raise
        return DecodeFailure(_pixel_problem(error))


def _is_compressed(dicom_slice: DicomSlice) -> bool:
    syntax = dicom_slice.header.file_meta.get("TransferSyntaxUID")
    return bool(syntax) and getattr(syntax, "is_compressed", False)


def is_decoder_failure(error: BaseException) -> bool:
    """Any error a decoder raises on damaged data, including the Rust decoders' panics.

    pylibjpeg-rle reports a panic as pyo3's PanicException, a BaseException that
    `except Exception` lets through; an interrupt or exit is not a decoder failure.
    """
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def _stored_pixels(dicom_slice: DicomSlice) -> np.ndarray:
    """The stored values of one slice, decoded (JPEG lossless/2000/LS, RLE via plugins).

    Each safe decoder is tried in turn; the first failure is the one reported.
    """
    syntax = dicom_slice.header.file_meta.get("TransferSyntaxUID")
    first_error = None
    for plugin in decoding_plugins(syntax):
        try:
            return _decode(dicom_slice, plugin)
        except BaseException as error:
            if not is_decoder_failure(error):
                raise
            first_error = first_error or error
    raise first_error


def decoding_plugins(syntax) -> list[str]:
    """The decoders to try for a transfer syntax ("" is pydicom's choice, for native data)."""
    try:
        available = get_decoder(syntax).available_plugins if syntax and syntax.is_compressed else ()
    except (NotImplementedError, ValueError, AttributeError):
        available = ()
    safe = [plugin for plugin in DECODER_PREFERENCE if plugin in available]
    if safe:
        return safe
    return [ABORTING_DECODER] if ABORTING_DECODER in available else [""]


def _decode(dicom_slice: DicomSlice, plugin: str) -> np.ndarray:
    # A deflated file holds its pixel data inside one zlib stream of the whole dataset,
    # which pixel_array(path) does not inflate: such files are read whole, as forced ones are.
    deflated = dicom_slice.header.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian
    if not dicom_slice.forced and not deflated:
        # Reads only what it needs from the file: one frame of a multi-frame image.
        return pixel_array(dicom_slice.path, index=dicom_slice.frame, decoding_plugin=plugin)
    dataset = pydicom.dcmread(dicom_slice.path, force=dicom_slice.forced)
    if "TransferSyntaxUID" not in dataset.file_meta:  # no file meta: take what pydicom guessed
        implicit = dataset.original_encoding[0]
        syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        dataset.file_meta.TransferSyntaxUID = syntax
    dataset.pixel_array_options(decoding_plugin=plugin)
    return dataset.pixel_array if dicom_slice.frame is None else dataset.pixel_array[dicom_slice.frame]


def _pixel_problem(error: Exception) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, EOFError) or "less than expected" in text or "truncat" in text.lower():
        return "pixel data is truncated"
    return f"pixel data cannot be decoded ({text})"


def _rescale(header: Dataset) -> tuple[float, float, bool]:
    """(slope, intercept, found); defaults 1 and 0 when the tags are absent or broken."""
    slope = float_values(header, "RescaleSlope", 1)
    intercept = float_values(header, "RescaleIntercept", 1)
    found = slope is not None or intercept is not None
    return (float(slope[0]) if slope is not None else 1.0,
            float(intercept[0]) if intercept is not None else 0.0, found)


def _broken_rescale(slices, name) -> str:
    """Why the rescale tags cannot give HU (naming the files), or "" when they can or are absent."""
    problems = []
    for dicom_slice in slices:
        problem = _rescale_problem(dicom_slice.header)
        if problem:
            problems.append((name(dicom_slice), problem))
    if not problems:
        return ""
    files = name_list([file for file, _ in problems], limit=3)
    return (f"{problems[0][1]} in {len(problems)} of {len(slices)} files ({files}): "
            "the values are shown as stored")


def _rescale_problem(header: Dataset) -> str:
    for keyword, low, high in (("RescaleSlope", 0.0, RESCALE_SLOPE_MAX),
                               ("RescaleIntercept", -RESCALE_INTERCEPT_MAX, RESCALE_INTERCEPT_MAX)):
        if header.get(keyword) in (None, ""):
            continue
        value = float_values(header, keyword, 1)
        if value is None:
            return f"{keyword} {str(header.get(keyword))[:20]!r} is not a number"
        inside = low < value[0] <= high if keyword == "RescaleSlope" else low <= value[0] <= high
        if not inside:
            return f"{keyword} {value[0]:g} is not a plausible CT rescale"
    return ""


def _rescale_into(out: np.ndarray, stored: np.ndarray, slope: float, intercept: float) -> None:
    """out = stored * slope + intercept in float32, in one pass when the slope is 1."""
    if slope == 1.0:
        np.add(stored, np.float32(intercept), out=out, casting="unsafe")
    else:
        np.multiply(stored, np.float32(slope), out=out, casting="unsafe")
        out += np.float32(intercept)


def slice_values(dicom_slice: DicomSlice) -> np.ndarray:
    """One slice's pixels, decoded and rescaled (HU for CT), float32: what a series thumbnail shows."""
    stored = _stored_pixels(dicom_slice)
    values = np.empty(stored.shape, np.float32)
    _rescale_into(values, stored, *_rescale(dicom_slice.header)[:2])
    return values


def _decide_units(voxels, header, rescaled) -> tuple[Units, list[QcWarning]]:
    """HU for CT; otherwise when rescaled (not MR/PET/...) or the values look like HU."""
    modality = str(header.get("Modality", "") or "")
    if modality == "CT":
        return Units.HU, []
    low, high = float(voxels.min()), float(voxels.max())
    looks_like_hu = HU_PLAUSIBLE_MIN <= low <= HU_AIR_BELOW and high <= HU_PLAUSIBLE_MAX
    rescaled_to_hu = rescaled and modality not in NOT_HU_MODALITIES
    modality_text = f"Modality is {modality}" if modality else "Modality is missing"
    if rescaled_to_hu or looks_like_hu:
        evidence = "has rescale tags" if rescaled_to_hu else (
            f"has no rescale tags, but its values ({low:.0f} to {high:.0f}) look like "
            "Hounsfield units")
        text = f"{modality_text}, not CT; the series {evidence}, so it is shown in HU."
        return Units.HU, [QcWarning(QcKind.MODALITY, text)]
    text = (f"{modality_text}, not CT, and the values ({low:.0f} to {high:.0f}) do not look like "
            "Hounsfield units: shown as stored; HU windows and hemorrhage detection do not apply.")
    return Units.DISPLAY, [QcWarning(QcKind.MODALITY, text)]


def _not_hu_reason(voxels, header, rescaled) -> str:
    """Why no verdict can rest on these values: not CT, or CT whose values are not HU."""
    modality = str(header.get("Modality", "") or "")
    if modality != "CT":
        return f"Modality is {modality}, not CT" if modality else "Modality is missing: not known to be a CT"
    if rescaled:
        return ""
    low, high = float(voxels.min()), float(voxels.max())
    if HU_PLAUSIBLE_MIN <= low <= HU_AIR_BELOW and high <= HU_PLAUSIBLE_MAX:
        return ""  # raw HU without rescale tags, as in the CT-ICH HU subset
    return (f"CT without rescale tags whose values ({low:.0f} to {high:.0f}) are not Hounsfield "
            "units (no air below -200)")


# --- spacing and geometry QC ------------------------------------------------------------


def _spacing(slices, given) -> tuple[tuple[float, float, float] | None, list[QcWarning]]:
    """(z, y, x) in mm: median step between slice positions, PixelSpacing in-plane."""
    in_plane = _pixel_spacing(slices[0].header)
    between, warnings = _spacing_between_slices(slices)
    if in_plane is not None and between is not None:
        return (between, float(in_plane[0]), float(in_plane[1])), warnings
    if given is not None:
        text = f"Voxel spacing {_format_spacing(given)} mm was entered by the user."
        return tuple(float(v) for v in given), [*warnings, QcWarning(QcKind.VOXEL_SPACING, text)]
    text = "Voxel spacing unknown: volumes in mL cannot be measured."
    return None, [*warnings, QcWarning(QcKind.VOXEL_SPACING, text)]


def _pixel_spacing(header: Dataset) -> np.ndarray | None:
    """PixelSpacing (rows, columns) in mm; None when absent or not two positive numbers."""
    values = float_values(header, "PixelSpacing", 2)
    return values if values is not None and np.all(values > 0) else None


def _impossible_pixel_spacing(slices, name) -> list[QcWarning]:
    """PixelSpacing that is present but no pixel size (0, negative, NaN, text): as if missing.

    A zero or negative size would give zero or negative volumes in mL.
    """
    bad = [s for s in slices if "PixelSpacing" in s.header and _pixel_spacing(s.header) is None]
    if not bad:
        return []
    value = _as_text(bad[0].header["PixelSpacing"].value)
    text = (f"PixelSpacing \"{value}\" is not a pixel size, in {len(bad)} of {len(slices)} files: "
            "pixel size unknown.")
    return [QcWarning(QcKind.VOXEL_SPACING, text, tuple(name(s) for s in bad))]


def _as_text(value) -> str:
    """A tag's value as written in the file (multiple values joined by a backslash)."""
    items = [value] if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") else value
    return "\\".join(str(v) for v in items)[:40]


def _spacing_between_slices(slices) -> tuple[float | None, list[QcWarning]]:
    distances = _distances_along_normal(slices)
    if distances is not None and len(slices) > 1:
        return float(np.median(np.diff(distances))), []
    header = slices[0].header
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = float_values(header, keyword, 1)
        if value is not None and value[0] > 0:
            why = "one slice" if len(slices) == 1 else "no slice positions"
            text = f"Spacing between slices taken from {keyword} ({value[0]:g} mm): {why}."
            return float(value[0]), [QcWarning(QcKind.VOXEL_SPACING, text)]
    return None, []


def _qc_geometry(slices, name) -> list[QcWarning]:
    """What makes volumes or 3D exports wrong: gaps, uneven steps, tilt."""
    distances = _distances_along_normal(slices)
    steps = np.diff(distances) if distances is not None and len(slices) > 2 else None
    uneven = _uneven_steps(steps, slices, name) if steps is not None else []
    return uneven + _tilt(slices)


def _uneven_steps(steps, slices, name) -> list[QcWarning]:
    median = float(np.median(steps))
    gaps = np.flatnonzero(steps > GAP_FACTOR * median)
    labels = _slice_labels(slices)
    warnings = []
    for i in gaps:
        missing = round(steps[i] / median) - 1
        text = (f"Gap of {steps[i]:.2f} mm between slice {labels[i]} and slice {labels[i + 1]}, "
                f"usual spacing {median:.2f} mm: about {missing} slice{'s' if missing != 1 else ''} "
                "missing; volumes there are underestimated.")
        warnings.append(QcWarning(QcKind.MISSING_SLICES, text, (name(slices[i]), name(slices[i + 1]))))
    regular = np.delete(steps, gaps)
    if regular.size and regular.max() - regular.min() > SPACING_TOLERANCE_MM:
        text = (f"Spacing between slices varies from {regular.min():.2f} to {regular.max():.2f} mm; "
                f"volumes use the median {median:.2f} mm.")
        warnings.append(QcWarning(QcKind.UNEVEN_SPACING, text))
    return warnings


def _tilt(slices) -> list[QcWarning]:
    tilts = [float_values(s.header, "GantryDetectorTilt", 1) for s in slices]
    tilt = max((abs(t[0]) for t in tilts if t is not None), default=0.0)
    if tilt > 0.01:
        return [QcWarning(QcKind.TILT, f"Gantry tilt of {tilt:g} degrees: slices are sheared; "
                                       "3D exports and reformats assume no tilt.")]
    off_normal = _angle_off_normal(slices)
    if off_normal is not None and off_normal > TILT_TOLERANCE_DEG:
        return [QcWarning(QcKind.TILT, f"Slice positions run {off_normal:.1f} degrees off the slice "
                                       "normal (tilted gantry or sheared stack): 3D exports assume no tilt.")]
    return []


def _angle_off_normal(slices) -> float | None:
    orientation, first, last = slices[0].orientation, slices[0].position, slices[-1].position
    if orientation is None or first is None or last is None or len(slices) < 2:
        return None
    step = last - first
    length = np.linalg.norm(step)
    if length < DUPLICATE_TOLERANCE_MM:
        return None
    cosine = abs(step @ slice_normal(orientation)) / length
    return float(np.degrees(np.arccos(min(cosine, 1.0))))


def _geometry(slices) -> DicomGeometry | None:
    """Patient-space geometry for NIfTI / DICOM SEG, only when every slice has it."""
    positions = [s.position for s in slices]
    orientation = slices[0].orientation
    if orientation is None or any(p is None for p in positions):
        return None
    first = slices[0].header
    return DicomGeometry(
        positions=np.array(positions),
        orientation=orientation,
        sop_instance_uids=[str(s.header.get("SOPInstanceUID", "")) for s in slices],
        sop_class_uid=str(first.get("SOPClassUID", "")),
        frame_of_reference_uid=str(first.get("FrameOfReferenceUID", "")),
        frame_numbers=[s.frame + 1 for s in slices] if all(s.frame is not None for s in slices) else [],
    )


def _missing_tag_warnings(slices, name) -> list[QcWarning]:
    warnings = []
    for keywords, consequence in TAG_CONSEQUENCES:
        missing = tuple(name(s) for s in slices if any(k not in s.header for k in keywords))
        if missing:
            text = f"{'/'.join(keywords)} missing in {len(missing)} of {len(slices)} files: {consequence}."
            warnings.append(QcWarning(QcKind.MISSING_TAGS, text, missing))
    return warnings


def _format_spacing(spacing) -> str:
    return " x ".join(f"{v:g}" for v in spacing)


# --- what the reader sees about the series ---------------------------------------------


def _slice_labels(slices) -> list[str]:
    numbers = [s.instance_number for s in slices]
    if any(n is None for n in numbers):
        return [str(i + 1) for i in range(len(slices))]
    return [str(n) for n in numbers]


def _description(header: Dataset) -> str:
    description = str(header.get("SeriesDescription", "") or "").strip() or "DICOM series"
    number = str(header.get("SeriesNumber", "") or "")
    return f"{description}, series {number}" if number else description


def _text(header: Dataset, keyword: str) -> str:
    value = header.get(keyword)
    return "" if value is None else str(value).strip()


def study_metadata(header: Dataset) -> StudyMetadata:
    thickness = float_values(header, "SliceThickness", 1)
    return StudyMetadata(
        patient_name=_text(header, "PatientName"),
        patient_id=_text(header, "PatientID"),
        birth_date=_text(header, "PatientBirthDate"),
        sex=_text(header, "PatientSex"),
        study_date=_text(header, "StudyDate"),
        accession_number=_text(header, "AccessionNumber"),
        study_description=_text(header, "StudyDescription"),
        series_description=_text(header, "SeriesDescription"),
        institution=_text(header, "InstitutionName"),
        modality=_text(header, "Modality"),
        manufacturer=_text(header, "Manufacturer"),
        study_instance_uid=_text(header, "StudyInstanceUID"),
        series_instance_uid=_text(header, "SeriesInstanceUID"),
        series_number=_text(header, "SeriesNumber"),
        slice_thickness_mm=float(thickness[0]) if thickness is not None else None,
        kvp=_text(header, "KVP"),
        convolution_kernel=_text(header, "ConvolutionKernel"),
    )


def dicom_windows(header: Dataset) -> list[Window]:
    """WindowCenter/WindowWidth pairs (each may be multi-valued), in HU."""
    centers = _numbers(header.get("WindowCenter"))
    widths = _numbers(header.get("WindowWidth"))
    windows = []
    for level, width in zip(centers, widths):
        window = Window(level, width)
        if width > 0 and window not in windows:
            windows.append(window)
    return windows


def _numbers(value) -> list[float]:
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") else value
    try:
        return [float(v) for v in items]
    except (TypeError, ValueError):
        return []
