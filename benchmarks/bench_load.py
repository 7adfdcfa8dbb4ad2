"""How fast, and with how much memory, open_study reads a 300-slice 512x512 CT series.

    .venv/bin/python benchmarks/bench_load.py [--runs 5] [--slices 300] [--no-j2k]

Goals: uncompressed < 2 s; peak memory < 4x the final float32 volume.
The series are written once (uncompressed and JPEG 2000 lossless) into
<tmp>/ich_viewer_bench and reused on later runs. Memory is measured two ways:
tracemalloc peak (Python and numpy allocations) and the peak-RSS increase of
a fresh process (also counts the decoders' own C buffers).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.factories.dicom

from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless  # noqa: E402  (imported once sys.path holds the repo root)

from ich_viewer.study.loader import open_study  # noqa: E402  (imported once sys.path holds the repo root)

ROWS = COLS = 512
CACHE = Path(tempfile.gettempdir()) / "ich_viewer_bench"
VARIANTS = {"uncompressed": ExplicitVRLittleEndian, "jpeg2000": JPEG2000Lossless}


def cached_series(name: str, n_slices: int) -> Path:
    """Write the series unless a complete copy is already cached."""
    folder = CACHE / f"{name}_{n_slices}x{ROWS}x{COLS}"
    done = folder / ".complete"
    if done.exists():
        return folder
    from tests.factories.dicom import write_ct_series

    print(f"writing {n_slices} {name} slices to {folder} (once) ...", flush=True)
    for old in folder.glob("*.dcm"):
        old.unlink()
    write_ct_series(folder, n_slices=n_slices, rows=ROWS, cols=COLS,
                    spacing=(1.0, 0.45, 0.45), transfer_syntax=VARIANTS[name])
    done.touch()
    return folder


def time_loads(folder: Path, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        study = open_study(folder)
        seconds.append(time.perf_counter() - start)
        del study
    return seconds


def tracemalloc_peak(folder: Path) -> tuple[int, int]:
    """(peak traced bytes during one load, bytes of the resulting volume)."""
    tracemalloc.start()
    study = open_study(folder)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, study.voxels.nbytes


def rss_peak_increase(folder: Path) -> int:
    """Peak-RSS increase over one load, measured in a fresh process."""
    output = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(folder)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["increase"]


def peak_rss_kib() -> int:
    """This process's peak RSS. VmHWM, because ru_maxrss survives exec from a big parent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS


def rss_child(folder: Path) -> None:
    before = peak_rss_kib()
    open_study(folder)
    print(json.dumps({"increase": (peak_rss_kib() - before) * 1024}))


def bench(name: str, n_slices: int, runs: int) -> None:
    folder = cached_series(name, n_slices)
    seconds = time_loads(folder, runs)
    peak, volume = tracemalloc_peak(folder)
    rss = rss_peak_increase(folder)
    each = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"{name:13s} {n_slices}x{ROWS}x{COLS}: median {statistics.median(seconds):.2f} s "
          f"(runs: {each})")
    print(f"{'':13s} volume {volume / 2**20:.0f} MiB; tracemalloc peak {peak / 2**20:.0f} MiB "
          f"= {peak / volume:.2f}x; RSS peak increase {rss / 2**20:.0f} MiB = {rss / volume:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--no-j2k", action="store_true", help="skip the JPEG 2000 series")
    parser.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    bench("uncompressed", args.slices, args.runs)
    if not args.no_j2k:
        bench("jpeg2000", args.slices, max(1, min(args.runs, 3)))  # ~8 s a load on 1 core
        on_cores_against_one(cached_series("jpeg2000", args.slices), args.runs)


def on_cores_against_one(folder: Path, runs: int) -> None:
    """JPEG 2000 loads as shipped (OpenCV in one thread per core), in one thread, and with
    pydicom's decoders in worker processes (the path of the other compressed syntaxes),
    taking turns in the same run. Goal (issue 16): 300 slices <= 2.2 s."""
    from unittest import mock

    from ich_viewer.study import jpeg2000, parallel

    ways = {
        "OpenCV, a thread per core": contextlib.nullcontext(),
        "OpenCV, one thread": mock.patch.object(jpeg2000, "worker_count", lambda: 1),
        "pydicom, worker processes": mock.patch.object(jpeg2000, "applies", lambda dicom_slice: False),
    }
    with ways["pydicom, worker processes"]:
        open_study(folder)  # the workers start once per program: not counted
    timed = {way: [] for way in ways}
    for _ in range(runs):
        for way, patch in ways.items():
            with patch:
                timed[way] += time_loads(folder, 1)
    parallel.shutdown()
    shipped = statistics.median(timed["OpenCV, a thread per core"])
    for way, seconds in timed.items():
        median = statistics.median(seconds)
        print(f"jpeg2000 decoding, {way:27s}: median {median:.2f} s ({median / shipped:.2f}x the shipped way)")
    print(f"jpeg2000 decoding on {parallel.worker_count()} cores: {shipped:.2f} s; goal <= 2.2 s for 300 slices: "
          f"{'PASS' if shipped <= 2.2 else 'FAIL'}")


if __name__ == "__main__":
    main()
