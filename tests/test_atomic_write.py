"""write_atomic: the destination holds the old file or the new one, never a fragment."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ich_viewer import atomic
from ich_viewer.atomic import ExportError, ensure_outside_study_folder, write_atomic


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_writes_bytes_and_callables(tmp_path):
    write_atomic(tmp_path / "a.bin", b"abc")
    write_atomic(tmp_path / "b.bin", lambda f: f.write(b"xyz"))
    assert (tmp_path / "a.bin").read_bytes() == b"abc"
    assert (tmp_path / "b.bin").read_bytes() == b"xyz"
    assert leftovers(tmp_path) == []


def test_file_is_readable_by_others_not_private(tmp_path):
    path = write_atomic(tmp_path / "report.pdf", b"%PDF")
    assert path.stat().st_mode & 0o777 == 0o666 & ~atomic._UMASK


def test_creates_missing_folders(tmp_path):
    assert write_atomic(tmp_path / "new" / "deeper" / "x.csv", b"1").read_bytes() == b"1"


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path):
    dest = tmp_path / "report.pdf"
    dest.write_bytes(b"old report")

    def crash_halfway(file):
        file.write(b"%PDF-1.4 half a report")
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_atomic(dest, crash_halfway)
    assert dest.read_bytes() == b"old report"
    assert leftovers(tmp_path) == []


def test_interrupted_first_write_leaves_nothing(tmp_path):
    def interrupted(file):
        file.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "mask.nii.gz", interrupted)
    assert list(tmp_path.iterdir()) == []


def test_read_only_folder(tmp_path, monkeypatch):
    # Tests run as root, for whom chmod does not block writes: simulate the OS refusing.
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match=r"permission denied.*read-only"):
        write_atomic(tmp_path / "report.pdf", b"%PDF")
    assert list(tmp_path.iterdir()) == []


def test_rename_refused(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ExportError, match=r"Cannot write .*report\.pdf: permission denied"):
        write_atomic(tmp_path / "report.pdf", b"%PDF")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_while_writing(tmp_path):
    def disk_full(file):
        file.write(b"some bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ExportError, match="disk is full"):
        write_atomic(tmp_path / "seg.dcm", disk_full)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_on_flush(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ExportError, match="disk is full"):
        write_atomic(tmp_path / "seg.dcm", b"DICM")
    assert list(tmp_path.iterdir()) == []


def test_destination_is_a_folder(tmp_path):
    (tmp_path / "report.pdf").mkdir()
    with pytest.raises(ExportError, match="a folder with that name exists"):
        write_atomic(tmp_path / "report.pdf", b"%PDF")


def test_parent_is_a_file(tmp_path):
    (tmp_path / "exports").write_text("not a folder")
    for dest in (tmp_path / "exports" / "report.pdf", tmp_path / "exports" / "deeper" / "report.pdf"):
        with pytest.raises(ExportError, match=r"exports is a file, not a folder"):
            write_atomic(dest, b"%PDF")


def test_study_folder_is_refused_unless_allowed(tmp_path):
    study = tmp_path / "dicom"
    study.mkdir()
    (study / "IM0001.dcm").write_bytes(b"")
    for dest in (study / "report.pdf", study / "sub" / "report.pdf"):
        with pytest.raises(ExportError, match="study's own folder"):
            ensure_outside_study_folder(dest, study)
    # a study opened from a single file: its folder is protected too
    with pytest.raises(ExportError, match="study's own folder"):
        ensure_outside_study_folder(study / "report.pdf", study / "IM0001.dcm")
    ensure_outside_study_folder(study / "report.pdf", study, allow_study_folder=True)
    ensure_outside_study_folder(tmp_path / "exports" / "report.pdf", study)


KILLED_MID_WRITE = """
import sys, time
from ich_viewer.atomic import write_atomic

def hang(file):
    file.write(b"half a mask")
    file.flush()
    time.sleep(60)

write_atomic(sys.argv[1], hang)
"""


def write_then_kill_9(dest):
    """Start a write of dest in another process and kill it (SIGKILL) once its temp file exists."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "OMP_NUM_THREADS": "1"}
    writer = subprocess.Popen([sys.executable, "-c", KILLED_MID_WRITE, str(dest)], env=env)
    try:
        deadline = time.monotonic() + 30
        while not leftovers(dest.parent) and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL


def test_rewrite_after_kill_9_removes_the_killed_writes_temp_file(tmp_path):
    dest = tmp_path / "mask.nii.gz"
    write_then_kill_9(dest)
    assert len(leftovers(tmp_path)) == 1 and not dest.exists()  # what kill -9 leaves
    other = tmp_path / ".slices.csv.abcd1234.part"  # another file's temp: its own write cleans it
    mine = tmp_path / "notes.part"  # not a name write_atomic makes
    other.write_bytes(b"x")
    mine.write_bytes(b"x")

    write_atomic(dest, b"whole mask")

    assert dest.read_bytes() == b"whole mask"
    assert leftovers(tmp_path) == [other.name, mine.name]
