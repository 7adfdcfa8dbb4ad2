"""A reading session that a test kills with SIGKILL: run as `python -m tests.ui.crash_session OUT_DIR N_STROKES`
from the repository's root.

It opens the synthetic study in a real MainWindow (offscreen, fake network),
paints N_STROKES strokes through the slice view's own signals, and after each
one saves the mask it expects to survive to OUT_DIR/expected.npy and prints
"stroke k". Then it starts one more stroke, never finished, prints
"mid-stroke" and waits in the event loop for the kill.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QPointF, QSettings

from ich_viewer.ui.app import make_application
from ich_viewer.ui.main_window import MainWindow
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.fakes import fake_engine
from tests.factories.viewer_studies import known_mask, make_hu_study

STROKE_SLICE = 12  # empty in the model's outline


def stroke(win: MainWindow, y: float, finish: bool = True) -> None:
    view = win.slice_view
    view.stroke_started.emit(QPointF(20, y))
    view.stroke_moved.emit(QPointF(60, y))
    if finish:
        view.stroke_finished.emit()


def main(out_dir: Path, n_strokes: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the application starts
    os.environ.setdefault("ICH_VIEWER_USER_DATA", str(out_dir / "user_data"))  # never the reader's autosaves
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(out_dir / "settings"))
    app = make_application([])
    settings = ViewerSettings()
    settings.auto_segment = False  # segment on request below: no wait for a first paint offscreen
    win = MainWindow(settings, engine_factory=fake_engine(mask_of=known_mask))
    win.show()
    segmented, findings = QEventLoop(), []
    win.findings_changed.connect(lambda *args: (findings.append(True), segmented.quit()))
    for failure in (win.segmentation.failed, win.segmentation.model_failed):
        failure.connect(lambda message: (print(f"failed: {message}", flush=True), sys.exit(1)))
    win.show_study(make_hu_study())
    win.segment_study()
    if not findings:  # they may already be in: quit() before exec() would not end the loop
        segmented.exec()
    win.slice_view.set_slice(STROKE_SLICE)
    for k in range(n_strokes):
        stroke(win, 10 + 8 * k)
        np.save(out_dir / "expected.npy", win.review.mask)
        print(f"stroke {k + 1}", flush=True)
    stroke(win, 80, finish=False)  # the reader is drawing when the machine dies
    print("mid-stroke", flush=True)
    app.exec()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
