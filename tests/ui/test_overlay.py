"""Overlay layers: the reference mask over the slice, O / C keys, opacity, extra layers."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ich_viewer.ui.main_window import MainWindow
from ich_viewer.ui.overlay import (
    MODEL_COLOUR,
    MODEL_LAYER,
    PROBABILITY_LAYER,
    REFERENCE_COLOUR,
    REFERENCE_LAYER,
    HeatMapLayer,
    MaskLayer,
)
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.viewer_studies import make_hu_study

BLEED_SLICE = 8  # inside mask[5:12]


def reference_item(window):
    return window.slice_view.overlays.item(REFERENCE_LAYER)


@pytest.fixture
def hu_window(window, hu_study):
    """The synthetic study in the "Compare with reference" view, where the cyan outline is drawn."""
    window.show_study(hu_study)
    window.set_comparing(True)
    return window


def test_the_reference_outline_is_off_until_the_reader_compares(window, hu_study):
    window.show_study(hu_study)
    window.slice_view.set_slice(BLEED_SLICE)
    assert not window.actions_by_name["compare_reference"].isChecked()
    assert not reference_item(window).isVisible()
    window.actions_by_name["compare_reference"].trigger()
    assert reference_item(window).isVisible()
    window.actions_by_name["compare_reference"].trigger()
    assert not reference_item(window).isVisible()


def test_reference_mask_is_drawn_in_its_colour_on_the_right_slice(hu_window):
    hu_window.slice_view.set_slice(BLEED_SLICE)
    item = reference_item(hu_window)
    assert item.isVisible()
    assert item.image.sum() == 20 * 30  # the 20 x 30 square of the synthetic bleed
    assert tuple(item.lut[1][:3]) == REFERENCE_COLOUR
    assert item.lut[0][3] == 0  # background transparent
    item.render()  # what is painted: the mask in the layer colour, transparent around it
    assert QColor.fromRgba(item.qimage.pixel(60, 50)).getRgb() == (*REFERENCE_COLOUR, 255)
    assert QColor.fromRgba(item.qimage.pixel(5, 5)).alpha() == 0
    hu_window.slice_view.set_slice(0)  # no bleed on this slice: the layer is skipped
    assert not reference_item(hu_window).isVisible()
    assert hu_window.overlay_panel.layer_list.item(0).text() == REFERENCE_LAYER


def test_key_o_hides_and_shows_the_overlay(qtbot, hu_window):
    qtbot.keyClick(hu_window, Qt.Key.Key_O)
    assert not reference_item(hu_window).isVisible()
    assert not hu_window.overlay_panel.show_box.isChecked()
    qtbot.keyClick(hu_window, Qt.Key.Key_O)
    assert reference_item(hu_window).isVisible()
    assert hu_window.overlay_panel.show_box.isChecked()


def test_opacity_slider_sets_the_layer_opacity_and_is_remembered(qtbot, hu_window):
    hu_window.overlay_panel.opacity.setValue(80)
    assert reference_item(hu_window).opacity() == pytest.approx(0.8)
    assert hu_window.overlay_panel.opacity_label.text() == "80 %"
    later = MainWindow(ViewerSettings())
    qtbot.addWidget(later)
    assert later.slice_view.overlays.opacity == pytest.approx(0.8)


def test_key_c_draws_the_outline_only(qtbot, hu_window):
    hu_window.slice_view.set_slice(BLEED_SLICE)
    filled = int(reference_item(hu_window).image.sum())
    qtbot.keyClick(hu_window, Qt.Key.Key_C)
    outline = reference_item(hu_window).image
    assert hu_window.overlay_panel.mode.currentText() == "Contour"
    assert 0 < outline.sum() < filled
    assert outline[50, 65] == 0  # centre of the square is empty
    assert outline[40, 50] == 1  # its corner is drawn
    assert ViewerSettings().overlay_contour


def test_layer_switch_in_the_panel_hides_one_layer(hu_window):
    item = hu_window.overlay_panel.layer_list.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert not reference_item(hu_window).isVisible()
    assert hu_window.slice_view.overlays.shown  # the O switch is untouched


def test_no_reference_mask_means_no_layer(window):
    window.show_study(make_hu_study(reference_mask=None))
    assert window.slice_view.overlays.layers() == []
    assert window.overlay_panel.layer_list.item(0).text() == "(no overlay for this study)"


def test_a_mask_of_the_wrong_shape_is_not_drawn(window):
    window.show_study(make_hu_study(reference_mask=np.zeros((2, 3, 4), bool)))
    assert window.slice_view.overlays.layers() == []
    assert "does not match" in window.statusBar().currentMessage()


def test_model_mask_and_heat_map_can_be_added_beside_the_reference(hu_window, hu_study):
    overlays = hu_window.slice_view.overlays
    model_mask = np.zeros_like(hu_study.reference_mask)
    model_mask[BLEED_SLICE, 10:20, 10:20] = True
    probability = np.zeros(hu_study.voxels.shape, np.float32)
    probability[BLEED_SLICE, 10:20, 10:20] = 0.9
    overlays.add_layer(MaskLayer(MODEL_LAYER, model_mask, MODEL_COLOUR))
    overlays.add_layer(HeatMapLayer(PROBABILITY_LAYER, probability))
    hu_window.slice_view.set_slice(BLEED_SLICE)
    names = [hu_window.overlay_panel.layer_list.item(i).text() for i in range(3)]
    assert names == [REFERENCE_LAYER, MODEL_LAYER, PROBABILITY_LAYER]
    assert overlays.item(MODEL_LAYER).image.sum() == 100
    assert overlays.item(PROBABILITY_LAYER).image[15, 15] == int(0.9 * 255)
    heat = overlays.item(PROBABILITY_LAYER)
    heat.render()
    assert QColor.fromRgba(heat.qimage.pixel(15, 15)).getRgb()[:3] == tuple(heat.lut[int(0.9 * 255)][:3])
    assert QColor.fromRgba(heat.qimage.pixel(0, 0)).alpha() == 0
    # Replacing a layer by name keeps one entry.
    overlays.add_layer(MaskLayer(MODEL_LAYER, np.zeros_like(model_mask), MODEL_COLOUR))
    assert len(overlays.layers()) == 3
    assert not overlays.item(MODEL_LAYER).isVisible()  # an empty mask draws nothing
    overlays.remove_layer(PROBABILITY_LAYER)
    assert hu_window.overlay_panel.layer_list.count() == 2


def test_overlay_follows_the_pixel_spacing(hu_window):
    view = hu_window.slice_view
    pixel = view.scene_pos_of_pixel(50, 40)
    assert reference_item(hu_window).mapFromScene(pixel).toPoint() == view.image_item.mapFromScene(pixel).toPoint()


def test_mask_layer_contour_is_a_band_across_the_edge():
    mask = np.zeros((1, 10, 10), bool)
    mask[0, 2:8, 2:8] = True
    layer = MaskLayer("m", mask, (1, 2, 3))
    outline = layer.slice_indices(0, contour=True)
    assert outline[2:8, 2:8][2:4, 2:4].sum() == 0  # inside stays empty
    assert outline[1, 4] == 1 and outline[2, 4] == 1  # one pixel out, one in
    assert layer.slice_indices(0, contour=False).sum() == 36
    assert layer.colour == (1, 2, 3)
