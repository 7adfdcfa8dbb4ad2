"""Open whatever the reader points at as one Study.

    list_series(path)  -> the series a folder holds (for the series picker)
    open_study(path, series_uid=None, spacing_mm=None) -> Study
    find_studies(path) -> the study folders inside a folder of studies (headless batch)

Accepted: a DICOM folder (searched recursively), one DICOM file, a DICOMDIR
or a folder holding one (the files it lists are read), a folder of JPG/PNG
slices, one image, and the CT-ICH layout (Patients_CT/NNN or NNN/brain).
Anything unreadable raises StudyLoadError naming the file and the
problem; problems with single files inside a readable study become warnings.
Nothing is ever written next to the input.

pydicom is imported only when a DICOM input is opened (it takes ~0.5 s), so
importing this module does not delay the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ich_viewer.study.dicomdir import DicomdirProblem, dicomdir_files, dicomdir_in, is_dicomdir
from ich_viewer.study.errors import StudyLoadError
from ich_viewer.study.files import (
    describe_problems,
    files_in,
    first_visit,
    is_image_file,
    looks_like_dicom,
    name_list,
    special_file_kind,
    subfolders,
    walk_files,
)
from ich_viewer.study.images import (
    ImageProblem,
    ImageSeries,
    ct_ich_slices_folder,
    folder_image_series,
    load_image_series,
    read_gray_image,
    single_image_series,
)
from ich_viewer.study.model import Study
from ich_viewer.study.qc import QcKind, QcWarning, skipped_file_warnings
from ich_viewer.study.series import SeriesInfo

if TYPE_CHECKING:
    from ich_viewer.study.dicom_series import DicomSlice

__all__ = ["SeriesInfo", "StudyLoadError", "find_studies", "list_series", "open_study"]


@dataclass
class _DicomInput:
    root: Path  # what the reader opened; file names in warnings are relative to it
    files: list[Path]
    # (file name, problem) found before the header pass: files a DICOMDIR lists that are not there.
    problems: list[tuple[str, str]] = field(default_factory=list)


Input = _DicomInput | ImageSeries


# --- public API ---------------------------------------------------------------------------


def list_series(path: str | Path) -> list[SeriesInfo]:
    """The series at `path`, for a picker. Non-DICOM inputs give one entry."""
    path = Path(path)
    found = _identify(path)
    if isinstance(found, ImageSeries):
        return [_describe_images(found, path)]
    from ich_viewer.study.dicom_series import describe_series

    series, _ = _dicom_series(found, path)
    return [describe_series(uid, slices) for uid, slices in series.items()]


def open_study(
    path: str | Path,
    series_uid: str | None = None,
    spacing_mm: tuple[float, float, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Study:
    """Load the study at `path`; for DICOM, `series_uid` or the best axial CT series.

    `spacing_mm` (z, y, x) is the spacing the user entered for image studies; DICOM
    uses it only when the files carry none. `progress(done, total)` follows the
    reading of a DICOM series' pixels, the slow part (decompression); it may raise
    to stop.
    """
    path = Path(path)
    found = _identify(path)
    if isinstance(found, ImageSeries):
        return load_image_series(found, path, spacing_mm)
    from ich_viewer.study.dicom_volume import load_dicom_series

    series, warnings = _dicom_series(found, path)
    uid, note = _pick_series(series, series_uid, path)
    study = load_dicom_series(series[uid], path, found.root, spacing_mm, progress)
    study.warnings = (*warnings, *note, *study.warnings)  # the folder's problems before the series'
    return study


def find_studies(path: str | Path) -> list[Path]:
    """Study folders inside `path`: DICOM series folders, image folders, CT-ICH patients.

    `path` itself is returned when it is one study. Linked folders are followed,
    each real folder once, so a link back up the tree does not loop.
    """
    return _find_studies(Path(path), set())


def _find_studies(folder: Path, visited: set[str]) -> list[Path]:
    if not folder.is_dir() or not first_visit(folder, visited):
        return []
    if _is_study_folder(folder):
        return [folder]
    studies = []
    for sub in _subfolders(folder):
        studies += _find_studies(sub, visited)
    return studies


# --- what is at the path -----------------------------------------------------------------


def _identify(path: Path) -> Input:
    if not path.exists():
        raise StudyLoadError(path, f"{path} does not exist.")
    kind = special_file_kind(path)
    if kind:
        raise StudyLoadError(path, f"{path} is not a regular file ({kind}): not opened.")
    if path.is_file():
        if is_image_file(path):
            return single_image_series(path)
        if is_dicomdir(path):
            return _dicomdir_input(path)
        return _DicomInput(path.parent, [path])
    return _identify_folder(path)


def _identify_folder(folder: Path) -> Input:
    dicomdir = dicomdir_in(folder)
    if dicomdir is not None:
        found = _dicomdir_input(dicomdir, in_folder=True)
        if found is not None:
            return found
    slices_folder = ct_ich_slices_folder(folder)
    if slices_folder is not None:
        return folder_image_series(slices_folder)
    files = _files_in(folder)
    if any(looks_like_dicom(p) for p in files):
        return _DicomInput(folder, walk_files(folder))
    if any(is_image_file(p) for p in files):
        return folder_image_series(folder)
    return _identify_folder_of_folders(folder, files)


def _identify_folder_of_folders(folder: Path, files: list[Path]) -> Input:
    """No slices directly inside: a DICOM tree (one study), one study, or many studies."""
    studies = find_studies(folder)
    if not studies:
        raise StudyLoadError(folder, _nothing_found_message(folder, files))
    if all(_has_dicom(study) for study in studies):
        return _DicomInput(folder, walk_files(folder))  # e.g. a CD: PATIENT/STUDY/SERIES/...
    if len(studies) == 1:
        return _identify_folder(studies[0])
    raise _folder_of_studies_error(folder, studies)


def _is_study_folder(folder: Path) -> bool:
    if ct_ich_slices_folder(folder) is not None:
        return True
    return any(is_image_file(p) or looks_like_dicom(p) for p in _files_or_none(folder))


def _has_dicom(folder: Path) -> bool:
    return any(looks_like_dicom(p) for p in _files_or_none(folder))


def _files_or_none(folder: Path) -> list[Path]:
    """While searching for studies, an unreadable folder simply holds none."""
    try:
        return files_in(folder)
    except OSError:
        return []


def _files_in(folder: Path) -> list[Path]:
    try:
        return files_in(folder)
    except PermissionError:
        raise StudyLoadError(folder, f"Cannot open folder {folder}: permission denied.") from None
    except OSError as error:
        message = f"Cannot open folder {folder}: {error.strerror or error}."
        raise StudyLoadError(folder, message) from None


def _subfolders(folder: Path) -> list[Path]:
    try:
        return subfolders(folder)
    except OSError:
        return []


def _nothing_found_message(folder: Path, files: list[Path]) -> str:
    if not files and not _subfolders(folder):
        return f"Folder {folder} is empty."
    if not files:
        return f"No DICOM or JPG/PNG images found in {folder} or its subfolders."
    names = name_list([p.name for p in files])
    return f"No DICOM or JPG/PNG images found in {folder}: it holds {names}."


def _folder_of_studies_error(folder: Path, studies: list[Path]) -> StudyLoadError:
    names = name_list([s.relative_to(folder).as_posix() for s in studies])
    return StudyLoadError(
        folder,
        f"{folder} is a folder of {len(studies)} studies ({names}). Open one of them, "
        "or process them all with the headless batch.",
        studies,
    )


# --- DICOM --------------------------------------------------------------------------------


def _dicomdir_input(dicomdir: Path, in_folder: bool = False) -> _DicomInput | None:
    """The files a DICOMDIR lists. Opened itself, a DICOMDIR that cannot be used is an error;
    found in a folder (in_folder), None: the folder is searched as if it were not there."""
    try:
        files, problems = dicomdir_files(dicomdir)
    except DicomdirProblem as problem:
        if in_folder:
            return None
        raise StudyLoadError(dicomdir, f"{dicomdir} cannot be used as a DICOMDIR: {problem}.") from None
    if not files and not problems:
        if in_folder:
            return None
        raise StudyLoadError(dicomdir, f"{dicomdir} lists no files.")
    return _DicomInput(dicomdir.parent, files, problems)


# The last header pass, by the files' names, sizes and modification times: opening a folder lists
# its series (series picker and panel) and then reads one, and the pass is half a long series' load.
_last_header_pass: tuple[tuple, tuple[list[DicomSlice], list]] | None = None


def _changed(stat) -> tuple[int, int]:
    return stat.st_mtime_ns, stat.st_size


def _scan_headers(found: _DicomInput) -> tuple[list[DicomSlice], list]:
    from ich_viewer.study.dicom_series import scan_dicom_files

    global _last_header_pass
    try:
        key = tuple((str(f), *_changed(f.stat())) for f in found.files)
    except OSError:  # a file went away: scan, and let the scan say which
        key = None
    if key is not None and _last_header_pass is not None and _last_header_pass[0] == key:
        slices, problems = _last_header_pass[1]
        return list(slices), list(problems)
    slices, problems = scan_dicom_files(found.files, found.root)
    _last_header_pass = (key, (slices, problems)) if key is not None else None
    return list(slices), list(problems)


def _dicom_series(found: _DicomInput, path: Path) -> tuple[dict[str, list[DicomSlice]], list[QcWarning]]:
    """The header pass over every file; raises when no file is a readable DICOM image."""
    from ich_viewer.study.dicom_series import group_by_series

    slices, problems = _scan_headers(found)
    problems = [*found.problems, *problems]
    if not slices:
        message = f"No readable DICOM images in {path}: {describe_problems(problems)}."
        raise StudyLoadError(path, message)
    patients = sorted({s.patient for s in slices if s.patient})
    if len(patients) > 1:
        raise StudyLoadError(
            path,
            f"{path} holds images of {len(patients)} patients ({name_list(patients)}). "
            "Open one patient's folder, or process them all with the headless batch.",
            find_studies(path),
        )
    return group_by_series(slices), skipped_file_warnings(problems)


def _pick_series(series: dict[str, list[DicomSlice]], series_uid: str | None, path: Path):
    """The requested series, or the default one with a note that others exist."""
    from ich_viewer.study.dicom_series import choose_series, describe_series

    infos = [describe_series(uid, slices) for uid, slices in series.items()]
    if series_uid is not None:
        if series_uid not in series:
            listed = "; ".join(f"{i.label} [{i.series_instance_uid}]" for i in infos)
            raise StudyLoadError(path, f"Series {series_uid} is not in {path}. It holds: {listed}.")
        return series_uid, []
    chosen = choose_series(infos)
    if len(infos) == 1:
        return chosen.series_instance_uid, []
    # Its number, not its description or the folder's name: those may name the patient.
    shown = f"series {chosen.series_number}" if chosen.series_number else "one of them"
    note = (f"The folder holds {len(infos)} series; showing {shown} (the default: CT, axial, most "
            "slices). Pick another in the series list.")
    return chosen.series_instance_uid, [QcWarning(QcKind.OTHER_SERIES, note)]


# --- images -------------------------------------------------------------------------------


def _describe_images(series: ImageSeries, path: Path) -> SeriesInfo:
    if not series.slices:
        raise StudyLoadError(path, f"No JPG/PNG slices in {path}.")
    rows, cols = _first_image_size(series.slices, path)
    n = len(series.slices)
    label = f"{series.description} - {n} image{'s' if n != 1 else ''}, {cols}x{rows}"
    return SeriesInfo("", series.description, "", n, rows, cols, series.is_ct_ich, label,
                      preview_file=series.slices[n // 2])


def _first_image_size(paths: list[Path], source: Path) -> tuple[int, int]:
    problems = []
    for path in paths:
        try:
            rows, cols = read_gray_image(path).shape[:2]
            return rows, cols
        except ImageProblem as problem:
            problems.append((path.name, str(problem)))
    raise StudyLoadError(source, f"No readable images in {source}: {describe_problems(problems)}.")
