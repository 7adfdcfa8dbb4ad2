"""The bundled sample study (CT-ICH patient 066) through the real loader."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from ich_viewer.study.model import Units
from ich_viewer.ui.app import sample_study_path
from ich_viewer.ui.overlay import REFERENCE_LAYER

pytest.importorskip("ich_viewer.study.loader", reason="the study loader is not written yet")


@pytest.fixture
def sample_window(window):
    assert window.open_study(sample_study_path(), ask_spacing=False)
    return window


def test_sample_opens_with_its_reference_mask(sample_window):
    study = sample_window.study
    assert study.units is Units.DISPLAY and study.n_slices == 29
    assert [layer.name for layer in sample_window.slice_view.overlays.layers()] == [REFERENCE_LAYER]
    assert sample_window.slice_bar.readout.text() == "slice 15 / 29  ·  #15"
    assert sample_window.window_label.text() == "Contrast 0–255"
    assert sample_window.study_panel.values["Slices"].text() == "29"


def test_sample_scrolls_to_a_bleed_and_shows_it(qtbot, sample_window):
    for _ in range(3):  # slice 15 -> 18, where the CT-ICH reference marks a bleed
        qtbot.keyClick(sample_window, Qt.Key.Key_Down)
    assert sample_window.slice_bar.readout.text() == "slice 18 / 29  ·  #18"
    sample_window.set_comparing(True)  # the reference outline belongs to the comparison view
    assert sample_window.slice_view.overlays.item(REFERENCE_LAYER).image.any()


def test_sample_values_are_display_values(sample_window):
    view = sample_window.slice_view
    probe = view.probe_at(view.scene_pos_of_pixel(325, 325))
    assert probe.text().startswith("value ") and probe.position_mm is None
