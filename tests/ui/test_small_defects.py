"""The smaller defects of issue 12, each with the test that failed before its fix."""

from __future__ import annotations

import fnmatch

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ich_viewer.study.errors import StudyLoadError
from ich_viewer.ui import opening
from ich_viewer.ui.main_window import FILE_FILTER, MainWindow
from ich_viewer.ui.overlay import MODEL_COLOUR, PROBABILITY_LAYER, HeatMapLayer
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.viewer_studies import make_display_study
from tests.ui.ui_support import send_mouse


def test_the_contour_setting_survives_a_restart(qtbot):
    settings = ViewerSettings()
    settings.overlay_contour = True
    settings.overlay_opacity = 0.7
    restarted = MainWindow(ViewerSettings())
    qtbot.addWidget(restarted)
    assert restarted.slice_view.overlays.contour and restarted.overlay_panel.mode.currentText() == "Contour"
    assert ViewerSettings().overlay_contour is True  # not overwritten with "filled" while starting
    assert restarted.slice_view.overlays.opacity == pytest.approx(0.7)


def right_drag(window, dx: float, dy: float) -> None:
    viewport = window.slice_view.graphics.viewport()
    start = QPointF(viewport.rect().center())
    right = Qt.MouseButton.RightButton
    send_mouse(viewport, QEvent.Type.MouseButtonPress, start, right, right)
    for step in (0.5, 1.0):
        qtbot_wait()
        send_mouse(viewport, QEvent.Type.MouseMove, start + QPointF(dx * step, dy * step),
                   Qt.MouseButton.NoButton, right)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, start + QPointF(dx, dy), right, Qt.MouseButton.NoButton)


def qtbot_wait() -> None:
    from PySide6.QtTest import QTest

    QTest.qWait(12)  # pyqtgraph drops mouse moves closer than 10 ms apart


def test_the_min_max_boxes_follow_a_right_drag_on_an_8_bit_study(window):
    window.show_study(make_display_study())
    right_drag(window, dx=-120, dy=-150)  # narrower and darker: past 0 on the low side
    shown = window.slice_view.window
    assert shown != window.study.default_window()
    control = window.window_control
    low, high = control.first.value(), control.second.value()
    assert (low, high) == (shown.low, shown.high)  # the boxes say what the image shows
    assert 0 <= low < high <= 255
    assert window.window_label.text() == f"Contrast {low}–{high}"


def test_a_failed_open_does_not_leave_opening_in_the_status_bar(window, monkeypatch, tmp_path):
    bad = tmp_path / "broken"
    seen_with_the_error: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: seen_with_the_error.append(
        window.statusBar().currentMessage()))

    class Loader:
        StudyLoadError = StudyLoadError

        @staticmethod
        def list_series(path):
            raise StudyLoadError(bad, "not a study")

    monkeypatch.setattr(opening, "_loader", lambda: Loader)
    assert window.open_study(bad) is False
    assert len(seen_with_the_error) == 1 and not seen_with_the_error[0].startswith("Opening")
    assert not window.statusBar().currentMessage().startswith("Opening")


def test_view_actions_wait_for_a_study(window):
    actions = window.actions_by_name
    for name in ("fit", "reset", "toggle_overlay", "zoom_in", "zoom_out", "toggle_contour"):
        assert not actions[name].isEnabled(), name
    window.show_study(make_display_study())
    for name in ("fit", "reset", "toggle_overlay"):
        assert actions[name].isEnabled(), name


def test_open_file_shows_scanner_files_without_an_extension(window, monkeypatch):
    filters: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda parent, title, folder, file_filter, *a:
                        filters.append(file_filter) or ("", ""))
    window.actions_by_name["open_file"].trigger()
    default = filters[0].split(";;")[0]  # the filter the dialog starts with
    patterns = default[default.rindex("(") + 1:default.rindex(")")].split()
    for name in ("IM0000", "1.2.840.113619.2.55.3", "slice.dcm", "12.jpg"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
    assert filters[0] == FILE_FILTER


def is_red(rgb) -> bool:
    r, g, b = (int(c) for c in rgb)
    return r > 180 and g < 120 and b < 120


def test_the_heat_map_never_looks_like_the_red_mask_and_its_legend_shows_the_scale(qtbot, window):
    layer = HeatMapLayer(PROBABILITY_LAYER, np.linspace(0, 1, 4 * 5 * 6).reshape(4, 5, 6).astype(np.float32))
    drawn = layer.lut[layer.lut[:, 3] > 0]
    assert is_red(MODEL_COLOUR)
    assert not any(is_red(rgba[:3]) for rgba in drawn)  # low probabilities too
    assert drawn[0][:3].sum() < drawn[-1][:3].sum()  # brighter with probability
    colours = layer.legend_colours()
    assert len(colours) > 2 and colours[0] != colours[-1]
    window.slice_view.overlays.add_layer(layer)
    item = window.overlay_panel.layer_list.item(0)
    icon = item.icon().pixmap(window.overlay_panel.layer_list.iconSize()).toImage()
    left, right = icon.pixelColor(1, icon.height() // 2), icon.pixelColor(icon.width() - 2, icon.height() // 2)
    assert left != right  # a strip of the scale, not one yellow square
