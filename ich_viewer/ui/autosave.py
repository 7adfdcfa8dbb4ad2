"""The reader's edits survive a crash: one file per study in the user's data folder.

After every step the reader takes (a stroke, undo, redo, reset, a lesion
rejected, a measurement drawn or deleted) the edited mask, the model's mask, the
reader's measurements and the provenance (the history of steps with their times
and voxel counts) are written to one .npz file,
atomically (temporary file, fsync, rename): a kill -9 leaves the previous
complete file or the new one, so at most the stroke being drawn is lost.

The file is keyed by the study's identity, never by its path (studies move):
StudyInstanceUID + SeriesInstanceUID for DICOM, a hash of the voxels for
image folders. It lives in the user's data folder (ICH_VIEWER_USER_DATA,
else Qt's AppLocalDataLocation), never in the study's folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths

from ich_viewer.analysis.measurements import Measurement
from ich_viewer.analysis.review import Review, now_text
from ich_viewer.atomic import ensure_outside_study_folder, write_atomic
from ich_viewer.study.model import Study

log = logging.getLogger(__name__)

USER_DATA_ENV = "ICH_VIEWER_USER_DATA"
FORMAT_VERSION = 1


def user_data_folder() -> Path:
    """Where the viewer keeps the reader's work between sessions."""
    folder = os.environ.get(USER_DATA_ENV)
    if folder:
        return Path(folder)
    location = QStandardPaths.StandardLocation.AppLocalDataLocation
    return Path(QStandardPaths.writableLocation(location))


def study_identity(study: Study) -> str:
    """'dicom:<study uid>/<series uid>', or 'content:<sha256 of the voxels>' for image folders."""
    meta = study.metadata
    if meta.study_instance_uid and meta.series_instance_uid:
        return f"dicom:{meta.study_instance_uid}/{meta.series_instance_uid}"
    digest = hashlib.sha256(str(study.voxels.shape).encode())
    digest.update(np.ascontiguousarray(study.voxels).tobytes())
    return f"content:{digest.hexdigest()}"


@dataclass(frozen=True)
class SavedEdits:
    mask: np.ndarray  # bool (z, y, x): the reader's mask
    model_mask: np.ndarray  # bool (z, y, x): what the model drew when the reader edited it
    provenance: dict

    @property
    def saved_at(self) -> str:
        return str(self.provenance.get("saved_at", "an earlier session"))

    @property
    def measurements(self) -> list[Measurement]:
        """The reader's rulers, ROIs and midline shifts (files of older versions have none)."""
        return [Measurement.from_dict(d) for d in self.provenance.get("measurements", [])]

    @property
    def kept_by_reader(self) -> bool:
        """True when the reader chose Save; False when only the autosave kept them (a crash)."""
        return bool(self.provenance.get("kept_by_reader"))


class AutosaveStore:
    """Reads and writes one study's saved edits in `folder`."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder

    @property
    def folder(self) -> Path:
        return (self._folder or user_data_folder()) / "edits"

    def path_for(self, identity: str) -> Path:
        # A digest: UIDs and hashes make long names, and must not be read as paths.
        return self.folder / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}.npz"

    def write(self, review: Review, identity: str, kept_by_reader: bool = False,
              measurements: list[Measurement] | tuple = ()) -> Path | None:
        """Keep the review's edits and the reader's measurements (or forget them when there are none);
        returns the file written."""
        path = self.path_for(identity)
        if not review.edited and not review.accepted_seeds and not measurements:
            self.discard(identity)
            return None
        ensure_outside_study_folder(path, review.study.source)
        provenance = _provenance(review, identity, kept_by_reader)
        provenance["measurements"] = [m.to_dict() for m in measurements]

        def write_npz(file) -> None:
            np.savez_compressed(
                file, shape=np.array(review.mask.shape), mask=np.packbits(review.mask),
                model_mask=np.packbits(review.result.mask),
                provenance=np.frombuffer(json.dumps(provenance).encode(), np.uint8),
            )

        return write_atomic(path, write_npz)

    def read(self, identity: str) -> SavedEdits | None:
        """The saved edits of a study; None when there are none or the file cannot be read."""
        path = self.path_for(identity)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                shape = tuple(int(n) for n in data["shape"])
                count = int(np.prod(shape))
                mask = np.unpackbits(data["mask"], count=count).astype(bool).reshape(shape)
                model = np.unpackbits(data["model_mask"], count=count).astype(bool).reshape(shape)
                provenance = json.loads(bytes(data["provenance"]).decode())
        except Exception:
            log.exception("saved edits in %s cannot be read", path)
            return None
        return SavedEdits(mask, model, provenance)

    def discard(self, identity: str) -> None:
        try:
            self.path_for(identity).unlink(missing_ok=True)
        except OSError:
            log.exception("could not remove the saved edits of %s", identity)


def _provenance(review: Review, identity: str, kept_by_reader: bool) -> dict:
    model = review.result.model
    edits = review.edits
    return {
        "format": FORMAT_VERSION,
        "study": identity,
        "source": str(review.study.source),
        "description": review.study.description,
        "model": {"name": model.name, "file": model.file, "version": model.version, "sha256": model.sha256},
        "model_voxels": int(review.result.mask.sum()),
        "voxels_added_by_reader": edits.voxels_added,
        "voxels_erased_by_reader": edits.voxels_removed,
        "accepted_seeds": [list(map(int, seed)) for seed in review.accepted_seeds],
        "history": review.history,
        "saved_at": now_text(),
        "kept_by_reader": kept_by_reader,
    }


def restore(review: Review, saved: SavedEdits) -> list[int]:
    """Put saved edits onto a fresh review of the same study, as one undoable step."""
    if saved.mask.shape != review.mask.shape:
        raise ValueError(f"the saved edits {saved.mask.shape} do not fit the study {review.mask.shape}")
    changed = review.editor.replace(saved.mask)
    review.history = list(saved.provenance.get("history", []))
    review.accepted_seeds = [tuple(seed) for seed in saved.provenance.get("accepted_seeds", [])]
    same_model = np.array_equal(saved.model_mask, review.result.mask)
    review.record("restore edits", saved_at=saved.saved_at, model_outline_unchanged=same_model)
    return changed
