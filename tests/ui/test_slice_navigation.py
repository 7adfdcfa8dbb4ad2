"""Scrolling, window/level, zoom and the value under the cursor, on a synthetic HU study."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest

from ich_viewer.study.model import HU_PRESETS, Window
from tests.factories.viewer_studies import (
    DICOM_WINDOW,
    KNOWN_HU,
    KNOWN_PIXEL,
    N_COLUMNS,
    N_ROWS,
    N_SLICES,
    SPACING_MM,
    make_hu_study,
)
from tests.ui.ui_support import mouse_drag, send_mouse, wheel


def readout(window) -> str:
    return window.slice_bar.readout.text()


def test_study_opens_on_the_middle_slice_in_the_brain_window(hu_window):
    view = hu_window.slice_view
    assert view.slice_index == N_SLICES // 2
    assert readout(hu_window) == f"slice {N_SLICES // 2 + 1} / {N_SLICES}  ·  #110"
    assert hu_window.window_label.text() == "Brain  L 40  W 80"
    assert list(view.image_item.getLevels()) == [0, 80]
    assert "Synthetic head CT" in hu_window.windowTitle()


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (Qt.Key.Key_Down, N_SLICES // 2 + 1),
        (Qt.Key.Key_Up, N_SLICES // 2 - 1),
        (Qt.Key.Key_PageDown, N_SLICES - 1),  # +10 stops at the last slice
        (Qt.Key.Key_PageUp, 0),
        (Qt.Key.Key_Home, 0),
        (Qt.Key.Key_End, N_SLICES - 1),
    ],
)
def test_keys_scroll_slices(qtbot, hu_window, key, expected):
    qtbot.keyClick(hu_window, key)
    assert hu_window.slice_view.slice_index == expected
    assert readout(hu_window).startswith(f"slice {expected + 1} / {N_SLICES}")
    assert hu_window.slice_bar.slider.value() == expected


def test_slider_moves_the_slice(hu_window):
    hu_window.slice_bar.slider.setValue(3)
    assert hu_window.slice_view.slice_index == 3
    assert readout(hu_window) == f"slice 4 / {N_SLICES}  ·  #103"


def test_wheel_scrolls_slices_towards_the_reader_means_next(hu_window):
    start = hu_window.slice_view.slice_index
    wheel(hu_window, -1)
    assert hu_window.slice_view.slice_index == start + 1
    wheel(hu_window, 3)
    assert hu_window.slice_view.slice_index == start - 2
    assert readout(hu_window).startswith(f"slice {start - 1} / ")


def view_width(window) -> float:
    (x0, x1), _ = window.slice_view.view_box.viewRange()
    return x1 - x0


def test_ctrl_wheel_zooms_and_keeps_the_slice(hu_window):
    start, width = hu_window.slice_view.slice_index, view_width(hu_window)
    wheel(hu_window, 2, Qt.KeyboardModifier.ControlModifier)
    assert hu_window.slice_view.slice_index == start
    assert view_width(hu_window) < width


def test_zoom_keys_fit_and_reset(qtbot, hu_window):
    fitted = view_width(hu_window)
    qtbot.keyClick(hu_window, Qt.Key.Key_Plus)
    assert view_width(hu_window) == pytest.approx(fitted / 1.25, rel=0.01)
    qtbot.keyClick(hu_window, Qt.Key.Key_Minus)
    qtbot.keyClick(hu_window, Qt.Key.Key_Minus)
    assert view_width(hu_window) > fitted
    qtbot.keyClick(hu_window, Qt.Key.Key_F)
    assert view_width(hu_window) == pytest.approx(fitted, rel=0.01)
    qtbot.keyClick(hu_window, Qt.Key.Key_2)
    qtbot.keyClick(hu_window, Qt.Key.Key_Plus)
    qtbot.keyClick(hu_window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view_width(hu_window) == pytest.approx(fitted, rel=0.01)
    assert hu_window.slice_view.window == HU_PRESETS["Brain"]


def levels(window) -> list[float]:
    return [float(v) for v in window.slice_view.image_item.getLevels()]


def test_key_2_shows_the_subdural_window(qtbot, hu_window):
    qtbot.keyClick(hu_window, Qt.Key.Key_2)
    subdural = HU_PRESETS["Subdural"]
    assert hu_window.window_label.text() == "Subdural  L 75  W 215"
    assert levels(hu_window) == [subdural.low, subdural.high]
    assert hu_window.window_control.presets.currentText().endswith("Subdural")
    assert (hu_window.window_control.first.value(), hu_window.window_control.second.value()) == (75, 215)


def test_keys_1_to_4_are_the_presets_and_5_the_dicom_window(qtbot, hu_window):
    keys = [Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4]
    for key, preset in zip(keys, HU_PRESETS.values()):
        qtbot.keyClick(hu_window, key)
        assert hu_window.slice_view.window == preset
    qtbot.keyClick(hu_window, Qt.Key.Key_5)
    assert hu_window.slice_view.window == DICOM_WINDOW
    assert hu_window.window_label.text() == "DICOM  L 35  W 90"


def test_key_5_without_a_dicom_window_keeps_the_window(qtbot, window):

    window.show_study(make_hu_study(dicom_windows=[]))
    qtbot.keyClick(window, Qt.Key.Key_5)
    assert window.slice_view.window == HU_PRESETS["Brain"]
    assert "no window 5" in window.statusBar().currentMessage()


def test_typing_level_and_width_sets_a_custom_window(hu_window):
    control = hu_window.window_control
    control.first.setValue(50)
    assert hu_window.slice_view.window == Window(50, 80)
    assert hu_window.window_label.text() == "Custom  L 50  W 80"
    assert control.presets.currentText() == "Custom"


def right_drag(window, dx: int, dy: int) -> None:
    viewport = window.slice_view.graphics.viewport()
    start = QPointF(viewport.rect().center())
    mouse_drag(viewport, Qt.MouseButton.RightButton, [start + QPointF(dx * step / 5, dy * step / 5)
                                                      for step in range(6)])


def test_right_drag_right_widens_and_down_raises_the_level(hu_window):
    right_drag(hu_window, 100, 0)
    after_horizontal = hu_window.slice_view.window
    assert after_horizontal.level == 40 and after_horizontal.width > 80
    right_drag(hu_window, 0, 100)
    after_vertical = hu_window.slice_view.window
    assert after_vertical.width == after_horizontal.width and after_vertical.level > 40
    assert hu_window.window_label.text().startswith("Custom")
    assert levels(hu_window) == [after_vertical.low, after_vertical.high]


def test_hu_under_a_known_pixel(hu_window):
    view = hu_window.slice_view
    z, y, x = KNOWN_PIXEL
    view.set_slice(z)
    probe = view.probe_at(view.scene_pos_of_pixel(x, y))
    assert (probe.x, probe.y, probe.z, probe.value) == (x, y, z, KNOWN_HU)
    assert probe.text().startswith("HU 45   (x 40, y 30)")
    # Position in mm: pixel centre times the spacing.
    assert probe.position_mm == pytest.approx(((x + 0.5) * SPACING_MM[2], (y + 0.5) * SPACING_MM[1]), abs=0.01)


def test_mouse_move_shows_hu_in_the_status_bar_and_follows_scrolling(qtbot, hu_window):
    QTest.qWait(12)  # pyqtgraph drops mouse moves closer than 10 ms apart
    view = hu_window.slice_view
    z, y, x = KNOWN_PIXEL
    view.set_slice(z)
    viewport = view.graphics.viewport()
    pos = view.graphics.mapFromScene(view.scene_pos_of_pixel(x, y))
    send_mouse(viewport, QEvent.Type.MouseMove, QPointF(pos), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert hu_window.probe_label.text().startswith("HU 45   (x 40, y 30)")
    assert hu_window.probe_label.text().endswith("mm")
    qtbot.keyClick(hu_window, Qt.Key.Key_Down)  # same pixel, next slice: HU (z+1)*10
    assert hu_window.probe_label.text().startswith(f"HU {(z + 1) * 10}   ")


def test_off_the_image_shows_no_value(hu_window):
    view = hu_window.slice_view
    assert view.probe_at(view.scene_pos_of_pixel(-5, 10)) is None
    assert view.probe_at(view.scene_pos_of_pixel(N_COLUMNS + 1, 10)) is None


def test_pixel_aspect_follows_spacing_and_row_0_is_at_the_top(hu_window):
    view = hu_window.slice_view
    rect = view.image_item.mapRectToParent(view.image_item.boundingRect())
    assert (rect.width(), rect.height()) == pytest.approx((N_COLUMNS * SPACING_MM[2], N_ROWS * SPACING_MM[1]))
    top = view.graphics.mapFromScene(view.scene_pos_of_pixel(0, 0))
    bottom = view.graphics.mapFromScene(view.scene_pos_of_pixel(0, N_ROWS - 1))
    right = view.graphics.mapFromScene(view.scene_pos_of_pixel(N_COLUMNS - 1, 0))
    assert top.y() < bottom.y()  # anterior (row 0) at the top of the screen
    assert top.x() < right.x()  # column 0 at the left, as stored
    # On screen, the image is as wide as 32 mm and as tall as 48 mm: height/width = 1.5.
    assert (bottom.y() - top.y()) / (right.x() - top.x()) == pytest.approx(
        (N_ROWS - 1) * SPACING_MM[1] / ((N_COLUMNS - 1) * SPACING_MM[2]), rel=0.02)


def test_middle_drag_pans(hu_window):
    viewport = hu_window.slice_view.graphics.viewport()
    (x0, _), (y0, _) = hu_window.slice_view.view_box.viewRange()
    start = QPointF(viewport.rect().center())
    mouse_drag(viewport, Qt.MouseButton.MiddleButton, [start + QPointF(30 * step, 0) for step in range(4)])
    (x1, _), (y1, _) = hu_window.slice_view.view_box.viewRange()
    assert x1 < x0  # dragged right: the view looks further left
    assert y1 == pytest.approx(y0)
    assert hu_window.slice_view.window == HU_PRESETS["Brain"]  # panning leaves the window alone
