"""Every keyboard shortcut and mouse gesture of the viewer, in one table.

The main window builds its QActions from SHORTCUTS and the Help > Shortcuts
dialog lists the same table plus MOUSE_GESTURES, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    action: str  # the id the main window binds a handler to
    text: str  # the menu / help text
    keys: tuple[str, ...]  # QKeySequence strings; the first is shown in menus

    @property
    def keys_text(self) -> str:
        return ", ".join(self.keys)


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("open_folder", "Open folder…", ("Ctrl+O",)),
    Shortcut("open_file", "Open file…", ("Ctrl+Shift+O",)),
    Shortcut("quit", "Quit", ("Ctrl+Q",)),
    Shortcut("previous_slice", "Previous slice", ("Up",)),
    Shortcut("next_slice", "Next slice", ("Down",)),
    Shortcut("back_10_slices", "Back 10 slices", ("PgUp",)),
    Shortcut("forward_10_slices", "Forward 10 slices", ("PgDown",)),
    Shortcut("first_slice", "First slice", ("Home",)),
    Shortcut("last_slice", "Last slice", ("End",)),
    Shortcut("cine", "Cine: play / stop the slices", ("Space",)),
    Shortcut("window_1", "Window preset 1 (Brain)", ("1",)),
    Shortcut("window_2", "Window preset 2 (Subdural)", ("2",)),
    Shortcut("window_3", "Window preset 3 (Stroke)", ("3",)),
    Shortcut("window_4", "Window preset 4 (Bone)", ("4",)),
    Shortcut("window_5", "Window 5 (stored in the DICOM)", ("5",)),
    # "=" because "+" needs Shift on most layouts.
    Shortcut("zoom_in", "Zoom in", ("+", "=", "Ctrl++")),
    Shortcut("zoom_out", "Zoom out", ("-", "Ctrl+-")),
    Shortcut("fit", "Fit to window", ("F",)),
    Shortcut("reset", "Reset zoom and window", ("R", "Ctrl+0")),
    Shortcut("toggle_overlay", "Show / hide overlay", ("O",)),
    Shortcut("toggle_contour", "Overlay filled / contour", ("C",)),
    Shortcut("toggle_heat_map", "Show / hide the probability heat map", ("H",)),
    # One key per corner of the on-image text, I for all of it (letters and scale bar too).
    Shortcut("toggle_annotations", "Show / hide all on-image text", ("I",)),
    Shortcut("corner_top_left", "Show / hide patient text (top left)", ("F5",)),
    Shortcut("corner_top_right", "Show / hide study text (top right)", ("F6",)),
    Shortcut("corner_bottom_left", "Show / hide slice text (bottom left)", ("F7",)),
    Shortcut("corner_bottom_right", "Show / hide window and zoom text (bottom right)", ("F8",)),
    Shortcut("next_finding", "Next slice with hemorrhage", ("N",)),
    Shortcut("previous_finding", "Previous slice with hemorrhage", ("P",)),
    Shortcut("segment", "Segment", ("S",)),
    Shortcut("brush", "Brush (paint hemorrhage)", ("B",)),
    Shortcut("eraser", "Eraser", ("E",)),
    # [ and ] as in image editors; N / P are the findings keys, so they do not clash.
    Shortcut("ruler", "Ruler (mm)", ("M",)),
    Shortcut("ellipse_roi", "Ellipse ROI (HU mean, SD, min, max, area)", ("Shift+M",)),
    Shortcut("brush_smaller", "Smaller brush", ("[",)),
    Shortcut("brush_larger", "Larger brush", ("]",)),
    Shortcut("undo", "Undo edit", ("Ctrl+Z",)),
    Shortcut("redo", "Redo edit", ("Ctrl+Shift+Z", "Ctrl+Y")),
    Shortcut("export_report", "Export report (PDF)…", ("Ctrl+E",)),
    Shortcut("show_shortcuts", "Shortcuts…", ("F1",)),
)

MOUSE_GESTURES: tuple[tuple[str, str], ...] = (
    ("Wheel", "Scroll slices"),
    ("Ctrl+Wheel", "Zoom about the cursor"),
    ("Right-drag", "Window: horizontal = width, vertical = level"),
    ("Middle-drag or left-drag", "Pan"),
    ("Left-drag (View ▸ Left-drag sets the window)", "Window, as right-drag; middle-drag pans"),
    ("Left-drag or click (brush / eraser on)", "Paint / erase hemorrhage on the slice"),
    ("Shift+Wheel (brush / eraser on)", "Brush size"),
    ("Left-drag (ruler / ellipse ROI on)", "Measure on the slice"),
    ("Click a bar of the area plot", "Show that slice (hover: its area)"),
    ("Drop a folder or file", "Open it"),
)

# Window presets by number key: index 0..4 into the study's window list.
WINDOW_KEYS: tuple[str, ...] = tuple(f"window_{i}" for i in range(1, 6))


def shortcut(action: str) -> Shortcut:
    for s in SHORTCUTS:
        if s.action == action:
            return s
    raise KeyError(action)
