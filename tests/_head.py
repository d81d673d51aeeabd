"""The variance head's loss and fit on rows given at once: the reference the chunked sums of ``mlpfit._nll`` are
checked against, and the form in which its gradient is checked."""

from mlpfit import _nll, _weights


def loss_and_grad(params, features, squared_residuals, alpha=_nll.HEAD_ALPHA, sample_weight=None):
    """:func:`mlpfit._nll.loss_and_grad_in_chunks` on the rows as one chunk."""
    rows = [(features, squared_residuals, sample_weight)]
    n = _weights.total(sample_weight, len(features))
    return _nll.loss_and_grad_in_chunks(params, features.shape[1], rows, n, alpha)


def fit(features, squared_residuals, alpha=_nll.HEAD_ALPHA, sample_weight=None):
    """:func:`mlpfit._nll.fit_head_in_chunks` on the rows as one chunk."""
    rows = [(features, squared_residuals, sample_weight)]
    return _nll.fit_head_in_chunks(features.shape[1], lambda: rows, alpha)
