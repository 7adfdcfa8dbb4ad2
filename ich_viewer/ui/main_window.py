"""The main window: menus and shortcuts, the slice view, and the right-hand panels.

Later features plug in here without reworking it:
  - a mask or heat map:  window.slice_view.overlays.add_layer(MaskLayer(...))
  - a panel on the right: window.add_panel("Findings", widget, "findings_panel")
  - work after a study opens: window.study_opened.connect(...)
  - work on new or edited findings: window.findings_changed.connect(...)

Segmentation: each study on screen is segmented (automatically, or with S) by
the one worker thread of window.segmentation; the result becomes a Review
(ui/review.py) that the reader can edit with brush and eraser, and that the
Findings panel, the overlay and every export show.

The reader's edits are work to keep: after every step they are autosaved
(ui/autosave.py) to the user's data folder, and before anything would throw
them away (opening another study, segmenting again, quitting) the reader is
asked: Save, Discard or Cancel. Saved edits are offered back when the study
is segmented again, in this session or a later one, even after a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QWidget,
)

from ich_viewer.analysis.measurements import ELLIPSE, MIDLINE, RULER
from ich_viewer.analysis.review import Review
from ich_viewer.atomic import ExportError
from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.model_file import DEFAULT_MODEL, shipped_models
from ich_viewer.study.export_window import export_window_text, window_text
from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, NOT_HU_RESULT, Study
from ich_viewer.study.qc import QcWarning
from ich_viewer.ui import menus
from ich_viewer.ui.actions import WINDOW_KEYS, Needs
from ich_viewer.ui.annotations import CORNERS
from ich_viewer.ui.autosave import AutosaveStore, SavedEdits, restore, study_identity
from ich_viewer.ui.cine import Cine, rate_box
from ich_viewer.ui.dialogs import AboutDialog, ExportWindowDialog, ShortcutsDialog, about_facts
from ich_viewer.ui.exports import Exporter, is_dicom_study
from ich_viewer.ui.findings_panel import FindingsPanel
from ich_viewer.ui.measurements import MeasurementsPanel
from ich_viewer.ui.opening import StudyOpener
from ich_viewer.ui.overlay import (
    MODEL_COLOUR,
    MODEL_LAYER,
    PROBABILITY_LAYER,
    REFERENCE_COLOUR,
    REFERENCE_LAYER,
    HeatMapLayer,
    MaskLayer,
)
from ich_viewer.ui.panels import OverlayPanel, StudyPanel
from ich_viewer.ui.preliminary_outline import PreliminaryOutline
from ich_viewer.ui.recent import RecentStudy
from ich_viewer.ui.segmentation_control import AfterNextPaint, ProgressIndicator, SegmentationControl
from ich_viewer.ui.series_panel import PANEL_WIDTH as SERIES_PANEL_WIDTH
from ich_viewer.ui.series_panel import SeriesPanel
from ich_viewer.ui.settings import ViewerSettings
from ich_viewer.ui.slice_view import PixelProbe, SliceBar, SliceView
from ich_viewer.ui.theme import apply_reading_room_theme
from ich_viewer.ui.three_view_layout import ThreeViewLayout
from ich_viewer.ui.window_control import WindowControl, describe_window, study_windows, window_name

APP_TITLE = "ICH Viewer"
DEFAULT_SIZE = (1280, 860)
PANEL_MIN_WIDTH = 280  # room for a file path and a warning without one word per line
FINDINGS_WIDTH = 400  # the Findings panel at first start: figures on one line, the plot readable
MAX_PANEL_FRACTION = 0.35  # the panels widen to FINDINGS_WIDTH only while the image keeps the rest
# Scanners write DICOM files without an extension (IM0000, 1.2.840...): the first filter, the
# default, shows every file; the second narrows to the usual extensions.
FILE_FILTER = ("DICOM (any file name) or images (*);;"
               "By extension (*.dcm *.DCM *.ima *.IMA *.jpg *.jpeg *.png)")
# With no study opened this long after the window shows, load the model anyway so that the
# first study is segmented without waiting for TensorFlow (when segmenting automatically).
IDLE_MODEL_LOAD_MS = 500
BRUSH_RADIUS_RANGE = (1, 50)  # pixels
STATUS_MS = 5000

# The network; tests (and other front ends) pass their own engine_factory instead.
default_engine_factory = SegmentationEngine
MODEL_LABELS = {
    DEFAULT_MODEL: "ICH Viewer's network (ich_unet25d, all 82 patients)",
    "reference_unet": "Baseline: the reference notebook's U-Net",
    "two_branch_net": "Baseline: the reference notebook's two-branch network",
}


def viewer_models() -> list[str]:
    """The shipped networks a reader can choose, ours first."""
    names = [name for name in shipped_models() if "_fold" not in name]
    return sorted(names, key=lambda name: (name != DEFAULT_MODEL, name))

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
RESTORE, LATER = "restore", "later"


class MainWindow(QMainWindow):
    study_opened = Signal(object)  # Study, after it is on screen
    findings_changed = Signal(object)  # HemorrhageFindings of the reader's mask, after each change

    def __init__(self, settings: ViewerSettings | None = None, engine_factory=None) -> None:
        super().__init__()
        apply_reading_room_theme(QApplication.instance())
        self.settings = settings or ViewerSettings()
        self.opener = StudyOpener(self, self.settings, before_error=lambda: self.statusBar().clearMessage())
        self.exporter = Exporter(self, self.settings, self._tell)
        self.review: Review | None = None
        self.autosave = AutosaveStore()
        self._review_identity: str | None = None  # the study identity the review's edits are saved under
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)

        self.slice_view = SliceView()
        self.slice_bar = SliceBar()
        self.window_control = WindowControl()
        self.study_panel = StudyPanel()
        self.overlay_panel = OverlayPanel(self.slice_view.overlays)
        self.findings_panel = FindingsPanel()
        self.brush_size = self._brush_size_box()
        self.cine = Cine(self.slice_view)
        self.cine_rate = rate_box(self.cine)
        self.segmentation_status = ProgressIndicator()
        self.segmentation = SegmentationControl(
            engine_factory or default_engine_factory, self.segmentation_status,
            lambda: self.settings.force_cpu, self, model_name=lambda: self.settings.model_name,
        )
        self._after_slice_paint = AfterNextPaint(self.slice_view.graphics.viewport())
        self._idle_model_load = QTimer(self, singleShot=True, interval=IDLE_MODEL_LOAD_MS)
        self._idle_model_load.timeout.connect(self._load_model_if_idle)
        self._model_failure_told = False
        self._preliminary = PreliminaryOutline(self.slice_view.overlays)
        self._build_central()
        self._build_status_bar()
        self.actions_by_name = self._build_actions()
        self._build_menus()
        self._build_toolbar()
        # Scrollable: with the Measurements tabs the dock column must not push the window taller.
        self.study_dock = self.add_panel("Study", _scrollable(self.study_panel), "study_panel")
        self.overlay_dock = self.add_panel("Overlay", self.overlay_panel, "overlay_panel")
        self.measurements_panel = MeasurementsPanel(self.slice_view.measurements)
        self.measurements_dock = self.add_panel("Measurements", self.measurements_panel, "measurements_panel")
        self.tabifyDockWidget(self.overlay_dock, self.measurements_dock)
        self.overlay_dock.raise_()
        self.findings_dock = self.add_panel("Findings", _scrollable(self.findings_panel), "findings_panel")
        # Findings matter most once a study is segmented: in front, with Study a tab behind it.
        self.tabifyDockWidget(self.study_dock, self.findings_dock)
        self.findings_dock.raise_()
        self.series_panel = SeriesPanel(lambda source, uid: self.open_study(source, series_uid=uid))
        self.series_dock = self.add_panel("Series", self.series_panel, "series_panel")
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.series_dock)  # thumbnails left, as in Horos
        self.series_dock.setMinimumWidth(SERIES_PANEL_WIDTH)  # a thumbnail and two short lines
        self.study_opened.connect(self.series_panel.show_study)
        self._connect()
        self._restore_settings()
        self._update_actions()

    # -- public API ------------------------------------------------------------------------
    @property
    def study(self) -> Study | None:
        return self.slice_view.study

    def open_study(self, path: str | Path, ask_spacing: bool = True, series_uid: str | None = None) -> bool:
        """Open a study from disk (its series `series_uid`, else the reader's pick); on failure the
        reader is told why and nothing changes."""
        if not self.may_discard_review("opening another study"):
            return False
        self.statusBar().showMessage(f"Opening {path} …")
        try:
            study = self.opener.open(path, ask_spacing=ask_spacing, series_uid=series_uid)
        finally:
            self.statusBar().clearMessage()  # also when opening failed: nothing is opening any more
        if study is None:
            return False
        self.series_panel.set_series(Path(path), self.opener.listed_series)
        self._show_new_study(study)
        self._remember_opened(Path(path))
        return True

    def show_study(self, study: Study) -> bool:
        """Put an already loaded Study on screen (also used by tests and headless callers).

        False when the reader chose Cancel to keep editing the study on screen.
        """
        if not self.may_discard_review("opening another study"):
            return False
        self._show_new_study(study)
        return True

    def _show_new_study(self, study: Study) -> None:
        self.segmentation.cancel()  # a job for the previous study is of no use now
        self._preliminary.drop()
        self._set_review(None)
        self._put_on_screen(study)
        if not study.assessable:
            self._show_not_assessable(study)
        elif self.settings.auto_segment:
            self.findings_panel.show_message("Segmenting…")
            if self.segmentation.device is not None:  # the network is loaded: its thread can start at once
                self._segment(study)
            else:  # after the slice has painted: the reader sees the study before the model loads
                self._after_slice_paint.call(lambda: self._segment(study))
        else:
            # The reader segments only some studies: the model loads at the first S, not before.
            self.findings_panel.show_message("Not segmented yet: press S (Segmentation ▸ Segment).")
        self.study_opened.emit(study)

    def _put_on_screen(self, study: Study) -> None:
        self.cine.stop()  # a new study starts still, on its middle slice
        self.slice_view.set_study(study)
        self.slice_bar.set_slice_count(study.n_slices)
        self._show_slice(self.slice_view.slice_index)
        self.window_control.set_windows(study_windows(study), study.is_hu)
        self._show_window(self.slice_view.window)
        self._add_reference_layer(study)
        self.study_panel.set_study(study)
        self._show_warning_count(study.warnings)
        # [*] becomes the asterisk that marks a mask edited by the reader.
        self.setWindowTitle(f"{study.description or study.source.name}[*] — {APP_TITLE}")
        self.slice_view.setFocus()
        self._update_actions()

    def add_panel(self, title: str, widget: QWidget, object_name: str) -> QDockWidget:
        """Add a panel to the right-hand dock area (tabbed under the existing ones)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)  # saveState / restoreState key
        dock.setWidget(widget)
        dock.setMinimumWidth(PANEL_MIN_WIDTH)
        dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self._panels_menu.addAction(dock.toggleViewAction())
        return dock

    def choose_window(self, index: int) -> None:
        """Number keys: the index-th of the study's windows (presets, then the DICOM's)."""
        if self.study is None:
            return
        windows = study_windows(self.study)
        if index < len(windows):
            self.slice_view.set_window(windows[index][1])
        else:
            self.statusBar().showMessage(f"This study has no window {index + 1}", 3000)

    # -- building -----------------------------------------------------------------------------
    def _build_central(self) -> None:
        # 1 view (axial) or 3 views (with coronal and sagittal reformats): L, View > Layout.
        self.three_views = ThreeViewLayout(self.slice_view, self.slice_bar,
                                           lambda: None if self.review is None else self.review.mask)
        self.findings_changed.connect(self.three_views.refresh_mask)  # after each edit of the mask
        self.three_views.layout_changed.connect(lambda three: setattr(self.settings, "three_views", three))
        self.setCentralWidget(self.three_views)

    def _build_status_bar(self) -> None:
        self.probe_label = QLabel()
        self.window_label = QLabel()
        self.window_label.setToolTip("Current window (keys 1–5, right-drag to adjust)")
        self.warnings_button = QToolButton(autoRaise=True)
        self.warnings_button.setToolTip("Problems found while reading the study")
        self.warnings_button.clicked.connect(self._show_warnings)
        bar = self.statusBar()
        bar.addWidget(self.probe_label, 1)
        bar.addPermanentWidget(self.segmentation_status)
        bar.addPermanentWidget(self.warnings_button)
        bar.addPermanentWidget(self.window_label)
        self._show_warning_count([])

    def _brush_size_box(self) -> QSpinBox:
        box = QSpinBox(minimum=BRUSH_RADIUS_RANGE[0], maximum=BRUSH_RADIUS_RANGE[1], suffix=" px")
        box.setPrefix("Brush ")
        box.setToolTip("Brush / eraser radius in pixels ([ and ], or Shift+wheel while drawing)")
        # Keys stay with the viewer: a focused number box would swallow S, N, P and the digits.
        box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        box.setValue(self.settings.brush_radius)
        return box

    def _handlers(self) -> dict[str, Callable[[], object]]:
        """What each action of the table (actions.py) does."""
        view, exporter = self.slice_view, self.exporter
        handlers: dict[str, Callable[[], object]] = {
            "open_folder": self._ask_open_folder,
            "open_file": self._ask_open_file,
            "quit": self.close,
            "previous_slice": lambda: view.step_slices(-1),
            "next_slice": lambda: view.step_slices(1),
            "back_10_slices": lambda: view.step_slices(-10),
            "forward_10_slices": lambda: view.step_slices(10),
            "first_slice": view.first_slice,
            "last_slice": view.last_slice,
            "zoom_in": view.zoom_in,
            "zoom_out": view.zoom_out,
            "fit": view.fit,
            "reset": view.reset,
            "toggle_overlay": lambda: view.overlays.set_shown(not view.overlays.shown),
            "toggle_contour": lambda: view.overlays.set_contour(not view.overlays.contour),
            "toggle_heat_map": self.toggle_heat_map,
            "next_finding": lambda: self.go_to_finding(1),
            "previous_finding": lambda: self.go_to_finding(-1),
            "segment": self.segment_study,
            "brush": self._on_tool_chosen,
            "eraser": self._on_tool_chosen,
            "ruler": self._on_tool_chosen,
            "ellipse_roi": self._on_tool_chosen,
            "midline_shift": self._on_tool_chosen,
            "brush_smaller": lambda: self.brush_size.stepBy(-1),
            "brush_larger": lambda: self.brush_size.stepBy(1),
            "undo": lambda: self._edit(lambda review: review.editor.undo(), "undo"),
            "redo": lambda: self._edit(lambda review: review.editor.redo(), "redo"),
            "export_report": lambda: self.export_report(anonymise=False),
            "show_shortcuts": self.show_shortcuts,
            "cine": lambda: self.cine.toggle(),
            "toggle_annotations": lambda: view.annotations.set_shown(not view.annotations.shown),
            "cancel_segmentation": self.cancel_segmentation,
            "export_window": self.set_export_window,
            "auto_segment": self._set_auto_segment,
            "force_cpu": self._set_force_cpu,
            "reset_edits": lambda: self._edit(lambda review: review.editor.reset(), "reset to model output"),
            "compare_reference": self.set_comparing,
            "export_anonymised_report": lambda: self.export_report(anonymise=True),
            "export_mask_nifti": lambda: exporter.mask_nifti(self.review),
            "export_image_nifti": lambda: exporter.image_nifti(self.study),
            "export_dicom_seg": lambda: exporter.dicom_seg(self.review),
            "export_key_images": lambda: exporter.key_images(self.review, self.slice_view.window),
            "export_csv": lambda: exporter.per_slice_csv(self.review),
            "export_lesions_csv": lambda: exporter.lesions_csv(self.review),
            "anonymise_screen": self._set_anonymise_screen,
            "left_drag_window": self._set_left_drag_window,
            "about": self.show_about,
            "three_views": self.three_views.toggle,
        }
        for corner in CORNERS:
            handlers[f"corner_{corner}"] = lambda checked=False, c=corner: view.annotations.toggle_corner(c)
        for i, name in enumerate(WINDOW_KEYS):
            # `checked` first: QAction.triggered passes it, and it must not land in `i`.
            handlers[name] = lambda checked=False, i=i: self.choose_window(i)
        return handlers

    def _build_actions(self) -> dict[str, QAction]:
        actions = menus.build_actions(self, self._handlers())
        for name, checked in (("auto_segment", self.settings.auto_segment),
                              ("force_cpu", self.settings.force_cpu),
                              ("anonymise_screen", self.settings.anonymise_screen),
                              ("left_drag_window", self.settings.left_drag_window)):
            actions[name].setChecked(checked)
        return actions

    def _build_menus(self) -> None:
        """The table's menus, and the three whose entries change: recent studies, panels, models."""
        a = self.actions_by_name
        built = menus.build_menus(self.menuBar(), a)
        self.recent_menu = QMenu("Recent studies", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        built["File"].insertMenu(a["export_report"], self.recent_menu)
        built["File"].insertSeparator(a["export_report"])
        built["View"].addSeparator()
        self._panels_menu = built["View"].addMenu("Panels")
        built["Segmentation"].addSeparator()
        self.model_menu = self._build_model_menu(built["Segmentation"].addMenu("Model"))

    def _build_model_menu(self, menu: QMenu) -> QMenu:
        """One exclusive choice per shipped network (the cross-validation fold networks are for
        evaluation, and stay with `--model`)."""
        group = QActionGroup(self)
        for name in viewer_models():
            action = menu.addAction(MODEL_LABELS.get(name, name))
            action.setData(name)
            action.setCheckable(True)
            action.setChecked(name == self.settings.model_name)
            action.setToolTip(f"Segment with models/{name}.keras")
            group.addAction(action)
        group.triggered.connect(lambda action: self.choose_model(action.data()))
        self._model_actions = group
        return menu

    def choose_model(self, name: str) -> None:
        """Segment with another shipped network from now on; the study on screen is segmented again."""
        if name == self.settings.model_name:
            return
        if self.review is not None and not self.may_discard_review("segmenting with another model"):
            self._check_chosen_model()
            return
        self.settings.model_name = name
        self._check_chosen_model()
        self.segmentation.switch_model()
        self._tell(f"Model: {MODEL_LABELS.get(name, name)}")
        if self.study is not None:
            self._segment(self.study)

    def _check_chosen_model(self) -> None:
        for action in self._model_actions.actions():
            action.setChecked(action.data() == self.settings.model_name)

    def _build_toolbar(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        menus.build_toolbar(toolbar, self.actions_by_name, {
            "window": self.window_control, "brush size": self.brush_size, "cine rate": self.cine_rate})

    def _connect(self) -> None:
        view = self.slice_view
        view.slice_changed.connect(self._show_slice)
        view.window_changed.connect(self._show_window)
        view.probe_changed.connect(self._show_probe)
        self.slice_bar.slice_requested.connect(view.set_slice)
        self.window_control.window_chosen.connect(view.set_window)
        view.overlays.display_changed.connect(self._save_overlay_settings)
        view.slice_changed.connect(self.findings_panel.show_current_slice)
        view.stroke_started.connect(self._on_stroke_started)
        view.stroke_moved.connect(self._on_stroke_moved)
        view.stroke_finished.connect(self._on_stroke_finished)
        view.brush_resize_requested.connect(self.brush_size.stepBy)
        self.brush_size.valueChanged.connect(self._on_brush_size)
        view.set_brush_radius(self.brush_size.value())
        self.findings_panel.slice_requested.connect(self._show_requested_slice)
        self.measurements_panel.slice_requested.connect(self._show_requested_slice)
        view.measurements.changed.connect(lambda: self.measurements_dock.raise_())
        view.measurements.changed.connect(self._autosave)  # measurements are kept with the edits
        self.findings_panel.spacing_requested.connect(self.enter_voxel_size)
        self.findings_panel.lesion_requested.connect(self.show_lesion)
        self.findings_panel.lesion_accepted.connect(self.accept_lesion)
        self.findings_panel.lesion_rejected.connect(self.reject_lesion)
        control = self.segmentation
        control.result_ready.connect(self._on_segmented)
        control.preview_ready.connect(self._on_preview)
        view.slice_changed.connect(control.set_focus)  # the slice on screen is segmented next
        control.failed.connect(self._on_segmentation_failed)
        control.model_failed.connect(self._on_model_failed)
        control.model_ready.connect(lambda device: self._tell(f"Hemorrhage model loaded ({device})"))
        self.segmentation_status.cancel_requested.connect(self.cancel_segmentation)

    # -- reacting ------------------------------------------------------------------------------
    def _show_slice(self, z: int) -> None:
        study = self.study
        if study is not None:
            self.slice_bar.show_slice(z, study.n_slices, study.slice_labels[z])

    def _show_window(self, window) -> None:
        if self.study is None:
            return
        name = window_name(study_windows(self.study), window)
        self.window_label.setText(describe_window(window, name, self.study.is_hu))
        self.window_control.show_window(window)

    def _show_probe(self, probe: PixelProbe | None) -> None:
        self.probe_label.setText(probe.text() if probe is not None else "")

    def _show_warning_count(self, warnings: tuple[QcWarning, ...]) -> None:
        n = len(warnings)
        self.warnings_button.setText(f"⚠ {n} warning{'s' if n != 1 else ''}")
        self.warnings_button.setVisible(n > 0)

    def _show_warnings(self) -> None:
        self.study_dock.show()
        self.study_dock.raise_()

    def _add_reference_layer(self, study: Study) -> None:
        mask = study.reference_mask
        if mask is None:
            return
        if mask.shape != study.voxels.shape:
            self.statusBar().showMessage(
                f"Reference mask {mask.shape} does not match the images {study.voxels.shape}; not shown", 8000
            )
            return
        layer = MaskLayer(REFERENCE_LAYER, mask, REFERENCE_COLOUR)
        # A research outline, shown only in the "Compare with reference" view (off by default).
        layer.visible = self.actions_by_name["compare_reference"].isChecked()
        self.slice_view.overlays.add_layer(layer)

    def set_comparing(self, comparing: bool) -> None:
        """View > Compare with reference: the cyan reference outline and the Dice figures, together."""
        self.actions_by_name["compare_reference"].setChecked(comparing)
        overlays = self.slice_view.overlays
        if overlays.layer(REFERENCE_LAYER) is not None:
            overlays.set_layer_visible(REFERENCE_LAYER, comparing)
        self.findings_panel.set_comparing(comparing)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self).exec()

    def show_about(self) -> None:
        AboutDialog(about_facts(self.settings.model_name), self).exec()

    def _set_anonymise_screen(self, checked: bool) -> None:
        self.settings.anonymise_screen = checked
        self.slice_view.annotations.set_anonymise(checked)

    def _set_left_drag_window(self, checked: bool) -> None:
        self.settings.left_drag_window = checked
        self.slice_view.left_drag_window = checked

    def _tell(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    # -- segmentation ---------------------------------------------------------------------------
    def segment_study(self) -> None:
        """S: segment the study on screen (again), after asking before edits are thrown away."""
        if self.study is None:
            self._tell("Open a study first")
            return
        if self.may_discard_review("segmenting again"):
            self._segment(self.study)

    # -- keeping the reader's edits ----------------------------------------------------------------
    def may_discard_review(self, doing: str) -> bool:
        """Before the review on screen goes: Save / Discard / Cancel when the reader edited it.

        True when the caller may go on (edits saved or discarded, or none); False on Cancel.
        """
        review = self.review
        if review is None or not review.edited:
            return True
        answer = self.ask_unsaved_edits(doing)
        if answer == CANCEL:
            return False
        if answer == SAVE:
            self._autosave(kept_by_reader=True)
        else:
            self.autosave.discard(self._review_identity)
        return True

    def ask_unsaved_edits(self, doing: str) -> str:
        """SAVE, DISCARD or CANCEL (replaceable in tests)."""
        return self._ask_three_ways(
            "Unsaved edits",
            f"You edited the hemorrhage outline of this study. Save your edits before {doing}?\n\n"
            "Save keeps them in your data folder: they are offered again when this study is "
            "segmented. Discard throws them away.",
            {"Save": SAVE, "Discard": DISCARD}, CANCEL)

    def ask_restore(self, saved: SavedEdits) -> str:
        """RESTORE, DISCARD or LATER for edits saved earlier (replaceable in tests)."""
        how = "saved by you" if saved.kept_by_reader else "kept by the autosave (the viewer was not closed normally)"
        return self._ask_three_ways(
            "Restore edits",
            f"This study has edits of the hemorrhage outline from {saved.saved_at}, {how}.\n\n"
            "Restore puts them back (Undo takes them off again); Discard deletes them; "
            "Cancel keeps them for later and shows the model's outline.",
            {"Restore": RESTORE, "Discard": DISCARD}, LATER)

    def _ask_three_ways(self, title: str, text: str, answers: dict[str, str], on_cancel: str) -> str:
        """A question with a button per answer, by its label (the first is the default), and Cancel.

        Labelled buttons, not Qt's standard ones: Qt has no "Restore" (a standard button named so
        raised AttributeError when the prompt opened)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        (first, first_answer), (second, second_answer) = answers.items()
        buttons = {box.addButton(first, QMessageBox.ButtonRole.AcceptRole): first_answer,
                   box.addButton(second, QMessageBox.ButtonRole.DestructiveRole): second_answer}
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(next(iter(buttons)))
        box.exec()
        return buttons.get(box.clickedButton(), on_cancel)

    def _autosave(self, kept_by_reader: bool = False) -> None:
        """Write the review's edits now (after every step: a kill -9 loses at most the next stroke)."""
        if self.review is None or self._review_identity is None:
            return
        try:
            self.autosave.write(self.review, self._review_identity, kept_by_reader=kept_by_reader,
                                measurements=self.slice_view.measurements.measurements)
        except ExportError as error:
            self._tell(f"Edits not autosaved: {error}")

    def _offer_restore(self) -> None:
        saved = self.autosave.read(self._review_identity)
        if saved is None:
            return
        if saved.mask.shape != self.review.mask.shape:
            self._tell("Saved edits of this study do not fit its images; not restored")
            return
        answer = self.ask_restore(saved)
        if answer == DISCARD:
            self.autosave.discard(self._review_identity)
        elif answer == RESTORE:
            restore(self.review, saved)
            self.slice_view.measurements.replace_all(saved.measurements)
            self.slice_view.overlays.refresh_layer(MODEL_LAYER)
            self._tell(f"Edits from {saved.saved_at} restored")

    def _segment(self, study: Study) -> None:
        if study is not self.study:
            return  # another study was opened before this one's turn came
        if not study.assessable:
            self._show_not_assessable(study)
            return
        self._after_slice_paint.cancel()
        self.findings_panel.show_message("Segmenting…")
        if self.review is None:  # a review on screen keeps its outline until the new one is done
            self._preliminary.start(study)
        self.segmentation.set_focus(self.slice_view.slice_index)
        self.segmentation.segment(study)

    def _on_preview(self, study: Study, indices: list[int], masks) -> None:
        done = self._preliminary.add(study, indices, masks)
        if done is not None and study is self.study:
            self.findings_panel.show_message(
                f"Segmenting: {done} of {study.n_slices} slices done, the slice on screen first.\n"
                "The outline is preliminary; the findings appear when every slice is done.")

    def _show_not_assessable(self, study: Study) -> None:
        """Values that are not HU (not CT, broken rescale): the images are shown, no verdict is made."""
        self.findings_panel.show_message(f"{NOT_HU_RESULT} ({study.not_hu_reason}).")

    def set_export_window(self) -> None:
        """View > Export window…: the reader gives the HU window of 8-bit images; segment again."""
        study = self.study
        if study is None or study.is_hu:
            return
        current = study.export_window or CT_ICH_BRAIN_WINDOW
        window = ExportWindowDialog.ask(current, export_window_text(study), self)
        if window is None or not self.may_discard_review("segmenting again"):
            return
        study.export_window = window
        study.export_window_note = f"set by the reader: {window_text(window)}"
        self.study_panel.set_study(study)
        self._segment(study)

    def cancel_segmentation(self) -> None:
        if not self.segmentation.running:
            return
        self.segmentation.cancel()
        self._preliminary.drop()
        self.findings_panel.show_message("Segmentation cancelled: press S to segment this study.")
        self._tell("Segmentation cancelled")

    def _on_segmented(self, study: Study, review: Review) -> None:
        if study is not self.study:
            return
        self._preliminary.drop()  # the review's layers go on in their order: the outline above the heat map
        self._set_review(review)
        verdict = "hemorrhage detected" if review.findings.detected else "no hemorrhage detected"
        self._tell(f"Segmentation done: {verdict}")
        self._offer_restore()

    def _on_segmentation_failed(self, message: str) -> None:
        self._preliminary.drop()
        if self.segmentation.model_error is not None:
            # The model could not be loaded: that was said once already, in a message box.
            self.findings_panel.show_message(f"No segmentation: {self.segmentation.model_error}")
            return
        self.findings_panel.show_message(f"{message}\n\nThe images can still be read; S tries again.")
        self._tell(message)
        QMessageBox.warning(self, "Segmentation failed", message)

    def _on_model_failed(self, message: str) -> None:
        self._tell(message)
        if self.study is not None and not self.segmentation.running:
            self.findings_panel.show_message(f"No segmentation: {message}")
        if not self._model_failure_told:  # once per session, not at every study opened
            self._model_failure_told = True
            QMessageBox.critical(self, "Hemorrhage model not available",
                                 f"{message}\n\nThe viewer works without it; studies are not segmented.")

    def _load_model_if_idle(self) -> None:
        # With a study on screen, its first paint starts the model (when segmenting automatically).
        if self.study is None and self.settings.auto_segment:
            self.segmentation.load_model()

    def _set_auto_segment(self, checked: bool) -> None:
        self.settings.auto_segment = checked

    def _set_force_cpu(self, checked: bool) -> None:
        self.settings.force_cpu = checked
        if self.segmentation.device is not None:
            # TensorFlow picks its devices once per process.
            self._tell("Force CPU takes effect the next time ICH Viewer starts")

    # -- the review on screen -------------------------------------------------------------------
    def _set_review(self, review: Review | None) -> None:
        self.review = review
        self._review_identity = None if review is None else study_identity(review.study)
        if review is None:
            self.actions_by_name["brush"].setChecked(False)
            self.actions_by_name["eraser"].setChecked(False)
            self._on_tool_chosen()
        else:
            review.listeners.append(self._on_review_changed)
            self._show_model_layers()
            self._show_review()
        self._update_actions()

    def _on_review_changed(self, review: Review) -> None:
        """After each edit, accepted lesion or restore: keep it, and show what it measures now."""
        if review is self.review:
            self._autosave()
            self._show_review()

    def _show_model_layers(self) -> None:
        overlays = self.slice_view.overlays
        heat_map = HeatMapLayer(PROBABILITY_LAYER, self.review.result.probability)
        heat_map.visible = False  # off until the reader asks (H): it hides the grey-scale detail
        # Added before the mask, so the model's outline stays on top of the heat map.
        overlays.add_layer(heat_map)
        # Drawn from the editor's own array: strokes show after overlays.refresh_layer.
        overlays.add_layer(MaskLayer(MODEL_LAYER, self.review.mask, MODEL_COLOUR))

    def _show_review(self) -> None:
        review = self.review
        self.findings_panel.show_findings(review.study, review.findings, review.edits, review.accepted_numbers(),
                                          review.result.model)
        self.findings_panel.show_current_slice(self.slice_view.slice_index)
        self.setWindowModified(review.edited)
        self._update_actions()
        self.findings_changed.emit(review.findings)

    def _update_actions(self) -> None:
        menus.enable(self.actions_by_name, self._needs_met())
        if self.review is None:
            self.setWindowModified(False)

    def _needs_met(self) -> dict[Needs, bool]:
        study, review = self.study, self.review
        return {
            Needs.NOTHING: True,
            Needs.STUDY: study is not None,
            Needs.REVIEW: review is not None,
            Needs.DICOM_REVIEW: review is not None and is_dicom_study(review.study),
            Needs.DISPLAY_STUDY: study is not None and not study.is_hu,
            Needs.UNDO: review is not None and review.editor.can_undo,
            Needs.REDO: review is not None and review.editor.can_redo,
            Needs.EDITS: review is not None and review.edited,
        }

    def toggle_heat_map(self) -> None:
        overlays = self.slice_view.overlays
        layer = overlays.layer(PROBABILITY_LAYER)
        if layer is None:
            self._tell("No probability map yet: segment the study (S)")
            return
        overlays.set_layer_visible(PROBABILITY_LAYER, not layer.visible)

    def go_to_finding(self, step: int) -> None:
        """N / P: the next or previous slice the reader's mask outlines."""
        if self.review is None:
            self._tell("No findings yet: segment the study (S)")
            return
        z = self.review.next_finding(self.slice_view.slice_index, step)
        if z is None:
            self._tell(f"No slice with hemorrhage {'after' if step > 0 else 'before'} this one")
        else:
            self.slice_view.set_slice(z)

    def _show_requested_slice(self, z: int) -> None:
        self.slice_view.set_slice(z)
        self.slice_view.setFocus()  # the keys go back to the slices, not to the list clicked

    def enter_voxel_size(self) -> None:
        """Findings panel button: reopen an 8-bit study with the voxel size the reader gives."""
        if self.study is None:
            return
        study = self.opener.reopen_with_spacing(self.study)
        if study is None:
            return
        self.segmentation.cancel()  # a job still running is for the study object being replaced
        # The same images: keep the export window they are read with (the reader may have set it).
        study.export_window = self.study.export_window
        study.export_window_note = self.study.export_window_note
        review, z = self.review, self.slice_view.slice_index
        if review is None or study.voxels.shape != review.study.voxels.shape:
            self.show_study(study)
            return
        # Same images, now with sizes: keep the model's result, the edits and the measurements, in mm.
        measurements = list(self.slice_view.measurements.measurements)
        self._put_on_screen(study)
        self.slice_view.measurements.replace_all(measurements)
        self.slice_view.set_slice(z)
        self._show_model_layers()
        review.on_study(study)

    # -- editing the model's outline ---------------------------------------------------------
    def _on_tool_chosen(self, _checked: bool = False) -> None:
        a = self.actions_by_name
        self.slice_view.set_drawing(a["brush"].isChecked() or a["eraser"].isChecked())
        tools = (("ruler", RULER), ("ellipse_roi", ELLIPSE), ("midline_shift", MIDLINE))
        measuring = next((kind for name, kind in tools if a[name].isChecked()), None)
        self.slice_view.set_measuring(measuring)

    def _on_brush_size(self, radius: int) -> None:
        self.settings.brush_radius = radius
        self.slice_view.set_brush_radius(radius)

    def _on_stroke_started(self, at: QPointF) -> None:
        if self.review is None:
            return
        z = self.slice_view.slice_index
        erase = self.actions_by_name["eraser"].isChecked()
        self.review.editor.begin_stroke(z, (at.x(), at.y()), self.brush_size.value(), erase=erase)
        self.slice_view.overlays.refresh_layer(MODEL_LAYER, z)

    def _on_stroke_moved(self, to: QPointF) -> None:
        editor = self.review.editor if self.review is not None else None
        if editor is None or editor.stroke_slice is None:
            return
        z = editor.stroke_slice
        editor.extend_stroke((to.x(), to.y()))
        self.slice_view.overlays.refresh_layer(MODEL_LAYER, z)

    def _on_stroke_finished(self) -> None:
        # One stroke, one measurement: the panel and plot follow every stroke the reader makes.
        review = self.review
        if review is not None and review.editor.end_stroke():
            review.record("erase" if self.actions_by_name["eraser"].isChecked() else "paint")

    def _edit(self, change, action: str) -> None:
        """Undo, redo, reset or a rejected lesion: change(review) returns the slices it changed."""
        if self.review is None:
            return
        changed = change(self.review)
        if not changed:
            return
        if len(changed) == 1:
            self.slice_view.set_slice(changed[0])  # show the reader what was undone or redone
        self.slice_view.overlays.refresh_layer(MODEL_LAYER)
        if action:  # (a rejected lesion is recorded by the review itself)
            self.review.record(action)

    # -- the lesion list ---------------------------------------------------------------------
    def show_lesion(self, number: int) -> None:
        """A click in the lesion list: its slice of largest area."""
        if self.review is not None:
            self._show_requested_slice(self.review.lesion(number).largest_area_slice)

    def accept_lesion(self, number: int) -> None:
        if self.review is not None:
            self.review.accept_lesion(number)

    def reject_lesion(self, number: int) -> None:
        """Erase the lesion from the accepted mask: an edit like an eraser stroke, undone with Ctrl+Z."""
        self._edit(lambda review: review.reject_lesion(number), action="")

    # -- exports ---------------------------------------------------------------------------------
    def export_report(self, anonymise: bool = False) -> None:
        if self.review is None:
            self._tell("Segment the study before exporting a report (S)")
            return
        self.exporter.report(self.review, self.slice_view.window, anonymise=anonymise,
                             measurements=tuple(self.slice_view.measurements.texts()))

    # -- opening ------------------------------------------------------------------------------
    def _ask_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open study folder", self.settings.last_folder)
        if folder:
            self.open_study(folder)

    def _ask_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open study file", self.settings.last_folder, FILE_FILTER)
        if path:
            self.open_study(path)

    def _remember_opened(self, path: Path) -> None:
        # Start the next dialog beside this study: readers go through patients in turn.
        self.settings.last_folder = str(path.resolve().parent)
        recent = str(path.resolve())
        self.settings.add_recent_study(recent, RecentStudy.of(recent, self.study))  # patient, date, description

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_records()
        self.recent_menu.setToolTipsVisible(True)
        for record in recent:  # patient, date, description; the path as the tooltip
            action = self.recent_menu.addAction(record.label(anonymise=self.settings.anonymise_screen))
            action.setToolTip(record.path)
            action.triggered.connect(lambda checked=False, p=record.path: self.open_study(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent_studies)
        else:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_study(path)

    # -- settings -------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        overlays = self.slice_view.overlays
        # Read both before applying either: each setter saves the overlay settings back.
        opacity, contour = self.settings.overlay_opacity, self.settings.overlay_contour
        overlays.set_opacity(opacity)
        overlays.set_contour(contour)
        self.slice_view.annotations.set_anonymise(self.settings.anonymise_screen)
        self.slice_view.left_drag_window = self.settings.left_drag_window
        self.three_views.set_three_views(self.settings.three_views)
        if not self.settings.restore_window(self):
            self.resize(*DEFAULT_SIZE)
            self._default_dock_sizes()

    def _default_dock_sizes(self) -> None:
        # Room for the findings, the plot and the slice list; the overlay controls need little.
        self.resizeDocks([self.findings_dock], [FINDINGS_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.findings_dock, self.overlay_dock], [3, 1], Qt.Orientation.Vertical)

    def _save_overlay_settings(self) -> None:
        overlays = self.slice_view.overlays
        self.settings.overlay_opacity = overlays.opacity
        self.settings.overlay_contour = overlays.contour

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._keep_findings_readable()

    def _keep_findings_readable(self) -> None:
        """A wider window widens a Findings panel left at its minimum, while the image stays the main area.

        Qt gives every extra pixel to the image: a panel restored narrow would keep every
        value wrapped onto three lines however wide the window became.
        """
        dock = self.findings_dock
        if dock.isFloating() or not dock.isVisible() or dock.width() >= FINDINGS_WIDTH:
            return
        if self.width() * MAX_PANEL_FRACTION >= FINDINGS_WIDTH:
            self.resizeDocks([dock], [FINDINGS_WIDTH], Qt.Orientation.Horizontal)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous() and self.study is None:
            self._idle_model_load.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.may_discard_review("quitting"):
            event.ignore()  # Cancel: the reader goes on editing
            return
        self._idle_model_load.stop()
        self._after_slice_paint.cancel()
        self.cine.stop()
        self.segmentation.shutdown()  # no worker thread outlives the window
        self.settings.save_window(self)
        self.settings.sync()
        super().closeEvent(event)


def _scrollable(widget: QWidget) -> QScrollArea:
    """A tall panel scrolls on a small screen instead of forcing the window taller."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # wrap, never scroll sideways
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    local = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return local[0] if local else None
