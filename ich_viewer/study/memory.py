"""Is there memory for a volume? Asked before allocating, from the sizes a header claims.

A damaged or hostile header can claim 60000 x 60000 pixels or ten million frames
in a 1 KB file; allocating first would raise MemoryError (or let the system
swap) long after the file that caused it is forgotten. So the loader checks
the claimed size first and names the file.
"""

from __future__ import annotations

import os

# Room left for the viewer, the network and the decoders' own buffers.
SHARE_OF_AVAILABLE = 0.8
GIB = 1024 ** 3


def available_bytes() -> int | None:
    """Memory the system can give without swapping (MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # other POSIX systems: free physical pages (an underestimate, so on the safe side)
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None  # Windows without /proc: the allocation itself will tell


def shortage(n_bytes: int) -> str | None:
    """None when n_bytes fit; otherwise a reader's sentence: 'needs 671 GiB of memory, 18 GiB are free'."""
    available = available_bytes()
    if available is None or n_bytes <= SHARE_OF_AVAILABLE * available:
        return None
    return f"needs {_size(n_bytes)} of memory, {_size(available)} are free"


def _size(n_bytes: float) -> str:
    if n_bytes >= GIB:
        return f"{n_bytes / GIB:.0f} GiB" if n_bytes >= 10 * GIB else f"{n_bytes / GIB:.1f} GiB"
    return f"{n_bytes / 1024 ** 2:.0f} MiB"
