"""Very many curves in a directory: one model file per part, and an index that finds the part of a curve.

A curve's part is decided by :func:`part_of` from its group's text alone, so a reader finds the file of a curve
without a list of every group, and a client writing the directory holds nothing per curve: the index has one
record per part (its file, the SHA-256 of its contents, its counts) and the fit's
:class:`~mlpfit.CurveTally`. Each part is written atomically where it was fitted (:func:`write_part`); the
index is written last, atomically (:func:`write_index`), so a directory holds a complete fit exactly when it has
an index, and a part that differs from the one the fit wrote (replaced, damaged, missing) is refused by name.
"""

import hashlib
import json
import os
import re
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from . import __version__
from ._atomic import TEMPORARY_SUFFIX, atomic_write
from ._curve_tally import TALLIED_CURVES, CurveTally
from ._model_file import COUNT, FLAG, POSITIVE_COUNT, TEXT, TEXTS, Rule, TooLarge, field, is_int, require, shown

INDEX_NAME = "curves.json"
"""The index's file name in the directory."""
FORMAT_NAME = "mlpfit-curve-directory"
FORMAT_VERSION = 1
"""Bumped whenever an index written by this version could be misread by an older reader."""
MAX_INDEX_BYTES = 1 << 24
"""Largest index read: one record per part, so room for hundreds of thousands of parts."""
PART_FILE = re.compile(r"part-(\d{5,})\.npz")
"""A part's file name: its number, at least five digits."""


def part_of(group, n_parts):
    """The part (0 to ``n_parts - 1``) that holds curve ``group``: the CRC-32 of its text modulo ``n_parts``.

    By text, so that a table's cell ``"3"`` finds the integer group 3, as the command line matches groups.
    """
    return zlib.crc32(str(group).encode()) % n_parts


def parts_of(groups, n_parts):
    """:func:`part_of` of each entry of ``groups`` (an array), each distinct text hashed once."""
    texts, inverse = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    return np.array([part_of(text, n_parts) for text in texts.tolist()], dtype=np.int64)[inverse.ravel()]


def part_file(part):
    return f"part-{part:05d}.npz"


@dataclass(frozen=True)
class PartRecord:
    """One part as the index records it.

    Attributes
    ----------
    part : int
        Its number: the curves whose :func:`part_of` it is.
    file : str or None
        Its model file in the directory; None when none of its curves was fitted (a model file holds at least one).
    sha256 : str or None
        The SHA-256 of the file as the fit wrote it (hex).
    n_curves, n_fitted : int
        Its curves, and those fitted.
    failed : tuple of (group, str)
        Without a file: each curve and why it was not fitted.
    """

    part: int
    file: str | None
    sha256: str | None
    n_curves: int
    n_fitted: int
    failed: tuple = ()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- writing --------------------------------------------------------------------------------


def prepare(directory):
    """Make ``directory`` ready for a fit: created when missing; an earlier fit's index removed first, so that no
    reader takes the parts being replaced for that fit's; any file a fit of curves does not write refused."""
    where = os.fspath(directory)
    if os.path.exists(where) and not os.path.isdir(where):
        raise ValueError(f"{where} is a file; the curves are written into a directory.")
    os.makedirs(where, exist_ok=True)
    ours = re.compile(rf"{re.escape(INDEX_NAME)}|{PART_FILE.pattern}|\..*{re.escape(TEMPORARY_SUFFIX)}")
    others = sorted(name for name in os.listdir(where) if not ours.fullmatch(name))
    if others:
        raise ValueError(
            f"{where} holds {others[0]!r}, which no fit of curves wrote; give a new or empty directory, or one an "
            "earlier fit of curves wrote."
        )
    if os.path.exists(os.path.join(where, INDEX_NAME)):
        os.unlink(os.path.join(where, INDEX_NAME))


def write_part(batch, directory, part, columns):
    """``(record, tally)``: fitted ``batch`` (the curves of ``part``) saved in ``directory`` with ``columns`` (as
    :func:`mlpfit.save` takes them), its :class:`PartRecord` and :class:`~mlpfit.CurveTally`."""
    from .io import save

    tally = CurveTally.of(batch)
    if not batch.estimators_:
        failed = tuple((group, batch.errors_[group]) for group in batch.groups_)
        return PartRecord(part, None, None, tally.n_curves, 0, failed), tally
    path = os.path.join(os.fspath(directory), part_file(part))
    try:
        save(batch, path, columns=columns)
    except TooLarge as error:
        raise ValueError(
            f"part {part} holds {tally.n_curves} curves, more than one model file takes: {error.reason} Spread the "
            "curves over more parts: a larger n_parts (mlpfit fit --per-partition: --parts N)."
        ) from None
    return PartRecord(part, part_file(part), _sha256(path), tally.n_curves, tally.n_fitted), tally


