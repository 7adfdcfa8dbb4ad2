"""The DICOM header pass: read every file up to its pixel data, group into series.

Only headers are read here (stop_before_pixels), so listing the series of a
folder is quick and the pixels are read once, for the chosen series only.

A multi-frame (enhanced) image holds a whole series in one file; each of its
frames becomes a DicomSlice of its own, whose header carries that frame's
position, spacing and rescale from the functional groups, so everything
after this pass treats frames and single-frame files alike.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import DeflatedExplicitVRLittleEndian

from ich_viewer.study.files import (
    DICOM_SUFFIXES,
    most_common,
    shown_name,
    special_file_kind,
)
from ich_viewer.study.memory import shortage
from ich_viewer.study.series import SeriesInfo

PIXEL_DATA_GROUP = 0x7FE0
# |normal . z| above this is axial; generous so a tilted-gantry head CT still counts.
AXIAL_MIN_COSINE = 0.8
# Each frame of encapsulated (compressed) pixel data needs at least an 8-byte item header.
MIN_BYTES_PER_COMPRESSED_FRAME = 8
# Bytes a pixel of one frame takes in memory: the float32 volume and the decoder's output.
BYTES_PER_PIXEL_LOADED = 4 + 2


class SliceProblem(Exception):
    """A file that cannot be a slice; the message says why, in a reader's words."""


@dataclass
class DicomSlice:
    """One DICOM image file, header only."""

    path: Path
    header: Dataset
    # Files without the 'DICM' preamble need force=True to read the pixels too.
    forced: bool = False
    # 0-based frame of a multi-frame file this slice is; None for a single-frame file.
    frame: int | None = None

    @property
    def series_uid(self) -> str:
        return str(self.header.get("SeriesInstanceUID", ""))

    @property
    def modality(self) -> str:
        return str(self.header.get("Modality", "") or "")

    @property
    def size(self) -> tuple[int, int]:
        return int(self.header.Rows), int(self.header.Columns)

    @property
    def n_frames(self) -> int:
        try:
            return int(self.header.get("NumberOfFrames", 1) or 1)
        except (TypeError, ValueError):
            return 1

    @cached_property
    def position(self) -> np.ndarray | None:
        return float_values(self.header, "ImagePositionPatient", 3)

    @cached_property
    def orientation(self) -> tuple[float, ...] | None:
        values = float_values(self.header, "ImageOrientationPatient", 6)
        if values is None or np.linalg.norm(np.cross(values[:3], values[3:])) < 0.5:
            return None  # absent, or not two independent direction cosines
        return tuple(float(v) for v in values)

    @cached_property
    def instance_number(self) -> int | None:
        try:
            return int(self.header.get("InstanceNumber"))
        except (TypeError, ValueError):
            return None

    @property
    def patient(self) -> str:
        return str(self.header.get("PatientID", "") or "").strip()


def float_values(header: Dataset, keyword: str, count: int) -> np.ndarray | None:
    """A multi-valued numeric tag as floats, or None when absent or malformed."""
    value = header.get(keyword)
    if value is None or value == "":
        return None
    items = [value] if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") else value
    try:
        values = np.array([float(v) for v in items])
    except (TypeError, ValueError):
        return None
    if values.size != count or not np.all(np.isfinite(values)):
        return None
    return values


def slice_normal(orientation: tuple[float, ...]) -> np.ndarray:
    """Unit vector perpendicular to the image plane (row x column cosines)."""
    normal = np.cross(orientation[:3], orientation[3:])
    return normal / np.linalg.norm(normal)


def is_axial(orientation: tuple[float, ...] | None) -> bool:
    return orientation is not None and abs(slice_normal(orientation)[2]) >= AXIAL_MIN_COSINE


# --- reading headers --------------------------------------------------------------


def read_slice_header(path: Path) -> DicomSlice:
    """Read one file up to its pixel data; SliceProblem says why it cannot be a slice."""
    kind = special_file_kind(path)
    if kind:
        raise SliceProblem(f"not a regular file ({kind}), not opened")
    try:
        with open(path, "rb") as fp:
            header, forced = _read_header(fp, path)
            _parse_every_element(header)
            _check_is_image(header)
            _check_frames(header)
            _check_pixel_data(fp, header)
    except SliceProblem:
        raise
    except Exception as error:  # noqa: BLE001  pydicom raises many kinds on damaged headers
        raise SliceProblem(reading_problem(error)) from None
    return DicomSlice(path, header, forced)


def reading_problem(error: Exception) -> str:
    """Why a file could not be read as DICOM, in a reader's words."""
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, OSError):
        return f"cannot be read ({error.strerror or error})"
    if isinstance(error, InvalidDicomError):
        return "not a DICOM file"
    return f"damaged or truncated DICOM header ({error})"


