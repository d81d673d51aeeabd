"""A shareable report of a fit: one self-contained HTML page.

The page holds the data summary, the fit plan that ran (every ``"auto"`` and what it chose, with the reason),
the statistics per split (:func:`mlpfit.assessment.assess`), the figures of :mod:`mlpfit.plot` as PNG data URIs,
the diagnosis with its fixes and the model's provenance. It needs no network and no JavaScript: styles are
inline, and its Content-Security-Policy lets it load nothing but its own images. Every text that comes from the
user (column names, categories, file names) is HTML-escaped.
"""

import base64
import html
from dataclasses import fields
from datetime import datetime, timezone

import numpy as np

from . import __version__, plot
from ._columns import as_inputs, date_text
from .assessment import COVERAGE, assess, check_splits
from .ensemble import networks_of

SECTIONS = {
    "data": "Data",
    "plan": "Fit plan",
    "statistics": "Fit statistics",
    "figures": "Figures",
    "diagnosis": "Diagnosis",
    "provenance": "Provenance",
}
"""Section id -> its heading, in the page's order (the table of contents links them)."""
FIGURE_DPI = 100
MAX_CATEGORIES_SHOWN = 12
"""Categories of a text column the data summary lists by name; the rest are counted."""
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 0 auto;
       max-width: 1200px; padding: 1.5em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #d7dbe3; padding-bottom: 0.2em; }
