"""The pixels of a slice and its hemorrhage, shared by the window, the key images and the report."""

from __future__ import annotations

import numpy as np
import pytest

from ich_viewer.rendering import HEMORRHAGE_RED, draw_hemorrhage, outline, render_slice, window_to_uint8
from ich_viewer.study.model import Window
from tests.factories.synthetic_ct import hematoma_phantom, memory_dicom_study

RED = np.array(HEMORRHAGE_RED)


def is_red(rgb: np.ndarray) -> np.ndarray:
    return (rgb == RED).all(axis=-1)


def test_window_maps_level_and_edges():
    values = np.array([-100.0, 0.0, 40.0, 80.0, 500.0])
    np.testing.assert_array_equal(window_to_uint8(values, Window(40, 80)), [0, 0, 128, 255, 255])


def test_contour_outlines_only_the_edge():
    gray = np.full((40, 40), 100, np.uint8)
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    rgb = draw_hemorrhage(gray, mask, "contour")
    red = is_red(rgb)
    assert red[10, 10:30].all() and red[29, 10:30].all()  # the outline
    assert not red[15:25, 15:25].any() and (rgb[20, 20] == 100).all()  # inside untouched
    assert not red[:9].any()  # outside untouched


def test_fill_tints_the_inside():
    gray = np.full((40, 40), 100, np.uint8)
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    r, g, b = draw_hemorrhage(gray, mask, "fill")[20, 20]
    assert r > 100 and g < 100 and b < 100
    with pytest.raises(ValueError, match="overlay style"):
        draw_hemorrhage(gray, mask, "glow")


def test_small_slices_are_enlarged_for_print():
    volume, mask = hematoma_phantom(n_slices=4, size=64)
    study = memory_dicom_study(volume)
    image = render_slice(study, 2, mask=mask, min_size_px=256)
    assert image.shape == (256, 256, 3)
    assert is_red(image).any()
    assert render_slice(study, 2).shape == (64, 64)  # grey without a mask


def test_the_outline_is_a_band_across_the_edge_of_the_width_asked_for():
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    band = outline(mask).astype(bool)
    assert band[5, 5:15].all() and band[4, 5:15].all()  # one pixel each side of the edge
    assert not band[3].any() and not band[7:13, 7:13].any()
    assert outline(mask, 2).astype(bool)[3, 5:15].all()
