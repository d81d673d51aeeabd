"""SHA-256 of a file, read in blocks: what ties a report to its model file and a test split to its data file."""

import hashlib

BLOCK_BYTES = 1 << 20


def file_sha256(path):
    """The SHA-256 of the file at ``path``, as 64 lowercase hexadecimal digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()
