"""The network reads the head at the size it learned, whatever the field of view."""

import cv2
import numpy as np
import pytest

from ich_viewer.segmentation.field_of_view import Square, crop, head_square, uncrop
from ich_viewer.segmentation.preprocessing import NetworkInput, study_square, to_study_grid
from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, Study, Units, Window


def _slices(frame=512, head=300, centre=(256, 256), text=True, z=3):
    """8-bit brain-window slices: a bright skull ring around grey brain, optional burned-in text."""
    stack = np.zeros((z, frame, frame), np.uint8)
    for image in stack:
        cv2.ellipse(image, centre, (head // 2 - 20, head // 2), 0, 0, 360, 110, -1)
        cv2.ellipse(image, centre, (head // 2 - 20, head // 2), 0, 0, 360, 255, 8)
        if text:
            cv2.putText(image, "R 12/03/2024", (5, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
    return stack.astype(np.float32)


def test_a_small_head_in_a_wide_frame_is_framed_at_the_trained_span():
    square = head_square(iter(_slices() / 255), (512, 512), head_span=0.9)
    assert square.side == pytest.approx(308 / 0.9, abs=8)  # the ring is 8 px thick
    assert square.top + square.side / 2 == pytest.approx(256, abs=4)
    assert square.left + square.side / 2 == pytest.approx(256, abs=4)


def test_burned_in_text_does_not_widen_the_square():
    with_text = head_square(iter(_slices(text=True) / 255), (512, 512), 0.9)
    without = head_square(iter(_slices(text=False) / 255), (512, 512), 0.9)
    assert with_text == without


def test_an_off_centre_head_that_fills_the_frame_is_padded_with_air():
    square = head_square(iter(_slices(head=500, centre=(300, 256)) / 255), (512, 512), 0.9)
    assert square.side > 512 and square.left + square.side > 512
    piece = crop(np.ones((512, 512), np.float32), square)
    assert piece.shape == (square.side, square.side)
    assert piece[:, -1].max() == 0  # beyond the frame: air


def test_no_head_means_the_whole_frame():
    assert head_square(iter(np.zeros((2, 64, 64), np.float32)), (64, 64), 0.9) is None


def test_a_map_goes_back_to_the_place_it_was_read_from():
    square = Square(top=100, left=-20, side=200)
    image = np.random.default_rng(0).random((400, 300)).astype(np.float32)
    back = uncrop(crop(image, square), square, image.shape)
    assert np.array_equal(back[100:300, 0:180], image[100:300, 0:180])
    assert back[:100].max() == 0 and back[300:].max() == 0 and back[:, 180:].max() == 0


def test_probabilities_are_returned_into_the_square():
    square = Square(top=50, left=50, side=100)
    maps = np.ones((1, 16, 16), np.float32)
    grid = to_study_grid(maps, (200, 200), square)
    assert grid[0, 60:140, 60:140].min() == 1.0
    assert grid[0, :50].max() == 0 and grid[0, :, 150:].max() == 0


def test_hu_and_8_bit_copies_of_a_study_get_the_same_square():
    grey = _slices(text=False)
    hu = CT_ICH_BRAIN_WINDOW.low + grey * (CT_ICH_BRAIN_WINDOW.width / 255)
    spec = NetworkInput(head_span=0.9)
    from_display = study_square(Study(grey, Units.DISPLAY, None, "."), spec)
    from_hu = study_square(Study(hu, Units.HU, None, "."), spec)
    assert from_display == from_hu


def test_an_8_bit_study_is_framed_through_its_own_export_window():
    """Brain at grey 30 of a wide export window is not air: the head is still found."""
    wide = Window(80, 400)  # CT-ICH's brain (about 30 HU) lands near grey 48
    grey = _slices(text=False)
    hu = CT_ICH_BRAIN_WINDOW.low + grey * (CT_ICH_BRAIN_WINDOW.width / 255)
    exported = np.round(np.clip((hu - wide.low) / wide.width, 0, 1) * 255)
    square = study_square(Study(exported, Units.DISPLAY, None, ".", export_window=wide), NetworkInput(head_span=0.9))
    assert square.side == pytest.approx(308 / 0.9, abs=8)  # the ring is 8 px thick


def test_a_network_without_head_span_reads_the_whole_frame():
    assert study_square(Study(_slices(), Units.DISPLAY, None, "."), NetworkInput()) is None
