"""Shipped network files and their sha256, checked before a network is loaded."""

from __future__ import annotations

import hashlib
from pathlib import Path


class ModelFileError(Exception):
    """The network file is missing, or is not the file we shipped."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_sha256(path: Path) -> str:
    digest = file_sha256(path)
    sha256_path(path).write_text(f"{digest}  {path.name}\n")
    return digest


def verified_sha256(path: Path) -> str:
    """The file's sha256, after checking it against the .sha256 shipped beside it."""
    if not path.exists():
        raise ModelFileError(f"{path}: network file not found")
    expected_file = sha256_path(path)
    if not expected_file.exists():
        raise ModelFileError(f"{expected_file}: checksum file not found")
    expected = expected_file.read_text().split()[0]
    actual = file_sha256(path)
    if actual != expected:
        raise ModelFileError(f"{path}: sha256 {actual[:12]}... does not match the shipped {expected[:12]}... "
                             "(file corrupt or replaced)")
    return actual
