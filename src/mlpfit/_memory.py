"""The memory a fit needs, checked against what the machine has before anything is allocated."""

import os

from ._network import Architecture, default_gradient_chunk_rows, normal_equations_chunk_entries

LBFGS_VECTORS = 25
"""Parameter-sized vectors a solver keeps at once: L-BFGS's 10 history pairs, the parameters, gradient, trials."""
PER_ROW_NUMBERS = 2
"""Numbers a fit keeps per row beside its copy of the rows: an index and a weight (the weighted set's sorting, an
epoch's order)."""


def memory_needed(solver, n_samples, layer_sizes):
    """Bytes a fit of a network of ``layer_sizes`` on ``n_samples`` rows needs at least, in float64.

    Counts the fit's copy of the rows (inputs and targets) with ``PER_ROW_NUMBERS`` more per row, the activations,
    pre-activations and back-propagated deltas of every unit on one chunk of rows (every sum over the rows runs
    chunk by chunk, :mod:`mlpfit._network`), :data:`LBFGS_VECTORS` parameter vectors, and for LM one chunk's
    factors or Jacobian, ``J^T J`` and its factor.
    """
    arch = Architecture(tuple(layer_sizes), "relu")  # the activation changes no size
    n_inputs, n_outputs = layer_sizes[0], layer_sizes[-1]
    numbers = n_samples * (n_inputs + n_outputs + PER_ROW_NUMBERS) + LBFGS_VECTORS * arch.n_params
    numbers += 3 * min(n_samples, default_gradient_chunk_rows(arch)) * sum(layer_sizes[1:])
    if solver == "lm":
        numbers += normal_equations_chunk_entries(arch, n_outputs, n_samples) + 2 * arch.n_params**2
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