nav a { margin-right: 1em; } .muted { color: #5b6475; }
table { border-collapse: collapse; margin: 0.6em 0; } th, td { border: 1px solid #d7dbe3; padding: 0.25em 0.6em;
       text-align: left; vertical-align: top; } th { background: #f2f4f8; } td.number { text-align: right; }
tr.auto td:nth-child(2) { font-weight: 600; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.92em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e3e6ec; }
figcaption { color: #5b6475; margin-top: 0.3em; }
.severity { border-radius: 3px; color: #fff; font-size: 0.85em; padding: 0.1em 0.45em; }
.error { background: #b42318; } .warning { background: #b54708; } .info { background: #175cd3; }
.ok { color: #067647; font-weight: 600; } li { margin: 0.2em 0; }
"""
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""Nothing but the page's own inline styles and data-URI images loads: the report never reaches the network."""


def _escape(value):
    return html.escape(str(value), quote=True)


def _table(header, rows, *, row_classes=None):
    """An HTML table of text cells (escaped); cells that read as numbers are right-aligned."""
    head = "".join(f"<th>{_escape(cell)}</th>" for cell in header)
    body = []
    for i, cells in enumerate(rows):
        css = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        tds = "".join(
            f'<td class="number">{_escape(cell)}</td>' if _is_number(cell) else f"<td>{_escape(cell)}</td>"
            for cell in cells
        )
        body.append(f"<tr{css}>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _is_number(cell):
    try:
        float(str(cell).rstrip("%"))
    except ValueError:
        return False
    return True


def _pairs(pairs):
    """A table of ``(label, value)`` pairs, a row each."""
    rows = "".join(f"<tr><th>{_escape(label)}</th><td>{_escape(value)}</td></tr>" for label, value in pairs)
    return f"<table><tbody>{rows}</tbody></table>"


# --- the sections ----------------------------------------------------------------------------------------------


def _data_section(splits, x_names, y_names, facts):
    columns, Y = _all_columns(splits)
    rows = [_column_summary(name, "input", values) for name, values in zip(x_names, columns)]
    rows += [_column_summary(name, "target", values) for name, values in zip(y_names, Y.T)]
    counts = ", ".join(f"{name} {len(np.atleast_1d(y))}" for name, (_, y) in splits.items())
    return _pairs([*facts, ("rows per split", counts)]) + _table(["column", "role", "kind", "rows", "summary"], rows)


def _all_columns(splits):
    """Every split's input columns (as :func:`mlpfit._columns.as_inputs` reads them) and targets, rows stacked."""
    parts = [(as_inputs(X).arrays, np.asarray(y, dtype=np.float64).reshape(len(y), -1)) for X, y in splits.values()]
    columns = [np.concatenate(arrays) for arrays in zip(*(arrays for arrays, _ in parts))]
    return columns, np.vstack([Y for _, Y in parts])


def _column_summary(name, role, values):
    if values.dtype.kind == "M":
        first, last = date_text(np.array([values.min(), values.max()]))
        return [name, role, "dates", len(values), f"from {first} to {last}"]
    if values.dtype.kind == "O":
        categories = sorted(set(values))
        shown = ", ".join(map(str, categories[:MAX_CATEGORIES_SHOWN]))
        more = f" and {len(categories) - MAX_CATEGORIES_SHOWN} more" if len(categories) > MAX_CATEGORIES_SHOWN else ""
        return [name, role, "text", len(values), f"{len(categories)} categories: {shown}{more}"]
    summary = (
        f"min {values.min():.4g}, max {values.max():.4g}, mean {values.mean():.4g}, standard deviation "
        f"{values.std():.4g}"
    )
    return [name, role, "numbers", len(values), summary]


def _plan_section(model):
    members = networks_of(model)
    if not all(hasattr(member, "plan_") for member in members):
        return "<p>This model has no fit plan: it is not an mlpfit estimator.</p>"
    parts = []
    if len(members) > 1:
        noise = _escape(model.get_params(deep=False).get("noise"))
        parts.append(f"<p>An ensemble of {len(members)} networks (noise {noise}), each fitted by a member's plan.</p>")
    plans = list(dict.fromkeys(member.plan_ for member in members))  # equal plans (reasons aside) shown once
    for plan in plans:
        which = [i for i, member in enumerate(members) if member.plan_ == plan]
        if len(plans) > 1:
            parts.append(f"<h3>Members {_escape(', '.join(map(str, which)))}</h3>")
        parts.append(_plan_table(plan, members[which[0]].get_params(deep=False)))
    parts.append("<h3>Training</h3><ul>")
    for i, member in enumerate(members):
        prefix = f"member {i}: " if len(members) > 1 else ""
        lines = [str(member.summary_), member.fitted_.penalty_line()]
        parts += [f"<li>{_escape(prefix + line)}</li>" for line in lines if line]
    parts.append("</ul>")
    params = members[0].get_params(deep=False)
    planned = {f.name for f in fields(plans[0])}
    others = ", ".join(f"{key}={value!r}" for key, value in sorted(params.items()) if key not in planned)
    parts.append(f'<p class="muted">Other parameters: <span class="mono">{_escape(others)}</span></p>')
    return "".join(parts)


def _plan_table(plan, params):
    """The plan field by field: what the parameters asked for (an ``"auto"`` in bold), what ran, and why."""
    rows, classes = [], []
    for f in fields(plan):
        if f.name == "reasons":
            continue
        asked = params.get(f.name, "")
        rows.append(
            [f.name, "" if asked == "" else repr(asked), repr(getattr(plan, f.name)), plan.reasons.get(f.name, "")]
        )
        classes.append("auto" if asked == "auto" else "")
    return _table(["field", "asked", "ran", "why"], rows, row_classes=classes)


def _statistics_section(assessment):
    header, rows = assessment.table()
    notes = "".join(f"<li>{_escape(note)}</li>" for note in assessment.notes)
    return _table(header, rows) + (f"<ul>{notes}</ul>" if notes else "")


FIGURES = {
    "regression": (
        "Predicted against actual per split, with the least-squares line and the correlation R.",
        lambda model, splits, names: plot.regression(model, splits, y_names=names[1]),
    ),
    "error-histogram": (
        "Errors (data - fit) per output, each split's rows stacked in its own colour.",
        lambda model, splits, names: plot.error_histogram(model, splits, y_names=names[1]),
    ),
    "residuals": (
        "Residuals against each input and against the prediction.",
        lambda model, splits, names: plot.residuals(model, splits, x_names=names[0], y_names=names[1]),
    ),
    "training-record": (
        "The training record: the loss (with Bayesian regularisation its data term), the penalty term and the "
        "penalty weight alpha per iteration, ticked where alpha was re-estimated.",
        lambda model, splits, names: plot.training_record(model),
    ),
    "response": (
        "How the prediction responds to the inputs: for one input the fitted curve with its breakpoints and "
        "interval band, for several the partial dependence on each.",
        lambda model, splits, names: plot.response(model, splits, x_names=names[0], y_names=names[1]),
    ),
}
"""Figure id -> its caption and ``draw(model, splits, (x_names, y_names))`` (:mod:`mlpfit.plot`), in the page's
order."""


def _figures_section(figures):
    """The figures, ``{id: PNG bytes}``, each an image with its caption."""
    parts = []
    for name, png in figures.items():
        caption = FIGURES[name][0]
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        parts.append(
            f'<figure id="figure-{name}"><img src="{uri}" alt="{_escape(caption)}">'
            f"<figcaption>{_escape(caption)}</figcaption></figure>"
        )
    return "".join(parts)


def _diagnosis_section(diagnosis):
    if diagnosis is None:
        return "<p>Not diagnosed.</p>"
    scale = f'<p class="muted">On the fitted scale: {_escape(diagnosis.scale)}.</p>' if diagnosis.scale else ""
    if not diagnosis.findings:
        return scale + '<p class="ok">No problems found.</p>'
    items = "".join(
        f'<li><span class="severity {_escape(finding.severity)}">{_escape(finding.severity)}</span> '
        f"<code>{_escape(finding.code)}</code>: {_escape(finding.message)}<br><strong>Fix:</strong> "
        f"{_escape(finding.fix)}</li>"
        for finding in diagnosis.findings
    )
    return f"{scale}<ul>{items}</ul>"


def html_report(
    model,
    splits,
    *,
    x_names=None,
    y_names=None,
    diagnosis=None,
    data_facts=(),
    provenance=(),
    notes=(),
    title="mlpfit report",
    coverage=COVERAGE,
):
    """The HTML text of a report on a fitted model and its data, split by split.

    Parameters
    ----------
    model : NeuralRegressor or EnsembleRegressor
        Fitted.
    splits : dict of str -> (X, y)
        Named sets of rows, as :func:`mlpfit.assessment.assess` takes them.
    x_names, y_names : list of str or None
        The inputs' and outputs' names (default ``x0, ...`` and ``y0, ...``).
    diagnosis : Diagnosis or None
        :func:`mlpfit.diagnose`'s findings, shown with their fixes.
    data_facts, provenance : sequence of (str, str)
        Labelled facts about the data (its file, rows) and where the model came from (its file and hash); the
        mlpfit version and the time of writing are added to the provenance.
    notes : sequence of str
        Sentences shown under the title (such as why the rows form one split).
    title : str
    coverage : float, default=0.95
        The nominal coverage of the intervals whose share of the data is reported (models with intervals).

    Returns
    -------
    str
        A complete HTML document; figures are PNG data URIs, so the file stands alone.
    """
    n_inputs, n_outputs = _counts(splits)
    x_names = list(x_names or [f"x{j}" for j in range(n_inputs)])
    y_names = list(y_names or [f"y{k}" for k in range(n_outputs)])
    assessment = assess(model, splits, coverage=coverage, y_names=y_names)
    figures = {
        name: plot.png_bytes(draw(model, splits, (x_names, y_names)), dpi=FIGURE_DPI)
        for name, (_, draw) in FIGURES.items()
    }
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    provenance = [("report written by", f"mlpfit {__version__}"), ("report written at", written), *provenance]
    bodies = {
        "data": _data_section(splits, x_names, y_names, data_facts),
        "plan": _plan_section(model),
        "statistics": _statistics_section(assessment),
        "figures": _figures_section(figures),
        "diagnosis": _diagnosis_section(diagnosis),
        "provenance": _pairs(provenance),
    }
    nav = "".join(f'<a href="#{key}">{heading}</a>' for key, heading in SECTIONS.items())
    sections = "".join(
        f'<section id="{key}"><h2>{heading}</h2>{bodies[key]}</section>' for key, heading in SECTIONS.items()
    )
    lead = "".join(f'<p class="muted">{_escape(note)}</p>' for note in notes)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><header><h1>{_escape(title)}</h1>"
        f'<p class="muted">{_escape(type(model).__name__)}: inputs {_escape(", ".join(x_names))}; outputs '
        f"{_escape(', '.join(y_names))}. Written {_escape(written)}.</p>{lead}<nav>{nav}</nav></header>"
        f"<main>{sections}</main></body></html>\n"
    )


def _counts(splits):
    """``(inputs, outputs)`` of the first split's rows."""
    check_splits(splits)
    X, y = next(iter(splits.values()))
    y = np.asarray(y)
    return as_inputs(X).shape[1], 1 if y.ndim == 1 else y.shape[1]
