"""``solver="auto"``: the cheapest solver for a problem's size, by measured thresholds.

Levenberg-Marquardt converges in far fewer iterations than L-BFGS, but each
iteration builds ``J^T J`` (about ``n_residuals * n_params**2`` flops) and
factorises it (``n_params**3``). L-BFGS costs a few ``n_residuals * n_params`` per
iteration and needs full passes over the data; Adam's minibatches win once the data
are large. The thresholds below come from ``benchmarks/solver_thresholds.py`` (its
table is in the README): the time to reach a common training loss for LM and L-BFGS
over a grid of network and data sizes.
"""

import os

AUTO_LM_MAX_PARAMS = 200
"""LM only for networks with at most this many parameters. Measured (one BLAS thread, 2-D smooth
target, tanh): with 161 parameters LM reached L-BFGS's final training loss in 0.28-0.73 of L-BFGS's
time at every size from 300 to 30,000 rows; with 321 it took 1.5 times as long at 300 rows."""
AUTO_LM_MAX_WORK = 1e9
"""LM only while ``n_residuals * n_params**2`` (flops to build ``J^T J`` once) stays below this.
The largest measured cell, 7.8e8 (30,000 rows, 161 parameters), still had LM at 0.28 of L-BFGS's
time to L-BFGS's loss; larger problems are left to L-BFGS and Adam unmeasured."""
AUTO_LBFGS_MAX_ROWS = 20_000
"""L-BFGS up to this many training rows, Adam above (full-batch passes grow costly); the foundation's
choice. In the same table Adam's 100 epochs at 30,000 rows took 0.1-1.4 of L-BFGS's time but
ended at a higher training loss."""


def choose_solver(n_samples, n_outputs, n_params):
    """The solver ``"auto"`` runs, and why, as a sentence for verbose mode.

    Returns
    -------
    solver : {"lm", "lbfgs", "adam"}
    reason : str
    """
    work = n_samples * n_outputs * n_params**2
    if n_params <= AUTO_LM_MAX_PARAMS and work <= AUTO_LM_MAX_WORK:
        return "lm", (
            f"solver='auto' chose 'lm': {n_params} parameters <= {AUTO_LM_MAX_PARAMS} and "
            f"n_residuals * n_params**2 = {work:.3g} <= {AUTO_LM_MAX_WORK:.3g}."
        )
    if n_samples <= AUTO_LBFGS_MAX_ROWS:
        return "lbfgs", (
            f"solver='auto' chose 'lbfgs': the network is too big for LM ({n_params} parameters, "
            f"n_residuals * n_params**2 = {work:.3g}) and {n_samples} rows <= {AUTO_LBFGS_MAX_ROWS}."
        )
    return "adam", (
        f"solver='auto' chose 'adam': too big for LM ({n_params} parameters, n_residuals * n_params**2 = "
        f"{work:.3g}) and {n_samples} rows > {AUTO_LBFGS_MAX_ROWS}."
    )


LBFGS_VECTORS = 25
"""Parameter-sized vectors a solver keeps at once: L-BFGS's 10 pairs of history, the parameters, the
gradient and the line search's trial points (Adam and SGD keep fewer)."""


def memory_needed(solver, n_samples, layer_sizes):
    """Bytes a fit of a network of ``layer_sizes`` on ``n_samples`` rows needs at least, in float64.

    Counts the activations, pre-activations and back-propagated deltas of every unit on every row,
    :data:`LBFGS_VECTORS` parameter vectors, and for LM the Jacobian, ``J^T J`` and its factor.
    """
    n_params = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    numbers = 3 * n_samples * sum(layer_sizes[1:]) + LBFGS_VECTORS * n_params
    if solver == "lm":
        numbers += n_samples * layer_sizes[-1] * n_params + 2 * n_params**2
    return 8 * numbers


def available_memory():
    """Bytes the system can give this process now (``MemAvailable``), or its physical memory where unknown."""
    try:
        with open("/proc/meminfo") as file:
            fields = dict(line.split(":", 1) for line in file)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(solver, n_samples, layer_sizes):
    """Refuse, before anything is allocated, a fit that needs more memory than is available."""
    needed, available = memory_needed(solver, n_samples, layer_sizes), available_memory()
    if needed > available:
        raise ValueError(
            f"a network of layer sizes {tuple(layer_sizes)} fitted with solver={solver!r} on {n_samples:,} rows needs "
            f"about {_size(needed)}; {_size(available)} is available. Use fewer hidden units "
            "(hidden_layer_sizes) or fewer rows."
        )


def _size(nbytes):
    return f"{nbytes / 2**30:,.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:,.1f} MiB"
