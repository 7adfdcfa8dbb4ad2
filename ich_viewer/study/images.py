"""Image studies: a folder of JPG/PNG slices, one image, and the CT-ICH layout.

These are already-windowed 8-bit pictures (Units.DISPLAY) with no spacing in
them. The CT-ICH dataset keeps its reference segmentation next to the slices
(S_HGE_Seg.jpg beside S.jpg); those files are masks, not slices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ich_viewer.study.errors import StudyLoadError
from ich_viewer.study.export_window import estimate_export_window, window_text
from ich_viewer.study.files import (
    describe_problems,
    files_in,
    is_image_file,
    most_common,
    name_list,
    natural_key,
)
from ich_viewer.study.model import CT_ICH_BONE_WINDOW, CT_ICH_BRAIN_WINDOW, Study, Units
from ich_viewer.study.qc import QcKind, QcWarning, skipped_file_warnings

MASK_SUFFIX = "_HGE_Seg"
# CT-ICH masks are JPEGs: compression noise makes background pixels 1..20, so never "> 0".
MASK_THRESHOLD = 128
CT_ICH_WINDOW_FOLDERS = ("brain", "bone")  # brain first: it is the one to read
CT_ICH_WINDOWS = {"brain": CT_ICH_BRAIN_WINDOW, "bone": CT_ICH_BONE_WINDOW}
_SLICE_NUMBER = re.compile(r"^\d+$")


@dataclass
class ImageSeries:
    """Image files that form one study, with its reference masks (by slice file)."""

    slices: list[Path]
    masks: dict[Path, Path]  # slice file -> its mask file
    description: str
    is_ct_ich: bool
    orphan_masks: list[Path]


# --- finding the files ---------------------------------------------------------------


def ct_ich_slices_folder(folder: Path) -> Path | None:
    """The slices folder if `folder` is a CT-ICH patient (NNN/) or its NNN/brain (or bone)."""
    for window in CT_ICH_WINDOW_FOLDERS:
        if _has_images(folder / window):
            return folder / window
    if folder.name.lower() in CT_ICH_WINDOW_FOLDERS and _has_images(folder):
        return folder
    return None


def _has_images(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(is_image_file(p) for p in folder.iterdir())
    except OSError:
        return False


def is_mask_file(path: Path) -> bool:
    return path.stem.lower().endswith(MASK_SUFFIX.lower())


def image_series(image_files: list[Path], folder: Path) -> ImageSeries:
    """Split a folder's images into slices and masks, and name the study."""
    masks_by_stem = {p.stem[: -len(MASK_SUFFIX)].lower(): p for p in image_files if is_mask_file(p)}
    slices = [p for p in image_files if not is_mask_file(p)]
    masks = {p: masks_by_stem.pop(p.stem.lower())
             for p in slices if p.stem.lower() in masks_by_stem}
    is_ct_ich = bool(masks) or folder.name.lower() in CT_ICH_WINDOW_FOLDERS
    orphans = sorted(masks_by_stem.values(), key=natural_key)
    return ImageSeries(slices, masks, _description(folder, is_ct_ich), is_ct_ich, orphans)


def folder_image_series(folder: Path) -> ImageSeries:
    return image_series([p for p in files_in(folder) if is_image_file(p)], folder)


def single_image_series(path: Path) -> ImageSeries:
    """One image; its CT-ICH mask comes along when it sits beside it."""
    files = [path]
    if not is_mask_file(path):
        mask_name = f"{path.stem}{MASK_SUFFIX}".lower()
        masks = [p for p in _siblings(path) if p.stem.lower() == mask_name and is_image_file(p)]
        files += masks[:1]
    series = image_series(files, path.parent)
    series.description = path.name
    return series


def _siblings(path: Path) -> list[Path]:
    try:
        return list(path.parent.iterdir())
    except OSError:
        return []  # the image itself may still be readable


def _description(folder: Path, is_ct_ich: bool) -> str:
    window = folder.name.lower()
    if window in CT_ICH_WINDOW_FOLDERS and folder.parent.name:
        return f"CT-ICH patient {folder.parent.name} ({window} window)"
    if is_ct_ich:
        return f"CT-ICH slices {folder.name}"
    return f"Images {folder.name}"


# --- reading pixels ----------------------------------------------------------------------


class ImageProblem(Exception):
    """An image file that cannot be a slice; the message says why."""


