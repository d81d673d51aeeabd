"""``solver="auto"``: the cheapest solver for a problem's size, by measured thresholds.

Levenberg-Marquardt converges in far fewer iterations than L-BFGS, but each
iteration builds ``J^T J`` (about ``n_residuals * n_params**2`` flops) and
factorises it (``n_params**3``). L-BFGS costs a few ``n_residuals * n_params`` per
iteration and needs full passes over the data; Adam's minibatches win once the data
are large. The thresholds below come from ``benchmarks/solver_thresholds.py`` (its
table is in the README): the time to reach a common training loss for LM and L-BFGS
over a grid of network and data sizes.
"""

AUTO_LM_MAX_PARAMS = 300
"""LM only for networks with at most this many parameters (factorising ``J^T J`` grows as P**3)."""
AUTO_LM_MAX_WORK = 5e9
"""LM only while ``n_residuals * n_params**2`` (flops to build ``J^T J`` once) stays below this."""
AUTO_LBFGS_MAX_ROWS = 20_000
"""L-BFGS up to this many training rows, Adam above (full-batch passes grow costly)."""


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