def write_index(directory, n_parts, records, tally, columns):
    """Write the index of the parts ``records`` describe (last, atomically), then remove the part files of an
    earlier fit that this one did not replace."""
    index = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mlpfit_version": __version__,
        "n_parts": n_parts,
        "columns": columns,
        "tally": asdict(tally),
        "parts": [asdict(record) for record in sorted(records, key=lambda record: record.part)],
    }
    where = os.fspath(directory)
    with atomic_write(os.path.join(where, INDEX_NAME), "w") as file:
        json.dump(index, file)
    written = {record.file for record in records}
    for name in os.listdir(where):
        if PART_FILE.fullmatch(name) and name not in written:
            os.unlink(os.path.join(where, name))


# --- reading --------------------------------------------------------------------------------


class CurveDirectory:
    """The curves of a directory written by :meth:`~mlpfit.CurveBatch.fit_to_directory`; a part's model file is
    read when one of its curves is asked for.

    Parameters
    ----------
    path : str or os.PathLike
        The directory.

    Attributes
    ----------
    n_parts_ : int
        The parts the groups are spread over (:func:`part_of`).
    parts_ : dict
        Part number -> :class:`PartRecord`, for the parts that hold curves.
    columns_ : dict or None
        The table's columns the curves were fitted from: ``{"x": [...], "y": [...], "group": name}``.
    tally_ : CurveTally
        How the fits went.
    mlpfit_version_ : str
        The mlpfit that wrote the directory.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        index = _read_index(os.path.join(self.path, INDEX_NAME))
        self.n_parts_, self.parts_ = index["n_parts"], index["parts"]
        self.columns_, self.tally_ = index["columns"], index["tally"]
        self.mlpfit_version_ = index["mlpfit_version"]
        self._last = None  # (part, batch): curves are mostly asked for part by part

    def part_of(self, group):
        """The number of the part that holds curve ``group`` (if the directory has it)."""
        return part_of(group, self.n_parts_)

    def part(self, part):
        """The :class:`~mlpfit.CurveBatch` of part ``part``; None when it has no fitted curve."""
        record = self.parts_.get(part)
        if record is None or record.file is None:
            return None
        if self._last is None or self._last[0] != part:
            self._last = part, self._read_part(record)
        return self._last[1]

    def errors_of(self, part):
        """Group -> why it was not fitted, for a part without a model file (its curves all failed)."""
        record = self.parts_.get(part)
        return {} if record is None else dict(record.failed)

    def curve_estimator(self, group):
        """The fitted :class:`~mlpfit.NeuralRegressor` of curve ``group``; a ValueError saying why when there is
        none."""
        part = self.part_of(group)
        batch, errors = self.part(part), self.errors_of(part)
        if group in errors:
            raise ValueError(f"curve {group!r} was not fitted: {errors[group]}")
        if batch is None or not (group in batch.estimators_ or group in batch.errors_):
            raise ValueError(f"no curve {group!r}; the directory has {self.tally_.n_curves} curves.")
        return batch.curve_estimator(group)

    def predict(self, group, X):
        """Predictions of curve ``group`` at ``X``, as :meth:`mlpfit.CurveBatch.predict` gives them."""
        self.curve_estimator(group)  # a ValueError saying why when there is none
        return self.part(self.part_of(group)).predict(group, X)

    def worst(self, n):
        """The groups of the ``n`` fitted curves of largest training RMSE, worst first, as far as the tally names them
        (:data:`~mlpfit._curve_tally.TALLIED_CURVES`)."""
        return [group for group, _ in self.tally_.worst[:n]]

    def check_files(self):
        """Refuse, naming the first, a part file the index lists that is missing: what can be checked without
        reading the parts."""
        for record in self.parts_.values():
            if record.file is not None:
                self._check_present(record)

    def first_curve(self):
        """The fitted model of some curve: what every curve's inputs and outputs are."""
        part = next(record.part for record in self.parts_.values() if record.file is not None)
        return next(iter(self.part(part).estimators_.values()))

    def _read_part(self, record):
        """The part's batch, its file checked against the index: present, as written, its curves those of the
        part."""
        from .io import load

        path = self._check_present(record)
        if _sha256(path) != record.sha256:
            raise ValueError(
                f"{path} is not the part the fit wrote (its SHA-256 differs from the index's): it was replaced or "
                "damaged after the fit. Fit again."
            )
        from .curves import CurveBatch  # here: describing a directory reads its index alone

        batch = load(path)
        if not isinstance(batch, CurveBatch):
            raise ValueError(f"{path} holds a {type(batch).__name__}, not a part of curves.")
        counts = len(batch.groups_), len(batch.estimators_)
        if counts != (record.n_curves, record.n_fitted):
            raise ValueError(
                f"{path} holds {counts[0]} curves, {counts[1]} fitted; the index says {record.n_curves} and "
                f"{record.n_fitted}."
            )
        stray = next((group for group in batch.groups_ if self.part_of(group) != record.part), None)
        if stray is not None:
            raise ValueError(f"{path} holds curve {stray!r}, which belongs in part {self.part_of(stray)}.")
        return batch

    def _check_present(self, record):
        """The path of the part's file; a ValueError naming it when it is missing."""
        path = os.path.join(self.path, record.file)
        if not os.path.isfile(path):
            raise ValueError(
                f"{path} is missing: the index lists it as part {record.part} ({record.n_curves} curves); the "
                "directory was changed after the fit. Fit again."
            )
        return path


