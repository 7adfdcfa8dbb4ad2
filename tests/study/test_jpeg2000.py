"""JPEG 2000 slices decoded by OpenCV in threads give exactly what pydicom's decoders give."""

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.pixels import pixel_array
from pydicom.uid import JPEG2000, JPEG2000Lossless

from ich_viewer.study import jpeg2000
from ich_viewer.study.loader import open_study
from tests.factories.dicom import write_ct_series

RESCALE = ("RescaleSlope", "RescaleIntercept")


def series(folder, transfer_syntax=JPEG2000Lossless, signed=False, n_slices=6, bits_stored=16):
    """Unsigned stored values with rescale tags, or signed raw HU without them (as the CT-ICH HU files)."""
    def stored_in(ds, z):
        ds.BitsStored, ds.HighBit = bits_stored, bits_stored - 1

    return write_ct_series(folder, n_slices=n_slices, rows=48, cols=40, transfer_syntax=transfer_syntax,
                           omit_tags=RESCALE if signed else (), edit=stored_in)


def slice_of(path):
    from ich_viewer.study.dicom_series import DicomSlice

    return DicomSlice(path, pydicom.dcmread(path, stop_before_pixels=True))


@pytest.mark.parametrize("bits_stored", [16, 12])
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_lossless_slices_match_pydicom_value_for_value(tmp_path, signed, bits_stored):
    for path in series(tmp_path, signed=signed, bits_stored=bits_stored).files:
        ours = jpeg2000.decoded(slice_of(path))
        assert ours is not None, "this module should decode it"
        reference = pixel_array(path)
        assert ours.dtype == reference.dtype == (np.int16 if signed else np.uint16)
        np.testing.assert_array_equal(ours, reference)


def test_a_signed_lossy_slice_matches_pydicom_too(tmp_path):
    """Lossy decoding clips to the component's range: the shift back must give the same clipped values."""
    path = series(tmp_path, signed=True, n_slices=1).files[0]
    dataset = pydicom.dcmread(path)
    dataset.compress(JPEG2000, dataset.pixel_array, j2k_cr=[8], generate_instance_uid=False)
    dataset.save_as(tmp_path / "lossy.dcm", enforce_file_format=True)
    ours = jpeg2000.decoded(slice_of(tmp_path / "lossy.dcm"))
    reference = pixel_array(tmp_path / "lossy.dcm")
    assert ours is not None
    np.testing.assert_array_equal(ours, reference)


def test_a_codestream_that_disagrees_with_its_header_is_left_to_pydicom(tmp_path):
    path = series(tmp_path, n_slices=1).files[0]
    dataset = pydicom.dcmread(path)
    codestream = next(generate_frames(dataset.PixelData, number_of_frames=1))
    assert jpeg2000.decode_codestream(codestream, dataset) is not None
    dataset.BitsStored = 12  # the stream says 16
    assert jpeg2000.decode_codestream(codestream, dataset) is None
    dataset.BitsStored, dataset.PixelRepresentation = 16, 1  # the stream says unsigned
    assert jpeg2000.decode_codestream(codestream, dataset) is None
    dataset.PixelRepresentation, dataset.Rows = 0, 47
    assert jpeg2000.decode_codestream(codestream, dataset) is None


@pytest.mark.filterwarnings("ignore:End of file reached")  # pydicom, on the damaged file: expected
def test_a_damaged_stream_is_left_to_pydicom_which_names_the_file(tmp_path):
    written = series(tmp_path / "series", n_slices=8)
    broken = written.files[3]
    data = broken.read_bytes()
    broken.write_bytes(data[:-300] + bytes(300))
    assert jpeg2000.decoded(slice_of(broken)) is None
    study = open_study(tmp_path / "series")
    assert study.n_slices == 7
    assert any(broken.name in " ".join(w.files) for w in study.warnings)


def test_the_volume_is_the_one_serial_pydicom_decoding_gives(tmp_path, monkeypatch):
    series(tmp_path / "unsigned", n_slices=20)
    series(tmp_path / "signed", signed=True, n_slices=20)
    for name in ("unsigned", "signed"):
        threaded = open_study(tmp_path / name)
        with monkeypatch.context() as patched:
            patched.setattr(jpeg2000, "decoded", lambda dicom_slice: None)  # every slice to the fallback
            reference = open_study(tmp_path / name)
        np.testing.assert_array_equal(threaded.voxels, reference.voxels)


def test_image_size_reads_the_siz_marker(tmp_path):
    path = series(tmp_path, signed=True, n_slices=1).files[0]
    codestream = next(generate_frames(pydicom.dcmread(path).PixelData, number_of_frames=1))
    size = jpeg2000.image_size(codestream)
    assert (size.width, size.height, size.components, size.precision, size.signed) == (40, 48, 1, 16, True)
    assert jpeg2000.image_size(b"not a codestream") is None
