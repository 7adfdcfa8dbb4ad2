"""DICOMDIR: the index file of a DICOM CD or USB export, listing the files of each series.

Opening a DICOMDIR (or a folder that holds one) reads the files it lists, with
their paths relative to the DICOMDIR's folder, instead of scanning every file
below it. A listed file that is not there is reported by name.

pydicom is imported only when a DICOMDIR is read, so importing this module stays quick.
"""

from __future__ import annotations

from pathlib import Path

DICOMDIR_NAME = "DICOMDIR"  # the name PS3.10 gives it (CDs and file systems may show it lower case)
MISSING = "listed in the DICOMDIR, but the file is missing"
OUTSIDE = "listed in the DICOMDIR with a path outside its folder: not opened"


class DicomdirProblem(Exception):
    """The DICOMDIR itself cannot be used; the message says why."""


def is_dicomdir(path: Path) -> bool:
    return path.name.upper() == DICOMDIR_NAME and path.is_file()


def dicomdir_in(folder: Path) -> Path | None:
    """The DICOMDIR directly inside `folder`, if there is one."""
    try:
        return next((p for p in folder.iterdir() if is_dicomdir(p)), None)
    except OSError:
        return None


def dicomdir_files(dicomdir: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files the DICOMDIR lists, in its order, and (listed name, problem) for those not found."""
    records = _records(dicomdir)
    finder = _CaseInsensitiveFinder(dicomdir.parent)
    files, problems, seen = [], [], set()
    for record in records:
        parts = _file_id(record)
        if not parts:
            continue  # a patient, study or series record: no file of its own
        shown = "/".join(parts)
        if any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
            problems.append((shown, OUTSIDE))
            continue
        path = finder.find(parts)
        if path is None:
            problems.append((shown, MISSING))
        elif path not in seen:
            seen.add(path)
            files.append(path)
    return files, problems


def _records(dicomdir: Path) -> list:
    import pydicom

    from ich_viewer.study.dicom_series import reading_problem

    try:
        dataset = pydicom.dcmread(dicomdir)
        records = dataset.get("DirectoryRecordSequence")
    except Exception as error:  # noqa: BLE001  pydicom raises many kinds on a damaged file
        raise DicomdirProblem(reading_problem(error)) from None
    if records is None:
        raise DicomdirProblem("no directory records: not a DICOMDIR")
    return list(records)


def _file_id(record) -> list[str]:
    """ReferencedFileID as path components ("DICOM", "ST000", "IM001"); [] when the record has none."""
    value = record.get("ReferencedFileID")
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items]


class _CaseInsensitiveFinder:
    """A listed path as it is on disk: CDs are often mounted with their names in lower case."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._folders: dict[Path, dict[str, Path]] = {}

    def find(self, parts: list[str]) -> Path | None:
        exact = self._root.joinpath(*parts)
        if exact.is_file():
            return exact
        here = self._root
        for part in parts:
            found = self._entries(here).get(part.upper())
            if found is None:
                return None
            here = found
        return here if here.is_file() else None

    def _entries(self, folder: Path) -> dict[str, Path]:
        if folder not in self._folders:
            try:
                self._folders[folder] = {p.name.upper(): p for p in folder.iterdir()}
            except OSError:
                self._folders[folder] = {}
        return self._folders[folder]