def read_gray_image(path: Path) -> np.ndarray:
    """One image as a 2-D array (colour converted to gray); ImageProblem if unreadable."""
    import cv2  # imported here: it is slow to import and only image studies need it

    try:
        with open(path, "rb") as fp:  # imdecode, unlike imread, copes with non-ASCII paths
            data = np.frombuffer(fp.read(), np.uint8)
    except PermissionError:
        raise ImageProblem("permission denied") from None
    except OSError as error:
        raise ImageProblem(f"cannot be read ({error.strerror or error})") from None
    if _is_cut_short_jpeg(data):
        raise ImageProblem("truncated JPEG (its end marker is missing)")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error as error:  # e.g. a header claiming 60000x60000 pixels, over OpenCV's limit
        reason = (str(error).strip().splitlines() or ["OpenCV error"])[-1]
        raise ImageProblem(f"cannot be decoded ({reason[:120]})") from None
    if image is None:
        raise ImageProblem("not a readable image (damaged, truncated or not JPG/PNG)")
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code)
    return image


def _is_cut_short_jpeg(data: np.ndarray) -> bool:
    """libjpeg decodes a cut-off JPEG as a half-grey slice; its missing end marker tells."""
    head, tail = data[:2].tobytes(), data[-16:].tobytes()
    return head == b"\xff\xd8" and b"\xff\xd9" not in tail


def load_image_series(
    series: ImageSeries, source: Path, spacing_mm: tuple[float, float, float] | None = None
) -> Study:
    images, unreadable = _read_all(series.slices)
    if not images:
        detail = describe_problems(unreadable) if unreadable else "no image files"
        raise StudyLoadError(source, f"No readable images in {source}: {detail}.")
    images, other_size = _keep_majority_size(images)
    files = list(images)
    voxels = np.empty((len(files), *images[files[0]].shape), np.float32)
    for i, path in enumerate(files):
        voxels[i] = images.pop(path)  # release each 8-bit image once copied
    bit_depth_warnings = _bit_depth_warning(voxels)
    labels = [p.stem for p in files]
    reference, mask_warnings = (_reference_mask(series, files, voxels.shape) if series.is_ct_ich
                                else (None, []))
    numbering_warnings = _missing_slice_numbers(labels) if series.is_ct_ich else []
    spacing, spacing_warnings = _given_spacing(spacing_mm)
    study = Study(
        voxels=voxels,
        units=Units.DISPLAY,
        spacing_mm=spacing,
        source=source,
        warnings=(*skipped_file_warnings(unreadable),
                  *skipped_file_warnings(other_size, kind=QcKind.MISMATCHED_SLICES),
                  *bit_depth_warnings, *mask_warnings, *numbering_warnings, *spacing_warnings),
        slice_files=files,
        slice_labels=labels,
        reference_mask=reference,
        description=series.description,
    )
    # These two read the study they complete, so their warnings come last.
    if not bit_depth_warnings:  # 16-bit values were not rendered through a display window
        study.warnings += tuple(_set_export_window(study, series))
    if series.is_ct_ich:
        study.bone_voxels, bone_warnings = _bone_window_slices(study)
        study.warnings += tuple(bone_warnings)
    return study


def _set_export_window(study: Study, series: ImageSeries) -> list[QcWarning]:
    """The HU window the images were rendered with: known for the CT-ICH layout, else estimated."""
    if series.is_ct_ich:
        name = _ct_ich_window_name(study.slice_files[0])
        window = CT_ICH_WINDOWS[name]
        study.export_window = window
        study.export_window_note = f"CT-ICH layout: {name} window {window_text(window)} (known)"
        return []
    estimate = estimate_export_window(study.voxels)
    study.export_window, study.export_window_note = estimate.window, estimate.note
    if not estimate.uncertain:
        return []
    return [QcWarning(QcKind.EXPORT_WINDOW, f"{estimate.note}. The export window could not be "
                                            "estimated reliably: set it with View > Export window…")]


def _ct_ich_window_name(slice_file: Path) -> str:
    """'bone' for slices read from a CT-ICH bone/ folder; 'brain' otherwise (masks sit only there)."""
    return "bone" if slice_file.parent.name.lower() == "bone" else "brain"


def _bone_window_slices(study: Study) -> tuple[np.ndarray | None, list[QcWarning]]:
    """CT-ICH's bone-window image of each slice (bone/S.jpg beside brain/S.jpg), and its warnings.

    Zeros on a slice whose bone image is missing, unreadable or of another size.
    """
    if _ct_ich_window_name(study.slice_files[0]) == "bone":
        return study.voxels, []  # the slices are the bone window themselves
    brain_folder = study.slice_files[0].parent
    bone_folder = brain_folder.parent / "bone"
    if brain_folder.name.lower() != "brain" or not bone_folder.is_dir():
        return None, []  # CT-ICH slices outside the dataset's layout
    bone_files = [bone_folder / path.name for path in study.slice_files]
    present = [path.is_file() for path in bone_files]
    if not any(present):
        return None, []
    bone = np.zeros_like(study.voxels)
    problems = []
    for i, path in enumerate(bone_files):
        if present[i]:
            _read_bone_slice(path, bone, i, problems)
    return bone, _missing_bone_warning(bone_files, present) + skipped_file_warnings(problems)


