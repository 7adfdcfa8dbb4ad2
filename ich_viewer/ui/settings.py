"""What the viewer remembers between sessions (QSettings, ini format).

The ini format is used on every platform so that tests can redirect the
whole store with QSettings.setPath(IniFormat, UserScope, tmp_path) and never
touch the user's real settings.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from ich_viewer.segmentation.model_file import DEFAULT_MODEL
from ich_viewer.ui.recent import RecentStudy

ORGANIZATION = "ICH Viewer"
APPLICATION = "ICH Viewer"
MAX_RECENT = 10
UNKNOWN_SPACING = "unknown"
DEFAULT_BRUSH_RADIUS = 5  # pixels: about 2-4 mm on a head CT, the size of a small bleed's edge


def _flag(key: str, default: bool, doc: str) -> property:
    """A yes/no setting stored under key (the ini format keeps it as text: read back as bool)."""
    def get(self) -> bool:
        return bool(self._store.value(key, default, type=bool))

    def set_(self, on: bool) -> None:
        self._store.setValue(key, bool(on))

    return property(get, set_, doc=doc)


class ViewerSettings:
    """Typed access to the viewer's QSettings keys."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )

    # -- folders and recent studies -------------------------------------------------
    @property
    def last_folder(self) -> str:
        return str(self._store.value("last_folder", "", type=str))

    @last_folder.setter
    def last_folder(self, folder: str) -> None:
        self._store.setValue("last_folder", folder)

    def recent_studies(self) -> list[str]:
        value = self._store.value("recent_studies", [])
        # An ini file returns a single string for a one-item list.
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value][:MAX_RECENT]

    def recent_records(self) -> list[RecentStudy]:
        """The recent studies with what is known of each (only the path for entries kept before records)."""
        details = self._recent_details()
        return [RecentStudy.from_details(path, details.get(path)) for path in self.recent_studies()]

    def add_recent_study(self, path: str, record: RecentStudy | None = None) -> None:
        recent = ([path] + [p for p in self.recent_studies() if p != path])[:MAX_RECENT]
        self._store.setValue("recent_studies", recent)
        details = {p: d for p, d in self._recent_details().items() if p in recent}
        if record is not None:
            details[path] = record.details()
        self._store.setValue("recent_study_details", json.dumps(details))

    def _recent_details(self) -> dict:
        try:
            details = json.loads(str(self._store.value("recent_study_details", "{}", type=str)) or "{}")
        except ValueError:
            return {}  # damaged by hand: the paths still open
        return details if isinstance(details, dict) else {}

    def clear_recent_studies(self) -> None:
        self._store.setValue("recent_studies", [])
        self._store.setValue("recent_study_details", "{}")

    # -- overlay --------------------------------------------------------------------
    @property
    def overlay_opacity(self) -> float:
        return float(self._store.value("overlay/opacity", 0.5, type=float))

    @overlay_opacity.setter
    def overlay_opacity(self, opacity: float) -> None:
        self._store.setValue("overlay/opacity", float(opacity))

    overlay_contour = _flag("overlay/contour", False, "Outline instead of filled overlay.")

    # -- reading ------------------------------------------------------------------------
    anonymise_screen = _flag("view/anonymise", False,
                             "Hide the patient's name, ID and birth date from the on-image text (demonstrations).")
    left_drag_window = _flag("view/left_drag_window", False,
                             "Left-drag sets the window (Weasis/Horos) instead of panning.")
    three_views = _flag("view/three_views", False,
                        "The axial view with its coronal and sagittal reformats, instead of the axial alone.")

    # -- segmentation and editing ------------------------------------------------------
    auto_segment = _flag("segmentation/auto", True,
                         "Segment every study as soon as it is on screen (the reader's usual flow).")
    force_cpu = _flag("segmentation/force_cpu", False,
                      "Never use a GPU (read when the model loads, i.e. once per start).")

    @property
    def model_name(self) -> str:
        """The shipped network the viewer segments with (its name in models/, as --model takes it)."""
        return str(self._store.value("segmentation/model", DEFAULT_MODEL, type=str))

    @model_name.setter
    def model_name(self, name: str) -> None:
        self._store.setValue("segmentation/model", name)

    @property
    def brush_radius(self) -> int:
        return int(self._store.value("editing/brush_radius", DEFAULT_BRUSH_RADIUS, type=int))

    @brush_radius.setter
    def brush_radius(self, radius: int) -> None:
        self._store.setValue("editing/brush_radius", int(radius))

    # -- exports ------------------------------------------------------------------------
    @property
    def export_folder(self) -> str:
        """Where the last export went: the next save dialog starts there, never in the study folder."""
        return str(self._store.value("export/folder", "", type=str))

    @export_folder.setter
    def export_folder(self, folder: str) -> None:
        self._store.setValue("export/folder", folder)

    # -- per-folder pixel spacing of image studies -------------------------------------
    def _spacing_key(self, folder: str | Path) -> str:
        # Paths contain '/' which QSettings treats as groups, so key by a digest.
        digest = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:16]
        return f"spacing/{digest}"

    def has_spacing(self, folder: str | Path) -> bool:
        return self._store.contains(self._spacing_key(folder))

    def spacing_for(self, folder: str | Path) -> tuple[float, float, float] | None:
        """The remembered (z, y, x) spacing in mm; None when unknown or never asked."""
        value = str(self._store.value(self._spacing_key(folder), UNKNOWN_SPACING, type=str))
        if value == UNKNOWN_SPACING:
            return None
        z, y, x = (float(v) for v in value.split(","))
        return (z, y, x)

    def remember_spacing(self, folder: str | Path, spacing: tuple[float, float, float] | None) -> None:
        text = UNKNOWN_SPACING if spacing is None else ",".join(f"{v:g}" for v in spacing)
        self._store.setValue(self._spacing_key(folder), text)

    # -- window geometry --------------------------------------------------------------
    def save_window(self, window: QMainWindow) -> None:
        self._store.setValue("window/geometry", window.saveGeometry())
        self._store.setValue("window/state", window.saveState())

    def restore_window(self, window: QMainWindow) -> bool:
        geometry = self._store.value("window/geometry")
        state = self._store.value("window/state")
        restored = isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            window.restoreState(state)
        return bool(restored)

    def sync(self) -> None:
        self._store.sync()
