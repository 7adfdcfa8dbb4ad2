"""Decoding a long compressed series on every core.

pydicom's decoders (JPEG-LS, JPEG lossless, RLE, and the JPEG 2000 that
jpeg2000.py leaves to them) hold the GIL, so threads would take turns: worker
processes decode instead, one per core. The slices are cut into chunks, which
the workers take in order. Until the first worker is up (a spawned process
needs ~0.5 s), the calling process decodes the chunks itself; after that it only
collects, because a caller busy decoding holds the GIL that its pool's threads
need to take the workers' results off the pipe (measured: with the caller
decoding too, 2 cores gave 1.3x). The pool is
started once (spawned, as forking a process that runs Qt and a network is not
safe) and kept for the next series. A pool that breaks leaves the rest to the
caller.
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

CHUNK = 16  # slices per task: a few ms of pickling each, against ~13 ms of decoding a 512^2 compressed slice
MIN_ITEMS = 3 * CHUNK  # fewer: decoded before a worker would have started (~0.4 s)

_pool: ProcessPoolExecutor | None = None
_pool_broken = False


def worker_count() -> int:
    """One worker per core; none on a single core, where the caller decodes alone."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


def _shared_pool() -> ProcessPoolExecutor | None:
    global _pool
    workers = worker_count()
    if _pool is None and not _pool_broken and workers > 0:
        _pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
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
        for k in range(len(chunks)):
            futures[k] = pool.submit(_apply, function, chunks[k])
    except (BrokenProcessPool, RuntimeError) as error:
        _forget_pool(error)
    workers_up = False
    try:
        for k, chunk in enumerate(chunks):
            workers_up = workers_up or any(f is not None and (f.running() or f.done()) for f in futures)
            yield from _chunk_results(futures[k], function, chunk, decode_here=not workers_up)
    finally:
        for future in futures:  # the reader moved on (or all is done): nothing left for the workers
            if future is not None:
                future.cancel()


def _chunk_results(future: Future | None, function, chunk, decode_here: bool) -> list:
    """The chunk from its worker; decoded here when it has none, or decode_here and no worker took it yet."""
    if future is not None and not (decode_here and future.cancel()):
        try:
            return future.result()
        except BrokenProcessPool as error:
            _forget_pool(error)
        except Exception as error:  # noqa: BLE001 - function returns its failures: this is the pool's (pickling)
            log.warning("a decoding worker failed (%s); this process decodes its part", error)
    return _apply(function, chunk)
