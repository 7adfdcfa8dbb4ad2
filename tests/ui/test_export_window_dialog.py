"""View > Export window…: the reader sets the HU window of 8-bit images, and the study is segmented again."""

from __future__ import annotations

import numpy as np

from ich_viewer.study.model import Window
from ich_viewer.ui.dialogs import ExportWindowDialog
from tests.factories.fakes import fake_engine
from tests.factories.viewer_studies import make_display_study, make_hu_study

ESTIMATE = Window(38, 125)
NOTE = "Export window estimated from the images: level 38 / width 125 HU"


def estimated_study():
    return make_display_study(export_window=ESTIMATE, export_window_note=NOTE)


def test_the_action_is_offered_for_8_bit_studies_only(window):
    action = window.actions_by_name["export_window"]
    assert not action.isEnabled()  # no study yet

    window.show_study(make_hu_study())
    assert not action.isEnabled()

    window.show_study(estimated_study())
    assert action.isEnabled()
    assert window.study_panel.values["Export window"].text() == NOTE


def test_the_dialog_is_prefilled_with_the_estimate_and_says_how_it_is_known(qtbot):
    dialog = ExportWindowDialog(ESTIMATE, NOTE)
    qtbot.addWidget(dialog)

    assert (dialog.level_box.value(), dialog.width_box.value()) == (38, 125)
    assert dialog.note.text() == NOTE
    dialog.level_box.setValue(50)
    dialog.width_box.setValue(150)
    assert dialog.chosen_window() == Window(50, 150)


def test_ok_sets_the_window_and_segments_again(make_window, qtbot, monkeypatch):
    segmented_with = []

    def mask_of(study):
        segmented_with.append(study.export_window)
        return np.zeros(study.voxels.shape, bool)

    win = make_window(fake_engine(mask_of=mask_of))
    study = estimated_study()
    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        win.show_study(study)
    asked = []
    monkeypatch.setattr(ExportWindowDialog, "ask", staticmethod(
        lambda window, note, parent=None: asked.append((window, note)) or Window(50, 150)))

    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        win.actions_by_name["export_window"].trigger()

    assert asked == [(ESTIMATE, NOTE)]
    assert study.export_window == Window(50, 150)
    assert study.export_window_note == "set by the reader: L50/W150"
    assert segmented_with == [ESTIMATE, Window(50, 150)]
    assert win.study_panel.values["Export window"].text() == "set by the reader: L50/W150"


def test_cancel_changes_nothing(window, monkeypatch):
    study = estimated_study()
    window.show_study(study)
    monkeypatch.setattr(ExportWindowDialog, "ask", staticmethod(lambda window, note, parent=None: None))

    window.actions_by_name["export_window"].trigger()

    assert (study.export_window, study.export_window_note) == (ESTIMATE, NOTE)
    assert window.review is None and not window.segmentation.running
