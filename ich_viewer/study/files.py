"""Finding and naming input files: natural order, file kinds, readable problem lists."""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic", ".ima"})
# Index and system files that sit next to images and are never slices.
IGNORED_NAMES = frozenset({"dicomdir", "thumbs.db", "desktop.ini", "lockfile"})
# How many file names a warning lists before saying "and N more".
NAMES_SHOWN = 10

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str | Path) -> tuple:
    """Sort key putting 2.jpg before 10.jpg (digit runs compare as numbers)."""
    text = str(text)
    parts = _DIGITS.split(text.lower())
    # split() alternates text and digits, so equal positions always hold equal types.
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text


def most_common(values: Iterable):
    """The majority value (ties go to the first one met)."""
    return Counter(values).most_common(1)[0][0]


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_ignored(path: Path) -> bool:
    return path.name.startswith(".") or path.name.lower() in IGNORED_NAMES


def looks_like_dicom(path: Path) -> bool:
    """Cheap sniff: the 'DICM' marker at byte 128, or a DICOM file extension."""
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    if is_image_file(path):
        return False
    try:
        with open(path, "rb") as fp:
            return fp.read(132)[128:] == b"DICM"
    except OSError:
        return False  # the loader reports unreadable files when it reads them


def files_in(folder: Path) -> list[Path]:
    """The files directly inside `folder`, in natural order (hidden/index files left out)."""
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not is_ignored(p)),
        key=natural_key,
    )


def subfolders(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=natural_key,
    )


def walk_files(folder: Path) -> list[Path]:
    """Every file below `folder`, in natural order of the relative path.

    Linked folders are followed, each real folder once: a link back up the tree
    would otherwise be walked until the path is too long.
    """
    found, visited = [], {os.path.realpath(folder)}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")
                       and first_visit(os.path.join(dirpath, d), visited)]
        found.extend(Path(dirpath) / name for name in filenames)
    found = [p for p in found if not is_ignored(p)]
    return sorted(found, key=lambda p: natural_key(p.relative_to(folder)))


def first_visit(folder: str | Path, visited: set[str]) -> bool:
    """Whether `folder`'s real path is not in `visited` yet (it is added)."""
    real = os.path.realpath(folder)
    if real in visited:
        return False
    visited.add(real)
    return True


def special_file_kind(path: Path) -> str:
    """What a path that is neither a regular file nor a folder is ("" for those two).

    Opening a named pipe blocks until something writes to it, and a device may
    never end, so only regular files are ever opened.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""  # absent or unreadable: whoever opens it reports that
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def shown_name(path: Path, root: Path) -> str:
    """The name a reader recognises: the path relative to what they opened."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return path.name
    return relative.as_posix() if relative.parts else path.name


def name_list(names: Iterable[str], limit: int = NAMES_SHOWN) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown


def describe_problems(problems: list[tuple[str, str]], limit: int = 5) -> str:
    """Problems as one line for an error message: 'a.dcm: not DICOM; b.dcm: truncated'."""
    text = "; ".join(f"{name}: {problem}" for name, problem in problems[:limit])
    if len(problems) > limit:
        text += f"; and {len(problems) - limit} more"
    return text
