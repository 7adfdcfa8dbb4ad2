"""Reading-room habits in the window: on-image text, orientation letters, scale bar, dark theme,
icons, the left-drag window option, Help > About."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest

from ich_viewer import paths
from ich_viewer.ui import dialogs
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.dicom import write_ct_series
from tests.factories.viewer_studies import make_display_study
from tests.ui.ui_support import mouse_drag

FLIPPED = (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def open_dicom(window, tmp_path, **series_options):
    folder = tmp_path / "ct"
    write_ct_series(folder, n_slices=6, **series_options)
    assert window.open_study(folder, ask_spacing=False)
    return window.slice_view.annotations


def shown_letters(annotations) -> dict[str, str]:
    return {edge: label.text() for edge, label in annotations.letters.items() if label.isVisible()}


def test_axial_series_shows_r_left_l_right_a_top_p_bottom(window, tmp_path):
    annotations = open_dicom(window, tmp_path)
    assert shown_letters(annotations) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    letters = annotations.letters
    assert letters["left"].geometry().center().x() < letters["right"].geometry().center().x()
    assert letters["top"].geometry().center().y() < letters["bottom"].geometry().center().y()


def test_flipped_series_shows_l_on_the_left(window, tmp_path):
    annotations = open_dicom(window, tmp_path, orientation=FLIPPED)
    assert shown_letters(annotations) == {"left": "L", "right": "R", "top": "A", "bottom": "P"}


def test_image_folder_has_no_made_up_letters_and_no_scale_bar(window):
    window.show_study(make_display_study())
    annotations = window.slice_view.annotations
    assert shown_letters(annotations) == {}
    assert not annotations.scale_bar.isVisible()
    assert annotations.corners["bottom_left"].text().startswith("Im 4 / 6")


def test_corner_text_follows_slice_window_and_zoom(qtbot, window, tmp_path):
    annotations = open_dicom(window, tmp_path)
    corners = annotations.corners
    assert corners["top_left"].text().splitlines()[0] == "Phantom, Head"
    assert "2024-01-01" in corners["top_right"].text()
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert corners["bottom_left"].text().startswith("Im 5 / 6")
    assert "Thk 5 mm" in corners["bottom_left"].text()
    qtbot.keyClick(window, Qt.Key.Key_4)  # bone
    assert corners["bottom_right"].text().startswith("W 2800  L 600")
    before = annotations.zoom()
    qtbot.keyClick(window, Qt.Key.Key_Plus)
    assert annotations.zoom() > before * 1.1
    assert f"Zoom {annotations.zoom():.2f}×" in corners["bottom_right"].text()


def test_each_corner_toggles_with_one_key_and_i_hides_everything(qtbot, window, tmp_path):
    annotations = open_dicom(window, tmp_path)
    corners = annotations.corners
    keys = (Qt.Key.Key_F5, Qt.Key.Key_F6, Qt.Key.Key_F7, Qt.Key.Key_F8)
    order = list(corners)  # top left, top right, bottom left, bottom right
    for i, key in enumerate(keys):
        qtbot.keyClick(window, key)
        assert [corners[c].isVisible() for c in order] == [False] * (i + 1) + [True] * (3 - i)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert corners["top_left"].isVisible()
    qtbot.keyClick(window, Qt.Key.Key_I)
    assert not corners["top_left"].isVisible() and shown_letters(annotations) == {}
    assert not annotations.scale_bar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_I)
    assert corners["top_left"].isVisible() and annotations.scale_bar.isVisible()


def test_anonymise_hides_the_name_and_is_remembered(window, tmp_path):
    annotations = open_dicom(window, tmp_path)
    window.actions_by_name["anonymise_screen"].trigger()
    text = annotations.corners["top_left"].text()
    assert "Phantom" not in text and "PHANTOM-1" not in text and text.startswith("Anonymised")
    assert ViewerSettings().anonymise_screen


def test_scale_bar_length_matches_the_pixel_spacing(window, tmp_path):
    annotations = open_dicom(window, tmp_path)  # 0.5 mm pixels
    bar = annotations.scale_bar
    assert bar.isVisible() and bar.length_mm is not None
    view = window.slice_view
    # Two pixel centres length_mm apart in x must be length_px apart on screen.
    a = view.graphics.mapFromScene(view.scene_pos_of_pixel(0, 0))
    b = view.graphics.mapFromScene(view.scene_pos_of_pixel(bar.length_mm / 0.5, 0))
    assert bar.length_px == pytest.approx(b.x() - a.x(), abs=1.5)


def test_dark_theme_and_toolbar_icons_with_tooltips(window):
    palette = window.palette()
    assert palette.color(QPalette.ColorRole.Window).lightness() < 60
    assert palette.color(QPalette.ColorRole.WindowText).lightness() > 180
    for name in ("open_folder", "fit", "reset", "toggle_overlay", "segment", "brush", "eraser", "undo"):
        action = window.actions_by_name[name]
        assert not action.icon().isNull(), name
        assert "(" in action.toolTip(), name  # the tooltip names the key


def test_left_drag_sets_the_window_when_chosen_and_is_remembered(window, hu_study):
    window.show_study(hu_study)
    view = window.slice_view
    viewport = view.graphics.viewport()
    start = QPointF(viewport.rect().center())
    drag = [start + QPointF(20 * step, 0) for step in range(6)]
    mouse_drag(viewport, Qt.MouseButton.LeftButton, drag)
    assert view.window.width == 80  # default: left-drag pans
    window.actions_by_name["left_drag_window"].trigger()
    assert ViewerSettings().left_drag_window
    range_before = view.view_box.viewRange()
    mouse_drag(viewport, Qt.MouseButton.LeftButton, drag)
    assert view.window.width > 80 and view.window.level == 40
    assert view.view_box.viewRange() == range_before  # no pan


def test_help_about_shows_the_shipped_models_identity_and_card(window, monkeypatch):
    shown = []
    monkeypatch.setattr(dialogs.AboutDialog, "exec", lambda self: shown.append(self) or 0)
    window.actions_by_name["about"].trigger()
    manifest = json.loads((paths.models_dir() / "ich_unet25d_final.json").read_text())
    summary = shown[0].summary.text()
    assert manifest["sha256"] in summary and manifest["name"] in summary and manifest["version"] in summary
    assert "0.1.0" in summary
    card_title = (paths.models_dir() / "MODEL_CARD.md").read_text().splitlines()[0].lstrip("# ").strip()
    assert card_title in shown[0].card.toPlainText()


def test_findings_panel_widens_back_after_a_resize_and_the_image_stays_main(qtbot, window, hu_study):
    window.show_study(hu_study)
    window.resize(900, 700)
    window.resizeDocks([window.findings_dock], [280], Qt.Orientation.Horizontal)  # as a small screen leaves it
    qtbot.waitUntil(lambda: window.findings_dock.width() < 300)
    window.resize(1500, 900)
    qtbot.waitUntil(lambda: window.findings_dock.width() >= 390)
    assert window.slice_view.width() > 2 * window.findings_dock.width()


def drag_pixels(window, button, start_px, end_px, steps=5) -> None:
    view = window.slice_view
    QTest.qWait(50)  # let the window's layout settle: a pending resize would move the pixels
    a = QPointF(view.graphics.mapFromScene(view.scene_pos_of_pixel(*start_px)))
    b = QPointF(view.graphics.mapFromScene(view.scene_pos_of_pixel(*end_px)))
    mouse_drag(view.graphics.viewport(), button, [a + (b - a) * (i / steps) for i in range(steps + 1)])


def test_ruler_on_known_spacing_gives_the_known_length(qtbot, window, hu_study):
    window.show_study(hu_study)  # 0.25 mm columns, 0.5 mm rows
    qtbot.keyClick(window, Qt.Key.Key_M)
    drag_pixels(window, Qt.MouseButton.LeftButton, (20, 40), (100, 40))  # 80 columns: 20 mm
    layer = window.slice_view.measurements
    assert [m.kind for m in layer.measurements] == ["ruler"]
    assert window.measurements_panel.list.item(0).text() == "Slice 110 · ruler 20.0 mm"
    assert window.slice_view.window.width == 80  # measuring left the window alone


def test_roi_mean_on_a_uniform_slice_and_measurements_survive_scrolling(qtbot, window, hu_study):
    window.show_study(hu_study)  # slice z holds z * 10 HU everywhere
    z = window.slice_view.slice_index
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    drag_pixels(window, Qt.MouseButton.LeftButton, (60, 50), (100, 80))
    layer = window.slice_view.measurements
    text = window.measurements_panel.list.item(0).text()
    assert f"mean {z * 10:.1f} HU, SD 0.0, min {z * 10}, max {z * 10}" in text
    shape, _ = layer._items[0]
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert not shape.isVisible()  # shown on its own slice only
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert shape.isVisible() and len(layer.measurements) == 1


def test_measurements_can_be_deleted(qtbot, window, hu_study):
    window.show_study(hu_study)
    qtbot.keyClick(window, Qt.Key.Key_M)
    drag_pixels(window, Qt.MouseButton.LeftButton, (20, 40), (60, 40))
    drag_pixels(window, Qt.MouseButton.LeftButton, (20, 60), (80, 60))
    panel = window.measurements_panel
    assert panel.list.count() == 2
    panel.list.setCurrentRow(0)
    panel.delete_button.click()
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == ["Slice 110 · ruler 15.0 mm"]
    panel.delete_all_button.click()
    assert panel.list.count() == 0 and not window.slice_view.measurements.measurements


def click_pixel(window, px) -> None:
    view = window.slice_view
    at = QPointF(view.graphics.mapFromScene(view.scene_pos_of_pixel(*px)))
    mouse_drag(view.graphics.viewport(), Qt.MouseButton.LeftButton, [at])  # press and release: a click


def test_midline_shift_tool_gives_the_known_displacement(qtbot, window, hu_study):
    window.show_study(hu_study)  # 0.25 mm columns, 0.5 mm rows
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.actions_by_name["midline_shift"].isChecked()
    drag_pixels(window, Qt.MouseButton.LeftButton, (64, 10), (64, 110))  # the falx, front to back
    panel = window.measurements_panel
    assert "click the septum pellucidum" in panel.list.item(0).text()
    click_pixel(window, (88, 60))  # 24 columns of 0.25 mm off the line: 6 mm
    text = panel.list.item(0).text()
    assert text.startswith("Slice 110 · midline shift ")
    shift = float(text.split("midline shift ")[1].split(" mm")[0])
    assert abs(shift - 6.0) <= 0.5


def test_measurements_are_kept_with_the_edits(qtbot, segmented, monkeypatch):
    from ich_viewer.ui import main_window
    from tests.factories.viewer_studies import make_hu_study

    win = segmented(make_hu_study())
    qtbot.keyClick(win, Qt.Key.Key_M)
    drag_pixels(win, Qt.MouseButton.LeftButton, (20, 40), (100, 40))
    saved = win.autosave.read(win._review_identity)
    assert [m.kind for m in saved.measurements] == ["ruler"]
    # Opened again (another session): restoring the edits brings the ruler back.
    monkeypatch.setattr(main_window.MainWindow, "ask_restore", lambda self, saved: main_window.RESTORE)
    again = segmented(make_hu_study())
    assert again.measurements_panel.list.item(0).text() == "Slice 110 · ruler 20.0 mm"


def test_measurements_go_in_the_report(qtbot, segmented, monkeypatch):
    from tests.factories.viewer_studies import make_hu_study

    win = segmented(make_hu_study())
    qtbot.keyClick(win, Qt.Key.Key_M)
    drag_pixels(win, Qt.MouseButton.LeftButton, (20, 40), (100, 40))
    sent = {}
    monkeypatch.setattr(win.exporter, "report", lambda review, window, anonymise=False, measurements=():
                        sent.update(measurements=measurements))
    win.export_report()
    assert sent["measurements"] == ("Slice 110 · ruler 20.0 mm",)


def test_cine_plays_at_the_chosen_rate_loops_and_stops(qtbot, window, hu_study):
    window.show_study(hu_study)
    cine = window.cine
    window.cine_rate.setValue(25)
    assert cine.rate == 25 and cine._timer.interval() == 40
    window.slice_view.last_slice()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert cine.playing
    qtbot.waitUntil(lambda: window.slice_view.slice_index == 1)  # past the last slice, round to the first
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not cine.playing
    stopped_at = window.slice_view.slice_index
    QTest.qWait(100)  # two and a half intervals: a running timer would have moved on
    assert window.slice_view.slice_index == stopped_at
