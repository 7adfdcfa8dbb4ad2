"""Writing export files safely.

A report or mask is written to a temporary file beside its destination,
flushed to disk, then renamed over the destination in one step: a crash,
a full disk or a pulled USB stick leaves either the old file or the new
one, never half a PDF that a colleague might open later. The temporary file
a killed process (kill -9) leaves behind is removed by the next write of the
same file. Failures become an ExportError whose message names the file and
says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Writer = Callable[[BinaryIO], None]
# The temporary file of DEST is ".DEST.<8 random characters>.part" (mkstemp's names), so a
# later run can tell the ones a killed process left behind from anyone else's files.
TEMP_SUFFIX = ".part"
_TEMP_NAME = re.compile(r"\.(?P<dest>.+)\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


class ExportError(Exception):
    """An export could not be written; the message is meant for the user."""


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = _current_umask()


def ensure_outside_study_folder(
    dest: Path | str, study_source: Path | str, allow_study_folder: bool = False
) -> None:
    """Refuse to write into the folder a study was read from unless the user chose it.

    Files dropped into a DICOM folder get picked up as part of the series the
    next time it is opened (or imported into PACS), and the source may be a
    shared archive; so exports go elsewhere by default.
    """
    if allow_study_folder:
        return
    folder, target_folder = study_folder(study_source), Path(dest).resolve().parent
    if target_folder == folder or folder in target_folder.parents:
        raise ExportError(
            f"Not writing {Path(dest).name} into the study's own folder {folder}: "
            "choose another folder (or confirm that this folder is intended)."
        )


def study_folder(study_source: Path | str) -> Path:
    """The folder a study was read from (a file's folder), as a real path."""
    source = Path(study_source).resolve()
    return source if source.is_dir() else source.parent


def ensure_mask_fits(study_shape: tuple[int, ...], mask, export_name: str) -> None:
    """A mask on another grid would be written misaligned with the CT: refuse it."""
    mask_shape, study_shape = tuple(mask.shape), tuple(study_shape)
    if mask_shape != study_shape:
        raise ExportError(
            f"Cannot export {export_name}: mask shape {mask_shape} differs from the study's {study_shape}."
        )


def _explain(dest: Path, error: OSError) -> ExportError:
    """Turn an OSError into a message a user can act on."""
    if isinstance(error, PermissionError) or error.errno in (errno.EACCES, errno.EPERM):
        reason = "permission denied: the folder is read-only, or the file is open in another program"
    elif error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        reason = "the disk is full: free some space or choose another drive"
    elif error.errno == errno.EROFS:
        reason = "the drive is read-only"
    elif isinstance(error, (NotADirectoryError, FileExistsError)) or error.errno == errno.ENOTDIR:
        reason = f"{error.filename or dest.parent} is a file, not a folder"
    else:
        reason = error.strerror or str(error)
    return ExportError(f"Cannot write {dest}: {reason}.")


def _prepare_folder(dest: Path) -> None:
    if dest.is_dir():
        raise ExportError(f"Cannot write {dest}: a folder with that name exists; choose a file name.")
    existing = next(p for p in (dest.parent, *dest.parent.parents) if p.exists())
    if not existing.is_dir():
        raise ExportError(f"Cannot write {dest}: {existing} is a file, not a folder.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _explain(dest, error) from error


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the OS allows it (POSIX; not Windows).

    Best effort: the file is already complete and in place by now.
    """
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(dest: Path | str, content: bytes | Writer) -> Path:
    """Write bytes, or whatever content(file) writes, to dest atomically; return dest.

    The temporary file is removed on any error, including one raised by the
    writer; OSErrors become ExportError, anything else propagates unchanged.
    """
    dest = Path(dest)
    _prepare_folder(dest)
    remove_stale_temps(dest.parent, dest.name)
    tmp_path: str | None = None
    try:
        fd, tmp_path = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=TEMP_SUFFIX)
        with os.fdopen(fd, "wb") as file:
            if isinstance(content, (bytes, bytearray, memoryview)):
                file.write(content)
            else:
                content(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes it private (0600)
        os.replace(tmp_path, dest)
        tmp_path = None
        _fsync_folder(dest.parent)
    except OSError as error:
        raise _explain(dest, error) from error
    finally:
        if tmp_path is not None:
            _remove_quietly(tmp_path)
    return dest


def remove_stale_temps(folder: Path | str, dest_name: str | None = None) -> None:
    """Remove the temporary files that a killed write (kill -9, power cut) left in `folder`.

    Only names write_atomic gives its temporary files are removed, and only those of
    `dest_name` when it is given; nothing else in the folder is touched.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # no folder, no leftovers; a folder that cannot be listed fails its write anyway
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match and dest_name in (None, match["dest"]) and entry.is_file(follow_symlinks=False):
            _remove_quietly(entry.path)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):  # the original error is what the user needs to see
        os.unlink(path)
