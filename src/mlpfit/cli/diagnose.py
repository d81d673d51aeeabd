"""``mlpfit diagnose``: why a saved model fits its data badly, and what to change."""

from . import _curves
from ._arguments import add_model_labelled_data_arguments, read_model_and_labelled_data
from ._common import EXIT_PROBLEMS, add_command, diagnosis_of


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "diagnose",
        summary="explain what is wrong with a saved model's fit to data, and what to change",
        description="Check a saved model against DATA (its input and target columns, matched by name): "
        "scaling, breakpoints, dead or saturated units, a fit no better than a straight line, under- and "
        "overfitting, convergence. Prints each finding with its numbers and a fix; exits with "
        f"{EXIT_PROBLEMS} when there is a warning or an error, 0 when the fit looks healthy. For a model of curves "
        "(fit --group): a line per curve with a warning or an error (its findings' codes and the worst finding) "
        "or that was not fitted. MODEL may also be the directory that fit --per-partition wrote; only the parts "
        "DATA's groups lie in are read.",
        example="mlpfit diagnose model.npz data.csv\nmlpfit diagnose model.npz other.csv --x dose --y response\n"
        "mlpfit diagnose curves.npz long.csv\nmlpfit diagnose curves_dir/ long.csv",
        run=run,
    )
    add_model_labelled_data_arguments(parser)


def run(args):
    model, X, Y, _, _, labelled = read_model_and_labelled_data(args)
    if labelled is not None:
        lines, n_problems = _curves.diagnosis_lines(model, X, Y, *labelled)
        print("\n".join(lines))
        return EXIT_PROBLEMS if n_problems else 0
    diagnosis = diagnosis_of(model, X, Y)
    print(diagnosis)
    return 0 if diagnosis.ok else EXIT_PROBLEMS
