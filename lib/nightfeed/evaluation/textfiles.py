"""A data file as text, as public data sets ship it: gzip, bzip2, xz or a one-file zip; UTF-8 with
or without a byte-order mark, else latin-1; any line ends."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

from nightfeed.core.errors import NightfeedError

_DECOMPRESS = {b"\x1f\x8b": gzip.decompress, b"BZh": bz2.decompress, b"\xfd7zXZ\x00": lzma.decompress}


def read_text(path: Path) -> str:
    """The file as text: decompressed, UTF-8 (a byte-order mark dropped) or else latin-1, and
    every line end as \\n. Only \\n, \\r\\n and \\r end a line: str.splitlines would also
    split inside fields at \\x85 or \\u2028."""
    data = _decompressed(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decompressed(path: Path) -> bytes:
    """The file's bytes, decompressed when they start with a gzip, bzip2, xz or zip signature."""
    data = path.read_bytes()
    try:
        for magic, decompress in _DECOMPRESS.items():
            if data.startswith(magic):
                return decompress(data)
        if data.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as archive:
                files = [i for i in archive.infolist() if not i.is_dir()]
                if len(files) != 1:
                    names = ", ".join(i.filename for i in files[:10])
                    raise NightfeedError(
                        f"{path}: a zip of {len(files)} files ({names}); extract the one to read"
                    )
                return archive.read(files[0])
    except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise NightfeedError(f"{path}: cannot decompress: {exc}") from None
    return data
