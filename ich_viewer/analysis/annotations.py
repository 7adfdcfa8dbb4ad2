"""What the viewer writes on the image: orientation letters, corner text, the scale bar's length.

Qt-free so that the rules (which letter goes on which edge, how a DICOM name
reads, what the anonymised text hides) are tested without a window.

Patient space is DICOM LPS: +x towards the patient's Left, +y Posterior,
+z Head (superior). ImageOrientationPatient gives the direction of increasing
column (the row cosines, drawn left to right) and of increasing row (the column
cosines, drawn top to bottom).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ich_viewer.study.model import Study, Window

# Letter of the positive and negative direction of each LPS axis.
_AXIS_LETTERS = (("L", "R"), ("P", "A"), ("H", "F"))
# A component this large (cos 72°) adds a letter: an oblique slice reads "LA", as in Horos.
SECONDARY_COSINE = 0.3
ANONYMISED = "Anonymised"
SCALE_BAR_STEPS_MM = (1, 2, 5, 10, 20, 50, 100, 200)


def direction_letters(vector) -> str:
    """The patient direction a vector points to: 'L', 'A', 'LA' for an oblique one."""
    v = np.asarray(vector, float)
    order = np.argsort(-np.abs(v))
    letters = [_AXIS_LETTERS[axis][0 if v[axis] > 0 else 1]
               for rank, axis in enumerate(order) if rank == 0 or abs(v[axis]) >= SECONDARY_COSINE]
    return "".join(letters[:2])


@dataclass(frozen=True)
class EdgeLetters:
    """The patient direction at each edge of the image as drawn (row 0 at the top)."""

    left: str
    right: str
    top: str
    bottom: str


def orientation_letters(orientation) -> EdgeLetters | None:
    """Edge letters from ImageOrientationPatient; None when it is unknown (image folders)."""
    if orientation is None or len(orientation) != 6:
        return None
    row, column = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    return EdgeLetters(left=direction_letters(-row), right=direction_letters(row),
                       top=direction_letters(-column), bottom=direction_letters(column))


def readable_name(person_name: str) -> str:
    """DICOM PN 'FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX' as 'FAMILY, GIVEN MIDDLE'."""
    alphabetic = person_name.split("=")[0]  # ideographic / phonetic forms follow '='
    parts = [p.strip() for p in alphabetic.split("^")]
    family, given = [*parts, "", ""][:2]
    rest = " ".join(p for p in [given, *parts[2:3]] if p)
    if family and rest:
        return f"{family}, {rest}"
    return family or rest


def readable_date(dicom_date: str) -> str:
    """DICOM DA '20240101' as '2024-01-01' (anything else as given)."""
    d = dicom_date.strip()
    if len(d) == 8 and d.isdigit():
        return f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return d


def age_years(birth_date: str, study_date: str) -> int | None:
    """Whole years between two DICOM dates; None when either is missing or malformed."""
    b, s = birth_date.strip(), study_date.strip()
    if not (len(b) == len(s) == 8 and b.isdigit() and s.isdigit()):
        return None
    years = int(s[:4]) - int(b[:4]) - (s[4:] < b[4:])
    return years if years >= 0 else None


def age_sex(birth_date: str, study_date: str, sex: str) -> str:
    age = age_years(birth_date, study_date)
    return " ".join(p for p in (f"{age} y" if age is not None else "", sex.strip()) if p)


def slice_position_mm(study: Study, z: int) -> float | None:
    """Where the slice lies along its normal in patient space (as SliceLocation); None without geometry."""
    geometry = study.geometry
    if geometry is None or len(geometry.positions) <= z:
        return None
    row, column = np.asarray(geometry.orientation[:3]), np.asarray(geometry.orientation[3:])
    return float(np.asarray(geometry.positions[z], float) @ np.cross(row, column))


@dataclass(frozen=True)
class CornerText:
    """The four corners, each a list of lines (top to bottom)."""

    top_left: list[str]
    top_right: list[str]
    bottom_left: list[str]
    bottom_right: list[str]


def patient_lines(study: Study, anonymise: bool) -> list[str]:
    meta = study.metadata
    if anonymise:
        return [ANONYMISED, meta.sex.strip()] if meta.sex.strip() else [ANONYMISED]
    lines = [readable_name(meta.patient_name), meta.patient_id.strip(),
             age_sex(meta.birth_date, meta.study_date, meta.sex)]
    return [line for line in lines if line]


def study_lines(study: Study, anonymise: bool) -> list[str]:
    meta = study.metadata
    series = " ".join(p for p in (f"Se {meta.series_number}" if meta.series_number else "",
                                  meta.series_description) if p)
    # The loader's description repeats the series' own; it stands in only when DICOM has neither.
    description = meta.study_description or ("" if series else study.description)
    lines = [meta.institution if not anonymise else "", readable_date(meta.study_date), description, series]
    return [line for line in lines if line]


def slice_lines(study: Study, z: int) -> list[str]:
    lines = [f"Im {z + 1} / {study.n_slices}  (#{study.slice_labels[z]})"]
    position = slice_position_mm(study, z)
    if position is not None:
        lines.append(f"Pos {position:.1f} mm")
    thickness = study.metadata.slice_thickness_mm
    if thickness is None and study.spacing_mm is not None and study.geometry is not None:
        thickness = study.spacing_mm[0]
    if thickness is not None:
        lines.append(f"Thk {thickness:g} mm")
    return lines


def display_lines(window: Window, is_hu: bool, zoom: float) -> list[str]:
    units = "" if is_hu else " (8-bit)"
    return [f"W {window.width:g}  L {window.level:g}{units}", f"Zoom {zoom:.2f}×"]


def corner_text(study: Study, z: int, window: Window, zoom: float, anonymise: bool) -> CornerText:
    """Patient top left, study top right, slice bottom left, display bottom right (Horos's layout)."""
    return CornerText(patient_lines(study, anonymise), study_lines(study, anonymise),
                      slice_lines(study, z), display_lines(window, study.is_hu, zoom))


def scale_bar_mm(mm_per_screen_pixel: float, max_pixels: float) -> float | None:
    """The longest round length (1, 2, 5, 10 … mm) that fits in max_pixels of screen."""
    if mm_per_screen_pixel <= 0:
        return None
    fitting = [mm for mm in SCALE_BAR_STEPS_MM if mm / mm_per_screen_pixel <= max_pixels]
    return float(fitting[-1]) if fitting else None
