"""Atomic file writes: a reader sees the old file or the complete new one, never half of one.

The new contents go to a temporary file beside the target, named ``.NAME.PID.XXXXXXXX.mlpfit.tmp``, which is
fsync'd and then renamed over the target. A write killed before the rename (SIGKILL, power loss) leaves
such a file behind; the next write to the same target removes those whose process is gone.
"""

import os
import re
import tempfile
from contextlib import contextmanager

TEMPORARY_SUFFIX = ".mlpfit.tmp"


def _default_mode():
    """Permissions an ordinary ``open`` would give a new file (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def target_of(path):
    """The file a write to ``path`` replaces: a symlink is written through, so the link itself stays."""
    return os.path.realpath(path)


@contextmanager
def atomic_write(path, mode="wb"):
    """Yield a temporary file beside ``path``; it replaces ``path`` on success and is removed on failure.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. Its directory must exist. An existing file keeps its permissions; a
        symlink keeps pointing where it did, at the new contents.
    mode : {"wb", "w"}
        Binary or text (text files are written with ``newline=""``, as the csv module wants).
    """
    target = target_of(path)
    directory, name = os.path.split(target)
    _remove_abandoned(directory, name)
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.{os.getpid()}.", suffix=TEMPORARY_SUFFIX)
    except OSError as error:  # name the user's file, not the temporary one
        raise OSError(error.errno, f"cannot write {os.fspath(path)}: {error.strerror}") from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": "", "encoding": "utf-8"})) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _mode_to_keep(target))
        os.replace(temporary, target)
        _fsync_directory(directory)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _mode_to_keep(target):
    try:
        return os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        return _default_mode()


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # the rename stays atomic; only its durability across a power loss is not promised here


def _remove_abandoned(directory, name):
    """Delete temporary files for ``name`` left by writes whose process no longer runs."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\.[^.]+{re.escape(TEMPORARY_SUFFIX)}")
    for entry in os.listdir(directory):
        match = pattern.fullmatch(entry)
        if match and not _running(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass  # another writer cleaned it first, or we may not: it stays recognisable


def _running(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # another user's process
    return True
