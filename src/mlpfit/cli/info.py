"""``mlpfit info``: what a saved model is and how it was trained."""

from ..ensemble import networks_of
from ._common import add_command, open_model


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "info",
        summary="describe a saved model",
        description="Print a model file's format version, the model's inputs, outputs, layers, "
        "parameters and training summary.",
        example="mlpfit info model.npz",
        run=run,
    )
    parser.add_argument("model", metavar="MODEL", help="model file written by 'mlpfit fit' or mlpfit.save")


def describe(model, metadata):
    """The lines ``mlpfit info`` prints."""
    node, columns = metadata["model"], metadata.get("columns") or {}
    lines = [
        f"format: {metadata['format']} version {metadata['format_version']} "
        f"(written by mlpfit {metadata.get('mlpfit_version', '?')})",
        f"model: {node['class']}",
        f"inputs ({model.n_features_in_}): {', '.join(columns.get('x', [])) or 'unnamed'}",
        f"outputs ({getattr(model, 'n_outputs_', '?')}): {', '.join(columns.get('y', [])) or 'unnamed'}",
    ]
    members = networks_of(model)
    if len(members) > 1:
        lines.append(f"ensemble: {len(members)} networks, noise {model.noise}")
    if hasattr(members[0], "fitted_"):
        arch = members[0].architecture_
        lines.append(
            f"layers: {' -> '.join(map(str, arch.layer_sizes))}, activation {arch.activation}, "
            f"{arch.n_params} weights and biases"
        )
    params = ", ".join(f"{key}={value}" for key, value in sorted(node["params"].items()))
    lines.append(f"parameters: {params}")
    for i, member in enumerate(members):
        prefix = f"training (member {i})" if len(members) > 1 else "training"
        lines.append(f"{prefix}: {member.summary_}")
    lines += str(members[0].plan_).splitlines()
    return lines


def run(args):
    print("\n".join(describe(*open_model(args.model))))
    return 0
