"""``mlpfit diagnose``: why a saved model fits its data badly, and what to change."""

from ..diagnose import diagnose
from ._common import add_command
from .plot import add_model_labelled_data_arguments, read_model_and_labelled_data

EXIT_PROBLEMS = 3
"""Exit code when the diagnosis has a warning or an error, so scripts can test a fit (2 stays bad input)."""


def add_parser(subparsers):
    parser = add_command(
        subparsers, "diagnose",
        summary="explain what is wrong with a saved model's fit to data, and what to change",
        description="Check a saved model against DATA (its input and target columns, matched by name): "
        "scaling, breakpoints, dead or saturated units, a fit no better than a straight line, under- and "
        "overfitting, convergence. Prints each finding with its numbers and a fix; exits with "
        f"{EXIT_PROBLEMS} when there is a warning or an error, 0 when the fit looks healthy.",
        example="mlpfit diagnose model.npz data.csv\nmlpfit diagnose model.npz other.csv --x dose --y response",
        run=run,
    )
    add_model_labelled_data_arguments(parser)


def diagnoses(model, X, Y):
    """``[(label, Diagnosis), ...]``: the model's, or each member's for an ensemble (label "member i")."""
    y = Y[:, 0] if Y.shape[1] == 1 else Y
    members = getattr(model, "estimators_", None)
    if members is None:
        return [("", diagnose(model, X, y))]
    return [(f"member {i}", diagnose(member, X, y)) for i, member in enumerate(members)]


def diagnosis_lines(results):
    """:func:`diagnoses` as printed lines; for an ensemble, a member's findings only when it is not ok."""
    if len(results) == 1:
        return str(results[0][1]).splitlines()
    lines = []
    for label, diagnosis in results:
        text = str(diagnosis).splitlines()
        lines += [f"{label}: {text[0]}", *([] if diagnosis.ok else text[1:])]
    return lines


def run(args):
    model, X, Y, _, _ = read_model_and_labelled_data(args)
    results = diagnoses(model, X, Y)
    print("\n".join(diagnosis_lines(results)))
    return 0 if all(diagnosis.ok for _, diagnosis in results) else EXIT_PROBLEMS
