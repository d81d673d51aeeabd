"""Atomic file writes: a reader sees the old file or the complete new one, never half of one."""

import os
import tempfile
from contextlib import contextmanager


def _default_mode():
    """Permissions an ordinary ``open`` would give a new file (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_write(path, mode="wb"):
    """Yield a temporary file beside ``path``; it replaces ``path`` on success and is removed on failure.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. Its directory must exist.
    mode : {"wb", "w"}
        Binary or text (text files are written with ``newline=""``, as the csv module wants).
    """
    path = os.fspath(path)
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".mlpfit-", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": "", "encoding": "utf-8"})) as file:
            yield file
        os.chmod(temporary, _default_mode())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
