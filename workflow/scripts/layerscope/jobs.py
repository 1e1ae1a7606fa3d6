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


def run(log_path: str | os.PathLike, main: Callable[[], None]) -> None:
    """Run a job's ``main`` with stderr and logging sent to its Snakemake log file.

    A :class:`LayerScopeError` is the user's to fix: its one-line message goes to the log and
    to the terminal, without a traceback. Anything else is our bug: the full traceback goes to
    the log, and the terminal gets one line pointing at it. Either way the job exits with 1.
    """
    terminal = sys.stderr
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
