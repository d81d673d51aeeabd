"""``mlpfit info``: what a saved model is and how it was trained.

The description comes from the file as :mod:`mlpfit._model_file` reads it, every field and array checked,
without building the estimator: no scikit-learn import, so it answers in a fraction of a second. A directory that
``fit --per-partition`` wrote is described from its index, its tally of the fits, without reading its parts.
"""

import os
from collections import Counter

import numpy as np

from ._common import REPORT_CURVES, add_command, read_model


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "info",
        summary="describe a saved model",
        description="Print a model file's format version, the model's inputs, outputs, layers, "
        "parameters and training summary; for a model of curves (fit --group), its curves fitted and failed, "
        "their widths and stop reasons counted, and the parameters every curve was fitted with; for the directory "
        "that fit --per-partition wrote, its parts and the totals its index holds: curves fitted and failed, stop "
        "reasons, the worst fits and the diagnosis counted.",
        example="mlpfit info model.npz\nmlpfit info curves.npz\nmlpfit info curves_dir/",
        run=run,
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="model file written by 'mlpfit fit' or mlpfit.save, or the directory 'fit --per-partition' wrote",
    )


def describe(saved, metadata):
    """The lines ``mlpfit info`` prints for a :class:`~mlpfit._model_file.SavedModel` and its file's metadata."""
    columns = metadata.get("columns") or {}
    lines = [
        f"format: {metadata['format']} version {metadata['format_version']} "
        f"(written by mlpfit {metadata.get('mlpfit_version', '?')})",
        f"model: {saved.name}",
        f"inputs ({saved.n_features_in}): {', '.join(columns.get('x') or []) or 'unnamed'}",
        f"outputs ({saved.n_outputs}): {', '.join(columns.get('y') or []) or 'unnamed'}",
        *_test_split_lines(metadata.get("test_split")),
    ]
    if saved.name == "CurveBatch":
        return lines + _batch_lines(saved, columns)
    networks = saved.networks
    encoding = networks[0].network.x_encoding
    if encoding is not None:
        lows, highs = zip(*(network.x_range for network in networks))
        x_names = columns.get("x") or [f"x{j}" for j in range(saved.n_features_in)]
        lines += [f"  {line}" for line in encoding.described(x_names, (np.min(lows, axis=0), np.max(highs, axis=0)))]
    if len(networks) > 1:
        lines.append(f"ensemble: {len(networks)} networks, noise {saved.params.get('noise')}")
    arch = networks[0].network.arch
    lines.append(
        f"layers: {' -> '.join(map(str, arch.layer_sizes))}, activation {arch.activation}, "
        f"{arch.n_params} weights and biases"
    )
    network = networks[0].network
    if network.transformed:
        x_names = columns.get("x") or [f"x{j}" for j in range(saved.n_features_in)]
        y_names = columns.get("y") or [f"y{k}" for k in range(saved.n_outputs)]
        fitted = [
            f"{name}({label})"
            for names, labels in ((network.x_transforms, x_names), (network.y_transforms, y_names))
            for name, label in zip(names or (), labels)
            if name is not None
        ]
        lines.append(f"transforms: fitted on {', '.join(fitted)}; predictions mapped back")
    params = ", ".join(f"{key}={value}" for key, value in sorted(saved.params.items()))
    lines.append(f"parameters: {params}")
    for i, network in enumerate(networks):
        prefix = f"training (member {i})" if len(networks) > 1 else "training"
        lines.append(f"{prefix}: {network.summary}")
        if network.penalty_line():
            lines.append(network.penalty_line())
    lines += str(networks[0].plan).splitlines()
    return lines


def _test_split_lines(split):
    """The rows ``fit --test-fraction`` held out, as the file records them (none when it records no split)."""
    if split is None:
        return []
    return [
        f"test split: {split['fraction']:g} of the {split['n_rows']} usable rows of {split['data']} held out, seed "
        f"{split['seed']} (data SHA-256 {split['data_sha256']}); 'mlpfit report' assesses them given that file"
    ]


def _batch_lines(saved, columns):
    """A curve batch's curves, widths, stop reasons and failures, and the parameters each curve was fitted with."""
    failed = [(group, error) for group, error in zip(saved.groups, saved.errors) if error is not None]
    group = f" (column {columns['group']!r})" if columns.get("group") else ""
    widths = [member.fitted.network.arch.n_params for member in saved.members]
    stops = Counter(member.fitted.stop_reason for member in saved.members).most_common()
    params = ", ".join(f"{key}={value}" for key, value in sorted(saved.members[0].params.items()))
    return [
        f"curves: {len(saved.groups)}{group}, {len(saved.members)} fitted, {len(failed)} failed",
        *(f"  not fitted: {name}: {error}" for name, error in failed[:REPORT_CURVES]),
        *([f"  ... and {len(failed) - REPORT_CURVES} more"] if len(failed) > REPORT_CURVES else []),
        f"networks: {min(widths)} to {max(widths)} weights and biases, activation "
        f"{saved.members[0].fitted.network.arch.activation}",
        "stopped: " + ", ".join(f"{reason} {n}" for reason, n in stops),
        f"every curve's parameters: {params}",
    ]


def describe_directory(path):
    """The lines ``mlpfit info`` prints for the directory of curves at ``path``: its index's totals; a part file the
    index lists but the directory lacks is refused."""
    from .._curve_directory import FORMAT_NAME, FORMAT_VERSION, INDEX_NAME, CurveDirectory
    from ._tally import part_files, report_lines

    directory = CurveDirectory(path)
    directory.check_files()
    columns = directory.columns_ or {}
    return [
        f"format: {FORMAT_NAME} version {FORMAT_VERSION} (written by mlpfit {directory.mlpfit_version_})",
        "model: curves in a directory of parts (CurveDirectory)",
        f"inputs: {', '.join(columns.get('x') or []) or 'unnamed'}",
        f"outputs: {', '.join(columns.get('y') or []) or 'unnamed'}",
        f"parts: {directory.n_parts_}, {part_files(directory)} with a model file; index {INDEX_NAME}",
        f"rows fitted: {directory.tally_.n_rows}",
        *report_lines(directory, columns.get("group", "unnamed")),
    ]


def run(args):
    lines = describe_directory(args.model) if os.path.isdir(args.model) else describe(*read_model(args.model))
    print("\n".join(lines))
    return 0