def _read_header(fp, path: Path) -> tuple[Dataset, bool]:
    try:
        return pydicom.dcmread(fp, stop_before_pixels=True), False
    except InvalidDicomError:
        # Some older exports omit the 128-byte preamble; try those only when the
        # name suggests DICOM, so random files are not parsed as garbage.
        if path.suffix and path.suffix.lower() not in DICOM_SUFFIXES:
            raise
    fp.seek(0)
    try:
        header = pydicom.dcmread(fp, stop_before_pixels=True, force=True)
        is_image_header = "Rows" in header and "Columns" in header
    except Exception:  # noqa: BLE001  whatever a damaged header raises, it is not an image
        is_image_header = False
    if not is_image_header:
        raise InvalidDicomError(f"{path} is not DICOM")
    return header, True


def _parse_every_element(header: Dataset) -> None:
    """pydicom parses an element's value when it is first used; do it now, in the guarded read.

    Otherwise a damaged element (an unknown VR, say) raises far from this file's
    name, while the series is being described or its pixels read.
    """
    for _ in header.iterall():
        pass


def _check_frames(header: Dataset) -> None:
    """NumberOfFrames and the image size, checked before any per-frame work or allocation."""
    frames = header.get("NumberOfFrames", 1)
    try:
        frames = 1 if frames is None or frames == "" else int(frames)
    except (TypeError, ValueError):
        raise SliceProblem(f"NumberOfFrames is not a number ({frames!r})") from None
    if frames < 1:
        raise SliceProblem(f"NumberOfFrames is {frames}")
    rows, cols = int(header.Rows or 0), int(header.Columns or 0)
    if rows < 1 or cols < 1:
        raise SliceProblem(f"image of {cols}x{rows} pixels")
    lacking = shortage(rows * cols * frames * BYTES_PER_PIXEL_LOADED)
    if lacking:
        raise SliceProblem(f"{frames} frame{'s' if frames > 1 else ''} of {cols}x{rows} pixels: {lacking}")


def _check_is_image(header: Dataset) -> None:
    sop_class = header.get("SOPClassUID") or header.file_meta.get("MediaStorageSOPClassUID")
    if "Rows" not in header or "Columns" not in header:
        if sop_class and "Image" in sop_class.name:
            raise SliceProblem("DICOM header is incomplete, the file is probably truncated")
        raise SliceProblem(f"not an image{f' ({sop_class.name})' if sop_class else ''}")
    if int(header.get("SamplesPerPixel", 1) or 1) != 1:
        raise SliceProblem("colour image, not a CT slice")


def _check_pixel_data(fp, header: Dataset) -> None:
    """stop_before_pixels leaves the file at the pixel data tag, if there is one.

    Uncompressed pixel data is also checked for length here, so a truncated file
    is named as such instead of failing later with a reshape error.
    """
    syntax = header.file_meta.get("TransferSyntaxUID")
    if syntax == DeflatedExplicitVRLittleEndian:
        return  # the stream is inflated in memory; the pixel pass will tell
    implicit, little_endian = header.original_encoding
    tag = fp.read(4)
    byte_order = "<HH" if little_endian is not False else ">HH"
    if len(tag) < 4 or struct.unpack(byte_order, tag)[0] != PIXEL_DATA_GROUP:
        raise SliceProblem("DICOM without pixel data")
    if syntax is not None and syntax.is_compressed:
        _check_compressed_frames(fp, header)
        return  # the fragments themselves: their decoder checks them
    # Skip the rest of the element header: a 4-byte length (implicit VR), or
    # VR, 2 reserved bytes and a 4-byte length (explicit VR, OB/OW).
    fp.seek(4 if implicit else 8, 1)
    available = _bytes_left(fp)
    expected = _native_pixel_bytes(header)
    if available < expected:
        raise SliceProblem(f"pixel data is truncated ({available} of {expected} bytes)")


def _check_compressed_frames(fp, header: Dataset) -> None:
    """A 1 KB file claiming ten million compressed frames cannot hold them: say so at once."""
    frames = int(header.get("NumberOfFrames", 1) or 1)
    room = _bytes_left(fp) // MIN_BYTES_PER_COMPRESSED_FRAME
    if frames > room:
        raise SliceProblem(f"NumberOfFrames is {frames}, but the compressed pixel data can hold "
                           f"at most {room} frames")


def _bytes_left(fp) -> int:
    here = fp.tell()
    end = fp.seek(0, 2)
    fp.seek(here)
    return end - here


def _native_pixel_bytes(header: Dataset) -> int:
    frames = int(header.get("NumberOfFrames", 1) or 1)
    pixels = int(header.Rows) * int(header.Columns) * int(header.get("SamplesPerPixel", 1) or 1)
    bits = int(header.get("BitsAllocated", 16) or 16)
    return (pixels * frames * bits + 7) // 8


