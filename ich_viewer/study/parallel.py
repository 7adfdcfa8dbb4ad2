"""Decoding a long compressed series on every core.

The JPEG 2000 decoders hold the GIL, so threads would take turns: the other
cores decode in worker processes instead, while the calling process decodes
too. The slices are cut into chunks; the workers take them from the end of the
series, the caller from the start, and each chunk the workers have not begun
is decoded by the caller (so a worker that is slow to start, or a machine with
one core, costs nothing but what serial decoding costs). The pool is started
once (spawned, as forking a process that runs Qt and a network is not safe)
and kept for the next series. A pool that breaks leaves the rest to the caller.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

log = logging.getLogger(__name__)

Item, Result = TypeVar("Item"), TypeVar("Result")

CHUNK = 16  # slices per task: a few ms of pickling each, against ~13 ms of decoding a 512^2 J2K slice
MIN_ITEMS = 3 * CHUNK  # fewer: decoded before a worker would have started (~0.4 s)

_pool: ProcessPoolExecutor | None = None
_pool_broken = False


def worker_count() -> int:
    """Cores beside the caller's."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return cores - 1


def _shared_pool() -> ProcessPoolExecutor | None:
    global _pool
    if _pool is None and not _pool_broken and worker_count() > 0:
        _pool = ProcessPoolExecutor(worker_count(), mp_context=multiprocessing.get_context("spawn"))
    return _pool


def shutdown() -> None:
    """Stop the workers (they also stop when the program ends)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
    _pool = None


def _forget_pool(error: BaseException) -> None:
    global _pool, _pool_broken
    log.warning("decoding workers stopped (%s); this process decodes the rest", error)
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool, _pool_broken = None, True


def _apply(function: Callable[[Item], Result], chunk: Sequence[Item]) -> list[Result]:
    return [function(item) for item in chunk]


def map_in_order(function: Callable[[Item], Result], items: Sequence[Item]) -> Iterator[Result]:
    """function(item) for each item, in order; on every core for a long sequence.

    function must be a module-level function (the workers import it) and its
    results picklable; it should return its failures rather than raise them.
    """
    pool = _shared_pool() if len(items) >= MIN_ITEMS else None
    if pool is None:
        yield from map(function, items)
        return
    chunks = [items[start:start + CHUNK] for start in range(0, len(items), CHUNK)]
    futures: list[Future | None] = [None] * len(chunks)
    try:
        for k in reversed(range(len(chunks))):  # the workers start at the end
            futures[k] = pool.submit(_apply, function, chunks[k])
    except (BrokenProcessPool, RuntimeError) as error:
        _forget_pool(error)
    try:
        for future, chunk in zip(futures, chunks):
            yield from _chunk_results(future, function, chunk)
    finally:
        for future in futures:  # the reader moved on (or all is done): nothing left for the workers
            if future is not None:
                future.cancel()


def _chunk_results(future: Future | None, function, chunk) -> list:
    if future is not None and not future.cancel():
        try:
            return future.result()
        except BrokenProcessPool as error:
            _forget_pool(error)
    return _apply(function, chunk)
