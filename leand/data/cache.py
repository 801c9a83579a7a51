"""A cache of decoded data files: the second run of a backtest skips the unzip and the CSV parse.

A file's decoded columns are stored as ``.npy`` files in a folder named by a hash of the file's absolute path,
size and modification time and of how it was decoded; they come back memory-mapped (read-only), so a run
reads only the pages it touches and many processes share one copy in the page cache. Writers build the
folder under a temporary name and rename it into place: a reader sees a whole entry or none, and concurrent
writers of one entry both succeed (the first rename wins, the other's copy is dropped).

Where: ``$LEAND_CACHE_DIR``, else ``$XDG_CACHE_HOME/leand``, else ``~/.cache/leand``. ``LEAND_CACHE_DIR=off``
turns it off. A changed file (size or mtime) gets a new entry; old entries are never read again and can be
deleted at any time (``rm -rf ~/.cache/leand``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import overload

import numpy as np

#: bump when the decoded layout of any cached variant changes
FORMAT = 1


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is off (or no folder can be made)."""
    env = os.environ.get("LEAND_CACHE_DIR")
    if env is not None:
        if env.strip().lower() in ("", "off", "0", "none"):
            return None
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "leand"


#: absolute, symlink-free paths of the files keyed so far (a backtest keys every day file of a run)
_resolved: dict[Path, str] = {}


def entry_key(path: Path, variant: str) -> str | None:
    """The entry name for ``path`` decoded as ``variant``: None when the file cannot be stat'ed."""
    try:
        st = path.stat()
    except OSError:
        return None
    where = _resolved.get(path)
    if where is None:
        where = _resolve(path)
        if path.is_absolute():  # a relative path resolves against the working directory of the moment
            _resolved[path] = where
    text = f"{FORMAT}|{where}|{st.st_size}|{st.st_mtime_ns}|{variant}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


#: resolved folders (a backtest keys a file per day, all in one folder)
_resolved_dirs: dict[Path, str] = {}


def _resolve(path: Path) -> str:
    """``str(path.resolve())``, resolving the folder once for all its files: only the file itself is looked
    at (one lstat) unless it is a link."""
    if not path.is_absolute() or path.name in ("", ".", "..") or os.path.islink(path):
        return str(path.resolve())
    parent = path.parent
    where = _resolved_dirs.get(parent)
    if where is None:
        where = _resolved_dirs[parent] = str(parent.resolve())
    return os.path.join(where, path.name)


_NPY_MAGIC = b"\x93NUMPY\x01\x00"
#: the header numpy's writer makes for a C-ordered array of a plain dtype
_NPY_HEADER = re.compile(rb"\{'descr': '([<>|=][a-z]\d+)', 'fortran_order': False, 'shape': \(([\d, ]*)\), \} *\n")


def _read_npy(path: Path) -> np.ndarray:
    """An .npy file read whole, as ``np.load`` reads it. The header this cache's writer makes is matched
    directly and the data read into the array (np.load parses the header with ast.literal_eval: a tenth of a
    millisecond per file, and a backtest reads one per day); any other file goes to ``np.load``."""
    with open(path, "rb") as f:
        head = f.read(10)
        if head[:8] == _NPY_MAGIC:
            header = f.read(int.from_bytes(head[8:10], "little"))
            m = _NPY_HEADER.fullmatch(header)
            if m is not None:
                shape = tuple(int(x) for x in m.group(2).split(b",") if x.strip())
                arr = np.empty(shape, np.dtype(m.group(1).decode()))
                if f.readinto(arr.reshape(-1).view(np.uint8).data) == arr.nbytes and not f.read(1):
                    return arr
    return np.load(path)


