"""Write synthetic head-CT DICOM series for tests and benchmarks.

Usage (from any test; pyproject's pytest `pythonpath` puts the repo root on sys.path):

    from tests.factories.dicom import write_ct_series
    series = write_ct_series(tmp_path / "ct", n_slices=10)
    study = open_study(tmp_path / "ct")
    np.testing.assert_array_equal(study.voxels, series.hu)

The phantom is a head-like ellipse: air, a 1000 HU skull ring, brain at
30 + z HU (so every slice differs and a wrong slice order shows), a 70 HU
hematoma, and a little noise so compression round trips are meaningful.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEGLossless,
    JPEGLosslessSV1,
    generate_uid,
)

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
RESCALE_TAGS = ("RescaleSlope", "RescaleIntercept", "RescaleType")


@dataclass
class WrittenSeries:
    """What write_ct_series put on disk, in volume order (inferior to superior)."""

    hu: np.ndarray  # float32 (z, y, x): what a correct loader must return
    files: list[Path]
    series_uid: str
    positions: np.ndarray  # (z, 3) ImagePositionPatient
    sop_instance_uids: list[str] = field(default_factory=list)


def head_phantom(n_slices: int, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """A (z, y, x) int16 HU volume that looks roughly like a head."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    r = np.hypot((y - rows / 2) / (rows * 0.42), (x - cols / 2) / (cols * 0.36))
    hematoma = np.hypot(y - rows * 0.4, x - cols * 0.62) < min(rows, cols) * 0.08
    volume = np.empty((n_slices, rows, cols), np.int16)
    for z in range(n_slices):
        hu = np.full((rows, cols), -1000, np.int16)
        hu[r < 1.0] = 1000  # skull
        hu[r < 0.9] = 30 + z  # brain, different on every slice
        hu[(r < 0.9) & hematoma] = 70
        noise = rng.integers(-4, 5, size=(rows, cols), dtype=np.int16)
        volume[z] = hu + noise * (r < 0.9)
    return volume


