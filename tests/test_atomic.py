"""Atomic writes: permissions and symlinks kept, data fsync'd, temporaries recognisable and cleaned after a kill."""

import os
import signal
import subprocess
import sys

from mlpfit import _atomic
from mlpfit._atomic import TEMPORARY_SUFFIX, atomic_write


def write(path, data):
    with atomic_write(path) as file:
        file.write(data)


def test_an_overwritten_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    path.chmod(0o600)
    write(path, b"new")
    assert path.read_bytes() == b"new" and (path.stat().st_mode & 0o777) == 0o600


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real.npz").write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to("real.npz")
    write(link, b"new")
    assert link.is_symlink() and (tmp_path / "real.npz").read_bytes() == b"new"


def test_the_data_and_the_rename_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(_atomic.os, "fsync", lambda fd: synced.append(os.fstat(fd).st_mode) or real_fsync(fd))
    write(tmp_path / "m.npz", b"data")
    assert len(synced) == 2  # the temporary file, then its directory


KILLED_WRITER = """
import sys, time
from mlpfit._atomic import atomic_write
with atomic_write(sys.argv[1]) as file:
    file.write(b"half")
    file.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


def test_a_killed_write_leaves_a_recognisable_temporary_that_the_next_write_removes(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE)
    assert child.stdout.readline() == b"writing\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    left = sorted(name for name in os.listdir(tmp_path) if name != "m.npz")
    assert len(left) == 1 and left[0].startswith(f".m.npz.{child.pid}.") and left[0].endswith(TEMPORARY_SUFFIX)
    assert path.read_bytes() == b"old"
    write(path, b"new")
    assert os.listdir(tmp_path) == ["m.npz"] and path.read_bytes() == b"new"


def test_a_running_writers_temporary_is_left_alone(tmp_path):
    mine = tmp_path / f".m.npz.{os.getpid()}.abcdefgh{TEMPORARY_SUFFIX}"
    mine.write_bytes(b"in progress")
    write(tmp_path / "m.npz", b"new")
    assert mine.exists()


def test_text_mode_writes_utf8(tmp_path):
    with atomic_write(tmp_path / "p.csv", "w") as file:
        file.write("é\n")
    assert (tmp_path / "p.csv").read_bytes() == "é\n".encode()