def scan_dicom_files(
    paths: Iterable[Path], root: Path
) -> tuple[list[DicomSlice], list[tuple[str, str]]]:
    """Headers of every readable DICOM image (a slice per frame), and (file name, problem) for the others."""
    slices, problems = [], []
    for path in paths:
        try:
            dicom_slice = read_slice_header(path)
            slices += split_frames(dicom_slice) if dicom_slice.n_frames > 1 else [dicom_slice]
        except SliceProblem as problem:
            problems.append((shown_name(path, root), str(problem)))
    return slices, problems


# --- multi-frame images -------------------------------------------------------------


FUNCTIONAL_GROUPS = ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence")


def split_frames(image: DicomSlice) -> list[DicomSlice]:
    """One DicomSlice per frame of a multi-frame image, each with a flat single-frame header."""
    header = image.header
    per_frame = header.get("PerFrameFunctionalGroupsSequence") or []
    if len(per_frame) not in (0, image.n_frames):
        raise SliceProblem(f"multi-frame image with {image.n_frames} frames but "
                           f"{len(per_frame)} per-frame descriptions")
    shared = header.get("SharedFunctionalGroupsSequence") or []
    common = [e for e in header if e.keyword not in (*FUNCTIONAL_GROUPS, "NumberOfFrames")]
    frames = []
    for index in range(image.n_frames):
        flat = Dataset()  # a new element table per frame; the elements themselves are shared, read-only
        flat.file_meta = header.file_meta  # the transfer syntax picks the frame's decoder
        for element in common:
            flat.add(element)
        # Shared values first, then the frame's own: a per-frame value overrides a shared one.
        for groups in (shared[:1], per_frame[index:index + 1]):
            for group in groups:
                _flatten_into(flat, group)
        flat.add_new("InstanceNumber", "IS", index + 1)  # the frame number is the slice label
        frames.append(DicomSlice(image.path, flat, image.forced, frame=index))
    return frames


def _flatten_into(flat: Dataset, group: Dataset) -> None:
    """Copy the values inside each functional group macro (position, pixel measures, ...)."""
    for macro in group:
        if macro.VR == "SQ" and len(macro.value):
            for element in macro.value[0]:
                if element.VR != "SQ":
                    flat.add(element)


# --- series ---------------------------------------------------------------------------


def group_by_series(slices: list[DicomSlice]) -> dict[str, list[DicomSlice]]:
    """SeriesInstanceUID -> slices, in the order series are first met."""
    series: dict[str, list[DicomSlice]] = {}
    for dicom_slice in slices:
        series.setdefault(dicom_slice.series_uid, []).append(dicom_slice)
    return series


def describe_series(uid: str, slices: list[DicomSlice]) -> SeriesInfo:
    first = slices[0].header
    modality = slices[0].modality
    description = str(first.get("SeriesDescription", "") or "").strip()
    number = str(first.get("SeriesNumber", "") or "")
    rows, cols = most_common(s.size for s in slices)
    axial = is_axial(most_common(s.orientation for s in slices))
    # Without a description the file (one slice) or folder name tells series apart.
    fallback = slices[0].path.name if len(slices) == 1 else slices[0].path.parent.name
    label = (
        f"{number + ': ' if number else ''}{description or fallback}"
        f" - {modality or 'no modality'}, {len(slices)} slice{'s' if len(slices) != 1 else ''},"
        f" {cols}x{rows}{', axial' if axial else ''}"
    )
    thickness = most_common(_thickness(s.header) for s in slices)
    middle = middle_slice(slices)
    return SeriesInfo(uid, description, modality, len(slices), rows, cols, axial, label, number,
                      thickness, middle.path, middle.frame)


def _thickness(header: Dataset) -> float | None:
    value = float_values(header, "SliceThickness", 1)
    return float(value[0]) if value is not None and value[0] > 0 else None


def middle_slice(slices: list[DicomSlice]) -> DicomSlice:
    """The slice in the middle of the series, in the order the viewer shows it (along the normal,
    else InstanceNumber), from the headers alone: the one a thumbnail needs to decode."""
    orientation = most_common(s.orientation for s in slices)
    if orientation is not None and all(s.position is not None for s in slices):
        normal = slice_normal(orientation)
        ordered = sorted(slices, key=lambda s: float(s.position @ normal))
    else:
        ordered = sorted(slices, key=lambda s: s.instance_number or 0)
    return ordered[len(ordered) // 2]


def choose_series(infos: list[SeriesInfo]) -> SeriesInfo:
    """The series a radiologist reads by default: axial CT with the most slices."""
    return max(infos, key=lambda s: (s.modality == "CT", s.is_axial, s.n_slices))
