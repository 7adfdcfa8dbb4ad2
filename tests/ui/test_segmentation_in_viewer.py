"""Segmentation in the viewer: the worker's result on screen, the Findings panel's figures by hand,
progress and cancel, a second study, errors, settings, the heat map and finding navigation."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from ich_viewer.study.errors import StudyLoadError
from ich_viewer.study.model import NOT_HU_RESULT
from ich_viewer.ui import opening
from ich_viewer.ui.dialogs import SpacingAnswer
from ich_viewer.ui.findings_panel import NO_SPACING
from ich_viewer.ui.main_window import MainWindow
from ich_viewer.ui.overlay import MODEL_LAYER, PROBABILITY_LAYER, REFERENCE_LAYER
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.fakes import FakeEngine, fake_engine
from tests.factories.viewer_studies import (
    LARGEST_SLICE,
    MODEL_SLICES,
    N_COLUMNS,
    N_ROWS,
    N_SLICES,
    SPACING_MM,
    known_mask,
    known_model_mask,
    make_display_study,
    make_hu_study,
    reference_as_model,
)


def texts(win) -> dict[str, str]:
    return {name: label.text() for name, label in win.findings_panel.values.items()}


@pytest.fixture
def messages(monkeypatch):
    shown: list[tuple[str, str]] = []
    for kind in ("critical", "warning"):
        monkeypatch.setattr(QMessageBox, kind, lambda parent, title, text, *a, k=kind, **kw: shown.append((k, text)))
    return shown


def test_the_panel_shows_the_figures_of_the_models_mask(segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)
    # By hand: 4 slices x 20 x 40 pixels + 10 x 40 more on slice 8 = 3600 voxels of
    # 5 x 0.5 x 0.25 mm = 0.625 mm³, i.e. 2250 mm³ = 2.25 mL. Largest: slice 8 with
    # 1200 pixels of 0.5 x 0.25 mm = 150 mm² = 1.50 cm². Slice labels are 100 + index.
    assert SPACING_MM == (5.0, 0.5, 0.25)
    shown = texts(win)
    assert shown["Volume"] == "2.25 mL (1 lesion; voxel count × voxel volume)"
    assert shown["Slices involved"] == "4 of 20 (slices 106–109)"
    assert shown["Largest area"] == "1.50 cm² on slice 108"
    assert shown["Hemorrhage"] == "Detected: confidence high (score 0.90, threshold 0.50)"
    assert shown["Lesions"] == "1 lesion"
    panel = win.findings_panel
    assert panel.lesion_table.rowCount() == 1
    assert panel.lesion_table.item(0, 3).text() == "2.25 mL"
    assert panel.notice.isVisible() and "may be missed" in panel.notice.text()
    # Research figures stay out of the clinical panel until the reader compares.
    assert not panel.comparison.isVisible()
    assert all("Dice" not in text for text in shown.values())
    assert not panel.spacing_button.isVisible()
    assert not panel.form.isRowVisible(panel.ROWS.index("Edited"))


def test_compare_with_reference_shows_dice_apart_from_the_findings(segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)
    win.set_comparing(True)
    comparison = win.findings_panel.comparison
    assert comparison.isVisible()
    # Reference: slices 5-11, rows 40-60, columns 50-80 (600 px a slice, 4200 in all). Overlap:
    # 10 x 30 on slices 6, 7, 9 and 20 x 30 on slice 8 = 1500; Dice = 2 * 1500 / (3600 + 4200).
    assert f"Dice {2 * 1500 / 7800:.2f} (whole study)" in comparison.summary.text()
    rows = [comparison.slice_list.item(i).text() for i in range(comparison.slice_list.count())]
    # 800 px of 0.00125 cm² = 1.00 cm²; slice 5, 10 and 11: the reference alone outlines a bleed.
    assert rows[0] == "Slice 105: reference only (model: none) · Dice 0.00"
    assert rows[1] == f"Slice 106: 1.00 cm² · Dice {2 * 300 / (800 + 600):.2f}"
    assert rows[3] == "Slice 108: 1.50 cm² · Dice 0.67"  # 2 * 600 / (1200 + 600)
    assert len(rows) == 7


def test_an_empty_reference_says_reference_no_hemorrhage(segmented):
    study = make_hu_study(reference_mask=np.zeros((N_SLICES, 96, 128), bool))
    win = segmented(study, mask_of=known_mask)
    win.set_comparing(True)
    assert "reference: no hemorrhage" in win.findings_panel.comparison.summary.text()


def test_the_model_outline_sits_beside_the_reference_and_the_heat_map_is_off(segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)
    overlays = win.slice_view.overlays
    assert [layer.name for layer in overlays.layers()] == [REFERENCE_LAYER, PROBABILITY_LAYER, MODEL_LAYER]
    assert not overlays.layer(PROBABILITY_LAYER).visible
    win.slice_view.set_slice(LARGEST_SLICE)
    assert overlays.item(MODEL_LAYER).image.sum() == 1200
    assert np.array_equal(win.review.result.mask, known_model_mask())
    assert win.segmentation_status.device_label.text() == "Model: CPU"
    assert not win.segmentation_status.progress.isVisible()


def test_key_h_switches_the_heat_map(qtbot, segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)
    win.slice_view.set_slice(LARGEST_SLICE)
    heat = win.slice_view.overlays.item(PROBABILITY_LAYER)
    qtbot.keyClick(win, Qt.Key.Key_H)
    assert heat.isVisible() and heat.image[40, 60] == int(0.9 * 255)
    qtbot.keyClick(win, Qt.Key.Key_H)
    assert not heat.isVisible()


def test_the_per_slice_plot_and_its_readout(qtbot, segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)
    panel = win.findings_panel
    # 800 px of 0.00125 cm² = 1.00 cm²; the model's four slices, without research figures.
    assert [panel.slice_text(z) for z in MODEL_SLICES] == [
        "Slice 106: 1.00 cm²", "Slice 107: 1.00 cm²", "Slice 108: 1.50 cm²", "Slice 109: 1.00 cm²"]
    bars = panel.plot.bars.opts
    assert list(bars["x"]) == list(range(1, N_SLICES + 1))
    assert bars["height"][LARGEST_SLICE] == pytest.approx(1.5)
    assert panel.plot.marker.value() == win.slice_view.slice_index + 1
    win.slice_view.set_slice(LARGEST_SLICE)
    assert panel.slice_readout.text() == "This slice — Slice 108: 1.50 cm²"
    # The long list box is gone: hovering a bar says what the list said.
    assert not hasattr(panel, "slice_list")
    panel.plot.slice_hovered.emit(7)
    assert panel.plot.toolTip() == "Slice 107: 1.00 cm²"


def test_clicking_a_bar_shows_that_slice(qtbot, segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)
    plot = win.findings_panel.plot
    bar = plot.mapFromScene(plot.scene_pos_of_slice(LARGEST_SLICE))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=bar)
    assert win.slice_view.slice_index == LARGEST_SLICE
    assert plot.marker.value() == LARGEST_SLICE + 1
    assert plot.slice_at(plot.scene_pos_of_slice(7)) == 7


def test_next_and_previous_finding_keys(qtbot, segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)
    qtbot.keyClick(win, Qt.Key.Key_Home)
    visited = []
    for _ in MODEL_SLICES:
        qtbot.keyClick(win, Qt.Key.Key_N)
        visited.append(win.slice_view.slice_index)
    assert visited == list(MODEL_SLICES)
    qtbot.keyClick(win, Qt.Key.Key_N)  # none after the last: stay, and say so
    assert win.slice_view.slice_index == MODEL_SLICES[-1]
    assert "No slice with hemorrhage after" in win.statusBar().currentMessage()
    qtbot.keyClick(win, Qt.Key.Key_P)
    assert win.slice_view.slice_index == MODEL_SLICES[-2]


def test_an_8_bit_study_without_voxel_size_shows_no_volume_until_it_is_entered(
        segmented, monkeypatch, qtbot):
    mask = np.zeros((6, 40, 50), bool)
    mask[2:4, 10:20, 10:30] = True  # 2 x 200 = 400 voxels
    win = segmented(make_display_study(), mask_of=lambda study: mask)
    panel = win.findings_panel
    assert texts(win)["Volume"] == NO_SPACING
    assert texts(win)["Largest area"] == "200 pixels on slice 3 (cm² need the pixel spacing)"
    assert panel.spacing_button.isVisible()
    result = win.review.result

    monkeypatch.setattr(opening.StudyOpener, "ask_spacing", lambda self, folder: SpacingAnswer(True, (5.0, 0.5, 0.5)))
    reopened = SimpleNamespace(StudyLoadError=StudyLoadError,
                               open_study=lambda path, series_uid=None, spacing_mm=None, progress=None:
                               make_display_study(spacing_mm=spacing_mm))
    monkeypatch.setattr(opening, "_loader", lambda: reopened)
    panel.spacing_button.click()
    # 400 voxels of 5 x 0.5 x 0.5 mm = 1.25 mm³: 500 mm³ = 0.50 mL, from the same segmentation.
    assert texts(win)["Volume"].startswith("0.50 mL (1 lesion; voxel count × voxel volume); voxel size entered")
    assert not panel.spacing_button.isVisible()
    assert win.review.result is result and win.study.spacing_mm == (5.0, 0.5, 0.5)
    assert not win.segmentation.running
    assert ViewerSettings().spacing_for(opening.study_folder(win.study.source)) == (5.0, 0.5, 0.5)


def test_progress_shows_the_slice_and_cancel_stops_the_job(qtbot, make_window):
    win = make_window(fake_engine(mask_of=known_mask, delay_s=0.03))
    win.show_study(make_hu_study())
    progress = win.segmentation_status.progress
    qtbot.waitUntil(lambda: progress.value() >= 2, timeout=5000)
    assert re.fullmatch(rf"segmenting slice \d+ of {N_SLICES}", progress.text())
    with qtbot.waitSignal(win.segmentation.cancelled, timeout=5000):
        win.segmentation_status.cancel_button.click()
    assert not progress.isVisible() and not win.segmentation.running
    assert "cancelled" in win.findings_panel.message.text()
    qtbot.wait(100)
    assert win.review is None and win.slice_view.overlays.layer(MODEL_LAYER) is None


def test_the_slice_on_screen_is_outlined_first_and_the_work_follows_the_reader(qtbot, make_window):
    win = make_window(fake_engine(mask_of=known_mask, delay_s=0.03))
    order: list[int] = []
    win.segmentation.preview_ready.connect(lambda study, indices, masks: order.extend(indices))
    win.show_study(make_hu_study())
    qtbot.waitUntil(lambda: bool(order), timeout=5000)
    assert order[0] == win.slice_view.slice_index == N_SLICES // 2  # a study opens on its middle slice
    assert "preliminary" in win.findings_panel.message.text() and win.review is None
    assert win.slice_view.overlays.layer(MODEL_LAYER) is not None
    win.slice_view.set_slice(0)  # the reader scrolls to the first slice while it runs
    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        pass
    assert sorted(order) == list(range(N_SLICES))
    assert order.index(0) < order.index(N_SLICES - 1)  # from slice 10 alone, 19 would come before 0
    assert win.review is not None and np.array_equal(win.review.mask, known_mask(win.review.study))


def test_a_study_opened_during_segmentation_gets_only_its_own_result(qtbot, make_window):
    win = make_window(fake_engine(mask_of=reference_as_model, delay_s=0.03))
    first_mask = np.zeros((N_SLICES, N_ROWS, N_COLUMNS), bool)
    first_mask[2:4, 5:15, 5:15] = True
    second = make_hu_study(description="Second head CT")
    win.show_study(make_hu_study(reference_mask=first_mask))
    qtbot.waitUntil(lambda: win.segmentation_status.progress.value() >= 1, timeout=5000)
    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        win.show_study(second)
    assert win.review.study is second
    assert np.array_equal(win.review.mask, second.reference_mask)
    qtbot.wait(150)  # the first job would have finished by now, had it not been dropped
    assert win.review.study is second


def test_an_engine_error_is_shown_and_the_viewer_keeps_working(qtbot, make_window, messages):
    win = make_window(fake_engine(fail=RuntimeError("CUDA error: device lost")))
    win.show_study(make_hu_study())
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=5000)
    kind, text = messages[0]
    assert kind == "warning" and "CUDA error: device lost" in text
    assert "device lost" in win.findings_panel.message.text()
    start = win.slice_view.slice_index
    qtbot.keyClick(win, Qt.Key.Key_Down)
    assert win.isVisible() and win.slice_view.slice_index == start + 1


def test_a_missing_model_is_told_once_and_studies_still_open(qtbot, make_window, messages):
    def no_model(force_cpu=False, model_path=None):
        raise OSError("models/ich_unet25d_final.keras: network file not found")

    win = make_window(no_model)
    win.show_study(make_hu_study())
    qtbot.waitUntil(lambda: "network file not found" in win.findings_panel.message.text(), timeout=5000)
    win.show_study(make_hu_study(description="Another"))
    qtbot.waitUntil(lambda: not win.segmentation.running, timeout=5000)
    qtbot.wait(50)
    assert [kind for kind, _ in messages] == ["critical"]
    assert win.segmentation_status.device_label.text() == "Model: not available"
    assert win.study.description == "Another" and win.isVisible()


def test_without_automatic_segmentation_s_segments(qtbot, make_window):
    win = make_window(fake_engine(mask_of=known_mask), auto=False)
    win.show_study(make_hu_study())
    qtbot.wait(50)
    assert win.review is None and "press S" in win.findings_panel.message.text()
    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        qtbot.keyClick(win, Qt.Key.Key_S)
    assert win.review is not None


def test_segmentation_settings_are_remembered_and_force_cpu_reaches_the_engine(qtbot, make_window):
    win = make_window()
    win.actions_by_name["auto_segment"].trigger()
    win.actions_by_name["force_cpu"].trigger()
    assert not ViewerSettings().auto_segment and ViewerSettings().force_cpu
    asked = []

    def recording(force_cpu=False, model_path=None):
        asked.append(force_cpu)
        return fake_engine()(force_cpu, model_path)

    later = make_window(recording, auto=False)
    assert later.actions_by_name["force_cpu"].isChecked()
    later.segmentation.load_model()
    qtbot.waitUntil(lambda: asked == [True], timeout=5000)
    qtbot.waitUntil(lambda: later.segmentation_status.device_label.text() == "Model: CPU", timeout=5000)


def test_the_worker_thread_starts_only_when_needed_and_stops_on_close(qtbot):
    win = MainWindow(ViewerSettings(), engine_factory=fake_engine())
    qtbot.addWidget(win)
    win.show_study(make_hu_study())  # hidden window: segmentation starts at once, there is no paint to wait for
    assert win.segmentation.thread is not None
    win.close()
    assert win.segmentation.thread is None  # closing stops the worker thread
    unshown = MainWindow(ViewerSettings(), engine_factory=fake_engine())
    qtbot.addWidget(unshown)
    assert unshown.segmentation.thread is None


@pytest.mark.parametrize("n_slices", [1, 2])
def test_one_or_two_slices_show_no_volume_but_the_reason_and_no_plot(segmented, n_slices):
    voxels = np.full((n_slices, 96, 128), 80.0, np.float32)  # all "bright": the fake model outlines it all
    study = make_hu_study(voxels=voxels, reference_mask=None, slice_labels=[str(i + 1) for i in range(n_slices)])
    win = segmented(study)
    volume = texts(win)["Volume"]
    assert "mL" not in volume and "at least 3 slices" in volume
    assert win.review.findings.lesions[0].volume_ml is None
    assert not win.findings_panel.plot.isVisible()


def test_the_model_menu_segments_the_study_again_with_the_chosen_network(make_window, qtbot):
    asked_for = []

    def factory(force_cpu=False, model_path=None):
        asked_for.append(model_path)
        return FakeEngine(force_cpu, model_path=model_path, mask_of=known_mask)

    win = make_window(factory)
    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        win.show_study(make_hu_study())
    listed = [action.data() for action in win.model_menu.actions()]
    assert listed[0] == "ich_unet25d_final" and {"reference_unet", "two_branch_net"} <= set(listed)
    assert not any("_fold" in name for name in listed)  # the cross-validation networks stay with --model
    assert texts(win)["Model"] == "fake, version 0 (ich_unet25d_final)"

    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        win.choose_model("reference_unet")
    assert asked_for[-1].name == "reference_unet.keras"
    assert win.settings.model_name == "reference_unet"
    assert texts(win)["Model"] == "fake, version 0 (reference_unet)"
    assert [a.data() for a in win.model_menu.actions() if a.isChecked()] == ["reference_unet"]


def test_a_model_chosen_earlier_and_since_removed_is_reported_with_the_models_there_are(make_window, qtbot,
                                                                                        messages):
    win = make_window(auto=False)
    win.settings.model_name = "removed_model"
    win.show_study(make_hu_study())
    win.segment_study()
    qtbot.waitUntil(lambda: win.segmentation.model_error is not None, timeout=5000)
    assert "no model named 'removed_model'" in win.segmentation.model_error
    assert "ich_unet25d_final" in win.segmentation.model_error


def test_a_study_not_in_hu_is_shown_without_a_verdict(qtbot, make_window):
    """Issue 15: an MR series or broken rescale tags: the images, and why there is no verdict."""
    created = []

    def engine(force_cpu=False, model_path=None):
        created.append(model_path)
        return fake_engine()(force_cpu, model_path)

    win = make_window(engine)
    win.show_study(make_hu_study(not_hu_reason="Modality is MR, not CT"))
    qtbot.wait(200)  # time for an automatic segmentation to start, were it going to
    win.segment_study()  # S as well
    qtbot.wait(200)
    assert win.findings_panel.message.text() == f"{NOT_HU_RESULT} (Modality is MR, not CT)."
    assert win.review is None and created == []
    assert win.slice_view.study is not None  # the images are still there to read
