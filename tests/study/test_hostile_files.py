"""Issue 15: hostile files end in a clear message naming the file; the rest of the series loads."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEG2000Lossless

from ich_viewer.study import dicom_volume, memory
from ich_viewer.study.dicom_volume import decoding_plugins
from ich_viewer.study.loader import StudyLoadError, find_studies, open_study
from ich_viewer.study.qc import QcKind
from tests.factories.dicom import write_ct_series
from tests.factories.images import slice_image, write_image
from tests.study.qc_support import naming


def skipped(study, file_name: str) -> str:
    """The text of the warning that names file_name (fails when there is none)."""
    return naming(study, file_name).text


# --- failure 2: unknown decoder exceptions are caught per file -------------------------


def test_damaged_value_representation_skips_that_file(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3, shuffle=False)
    raw = series.files[1].read_bytes()
    modality = b"\x08\x00\x60\x00CS"
    assert modality in raw
    series.files[1].write_bytes(raw.replace(modality, b"\x08\x00\x60\x00Cs"))

    study = open_study(tmp_path / "ct")

    assert study.n_slices == 2
    assert "damaged" in skipped(study, series.files[1].name)


def test_decoder_panic_skips_that_file(tmp_path, monkeypatch):
    class PanicException(BaseException):  # what pyo3 raises from pylibjpeg-rle
        pass

    series = write_ct_series(tmp_path / "ct", n_slices=3, shuffle=False)
    real_decode = dicom_volume._decode

    def panicking(dicom_slice, plugin):
        if dicom_slice.path == series.files[0]:
            raise PanicException("index out of bounds: the len is 2048 but the index is 2048")
        return real_decode(dicom_slice, plugin)

    monkeypatch.setattr(dicom_volume, "_decode", panicking)
    study = open_study(tmp_path / "ct")

    assert study.n_slices == 2
    assert "index out of bounds" in skipped(study, series.files[0].name)


def test_an_interrupt_is_not_taken_for_a_decoder_failure(tmp_path, monkeypatch):
    write_ct_series(tmp_path / "ct", n_slices=2)
    monkeypatch.setattr(dicom_volume, "_decode", lambda s, p: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        open_study(tmp_path / "ct")


def test_gdcm_is_never_a_fallback_where_another_decoder_exists():
    # gdcm aborts the process on some damaged JPEG 2000 streams (measured by the fuzz run).
    assert "gdcm" not in decoding_plugins(JPEG2000Lossless)
    assert decoding_plugins(pydicom.uid.JPEGLosslessSV1) == ["gdcm"]  # its only decoder


def test_damaged_jpeg2000_stream_is_skipped_without_aborting(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3, transfer_syntax=JPEG2000Lossless, shuffle=False)
    raw = series.files[2].read_bytes()
    start = raw.index(b"\xff\x4f\xff\x51")  # the J2K codestream's first markers
    series.files[2].write_bytes(raw[:start] + b"\x00" * 16 + raw[start + 16:])

    study = open_study(tmp_path / "ct")

    assert study.n_slices == 2
    assert "cannot be decoded" in skipped(study, series.files[2].name)


def _png_claiming(path, width: int, height: int):
    """A valid small PNG whose IHDR then claims width x height (CRC fixed, so only the size lies)."""
    write_image(path, slice_image(1, (16, 16)))
    raw = bytearray(path.read_bytes())
    ihdr = raw[12:29]  # b"IHDR" + 13 bytes of data
    ihdr[4:12] = struct.pack(">II", width, height)
    raw[12:29] = ihdr
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    path.write_bytes(bytes(raw))


def test_png_claiming_60000_squared_pixels_is_skipped(tmp_path):
    for i in (1, 2):
        write_image(tmp_path / "img" / f"{i}.png", slice_image(i, (16, 16)))
    _png_claiming(tmp_path / "img" / "3.png", 60000, 60000)

    study = open_study(tmp_path / "img")

    assert study.n_slices == 2
    assert "cannot be decoded" in skipped(study, "3.png")


def test_series_too_big_for_memory_is_refused_before_allocating(tmp_path, monkeypatch):
    write_ct_series(tmp_path / "ct", n_slices=10, rows=64, cols=64)
    # Each file (64x64, ~24 KB loaded) fits; the 10-slice volume (160 KB) does not.
    monkeypatch.setattr(memory, "available_bytes", lambda: 100_000)
    with pytest.raises(StudyLoadError, match=r"10 slices of 64x64 pixels needs .* of memory"):
        open_study(tmp_path / "ct")


def test_file_claiming_more_pixels_than_memory_is_skipped(tmp_path, monkeypatch):
    write_ct_series(tmp_path / "ct", n_slices=2, rows=64, cols=64)
    monkeypatch.setattr(memory, "available_bytes", lambda: 10_000)
    with pytest.raises(StudyLoadError, match=r"IM0000.dcm: 1 frame of 64x64 pixels: needs"):
        open_study(tmp_path / "ct")


# --- failure 4: NumberOfFrames checked before per-frame work ---------------------------


def test_ten_million_frames_in_a_small_compressed_file(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3, transfer_syntax=JPEG2000Lossless, shuffle=False)
    ds = pydicom.dcmread(series.files[0])
    ds.NumberOfFrames = 10**7
    ds.save_as(series.files[0])

    study = open_study(tmp_path / "ct")

    assert study.n_slices == 2
    assert "10000000 frames" in skipped(study, series.files[0].name)  # refused before any per-frame work


@pytest.mark.parametrize("frames", ["0", "-3", "many"])
def test_impossible_number_of_frames(tmp_path, frames):
    series = write_ct_series(tmp_path / "ct", n_slices=2, shuffle=False)
    raw = series.files[0].read_bytes()
    ds = pydicom.dcmread(series.files[0])
    ds.add_new("NumberOfFrames", "IS", None)
    ds["NumberOfFrames"]._value = frames  # written as given, unchecked
    ds.save_as(series.files[0])
    assert len(series.files[0].read_bytes()) > len(raw)

    study = open_study(tmp_path / "ct")

    assert study.n_slices == 1
    assert "NumberOfFrames" in skipped(study, series.files[0].name)


# --- failures 3 and 5: no verdict on values that are not Hounsfield units ---------------


def _set(keyword, value):
    def edit(ds, z):
        ds[keyword]._value = value  # written as given, even when not a valid number
    return edit


@pytest.mark.parametrize("keyword, value", [
    ("RescaleSlope", "0"), ("RescaleSlope", "-1"), ("RescaleSlope", "1e30"),
    ("RescaleIntercept", "1e30"), ("RescaleSlope", "nan"), ("RescaleIntercept", "inf"),
    ("RescaleSlope", "abc"),
])
def test_broken_rescale_gives_no_verdict(tmp_path, keyword, value):
    write_ct_series(tmp_path / "ct", n_slices=2, edit=_set(keyword, value))

    study = open_study(tmp_path / "ct")

    assert not study.assessable
    assert keyword in study.not_hu_reason and "IM000" in study.not_hu_reason


def test_ct_without_rescale_whose_values_are_not_hu(tmp_path):
    def drop_rescale(ds, z):
        del ds.RescaleSlope, ds.RescaleIntercept  # stored values stay ~0..2000 (HU + 1024)
    write_ct_series(tmp_path / "ct", n_slices=2, edit=drop_rescale)

    study = open_study(tmp_path / "ct")

    assert not study.assessable and "not Hounsfield units" in study.not_hu_reason


def test_ct_without_rescale_holding_raw_hu_keeps_its_verdict(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=2,
                             omit_tags=["RescaleSlope", "RescaleIntercept", "RescaleType"])
    study = open_study(tmp_path / "ct")
    assert study.assessable
    np.testing.assert_array_equal(study.voxels, series.hu)


@pytest.mark.parametrize("modality, reason", [("MR", "Modality is MR"), ("SEG", "Modality is SEG"),
                                              ("", "Modality is missing")])
def test_non_ct_modality_gives_no_verdict(tmp_path, modality, reason):
    write_ct_series(tmp_path / "s", n_slices=2, modality=modality)
    study = open_study(tmp_path / "s")
    assert not study.assessable and reason in study.not_hu_reason


# --- issue 15: files and folders that are not what they seem ------------------------------


def test_deflated_series_loads_like_the_uncompressed_one(tmp_path):
    plain = write_ct_series(tmp_path / "plain", n_slices=3, rows=32, cols=32)
    deflated = write_ct_series(tmp_path / "deflated", n_slices=3, rows=32, cols=32,
                               transfer_syntax=DeflatedExplicitVRLittleEndian)
    assert pydicom.dcmread(deflated.files[0]).file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian

    study = open_study(tmp_path / "deflated")

    np.testing.assert_array_equal(study.voxels, plain.hu)
    assert study.spacing_mm == open_study(tmp_path / "plain").spacing_mm and not study.warnings


def test_folder_links_are_followed_once_per_real_folder(tmp_path, hang_guard):
    series = write_ct_series(tmp_path / "in" / "ct", n_slices=3, rows=16, cols=16)
    write_ct_series(tmp_path / "elsewhere" / "ct2", n_slices=2, rows=16, cols=16)
    (tmp_path / "in" / "nest").mkdir()
    # Two loops to the top: followed each time, 2**40 paths before the OS says ELOOP.
    (tmp_path / "in" / "nest" / "back").symlink_to(tmp_path / "in")
    (tmp_path / "in" / "nest" / "up").symlink_to("..")
    (tmp_path / "in" / "ct" / "self").symlink_to(".")  # a loop inside the series
    (tmp_path / "in" / "linked").symlink_to(tmp_path / "elsewhere")  # a real folder, once
    (tmp_path / "in" / "linked_again").symlink_to(tmp_path / "elsewhere")

    studies = find_studies(tmp_path / "in")

    assert [s.resolve() for s in studies] == [(tmp_path / "in" / "ct").resolve(),
                                              (tmp_path / "elsewhere" / "ct2").resolve()]
    study = open_study(tmp_path / "in" / "ct")
    np.testing.assert_array_equal(study.voxels, series.hu)
    assert not study.warnings  # each file read once: no duplicate slice positions


def test_fifo_named_like_a_dicom_file_is_skipped_unopened(tmp_path, hang_guard):
    series = write_ct_series(tmp_path / "ct", n_slices=2, rows=16, cols=16)
    os.mkfifo(tmp_path / "ct" / "x.dcm")

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)
    assert "not a regular file" in skipped(study, "x.dcm")


def test_fifo_opened_on_its_own_is_refused_unopened(tmp_path, hang_guard):
    os.mkfifo(tmp_path / "x.dcm")
    with pytest.raises(StudyLoadError, match=r"x\.dcm is not a regular file \(a named pipe"):
        open_study(tmp_path / "x.dcm")


@pytest.mark.parametrize("spacing", ["0\\0", "-0.5\\-0.5", "0.5\\0", "nan\\nan", "inf\\0.5",
                                     "abc\\0.5", "0.5"])
def test_impossible_pixel_spacing_leaves_the_pixel_size_unknown(tmp_path, spacing):
    write_ct_series(tmp_path / "ct", n_slices=2, rows=16, cols=16, edit=_set("PixelSpacing", spacing))

    study = open_study(tmp_path / "ct")

    assert study.spacing_mm is None  # no mm, so no mL
    warning = naming(study, "IM0000.dcm")
    assert warning.kind is QcKind.VOXEL_SPACING and "PixelSpacing" in warning.text
    assert "pixel size unknown" in warning.text
