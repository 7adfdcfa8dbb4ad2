"""Every action of the viewer in one table: its text, keys, menu, toolbar label, icon and when it is on.

The main window builds its QActions, menus and toolbar from ACTIONS and TOOLBAR and binds
each name to a handler; Help > Shortcuts lists the same table plus MOUSE_GESTURES, so the
menus, the toolbar, the keys and the help cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Needs(Enum):
    """What must be on screen for an action to be enabled."""

    NOTHING = "nothing"
    STUDY = "a study"
    REVIEW = "a segmentation"  # the model's outline, with the reader's edits
    DICOM_REVIEW = "a segmentation of a DICOM series"  # DICOM SEG refers to the source images
    DISPLAY_STUDY = "a study of 8-bit images"  # only those have an export window to set
    UNDO = "an edit to undo"
    REDO = "an edit to redo"
    EDITS = "edits of the model's outline"


@dataclass(frozen=True)
class Action:
    name: str  # the id the main window binds a handler to
    text: str  # the menu and help text
    keys: tuple[str, ...] = ()  # QKeySequence strings; the first is shown in menus and tooltips
    menu: str = ""  # "File", or "File/Export" for a submenu; "" = keys only
    group: str = ""  # a separator goes between groups of one menu
    toolbar: str = ""  # the short label under its toolbar icon (the action must be in TOOLBAR)
    icon: str = ""  # a name of theme.ICONS, or a QStyle standard pixmap ("SP_...")
    needs: Needs = Needs.NOTHING
    checkable: bool = False

    @property
    def keys_text(self) -> str:
        return ", ".join(self.keys)


# The menu bar, left to right.
MENUS = ("File", "Edit", "View", "Segmentation", "Help")

ACTIONS: tuple[Action, ...] = (
    Action("open_folder", "Open folder…", ("Ctrl+O",), "File", "open", "Open folder", "SP_DirOpenIcon"),
    Action("open_file", "Open file…", ("Ctrl+Shift+O",), "File", "open", "Open file", "SP_FileIcon"),
    Action("export_report", "Export report (PDF)…", ("Ctrl+E",), "File", "report", needs=Needs.REVIEW),
    Action("export_anonymised_report", "Export anonymised report (PDF)…", menu="File", group="report",
           needs=Needs.REVIEW),
    Action("export_mask_nifti", "Mask as NIfTI…", menu="File/Export", needs=Needs.REVIEW),
    Action("export_image_nifti", "Image as NIfTI…", menu="File/Export", needs=Needs.STUDY),
    Action("export_dicom_seg", "DICOM SEG…", menu="File/Export", needs=Needs.DICOM_REVIEW),
    Action("export_key_images", "Key images (PNG)…", menu="File/Export", needs=Needs.REVIEW),
    Action("export_csv", "Per-slice CSV…", menu="File/Export", needs=Needs.REVIEW),
    Action("export_lesions_csv", "Lesion table (CSV)…", menu="File/Export", needs=Needs.REVIEW),
    Action("quit", "Quit", ("Ctrl+Q",), "File", "quit"),

    Action("undo", "Undo edit", ("Ctrl+Z",), "Edit", "undo", "Undo", "SP_ArrowBack", Needs.UNDO),
    Action("redo", "Redo edit", ("Ctrl+Shift+Z", "Ctrl+Y"), "Edit", "undo", "Redo", "SP_ArrowForward", Needs.REDO),
    Action("brush", "Brush (paint hemorrhage)", ("B",), "Edit", "paint", "Brush", "brush", Needs.REVIEW, True),
    Action("eraser", "Eraser", ("E",), "Edit", "paint", "Eraser", "eraser", Needs.REVIEW, True),
    # [ and ] as in image editors.
    Action("brush_smaller", "Smaller brush", ("[",), "Edit", "paint", needs=Needs.REVIEW),
    Action("brush_larger", "Larger brush", ("]",), "Edit", "paint", needs=Needs.REVIEW),
    Action("ruler", "Ruler (mm)", ("M",), "Edit", "measure", "Ruler", "ruler", Needs.STUDY, True),
    Action("ellipse_roi", "Ellipse ROI (HU mean, SD, min, max, area)", ("Shift+M",), "Edit", "measure", "ROI",
           "ellipse", Needs.STUDY, True),
    Action("midline_shift", "Midline shift (falx line, then the septum pellucidum)", ("Ctrl+Shift+M",), "Edit",
           "measure", "Midline", "midline", Needs.STUDY, True),
    Action("reset_edits", "Reset to model output", menu="Edit", group="reset", needs=Needs.EDITS),

    Action("previous_slice", "Previous slice", ("Up",), "View", "slices"),
    Action("next_slice", "Next slice", ("Down",), "View", "slices"),
    Action("back_10_slices", "Back 10 slices", ("PgUp",), "View", "slices"),
    Action("forward_10_slices", "Forward 10 slices", ("PgDown",), "View", "slices"),
    Action("first_slice", "First slice", ("Home",), "View", "slices"),
    Action("last_slice", "Last slice", ("End",), "View", "slices"),
    # N and P stay on without a segmentation and say what is missing: a reader may press them first.
    Action("next_finding", "Next slice with hemorrhage", ("N",), "View", "findings"),
    Action("previous_finding", "Previous slice with hemorrhage", ("P",), "View", "findings"),
    Action("cine", "Cine: play / stop the slices", ("Space",), "View", "findings", "Cine", "SP_MediaSeekForward",
           Needs.STUDY),
    # "=" because "+" needs Shift on most layouts.
    Action("zoom_in", "Zoom in", ("+", "=", "Ctrl++"), "View", "zoom", needs=Needs.STUDY),
    Action("zoom_out", "Zoom out", ("-", "Ctrl+-"), "View", "zoom", needs=Needs.STUDY),
    Action("fit", "Fit to window", ("F",), "View", "zoom", "Fit", "fit", Needs.STUDY),
    Action("reset", "Reset zoom and window", ("R", "Ctrl+0"), "View", "zoom", "Reset", "SP_BrowserReload",
           Needs.STUDY),
    Action("three_views", "Layout: 1 view / 3 views (axial, coronal, sagittal, linked crosshair)", ("L",), "View",
           "zoom", needs=Needs.STUDY),
    Action("toggle_overlay", "Show / hide overlay", ("O",), "View", "overlay", "Overlay", "overlay", Needs.STUDY),
    Action("toggle_contour", "Overlay filled / contour", ("C",), "View", "overlay", needs=Needs.STUDY),
    Action("toggle_heat_map", "Show / hide the probability heat map", ("H",), "View", "overlay"),
    # One key per corner of the on-image text, I for all of it (letters and scale bar too).
    Action("toggle_annotations", "Show / hide all on-image text", ("I",), "View/On-image text"),
    Action("corner_top_left", "Show / hide patient text (top left)", ("F5",), "View/On-image text"),
    Action("corner_top_right", "Show / hide study text (top right)", ("F6",), "View/On-image text"),
    Action("corner_bottom_left", "Show / hide slice text (bottom left)", ("F7",), "View/On-image text"),
    Action("corner_bottom_right", "Show / hide window and zoom text (bottom right)", ("F8",),
           "View/On-image text"),
    Action("anonymise_screen", "Anonymise on-image text", menu="View/On-image text", checkable=True),
    Action("left_drag_window", "Left-drag sets the window (Weasis / Horos)", menu="View", group="mouse",
           checkable=True),
    Action("window_1", "Window preset 1 (Brain)", ("1",), "View/Window"),
    Action("window_2", "Window preset 2 (Subdural)", ("2",), "View/Window"),
    Action("window_3", "Window preset 3 (Stroke)", ("3",), "View/Window"),
    Action("window_4", "Window preset 4 (Bone)", ("4",), "View/Window"),
    Action("window_5", "Window 5 (stored in the DICOM)", ("5",), "View/Window"),
    Action("export_window", "Export window…", menu="View", group="mouse", needs=Needs.DISPLAY_STUDY),
    Action("compare_reference", "Compare with reference (research)", menu="View", group="mouse", checkable=True),

    Action("segment", "Segment", ("S",), "Segmentation", "run", "Segment", "SP_MediaPlay", Needs.STUDY),
    Action("cancel_segmentation", "Cancel segmentation", menu="Segmentation", group="run"),
    Action("auto_segment", "Segment automatically when a study opens", menu="Segmentation", group="settings",
           checkable=True),
    Action("force_cpu", "Force CPU (never use a GPU)", menu="Segmentation", group="settings", checkable=True),

    Action("show_shortcuts", "Shortcuts…", ("F1",), "Help"),
    Action("about", "About ICH Viewer…", menu="Help"),
)

# The toolbar, left to right: action names, "|" for a separator, and the window's own
# widgets by name in brackets (the window/level control, the brush size, the cine rate).
TOOLBAR = ("open_folder", "open_file", "|", "[window]", "|", "fit", "reset", "toggle_overlay", "|",
           "segment", "brush", "eraser", "[brush size]", "undo", "redo", "|",
           "ruler", "ellipse_roi", "midline_shift", "|", "cine", "[cine rate]")

# The tools exclude each other; none (the usual pan and look) is allowed too.
TOOLS = ("brush", "eraser", "ruler", "ellipse_roi", "midline_shift")

MOUSE_GESTURES: tuple[tuple[str, str], ...] = (
    ("Wheel", "Scroll slices"),
    ("Ctrl+Wheel", "Zoom about the cursor"),
    ("Right-drag", "Window: horizontal = width, vertical = level"),
    ("Middle-drag or left-drag", "Pan"),
    ("Left-drag (View ▸ Left-drag sets the window)", "Window, as right-drag; middle-drag pans"),
    ("Left-drag or click (brush / eraser on)", "Paint / erase hemorrhage on the slice"),
    ("Shift+Wheel (brush / eraser on)", "Brush size"),
    ("Left-drag (ruler / ellipse ROI on)", "Measure on the slice"),
    ("Left-drag, then click (midline shift on)", "Falx line, then the septum pellucidum"),
    ("Click, or drag a crosshair line (3 views, no tool on)", "Move the crosshair: the other two views follow"),
    ("Click or drag in the coronal / sagittal view", "Move the crosshair there (wheel: move that plane)"),
    ("Click a bar of the area plot", "Show that slice (hover: its area)"),
    ("Drop a folder or file", "Open it"),
)

# Window presets by number key: index 0..4 into the study's window list.
WINDOW_KEYS: tuple[str, ...] = tuple(f"window_{i}" for i in range(1, 6))
KEYED_ACTIONS: tuple[Action, ...] = tuple(a for a in ACTIONS if a.keys)
