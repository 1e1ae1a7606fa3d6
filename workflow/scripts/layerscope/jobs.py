"""What every workflow script shares: its log file and how it reports a failure."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator

from layerscope.errors import LayerScopeError

log = logging.getLogger("layerscope")


@contextlib.contextmanager
def _logging_to(path: str | os.PathLike) -> Iterator:
    with open(path, "w", buffering=1) as stream:
        saved = sys.stderr
        sys.stderr = stream
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        try:
            yield stream
        finally:
            log.removeHandler(handler)
            sys.stderr = saved


def limit_threads(threads: int) -> None:
    """Hold BLAS, OpenMP and numba to the job's ``threads``, as Snakemake scheduled it.

    Without this each library starts one thread per core, and parallel jobs on a shared
    machine oversubscribe it (measured here: 3-5x slower OpenMP code).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def run(log_path: str | os.PathLike, main: Callable[[], None], threads: int | None = None) -> None:
    """Run a job's ``main`` with stderr and logging sent to its Snakemake log file.

    ``threads``: the job's thread count, applied to every thread pool first.

    A :class:`LayerScopeError` is the user's to fix: its one-line message goes to the log and
    to the terminal, without a traceback. Anything else is our bug: the full traceback goes to
    the log, and the terminal gets one line pointing at it. Either way the job exits with 1.
    """
    terminal = sys.stderr
    if threads is not None:
        limit_threads(threads)
    with _logging_to(log_path) as stream:
        try:
            main()
            return
        except LayerScopeError as err:
            message = f"LayerScope error: {err}"
            print(message, file=stream)
        except Exception as err:
            traceback.print_exc(file=stream)
            message = f"LayerScope internal error: {type(err).__name__}: {err} (see {log_path})"
    print(message, file=terminal, flush=True)
    sys.exit(1)