def write_ct_series(
    folder: Path,
    n_slices: int = 10,
    rows: int = 64,
    cols: int = 64,
    spacing: tuple[float, float, float] = (5.0, 0.5, 0.5),
    intercept: float = -1024.0,
    slope: float = 1.0,
    transfer_syntax: str = ExplicitVRLittleEndian,
    shuffle: bool = True,
    series_uid: str | None = None,
    modality: str = "CT",
    orientation: Sequence[float] = AXIAL,
    origin: Sequence[float] = (-16.0, -16.0, -30.0),
    missing_slices: Sequence[int] = (),
    omit_tags: Sequence[str] = (),
    gantry_tilt_deg: float = 0.0,
    series_description: str = "Head 5mm",
    file_prefix: str = "IM",
    seed: int = 0,
    edit: Callable[[Dataset, int], None] | None = None,
) -> WrittenSeries:
    """Write one CT series, one file per slice, and return what should load.

    missing_slices   slice indices not written (a gap in the series).
    omit_tags        DICOM keywords deleted from every file. Omitting the rescale
                     tags writes raw HU as signed int16, like the CT-ICH HU subset.
    gantry_tilt_deg  sets GantryDetectorTilt and shears positions along y.
    edit             called as edit(ds, z) on each dataset just before saving.
    shuffle          file names do not follow slice order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    study_uid, frame_uid = generate_uid(), generate_uid()
    hu = head_phantom(n_slices, rows, cols, seed)
    has_rescale = not any(tag in omit_tags for tag in RESCALE_TAGS)
    if not has_rescale:
        slope, intercept = 1.0, 0.0
    stored = np.round((hu - intercept) / slope)
    signed = bool(stored.min() < 0)
    stored = stored.astype(np.int16 if signed else np.uint16)

    kept = [z for z in range(n_slices) if z not in set(missing_slices)]
    file_numbers = list(range(len(kept)))
    if shuffle:
        random.Random(seed).shuffle(file_numbers)
    positions = _positions(n_slices, spacing[0], orientation, origin, gantry_tilt_deg)

    written = WrittenSeries(
        hu=(stored[kept].astype(np.float32) * slope + intercept).astype(np.float32),
        files=[], series_uid=series_uid, positions=positions[kept],
    )
    for file_number, z in zip(file_numbers, kept):
        ds = _ct_slice(stored[z], signed, z, positions[z], orientation, spacing,
                       slope, intercept, modality, gantry_tilt_deg)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = (
            study_uid, series_uid, frame_uid)
        ds.SeriesDescription = series_description
        for keyword in omit_tags:
            if keyword in ds:
                delattr(ds, keyword)
        if edit is not None:
            edit(ds, z)
        path = folder / f"{file_prefix}{file_number:04d}.dcm"
        save_dataset(ds, path, transfer_syntax)
        written.files.append(path)
        written.sop_instance_uids.append(ds.SOPInstanceUID)
    return written


def _positions(n_slices, dz, orientation, origin, tilt_deg) -> np.ndarray:
    row, col = np.array(orientation[:3]), np.array(orientation[3:])
    normal = np.cross(row, col)
    shear = col * np.tan(np.radians(tilt_deg))  # a tilted gantry shifts each slice in-plane
    steps = np.arange(n_slices)[:, None] * dz
    return np.asarray(origin, float) + steps * normal + steps * shear


def _ct_slice(pixels, signed, z, position, orientation, spacing, slope, intercept,
              modality, tilt_deg) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientName = "Phantom^Head"
    ds.PatientID = "PHANTOM-1"
    ds.StudyDate = "20240101"
    ds.SeriesNumber = 3
    ds.InstanceNumber = z + 1
    ds.ImagePositionPatient = [round(float(v), 4) for v in position]
    ds.ImageOrientationPatient = [float(v) for v in orientation]
    ds.PixelSpacing = [spacing[1], spacing[2]]
    ds.SliceThickness = spacing[0]
    ds.GantryDetectorTilt = tilt_deg
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    ds.RescaleType = "HU"
    ds.WindowCenter = [40, 600]
    ds.WindowWidth = [80, 2800]
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = int(signed)
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    return ds


def save_dataset(ds: Dataset, path: Path, transfer_syntax: str = ExplicitVRLittleEndian) -> None:
    """Save with file meta, compressing when asked (RLE, JPEG 2000, JPEG-LS, JPEG lossless, deflate)."""
    transfer_syntax = UID(transfer_syntax)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    # Deflate compresses the whole dataset as it is written, not the pixel data.
    ds.file_meta.TransferSyntaxUID = transfer_syntax if transfer_syntax.is_deflated else ExplicitVRLittleEndian
    if transfer_syntax in (JPEGLossless, JPEGLosslessSV1):
        # pydicom has no JPEG lossless encoder; gdcm transcodes the written file.
        ds.save_as(path, enforce_file_format=True)
        _gdcm_transcode(path, transfer_syntax)
        return
    if transfer_syntax.is_compressed:
        ds.compress(transfer_syntax, generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)


def _gdcm_transcode(path: Path, transfer_syntax: UID) -> None:
    import gdcm

    target = {
        JPEGLossless: gdcm.TransferSyntax.JPEGLosslessProcess14,
        JPEGLosslessSV1: gdcm.TransferSyntax.JPEGLosslessProcess14_1,
    }[transfer_syntax]
    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    if not reader.Read():
        raise RuntimeError(f"gdcm could not read {path}")
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(target))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError(f"gdcm could not transcode {path}")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(path))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    if not writer.Write():
        raise RuntimeError(f"gdcm could not write {path}")


def write_enhanced_ct(path: Path, series: WrittenSeries) -> Path:
    """The series as one multi-frame image (Legacy Converted Enhanced CT, as a PACS exports it).

    Its frames keep the files' (shuffled) order, so a loader must sort them by position.
    """
    import warnings

    import highdicom as hd
    import pydicom

    with warnings.catch_warnings():  # highdicom notes the optional FrameType it cannot derive
        warnings.simplefilter("ignore")
        image = hd.legacy.LegacyConvertedEnhancedCTImage(
            [pydicom.dcmread(f) for f in series.files], series_instance_uid=hd.UID(),
            series_number=7, sop_instance_uid=hd.UID(), instance_number=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save_as(path)
    return path
