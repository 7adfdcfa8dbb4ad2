"""JPEG 2000 slices decoded on every core by threads, with OpenCV's OpenJPEG.

pydicom's JPEG 2000 decoders (pylibjpeg-openjpeg, Pillow) hold the GIL, so a series
needs worker processes (parallel.py), which take ~0.5 s to start and pickle every slice
back. cv2.imdecode releases the GIL: two threads decode 2.0x as fast as one, where
pylibjpeg gives 0.95x (benchmarks/bench_load.py prints the series' figures).

OpenCV reads only unsigned components, so a signed codestream has its sign flag cleared
before decoding and the values shifted back after: JPEG 2000 stores a signed component
without the DC level shift that an unsigned one gets on decoding (ISO 15444-1, G.1.2),
so the decoder's unsigned result is the signed value plus 2^(precision-1), exactly.

Only what this module is sure of is decoded here: one grey component whose precision and
sign agree with BitsStored and PixelRepresentation, of the header's size, in a
single-frame file. Anything else, and any stream OpenCV cannot read, goes to pydicom's
decoders (the fallback), which also say what is wrong with a damaged one; they read the
file again: about 1 ms a slice (bench_load.py reads 300 uncompressed slices in 0.37 s).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.encaps import generate_frames
from pydicom.uid import JPEG2000, JPEG2000Lossless

from ich_viewer.study.dicom_series import DicomSlice
from ich_viewer.study.parallel import worker_count

SYNTAXES = frozenset({JPEG2000Lossless, JPEG2000})
START_OF_IMAGE_SIZE = b"\xff\x4f\xff\x51"  # SOC, then SIZ (ISO 15444-1 A.5.1)
# Bytes from SOC to the first component's Ssiz: SOC, SIZ, Lsiz, Rsiz, eight 4-byte sizes, Csiz.
SSIZ_OFFSET = 2 + 2 + 2 + 2 + 8 * 4 + 2
SIGNED = 0x80


@dataclass(frozen=True)
class ImageSize:
    """What a codestream's SIZ marker says about its image."""

    width: int
    height: int
    components: int
    precision: int
    signed: bool
    ssiz_at: int  # where the first component's Ssiz byte is in the stream


def applies(dicom_slice: DicomSlice) -> bool:
    """Whether the series' slices are single-frame JPEG 2000 files (checked again slice by slice)."""
    header = dicom_slice.header
    return (header.file_meta.get("TransferSyntaxUID") in SYNTAXES and dicom_slice.frame is None
            and not dicom_slice.forced and int(header.get("SamplesPerPixel", 1) or 1) == 1)


def map_in_order(slices: Sequence[DicomSlice],
                 fallback: Callable[[DicomSlice], object]) -> Iterator[object]:
    """Each slice's stored values (or what fallback gives for it), in order, on every core."""
    def decode(dicom_slice: DicomSlice):
        stored = decoded(dicom_slice)
        return fallback(dicom_slice) if stored is None else stored

    with ThreadPoolExecutor(max(1, worker_count())) as threads:
        yield from threads.map(decode, slices)


def decoded(dicom_slice: DicomSlice) -> np.ndarray | None:
    """The slice's stored values, or None when this module does not decode it."""
    try:
        dataset = pydicom.dcmread(dicom_slice.path)
        codestream = next(generate_frames(dataset.PixelData, number_of_frames=1))
        return decode_codestream(codestream, dataset)
    except Exception:  # noqa: BLE001 - the fallback reads the file again and says what is wrong
        return None


def decode_codestream(codestream: bytes, header) -> np.ndarray | None:
    """The stored values of one grey JPEG 2000 frame that agrees with its header, else None."""
    cv2 = _quiet_opencv()
    size = image_size(codestream)
    bits_allocated, bits_stored = int(header.get("BitsAllocated", 0)), int(header.get("BitsStored", 0))
    signed = int(header.get("PixelRepresentation", 0)) == 1
    if (size is None or size.components != 1 or size.precision != bits_stored or size.signed != signed
            or (size.height, size.width) != (int(header.Rows), int(header.Columns))
            or bits_allocated not in (8, 16) or bits_stored > bits_allocated):
        return None
    if signed:
        stream = bytearray(codestream)
        stream[size.ssiz_at] &= ~SIGNED & 0xFF
        codestream = bytes(stream)
    pixels = cv2.imdecode(np.frombuffer(codestream, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.shape != (size.height, size.width):
        return None
    return _stored_values(pixels, bits_allocated, size.precision, signed)


@functools.cache
def _quiet_opencv():
    """cv2, its log silenced (once): it would print a line per slice (a colour space it assumes, a
    stream it cannot read) where the fallback decodes the slice or says what is wrong with it."""
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    return cv2


def _stored_values(pixels: np.ndarray, bits_allocated: int, precision: int, signed: bool) -> np.ndarray:
    """What pydicom gives for these samples: (u)int8 or (u)int16 by BitsAllocated and sign."""
    dtype = np.dtype(f"{'i' if signed else 'u'}{bits_allocated // 8}")
    if not signed:
        return pixels.astype(dtype, copy=False)
    return (pixels.astype(np.int32) - (1 << (precision - 1))).astype(dtype)


def image_size(codestream: bytes) -> ImageSize | None:
    """The SIZ marker of a codestream (bare or inside a JP2 file), or None when there is none."""
    start = codestream.find(START_OF_IMAGE_SIZE)
    if start < 0 or len(codestream) < start + SSIZ_OFFSET + 1:
        return None
    fields = np.frombuffer(codestream, ">u4", count=4, offset=start + 8)  # Xsiz, Ysiz, XOsiz, YOsiz
    width, height = int(fields[0] - fields[2]), int(fields[1] - fields[3])
    components = int.from_bytes(codestream[start + SSIZ_OFFSET - 2:start + SSIZ_OFFSET], "big")
    ssiz = codestream[start + SSIZ_OFFSET]
    return ImageSize(width, height, components, (ssiz & 0x7F) + 1, bool(ssiz & SIGNED), start + SSIZ_OFFSET)
