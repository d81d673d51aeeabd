"""``mlpfit plot``: draw a saved model's fit against data again."""

from .. import plot
from ._arguments import add_model_labelled_data_arguments, read_model_and_labelled_data
from ._common import add_command, check_outputs


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "plot",
        summary="draw a saved model's fit against data to a PNG",
        description="Plot the model against DATA, which needs the model's input and target columns: the fitted "
        "curve (one input) or predicted against actual (several), the residuals and the loss curve.",
        example="mlpfit plot model.npz data.csv -o fit.png",
        run=run,
    )
    add_model_labelled_data_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="PNG", help="PNG file to write")


def run(args):
    check_outputs({"plot": args.output}, {"model": args.model, "data": args.data})
    plot.require_matplotlib()
    model, X, Y, x_names, y_names = read_model_and_labelled_data(args)
    plot.save_png(plot.fit(model, X, Y, x_names=x_names, y_names=y_names), args.output)
    return 0