def load(folder: Path, mmap: bool = True) -> dict[str, np.ndarray] | None:
    """A stored entry's columns, memory-mapped read-only (``mmap``; else read into memory, cheaper for a file
    that is read whole and soon dropped than faulting its pages in one by one); None if absent or unreadable."""
    try:
        names = (folder / "columns").read_text().split()
        if not mmap:
            return {n: _read_npy(folder / f"{n}.npy") for n in names}
        return {n: np.asarray(np.load(folder / f"{n}.npy", mmap_mode="r")) for n in names}
    except (OSError, ValueError):
        return None


class ColumnFiles:
    """A stored entry read a window of rows at a time with plain reads (no mapping): memory holds one window,
    however long the file. ``columns`` is the order they were stored in."""

    def __init__(self, folder: Path) -> None:
        self.columns = (folder / "columns").read_text().split()
        self._layout: dict[str, tuple[Path, np.dtype, int]] = {}
        rows = None
        for n in self.columns:
            path = folder / f"{n}.npy"
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = header(f)
                if fortran or len(shape) != 1:
                    raise ValueError(f"{path}: not a 1-d column")
                self._layout[n] = (path, dtype, f.tell())
            rows = shape[0] if rows is None else rows
        self.rows = rows or 0

    def window(self, start: int, stop: int) -> dict[str, np.ndarray]:
        stop = min(stop, self.rows)
        out = {}
        for n, (path, dtype, offset) in self._layout.items():
            out[n] = np.fromfile(path, dtype=dtype, count=max(stop - start, 0), offset=offset + start * dtype.itemsize)
        return out


def columns(path: Path, variant: str, decode: Callable[[], dict[str, np.ndarray] | None]
            ) -> ColumnFiles | dict[str, np.ndarray] | None:
    """Like :func:`cached`, but a hit comes back as :class:`ColumnFiles` to read in windows (1-d columns
    only). A miss is decoded, stored, and read back the same way; with the cache off (or the store not
    writable) the decoded arrays themselves are returned."""
    root = cache_dir()
    key = entry_key(path, variant) if root is not None else None
    if root is None or key is None:
        return decode()
    folder = root / key[:2] / key
    if folder.is_dir():
        try:
            return ColumnFiles(folder)
        except (OSError, ValueError):
            pass
    cols = decode()
    if cols is None:
        return None
    store(folder, cols)
    try:
        return ColumnFiles(folder)
    except (OSError, ValueError):
        return cols


def store(folder: Path, cols: dict[str, np.ndarray]) -> None:
    """Write an entry atomically (temporary folder, then rename); a failure leaves no entry behind."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError:
        return
    try:
        for n, a in cols.items():
            np.save(tmp / f"{n}.npy", np.ascontiguousarray(a), allow_pickle=False)
        (tmp / "columns").write_text("\n".join(cols) + "\n")
        os.rename(tmp, folder)
    except OSError:  # another writer got there first (the folder exists), or the disk is full
        shutil.rmtree(tmp, ignore_errors=True)


@overload
def cached(path: Path, variant: str, decode: Callable[[], dict[str, np.ndarray]], mmap: bool = True
           ) -> dict[str, np.ndarray]: ...


@overload
def cached(path: Path, variant: str, decode: Callable[[], dict[str, np.ndarray] | None], mmap: bool = True
           ) -> dict[str, np.ndarray] | None: ...


def cached(path: Path, variant: str, decode: Callable[[], dict[str, np.ndarray] | None], mmap: bool = True
           ) -> dict[str, np.ndarray] | None:
    """``decode()``'s columns for ``path``, from the cache when an entry for this file and variant exists,
    else decoded and stored. ``decode`` must depend only on the file's bytes and ``variant``. ``mmap``: see
    :func:`load`."""
    root = cache_dir()
    key = entry_key(path, variant) if root is not None else None
    if root is None or key is None:
        return decode()
    folder = root / key[:2] / key
    if folder.is_dir():
        got = load(folder, mmap)
        if got is not None:
            return got
    cols = decode()
    if cols is not None:
        store(folder, cols)
    return cols