def _read_bone_slice(path: Path, bone: np.ndarray, i: int, problems: list[tuple[str, str]]) -> None:
    name = f"bone/{path.name}"
    try:
        image = read_gray_image(path)
    except ImageProblem as problem:
        problems.append((name, f"bone-window image {problem}"))
        return
    if image.shape != bone.shape[1:]:
        problems.append((name, f"bone-window image of {image.shape[1]}x{image.shape[0]} pixels, "
                               f"the slice is {bone.shape[2]}x{bone.shape[1]}"))
        return
    bone[i] = image


def _missing_bone_warning(bone_files: list[Path], present: list[bool]) -> list[QcWarning]:
    missing = tuple(path.name for path, found in zip(bone_files, present) if not found)
    if not missing:
        return []
    what = f"{len(missing)} slices" if len(missing) > 1 else "1 slice"
    where = "those slices" if len(missing) > 1 else "that slice"
    text = f"No bone-window image for {what} (not in bone/): the network sees no bone window on {where}."
    return [QcWarning(QcKind.BONE_WINDOW, text, missing)]


def _read_all(paths: list[Path]) -> tuple[dict[Path, np.ndarray], list[tuple[str, str]]]:
    images, problems = {}, []
    for path in paths:
        try:
            images[path] = read_gray_image(path)
        except ImageProblem as problem:
            problems.append((path.name, str(problem)))
    return images, problems


def _keep_majority_size(images: dict[Path, np.ndarray]) -> tuple[dict[Path, np.ndarray], list]:
    """Slices of another size cannot stack; the size most slices share wins.

    Returns the images kept and (file name, problem) for the others.
    """
    size = most_common(image.shape for image in images.values())
    problems = [(path.name, f"{image.shape[1]}x{image.shape[0]} pixels, "
                            f"the other slices are {size[1]}x{size[0]}")
                for path, image in images.items() if image.shape != size]
    return {path: image for path, image in images.items() if image.shape == size}, problems


def _bit_depth_warning(voxels: np.ndarray) -> list[QcWarning]:
    if voxels.max() > 255:
        return [QcWarning(QcKind.BIT_DEPTH,
                          "Images are 16-bit: values are shown as stored, not as 8-bit display values.")]
    return []


def _reference_mask(series, files, shape) -> tuple[np.ndarray, list[QcWarning]]:
    """CT-ICH masks on the slices that have one (slices without one have no hemorrhage), and warnings."""
    reference = np.zeros(shape, bool)
    problems = [(p.name, "a mask without its slice") for p in series.orphan_masks]
    for i, path in enumerate(files):
        mask_file = series.masks.get(path)
        if mask_file is None:
            continue
        try:
            mask = read_gray_image(mask_file)
        except ImageProblem as problem:
            problems.append((mask_file.name, f"reference mask {problem}"))
            continue
        if mask.shape != shape[1:]:
            problems.append((mask_file.name, f"reference mask of {mask.shape[1]}x{mask.shape[0]} "
                                             f"pixels, the slice is {shape[2]}x{shape[1]}"))
            continue
        reference[i] = mask >= MASK_THRESHOLD
    return reference, skipped_file_warnings(problems)


def _missing_slice_numbers(labels: list[str]) -> list[QcWarning]:
    """CT-ICH numbers slices from 1: a hole in the numbering is a missing file."""
    numbers = {int(label) for label in labels if _SLICE_NUMBER.match(label)}
    if not numbers:
        return []
    missing = sorted(set(range(1, max(numbers) + 1)) - numbers)
    if not missing:
        return []
    numbers = name_list([str(n) for n in missing])
    text = (f"Slice{'s' if len(missing) > 1 else ''} {numbers} missing from the numbering "
            "(file absent): the volume skips over it.")
    return [QcWarning(QcKind.MISSING_SLICES, text)]  # slice numbers, not file names


def _given_spacing(spacing_mm) -> tuple[tuple[float, float, float] | None, list[QcWarning]]:
    if spacing_mm is None:
        text = "Images carry no voxel spacing: volumes in mL need the spacing entered."
        return None, [QcWarning(QcKind.VOXEL_SPACING, text)]
    spacing = tuple(float(v) for v in spacing_mm)
    if len(spacing) != 3 or not all(v > 0 for v in spacing):
        raise ValueError(f"spacing_mm must be three positive numbers (z, y, x), got {spacing_mm!r}")
    return spacing, []
