"""The main window: menus and shortcuts, the slice view, and the right-hand panels.

Later features plug in here without reworking it:
  - a mask or heat map:  window.slice_view.overlays.add_layer(MaskLayer(...))
  - a panel on the right: window.add_panel("Findings", widget, "findings_panel")
  - work after a study opens: window.study_opened.connect(...)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ich_viewer.study.model import Study
from ich_viewer.ui.dialogs import ShortcutsDialog
from ich_viewer.ui.opening import StudyOpener
from ich_viewer.ui.overlay import REFERENCE_COLOUR, REFERENCE_LAYER, MaskLayer
from ich_viewer.ui.panels import OverlayPanel, StudyPanel
from ich_viewer.ui.settings import ViewerSettings
from ich_viewer.ui.shortcuts import SHORTCUTS, WINDOW_KEYS
from ich_viewer.ui.slice_view import PixelProbe, SliceBar, SliceView
from ich_viewer.ui.window_control import WindowControl, describe_window, study_windows, window_name

APP_TITLE = "ICH Viewer"
DEFAULT_SIZE = (1280, 860)
PANEL_MIN_WIDTH = 280  # room for a file path and a warning without one word per line
FILE_FILTER = "DICOM or images (*.dcm *.DCM *.ima *.jpg *.jpeg *.png);;All files (*)"


class MainWindow(QMainWindow):
    study_opened = Signal(object)  # Study, after it is on screen

    def __init__(self, settings: ViewerSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or ViewerSettings()
        self.opener = StudyOpener(self, self.settings)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)

        self.slice_view = SliceView()
        self.slice_bar = SliceBar()
        self.window_control = WindowControl()
        self.study_panel = StudyPanel()
        self.overlay_panel = OverlayPanel(self.slice_view.overlays)
        self._build_central()
        self._build_status_bar()
        self.actions_by_name = self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self.study_dock = self.add_panel("Study", self.study_panel, "study_panel")
        self.overlay_dock = self.add_panel("Overlay", self.overlay_panel, "overlay_panel")
        self._connect()
        self._restore_settings()

    # -- public API ------------------------------------------------------------------------
    @property
    def study(self) -> Study | None:
        return self.slice_view.study

    def open_study(self, path: str | Path, ask_spacing: bool = True) -> bool:
        """Open a study from disk; on failure the reader is told why and nothing changes."""
        self.statusBar().showMessage(f"Opening {path} …")
        study = self.opener.open(path, ask_spacing=ask_spacing)
        self.statusBar().clearMessage()
        if study is None:
            return False
        self.show_study(study)
        self._remember_opened(Path(path))
        return True

    def show_study(self, study: Study) -> None:
        """Put an already loaded Study on screen (also used by tests and headless callers)."""
        self.slice_view.set_study(study)
        self.slice_bar.set_slice_count(study.n_slices)
        self._show_slice(self.slice_view.slice_index)
        self.window_control.set_windows(study_windows(study), study.is_hu)
        self._show_window(self.slice_view.window)
        self._add_reference_layer(study)
        self.study_panel.set_study(study)
        self._show_warning_count(study.warnings)
        self.setWindowTitle(f"{study.description or study.source.name} — {APP_TITLE}")
        self.slice_view.setFocus()
        self.study_opened.emit(study)

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
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.slice_view, 1)
        layout.addWidget(self.slice_bar)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        self.probe_label = QLabel()
        self.window_label = QLabel()
        self.window_label.setToolTip("Current window (keys 1–5, right-drag to adjust)")
        self.warnings_button = QToolButton(autoRaise=True)
        self.warnings_button.setToolTip("Problems found while reading the study")
        self.warnings_button.clicked.connect(self._show_warnings)
        bar = self.statusBar()
        bar.addWidget(self.probe_label, 1)
        bar.addPermanentWidget(self.warnings_button)
        bar.addPermanentWidget(self.window_label)
        self._show_warning_count([])

    def _handlers(self) -> dict[str, Callable[[], object]]:
        view = self.slice_view
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
            "show_shortcuts": self.show_shortcuts,
        }
        for i, name in enumerate(WINDOW_KEYS):
            # `checked` first: QAction.triggered passes it, and it must not land in `i`.
            handlers[name] = lambda checked=False, i=i: self.choose_window(i)
        return handlers

    def _build_actions(self) -> dict[str, QAction]:
        handlers = self._handlers()
        actions = {}
        for shortcut in SHORTCUTS:
            action = QAction(shortcut.text, self)
            action.setShortcuts([QKeySequence(k) for k in shortcut.keys])
            action.triggered.connect(handlers[shortcut.action])
            self.addAction(action)  # shortcuts work even for actions not in a menu
            actions[shortcut.action] = action
        return actions

    def _build_menus(self) -> None:
        a = self.actions_by_name
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([a["open_folder"], a["open_file"]])
        self.recent_menu = file_menu.addMenu("Recent studies")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])

        view_menu = bar.addMenu("&View")
        self._add_group(view_menu, a, ("previous_slice", "next_slice", "back_10_slices",
                                       "forward_10_slices", "first_slice", "last_slice"))
        self._add_group(view_menu, a, ("zoom_in", "zoom_out", "fit", "reset"))
        self._add_group(view_menu, a, ("toggle_overlay", "toggle_contour"))
        windows_menu = view_menu.addMenu("Window")
        windows_menu.addActions([a[name] for name in WINDOW_KEYS])
        self._panels_menu = view_menu.addMenu("Panels")

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a["show_shortcuts"])

    @staticmethod
    def _add_group(menu: QMenu, actions: dict[str, QAction], names: tuple[str, ...]) -> None:
        menu.addActions([actions[name] for name in names])
        menu.addSeparator()

    def _build_toolbar(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        a = self.actions_by_name
        toolbar.addActions([a["open_folder"], a["open_file"]])
        toolbar.addSeparator()
        toolbar.addWidget(self.window_control)
        toolbar.addSeparator()
        toolbar.addActions([a["fit"], a["reset"], a["toggle_overlay"]])

    def _connect(self) -> None:
        view = self.slice_view
        view.slice_changed.connect(self._show_slice)
        view.window_changed.connect(self._show_window)
        view.probe_changed.connect(self._show_probe)
        self.slice_bar.slice_requested.connect(view.set_slice)
        self.window_control.window_chosen.connect(view.set_window)
        view.overlays.display_changed.connect(self._save_overlay_settings)

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

    def _show_warning_count(self, warnings: list[str]) -> None:
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
        self.slice_view.overlays.add_layer(MaskLayer(REFERENCE_LAYER, mask, REFERENCE_COLOUR))

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self).exec()

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
        self.settings.add_recent_study(str(path.resolve()))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_studies()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_study(p))
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
        overlays.set_opacity(self.settings.overlay_opacity)
        overlays.set_contour(self.settings.overlay_contour)
        if not self.settings.restore_window(self):
            self.resize(*DEFAULT_SIZE)

    def _save_overlay_settings(self) -> None:
        overlays = self.slice_view.overlays
        self.settings.overlay_opacity = overlays.opacity
        self.settings.overlay_contour = overlays.contour

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.save_window(self)
        self.settings.sync()
        super().closeEvent(event)


def _dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    local = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return local[0] if local else None
