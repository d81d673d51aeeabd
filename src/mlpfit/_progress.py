"""A progress bar for long fits: tqdm on a terminal, nothing in pipes, logs or CI.

The estimator hands :func:`progress`'s callback to the solvers' Monitor as
``SolverSettings.on_iteration``; the Monitor calls it once per iteration or epoch.
"""

import os
import sys
from contextlib import contextmanager

SHOW_AFTER_SECONDS = 2.0
"""The bar appears only once a fit has run this long, so quick fits print nothing."""


def bar_wanted(stream):
    """True when ``stream`` is a terminal and no ``CI`` environment variable is set."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI")


class ProgressCallback:
    """``on_iteration(iteration, loss, validation_loss)`` advancing a tqdm bar by one step."""

    def __init__(self, bar):
        self.bar = bar

    def __call__(self, iteration, loss, validation_loss):
        if self.bar is None:
            return
        postfix = {"loss": f"{loss:.4g}"}
        if validation_loss is not None:
            postfix["validation loss"] = f"{validation_loss:.4g}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update()

    def __getstate__(self):
        # Restarts run in other processes (joblib) cannot draw on this terminal: they get a silent copy.
        return {"bar": None}


@contextmanager
def progress(verbose, total, *, stream=None, delay=None):
    """Yield the ``on_iteration`` callback for a fit, or None when no bar is wanted.

    Parameters
    ----------
    verbose : bool or int
        The estimator's ``verbose``: a bar only at level 1 (True).
    total : int
        Iterations the bar counts up to (``max_iter`` times the restarts); runs may stop earlier.
    stream : file-like or None
        Where the bar is drawn; None is ``sys.stderr``.
    delay : float or None
        Seconds before the bar first appears; None is :data:`SHOW_AFTER_SECONDS`.
    """
    stream = sys.stderr if stream is None else stream
    delay = SHOW_AFTER_SECONDS if delay is None else delay
    if verbose != 1 or not bar_wanted(stream):
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        raise ImportError(
            "The progress bar needs tqdm: pip install 'mlpfit[progress]', or pass verbose=False."
        ) from None
    with tqdm(total=total, unit="it", delay=delay, file=stream, leave=False, dynamic_ncols=True) as bar:
        yield ProgressCallback(bar)
