"""``solver="auto"``: the cheapest solver for a problem's size, by measured thresholds.

Levenberg-Marquardt converges in far fewer iterations than L-BFGS, but each
iteration builds ``J^T J`` (about ``n_residuals * n_params**2`` flops) and
factorises it (``n_params**3``). L-BFGS costs a few ``n_residuals * n_params`` per
iteration and needs full passes over the data; Adam's minibatches win once the data
are large. The thresholds below come from ``benchmarks/solver_thresholds.py`` (its
table is in the README): the time to reach a common training loss for LM and L-BFGS
over a grid of network and data sizes.
"""

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
