"""Mutated DICOM files (every transfer syntax the viewer reads) and images, opened as a reader would.

Shared by the CI fuzz test (tests/study/test_fuzz.py, a few hundred cases) and
the larger run of benchmarks/bench_fuzz.py. Each case is one damaged file put
among clean slices of its series; it is opened with open_study and ends as

    loaded     a Study (the damaged file skipped with a warning, or harmless)
    clear      StudyLoadError: a message naming the problem
    crash      any other exception, or the process died (a decoder abort)
    hang       still running after the per-case time limit

Cases run in a worker process (`python -m tests.fuzzing --worker`), so an abort
is counted instead of ending the run; the worker is restarted after the case
that killed it, and a hang is stopped by SIGALRM inside the worker.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

REPO = Path(__file__).resolve().parents[1]
TRANSFER_SYNTAXES = {
    "explicit_le": ExplicitVRLittleEndian,
    "implicit_le": ImplicitVRLittleEndian,
    "explicit_be": ExplicitVRBigEndian,
    "deflated": DeflatedExplicitVRLittleEndian,
    "rle": RLELossless,
    "jpeg2000": JPEG2000Lossless,
    "jpegls": JPEGLSLossless,
    "jpeg_lossless": JPEGLosslessSV1,
}
IMAGE_KINDS = ("png", "jpg")
SLICES_PER_SERIES = 3
OUTCOMES = ("loaded", "clear", "crash", "hang")


# --- the clean inputs ---------------------------------------------------------------


def write_seeds(folder: Path) -> dict[str, list[Path]]:
    """A 3-slice 32x32 series per transfer syntax and a 3-image folder per image kind."""
    from tests.factories.dicom import write_ct_series
    from tests.factories.images import slice_image, write_image

    seeds = {}
    for name, syntax in TRANSFER_SYNTAXES.items():
        series = write_ct_series(folder / name, n_slices=SLICES_PER_SERIES, rows=32, cols=32,
                                 transfer_syntax=syntax, shuffle=False)
        seeds[name] = series.files
    for kind in IMAGE_KINDS:
        seeds[kind] = [write_image(folder / kind / f"{i}.{kind}", slice_image(i, (32, 32)))
                       for i in range(1, SLICES_PER_SERIES + 1)]
    return seeds


# --- mutations ----------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random damages of the kinds seen in the field."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break  # truncated to nothing: an empty file is a case too
        data = rng.choice(MUTATIONS)(data, rng)
    return bytes(data)


def _flip_bits(data: bytearray, rng: random.Random) -> bytearray:
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(data))
        data[position] ^= 1 << rng.randrange(8)
    return data


def _header_bytes(data: bytearray, rng: random.Random) -> bytearray:
    """Overwrite bytes in the header, where lengths, VRs and tags sit."""
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(min(len(data), 1200))
        data[position] = rng.choice((0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    return data


def _truncate(data: bytearray, rng: random.Random) -> bytearray:
    return data[: rng.randrange(len(data))]


def _insert(data: bytearray, rng: random.Random) -> bytearray:
    position = rng.randrange(len(data))
    return data[:position] + bytearray(rng.randbytes(rng.randint(1, 64))) + data[position:]


def _duplicate(data: bytearray, rng: random.Random) -> bytearray:
    start = rng.randrange(len(data))
    chunk = data[start:start + rng.randint(4, 256)]
    position = rng.randrange(len(data))
    return data[:position] + chunk + data[position:]


def _big_numbers(data: bytearray, rng: random.Random) -> bytearray:
    """Overwrite a 2- or 4-byte field (a length, Rows, a frame count) with an extreme value."""
    position = rng.randrange(max(1, min(len(data), 1200) - 4))
    value = rng.choice((b"\xff\xff", b"\xff\xff\xff\xff", b"\x00\x00\x00\x80", b"\x60\xea"))
    data[position:position + len(value)] = value
    return data


def _tail_noise(data: bytearray, rng: random.Random) -> bytearray:
    """Random bytes over the pixel data / compressed stream (the end of the file)."""
    start = rng.randrange(len(data) // 2, len(data))
    data[start:start + 64] = rng.randbytes(min(64, len(data) - start))
    return data


MUTATIONS = (_flip_bits, _header_bytes, _truncate, _insert, _duplicate, _big_numbers, _tail_noise)


# --- one case, inside the worker ---------------------------------------------------


class CaseTimeout(BaseException):
    """Raised by SIGALRM: a BaseException, so no `except Exception` in the loader swallows it."""


def _on_alarm(signum, frame):
    raise CaseTimeout()


def open_case(folder: Path, time_limit: int) -> str:
    """The outcome of opening one case folder: loaded, clear, crash or hang (with the reason)."""
    from ich_viewer.study.errors import StudyLoadError
    from ich_viewer.study.loader import open_study

    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(time_limit)
    try:
        open_study(folder)
        return "loaded"
    except StudyLoadError:
        return "clear"
    except CaseTimeout:
        return "hang"
    except BaseException as error:  # noqa: BLE001  every other ending is a crash, counted
        return f"crash {type(error).__name__}: {str(error)[:200]}"
    finally:
        signal.alarm(0)


def worker(time_limit: int) -> None:
    """Read case folders from stdin, one per line; print one outcome per line."""
    for line in sys.stdin:
        outcome = open_case(Path(line.strip()), time_limit)
        print(outcome, flush=True)


# --- the run, in the parent ----------------------------------------------------------


def make_cases(seeds: dict[str, list[Path]], root: Path, n_cases: int, seed: int) -> list[tuple[str, Path]]:
    """n_cases folders, each a seed series with one of its files mutated (kinds taken in turn)."""
    rng = random.Random(seed)
    kinds = list(seeds)
    cases = []
    for k in range(n_cases):
        kind = kinds[k % len(kinds)]
        folder = root / f"case{k:05d}_{kind}"
        folder.mkdir(parents=True)
        files = seeds[kind]
        damaged = rng.randrange(len(files))
        for i, source in enumerate(files):
            target = folder / source.name
            if i == damaged:
                target.write_bytes(mutate(source.read_bytes(), rng))
            else:
                shutil.copyfile(source, target)
        cases.append((kind, folder))
    return cases


class Worker:
    def __init__(self, time_limit: int):
        self.time_limit = time_limit
        self.process = None

    def run(self, folder: Path) -> str:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.fuzzing", "--worker", "--time-limit", str(self.time_limit)],
                cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        self.process.stdin.write(f"{folder}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:  # the process died on this case (an abort, a segfault)
            code = self.process.wait()
            return f"crash process ended with {code}"
        return line.strip()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait()


def run_fuzz(n_cases: int, seed: int = 15, time_limit: int = 20, kinds: list[str] | None = None) -> dict:
    """Outcome counts, and the crashes and hangs by case name; `kinds` picks seed kinds (default all)."""
    with tempfile.TemporaryDirectory(prefix="ich_fuzz_") as tmp:
        root = Path(tmp)
        seeds = write_seeds(root / "seeds")
        seeds = {kind: files for kind, files in seeds.items() if not kinds or kind in kinds}
        cases = make_cases(seeds, root / "cases", n_cases, seed)
        worker_process = Worker(time_limit)
        counts, failures, by_kind = Counter(), {}, {}
        try:
            for kind, folder in cases:
                outcome = worker_process.run(folder)
                verdict = outcome.split(" ", 1)[0]
                counts[verdict] += 1
                by_kind.setdefault(kind, Counter())[verdict] += 1
                if verdict in ("crash", "hang"):
                    failures[folder.name] = outcome
        finally:
            worker_process.close()
    return {"cases": n_cases, "counts": {o: counts[o] for o in OUTCOMES},
            "by_kind": {k: dict(v) for k, v in by_kind.items()}, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--time-limit", type=int, default=20)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--kinds", nargs="*", choices=[*TRANSFER_SYNTAXES, *IMAGE_KINDS])
    args = parser.parse_args()
    if args.worker:
        worker(args.time_limit)
        return
    print(json.dumps(run_fuzz(args.cases, args.seed, args.time_limit, args.kinds), indent=1))


if __name__ == "__main__":
    main()
