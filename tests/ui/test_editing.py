"""Brush and eraser on the model's outline with the mouse, undo / redo, reset, the edited mark."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeySequence

from ich_viewer.analysis.mask_editing import paint_segment
from ich_viewer.ui.overlay import MODEL_LAYER
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.viewer_studies import LARGEST_SLICE, N_COLUMNS, N_ROWS, known_mask, known_model_mask, make_hu_study
from tests.ui.ui_support import mouse_drag, wheel

EMPTY_SLICE = 12  # no model outline here


@pytest.fixture
def win(segmented):
    return segmented(make_hu_study(), mask_of=known_mask)


def volume(win) -> float:
    return win.review.findings.volume_ml


def drag_over_pixels(win, pixels: list[tuple[float, float]]) -> None:
    view = win.slice_view
    points = [QPointF(view.graphics.mapFromScene(view.scene_pos_of_pixel(x, y))) for x, y in pixels]
    mouse_drag(view.graphics.viewport(), Qt.MouseButton.LeftButton, points)


def key(qtbot, win, sequence: str) -> None:
    combo = QKeySequence(sequence)[0]
    qtbot.keyClick(win, combo.key(), combo.keyboardModifiers())


def test_a_brush_stroke_adds_to_the_outline_and_marks_the_study_edited(qtbot, win):
    before = volume(win)
    model_output = win.review.result.mask.copy()
    win.slice_view.set_slice(EMPTY_SLICE)
    qtbot.keyClick(win, Qt.Key.Key_B)
    drag_over_pixels(win, [(20, 20), (40, 20), (60, 20)])
    painted = win.review.mask[EMPTY_SLICE]
    assert painted[20, 20:61].all() and not painted[40:].any()  # the whole path, nowhere else
    assert volume(win) > before
    assert win.slice_view.overlays.item(MODEL_LAYER).image.sum() == painted.sum()
    assert win.isWindowModified() and "[*]" in win.windowTitle()
    edited = win.findings_panel.values["Edited"].text()
    assert edited.startswith(f"edited by reader: volume {before:.2f} mL → {volume(win):.2f} mL")
    assert np.array_equal(win.review.result.mask, model_output)  # the model's output is kept as it was
    assert EMPTY_SLICE in win.review.findings.affected_slices


def test_the_eraser_removes_and_undo_redo_go_stroke_by_stroke(qtbot, win):
    before = volume(win)
    win.slice_view.set_slice(LARGEST_SLICE)
    qtbot.keyClick(win, Qt.Key.Key_E)
    drag_over_pixels(win, [(45, 40), (75, 40)])
    erased = volume(win)
    assert erased < before
    drag_over_pixels(win, [(45, 55), (75, 55)])
    twice = volume(win)
    assert twice < erased
    key(qtbot, win, "Ctrl+Z")
    assert volume(win) == pytest.approx(erased)
    key(qtbot, win, "Ctrl+Z")
    assert volume(win) == pytest.approx(before) and not win.isWindowModified()
    key(qtbot, win, "Ctrl+Shift+Z")
    assert volume(win) == pytest.approx(erased)
    assert win.isWindowModified()


def test_undo_shows_the_slice_it_changed(qtbot, win):
    win.slice_view.set_slice(EMPTY_SLICE)
    qtbot.keyClick(win, Qt.Key.Key_B)
    drag_over_pixels(win, [(20, 20), (30, 20)])
    win.slice_view.set_slice(0)
    key(qtbot, win, "Ctrl+Z")
    assert win.slice_view.slice_index == EMPTY_SLICE


def test_reset_returns_to_the_model_output(qtbot, win):
    win.slice_view.set_slice(LARGEST_SLICE)
    qtbot.keyClick(win, Qt.Key.Key_E)
    drag_over_pixels(win, [(45, 40), (75, 40)])
    win.slice_view.set_slice(EMPTY_SLICE)
    qtbot.keyClick(win, Qt.Key.Key_B)
    drag_over_pixels(win, [(20, 20), (30, 20)])
    win.actions_by_name["reset_edits"].trigger()
    assert np.array_equal(win.review.mask, known_model_mask())
    assert not win.isWindowModified()
    assert win.findings_panel.values["Volume"].text().startswith("2.25 mL")
    assert not win.actions_by_name["reset_edits"].isEnabled()


def test_a_click_paints_one_disk_of_the_brush_size(qtbot, win):
    win.slice_view.set_slice(EMPTY_SLICE)
    qtbot.keyClick(win, Qt.Key.Key_B)
    win.brush_size.setValue(2)
    view = win.slice_view
    at = view.graphics.mapFromScene(view.scene_pos_of_pixel(30, 30))
    qtbot.mouseClick(view.graphics.viewport(), Qt.MouseButton.LeftButton, pos=at)
    # The screen pixel clicked is a little off the image pixel's centre: paint the same disk by hand.
    clicked = view.image_point(view.graphics.mapToScene(at))
    expected = np.zeros((N_ROWS, N_COLUMNS), bool)
    paint_segment(expected, (clicked.x(), clicked.y()), (clicked.x(), clicked.y()), radius=2, value=True)
    assert 9 <= expected.sum() <= 13 and expected[30, 30]
    assert np.array_equal(win.review.mask[EMPTY_SLICE], expected)


def test_without_a_tool_left_drag_pans_and_paints_nothing(win):
    before = win.review.mask.copy()
    (x0, _), _ = win.slice_view.view_box.viewRange()
    drag_over_pixels(win, [(20, 20), (40, 20), (60, 20)])
    assert np.array_equal(win.review.mask, before)
    assert win.slice_view.view_box.viewRange()[0][0] != x0


def test_brush_size_keys_and_shift_wheel_are_remembered(qtbot, win):
    start = win.brush_size.value()
    qtbot.keyClick(win, Qt.Key.Key_BracketRight)
    qtbot.keyClick(win, Qt.Key.Key_BracketRight)
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    assert win.brush_size.value() == start + 1
    qtbot.keyClick(win, Qt.Key.Key_B)
    slice_before = win.slice_view.slice_index
    wheel(win, 3, Qt.KeyboardModifier.ShiftModifier)
    assert win.brush_size.value() == start + 4 and win.slice_view.slice_index == slice_before
    assert ViewerSettings().brush_radius == start + 4
    wheel(win, -1)  # without Shift the wheel still scrolls slices
    assert win.slice_view.slice_index == slice_before + 1


def test_the_tools_need_a_segmentation(window):
    window.show_study(make_hu_study())  # automatic segmentation is off in this fixture
    assert not window.actions_by_name["brush"].isEnabled()
    assert not window.actions_by_name["eraser"].isEnabled()


def test_brush_and_eraser_exclude_each_other_and_a_new_study_drops_them(qtbot, win):
    a = win.actions_by_name
    qtbot.keyClick(win, Qt.Key.Key_B)
    qtbot.keyClick(win, Qt.Key.Key_E)
    assert a["eraser"].isChecked() and not a["brush"].isChecked()
    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        win.show_study(make_hu_study(description="Next patient"))
    assert not a["eraser"].isChecked() and not win.slice_view.drawing
