"""The model as a C99 header: one row at a time into fixed-size arrays, no allocation, the weights inline."""

from .. import __version__
from .._activations import LEAKY_SLOPE
from ._program import Value, emit
from ._source import SourceOps, literal

ACTIVATIONS = {
    "relu": "({0} > 0.0 ? {0} : 0.0)",
    "leaky_relu": f"({{0}} > 0.0 ? {{0}} : {LEAKY_SLOPE!r} * {{0}})",
    "tanh": "tanh({0})",
    "logistic": "1.0 / (1.0 + exp(-{0}))",
    "softplus": "({0} > 0.0 ? {0} + log1p(exp(-{0})) : log1p(exp({0})))",
    "identity": "{0}",
}
"""Activation name -> C expression, as :mod:`mlpfit._activations` computes it (softplus as NumPy's
``logaddexp(0, z)``)."""
FUNCTIONS = {name: f"{name}({{0}})" for name in ("log", "log1p", "exp", "expm1", "sqrt")}
HARNESS_MACRO = "MLPFIT_HARNESS"
"""Defined (``cc -DMLPFIT_HARNESS``), the header also has a ``main`` that predicts the rows read from stdin."""


class COps(SourceOps):
    """Values are one row's arrays (``double v[width]``) declared in the loop over rows."""

    activations, functions = ACTIVATIONS, FUNCTIONS

    def input(self, width):
        return Value("x", width)

    def constant(self, array):
        name = self.fresh("C")
        dimensions = "".join(f"[{size}]" for size in array.shape)
        self.constants.append(f"static const double {name}{dimensions} = {literal(array, '{}')};")
        return Value(name, array.shape[-1])

    def _declare(self, width):
        name = self.fresh("v")
        self.statements.append(f"double {name}[{width}];")
        return Value(name, width)

    def elementwise(self, template, *operands):
        value = self._declare(operands[0].width)
        expression = template.format(*(f"{operand.name}[j]" for operand in operands))
        self.statements.append(f"for (size_t j = 0; j < {value.width}; ++j) {value.name}[j] = {expression};")
        return value

    def column(self, value, j):
        return f"{value.name}[{j}]"

    def stacked(self, expressions):
        value = self._declare(len(expressions))
        self.statements += [f"{value.name}[{j}] = {expression};" for j, expression in enumerate(expressions)]
        return value

    def dense(self, value, W, b):
        weights, biases, out = self.constant(W), self.constant(b), self._declare(W.shape[1])
        self.statements.append(
            f"for (size_t j = 0; j < {out.width}; ++j) {{ double s = 0.0; "
            f"for (size_t i = 0; i < {value.width}; ++i) s += {value.name}[i] * {weights.name}[i][j]; "
            f"{out.name}[j] = s + {biases.name}[j]; }}"
        )
        return out

    def take(self, value, start, stop):
        name = self.fresh("v")
        self.statements.append(f"const double *{name} = {value.name} + {start};")
        return Value(name, stop - start)


def header_source(parts, header):
    """The header's text: ``header`` (lines saying what the model is) as its comment, the constants, ``predict``
    and the harness behind :data:`HARNESS_MACRO`."""
    ops = COps()
    mean, std = emit(parts, ops)
    n_inputs, k = parts.n_inputs, parts.n_targets
    outputs = [("mean", mean)] + ([("std", std)] if std is not None else [])
    parameters = ", ".join(f"double *{name}" for name, _ in outputs)
    body = "\n".join(f"        {statement}" for statement in ops.statements)
    stores = "\n".join(
        f"        for (size_t j = 0; j < {k}; ++j) {name}[row * {k} + j] = {value.name}[j];" for name, value in outputs
    )
    prints = "\n".join(f'        for (int j = 0; j < {k}; ++j) printf("%.17g ", {name}[j]);' for name, _ in outputs)
    comment = "\n".join(f" * {line}".rstrip() for line in header)
    std_doc = " and std (n_rows, MLPFIT_N_OUTPUTS) their standard deviations" if std is not None else ""
    return f"""/*
{comment}
 *
 * predict(X, n_rows, mean{", std" if std is not None else ""}): X (n_rows, MLPFIT_N_INPUTS) row-major doubles in;
 * mean (n_rows, MLPFIT_N_OUTPUTS) the predictions{std_doc} out. No allocation.
 * With {HARNESS_MACRO} defined, main() reads rows of MLPFIT_N_INPUTS numbers from stdin and prints each row's
 * predictions{" then standard deviations" if std is not None else ""}, space separated:
 * cc -std=c99 -D{HARNESS_MACRO} -x c model.h -lm -o harness
 *
 * Written by mlpfit.export.to_c (mlpfit {__version__}); C99 and <math.h> alone.
 */
#ifndef MLPFIT_MODEL_H
#define MLPFIT_MODEL_H

#include <math.h>
#include <stddef.h>

#define MLPFIT_N_INPUTS {n_inputs}
#define MLPFIT_N_OUTPUTS {k}
#define MLPFIT_HAS_STD {int(std is not None)}

{chr(10).join(ops.constants)}

static void predict(const double *X, size_t n_rows, {parameters})
{{
    for (size_t row = 0; row < n_rows; ++row) {{
        const double *x = X + row * MLPFIT_N_INPUTS;
{body}
{stores}
    }}
}}

#ifdef {HARNESS_MACRO}
#include <stdio.h>

int main(void)
{{
    double x[MLPFIT_N_INPUTS], {", ".join(f"{name}[MLPFIT_N_OUTPUTS]" for name, _ in outputs)};
    for (;;) {{
        for (int j = 0; j < MLPFIT_N_INPUTS; ++j)
            if (scanf("%lf", &x[j]) != 1)
                return j == 0 && feof(stdin) ? 0 : 1;
        predict(x, 1, {", ".join(name for name, _ in outputs)});
{prints}
        printf("\\n");
    }}
}}
#endif

#endif
"""
