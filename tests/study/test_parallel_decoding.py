"""A long compressed series decoded on every core gives the volume serial decoding gives.

RLE here: JPEG 2000 is decoded by threads instead (test_jpeg2000.py)."""

import numpy as np
import pytest
from pydicom.uid import RLELossless

from ich_viewer.study import dicom_volume, parallel
from ich_viewer.study.loader import open_study
from tests.factories.dicom import write_ct_series


@pytest.fixture(autouse=True)
def workers_stopped_after_each_test():
    yield
    parallel.shutdown()


@pytest.fixture(scope="module")
def long_rle_series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rle")
    write_ct_series(folder, n_slices=parallel.MIN_ITEMS + 5, rows=32, cols=32, transfer_syntax=RLELossless)
    return folder


def serially(monkeypatch):
    monkeypatch.setattr(parallel, "map_in_order", lambda function, items: map(function, items))


def test_workers_and_the_caller_share_the_slices_in_order(long_rle_series, monkeypatch):
    if parallel.worker_count() < 1:
        pytest.skip("one core: no decoding workers")
    on_cores = open_study(long_rle_series)
    serially(monkeypatch)
    one_core = open_study(long_rle_series)
    np.testing.assert_array_equal(on_cores.voxels, one_core.voxels)
    assert on_cores.spacing_mm == one_core.spacing_mm


def test_a_slice_no_decoder_reads_is_named_from_a_worker_too(long_rle_series, tmp_path):
    broken = sorted(long_rle_series.glob("*.dcm"))[-1]  # the end of the series: a worker's part
    copy = tmp_path / "series"
    copy.mkdir()
    for path in long_rle_series.glob("*.dcm"):
        data = path.read_bytes()
        (copy / path.name).write_bytes(data[:-400] + bytes(400) if path == broken else data)
    study = open_study(copy)
    assert study.n_slices == parallel.MIN_ITEMS + 4
    assert any(broken.name in " ".join(w.files) for w in study.warnings)


def test_a_broken_pool_leaves_the_rest_to_the_caller(monkeypatch):
    class BrokenPool:
        def submit(self, *args):
            raise parallel.BrokenProcessPool("killed")

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(parallel, "_pool", BrokenPool())
    monkeypatch.setattr(parallel, "_pool_broken", False)
    items = list(range(parallel.MIN_ITEMS))
    assert list(parallel.map_in_order(abs, items)) == items
    assert parallel._pool is None and parallel._pool_broken  # not tried again in this process
    assert list(parallel.map_in_order(abs, items)) == items


def test_short_series_are_decoded_here(monkeypatch):
    monkeypatch.setattr(parallel, "_shared_pool", lambda: pytest.fail("a pool for a short series"))
    assert list(parallel.map_in_order(abs, [-1, 2, -3])) == [1, 2, 3]


def test_decode_failures_are_values_not_exceptions(monkeypatch, long_rle_series):
    monkeypatch.setattr(dicom_volume, "_stored_pixels", lambda s: (_ for _ in ()).throw(EOFError("short")))
    assert dicom_volume.decode_slice(None) == dicom_volume.DecodeFailure("pixel data is truncated")