GROUP = Rule(lambda v: isinstance(v, str) or is_int(v), "a string or an integer")


def _read_index(path):
    """The index at ``path``, every field checked; a ValueError naming the file and the field otherwise."""
    directory = os.path.dirname(path)
    if not os.path.isfile(path):
        raise ValueError(
            f"{directory} has no index {INDEX_NAME}: it is not a directory of curves, or its fit did not finish."
        )
    if os.path.getsize(path) > MAX_INDEX_BYTES:
        raise ValueError(f"{path} is larger than the {MAX_INDEX_BYTES} bytes an index may be.")
    try:
        with open(path, encoding="utf-8") as file:
            index = json.load(file)
        if not isinstance(index, dict) or index.get("format") != FORMAT_NAME:
            raise ValueError(f"its format is not {FORMAT_NAME!r}.")
        version = field(index, "format_version", POSITIVE_COUNT)
        if version != FORMAT_VERSION:
            raise ValueError(f"format_version {version}; this mlpfit reads version {FORMAT_VERSION}.")
        n_parts = field(index, "n_parts", POSITIVE_COUNT)
        parts = [_record(node, n_parts) for node in require(index, "parts", list)]
        if len({record.part for record in parts}) != len(parts):
            raise ValueError("a part is listed twice.")
        return {
            "mlpfit_version": field(index, "mlpfit_version", TEXT),
            "n_parts": n_parts,
            "parts": {record.part: record for record in parts},
            "columns": _columns(require(index, "columns", object)),
            "tally": _tally(require(index, "tally", dict), parts),
        }
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a valid index of curves: {error}") from None


def _record(node, n_parts):
    if not isinstance(node, dict) or set(node) != {*PartRecord.__dataclass_fields__}:
        raise ValueError(f"a part record must have exactly {', '.join(PartRecord.__dataclass_fields__)}.")
    part = field(node, "part", Rule(lambda v: is_int(v) and 0 <= v < n_parts, f"an integer in [0, {n_parts})"))
    n_curves = field(node, "n_curves", POSITIVE_COUNT)
    n_fitted = field(node, "n_fitted", Rule(lambda v: is_int(v) and 0 <= v <= n_curves, f"0 to {n_curves}"))
    if n_fitted:
        file = field(node, "file", Rule(lambda v: v == part_file(part), repr(part_file(part))))
        sha256 = field(node, "sha256", Rule(lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{64}", v), "hex"))
        return PartRecord(part, file, sha256, n_curves, n_fitted, _pairs(node, "failed", 0, TEXT))
    for name in ("file", "sha256"):
        field(node, name, Rule(lambda v: v is None, "null for a part without a fitted curve"))
    return PartRecord(part, None, None, n_curves, 0, _pairs(node, "failed", n_curves, TEXT))


def _pairs(node, key, length, second):
    """``node[key]``: ``length`` (or at most ``length`` when negative) pairs of a group and a ``second``."""
    pairs = field(node, key, Rule(lambda v: isinstance(v, list), "a list"))
    if (len(pairs) != length) if length >= 0 else len(pairs) > -length:
        raise ValueError(f"field {key!r} must hold {abs(length)} pairs; got {len(pairs)}.")
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and GROUP.test(pair[0]) and second.test(pair[1])):
            raise ValueError(f"field {key!r} must hold pairs of a group and {second.allowed}; got {shown(pair)}.")
    return tuple(map(tuple, pairs))


def _columns(value):
    if value is None:
        return None
    return {"x": field(value, "x", TEXTS), "y": field(value, "y", TEXTS), "group": field(value, "group", TEXT)}


def _tally(node, parts):
    """The saved :class:`~mlpfit.CurveTally`; its counts must be the parts' sums."""
    counts = {name: field(node, name, COUNT) for name in ("n_curves", "n_fitted", "n_rows", "n_with_findings")}
    if (counts["n_curves"], counts["n_fitted"]) != (sum(r.n_curves for r in parts), sum(r.n_fitted for r in parts)):
        raise ValueError("the tally's curves and fitted curves are not the parts' sums.")
    tallied = Rule(lambda v: isinstance(v, dict) and all(map(is_int, v.values())), "an object of counts")
    rmse = Rule(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number")
    return CurveTally(
        **counts,
        stop_reasons=field(node, "stop_reasons", tallied),
        diagnosis=field(node, "diagnosis", tallied),
        failed=_pairs(node, "failed", -TALLIED_CURVES, TEXT),
        worst=_pairs(node, "worst", -TALLIED_CURVES, rmse),
        diagnosed=field(node, "diagnosed", FLAG),
    )
