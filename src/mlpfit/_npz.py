"""An ``.npz`` archive read entry by entry, each ``.npy`` header checked before its data is read.

``numpy.load`` reads whatever an archive holds. A model file is read through :class:`Archive`
instead, so that a crafted entry costs no more than its caller allows: nothing is read until
asked for, an entry's declared shape and dtype are known before its data, and the data go in
chunks into an array of exactly the declared size, within a byte budget for the whole file.
"""

import os
import stat
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from functools import cached_property
from math import prod

import numpy as np

SUFFIX = ".npy"
"""What ``numpy.savez`` appends to every entry name."""
CHUNK_BYTES = 1 << 20
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    struct.error,
    ValueError,
    RuntimeError,
    OverflowError,
    tokenize.TokenError,
    SyntaxError,
    OSError,
)
"""What reading a damaged zip or ``.npy`` member raises (zipfile, and numpy's header parser, use all of these)."""


class NotAModelFile(ValueError):
    """The file is not an mlpfit model at all: not a zip archive (a CSV, an image, random bytes), or not ours."""


class Archive(Mapping):
    """The ``.npy`` entries of an open ``.npz`` file by name (``.npy`` removed), as :class:`Entry`.

    Parameters
    ----------
    path : str or os.PathLike
    budget : int
        Bytes of array data that may be read from the whole archive.
    """

    def __init__(self, path, budget):
        self.budget, self.spent, self.read_names = budget, 0, set()
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block open(); a device never ends
            raise NotAModelFile("it is not a regular file")
        self._file = open(path, "rb")  # a missing or unreadable file stays an OSError
        try:
            self.zip_file = zipfile.ZipFile(self._file)
            infos = self.zip_file.infolist()
        except READ_ERRORS as error:
            self._file.close()
            raise NotAModelFile(f"it is not a zip archive ({error})") from None
        self._entries = {}
        for info in infos:
            name = info.filename.removesuffix(SUFFIX)
            if not info.filename.endswith(SUFFIX) or name in self._entries:
                self.close()
                raise ValueError(
                    f"entry {info.filename!r} is {'repeated' if name in self._entries else 'not a .npy array'}"
                )
            self._entries[name] = Entry(self, name, info)

    def __getitem__(self, name):
        return self._entries[name]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)

    def unread(self):
        """Names of the entries whose data nobody asked for, sorted."""
        return sorted(set(self._entries) - self.read_names)

    def close(self):
        self.zip_file.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def spend(self, name, nbytes):
        """Count ``nbytes`` of entry ``name`` as read; refuse them beyond the budget."""
        if self.spent + nbytes > self.budget:
            raise ValueError(f"entry {name!r} would take the array data read past {self.budget} bytes")
        self.spent += nbytes
        self.read_names.add(name)


class Entry:
    """One ``.npy`` member: ``shape`` and ``dtype`` from its header; ``numpy.asarray(entry)`` reads its data."""

    def __init__(self, archive, name, info):
        self.archive, self.name, self._info = archive, name, info

    @cached_property
    def _header(self):
        """``(shape, fortran_order, dtype, header_bytes)``, checked against the member's stored size."""
        with self._reading() as stream:
            version = np.lib.format.read_magic(stream)
            if version not in HEADER_READERS:
                raise RuntimeError(f".npy version {version} is not supported")
            shape, fortran_order, dtype = HEADER_READERS[version](stream)
            header_bytes = stream.tell()
        if dtype.hasobject or any(n < 0 for n in shape):
            raise ValueError(f"entry {self.name!r} declares dtype {dtype} and shape {shape}; expected numbers")
        if header_bytes + prod(shape) * dtype.itemsize != self._info.file_size:
            raise ValueError(
                f"entry {self.name!r} declares shape {shape} of {dtype}, but the archive "
                f"stores {self._info.file_size} bytes for it"
            )
        return shape, fortran_order, dtype, header_bytes

    @property
    def shape(self):
        return self._header[0]

    @property
    def dtype(self):
        return self._header[2]

    def __array__(self, dtype=None, copy=None):
        shape, fortran_order, stored, header_bytes = self._header
        values = np.empty(prod(shape), dtype=stored)
        self.archive.spend(self.name, values.nbytes)
        with self._reading() as stream:
            stream.read(header_bytes)
            complete = _fill(stream, memoryview(values).cast("B"))
        if not complete:
            raise ValueError(f"entry {self.name!r} holds less or more data than its header declares")
        values = values.reshape(shape[::-1]).T if fortran_order else values.reshape(shape)
        return values if dtype is None else values.astype(dtype)

    @contextmanager
    def _reading(self):
        """The member opened; whatever zipfile or numpy raise on damage becomes a ValueError naming it."""
        try:
            with self.archive.zip_file.open(self._info) as stream:
                yield stream
        except READ_ERRORS as error:
            raise ValueError(f"entry {self.name!r} is damaged ({type(error).__name__}: {error})") from None


def _fill(stream, target):
    """Read exactly ``len(target)`` bytes into ``target``, in chunks; False when the stream is shorter or longer.

    Reading to the end makes zipfile check the member's CRC.
    """
    done = 0
    while done < len(target):
        chunk = stream.read(min(CHUNK_BYTES, len(target) - done))
        if not chunk:
            return False
        target[done : done + len(chunk)] = chunk
        done += len(chunk)
    return not stream.read(1)
