"""The memory a fit needs, checked against what the machine has before anything is allocated."""

import os

LBFGS_VECTORS = 25
"""Parameter-sized vectors a solver keeps at once: L-BFGS's 10 history pairs, the parameters, gradient, trials."""


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
