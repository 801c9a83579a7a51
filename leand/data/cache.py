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
import math
import mmap
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, overload

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


#: at most this many files mapped by ``_map_npy`` at once: a map holds a file descriptor until its arrays are
#: freed, so a reader that keeps many (the optimizer's day cache, a backtest of many symbols) gets reads past it
MAX_MAPS = 256
_maps: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()


def _map_npy(path: Path) -> np.ndarray:
    """An .npy file as ``_read_npy`` gives it, but its pages mapped read-only instead of copied (a page is
    read when first touched: a backtest touches a bar day's times and closes, not its other columns), while
    fewer than ``MAX_MAPS`` such maps are alive; past that, and for a header this cache's writer does not
    make, ``_read_npy``."""
    if len(_maps) < MAX_MAPS:
        with open(path, "rb") as f:
            head = f.read(10)
            if head[:8] == _NPY_MAGIC:
                n = int.from_bytes(head[8:10], "little")
                m = _NPY_HEADER.fullmatch(f.read(n))
                if m is not None:
                    shape = tuple(int(x) for x in m.group(2).split(b",") if x.strip())
                    dtype = np.dtype(m.group(1).decode())
                    count = math.prod(shape)
                    size = os.fstat(f.fileno()).st_size
                    if size == 10 + n + count * dtype.itemsize and count:
                        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                        _maps.add(data)
                        return np.frombuffer(data, dtype, count, 10 + n).reshape(shape)
    return _read_npy(path)


def load(folder: Path, mmap: bool = True) -> dict[str, np.ndarray] | None:
    """A stored entry's columns, memory-mapped read-only: through ``np.load`` (``mmap``), else by ``_map_npy``
    (cheaper to set up, for a file that is read whole and soon dropped: bounded, past its bound read into
    memory); None if absent or unreadable."""
    try:
        names = (folder / "columns").read_text().split()
        if not mmap:
            return {n: _map_npy(folder / f"{n}.npy") for n in names}
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


Blocks = Callable[[], Iterable[dict[str, np.ndarray]]]


def _entry_folder(path: Path, variant: str) -> Path | None:
    """Where ``path`` decoded as ``variant`` is stored; None when caching is off or the file cannot be stat'ed."""
    root = cache_dir()
    key = entry_key(path, variant) if root is not None else None
    return None if root is None or key is None else root / key[:2] / key


def columns(path: Path, variant: str, blocks: Blocks
            ) -> ColumnFiles | Iterator[dict[str, np.ndarray]] | None:
    """A file's 1-d columns to read in windows: a hit is a :class:`ColumnFiles`; a miss is decoded block by
    block straight into a new entry (:func:`store_blocks`), then read back the same way. With the cache off
    (or not writable) the decoded blocks themselves, one at a time. None when the file decodes to nothing.
    ``blocks()`` gives the file's rows in order, in blocks; it may be called twice (a failed store)."""
    folder = _entry_folder(path, variant)
    if folder is None:
        return iter(blocks())
    if folder.is_dir():
        try:
            return ColumnFiles(folder)
        except (OSError, ValueError):
            pass
    rows = store_blocks(folder, blocks())
    if rows == 0:
        return None
    if rows is not None:
        try:
            return ColumnFiles(folder)
        except (OSError, ValueError):
            pass
    return iter(blocks())


def cached_blocks(path: Path, variant: str, blocks: Blocks) -> dict[str, np.ndarray] | None:
    """Like :func:`cached` for a file decoded in blocks: a miss is written to the entry block by block and
    then memory-mapped, so decoding never holds the file's columns whole (nor twice, as concatenating the
    blocks would). With the cache off, the blocks concatenated. None when the file decodes to nothing."""
    folder = _entry_folder(path, variant)
    if folder is not None:
        if folder.is_dir():
            got = load(folder)
            if got is not None:
                return got
        rows = store_blocks(folder, blocks())
        if rows == 0:
            return None
        if rows is not None:
            got = load(folder)
            if got is not None:
                return got
    return concat_blocks(blocks())


def concat_blocks(blocks: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray] | None:
    """Blocks of columns joined into one array per column; None for no blocks."""
    parts = list(blocks)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def store_blocks(folder: Path, blocks: Iterable[dict[str, np.ndarray]]) -> int | None:
    """Write an entry from blocks of rows (each a dict of columns, the same names and dtypes in every block),
    appending each block to the column files as it comes: memory holds one block, however long the file. The
    files are byte for byte what :func:`store` writes for the concatenated columns (numpy's header leaves
    room for the row count to grow, so it is written last, in place). Returns the rows stored, 0 when there
    were no blocks (nothing stored), None when the entry could not be written (nothing left behind); an
    error raised by ``blocks`` leaves no entry and propagates."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError:
        return None
    files: dict[str, tuple[BinaryIO, dict, int]] = {}
    rows = 0
    try:
        try:
            for block in blocks:
                if not files:
                    for n, a in block.items():
                        out: BinaryIO = open(tmp / f"{n}.npy", "wb")  # noqa: SIM115 (closed in the finally)
                        header = np.lib.format.header_data_from_array_1_0(a[:0])
                        np.lib.format.write_array_header_1_0(out, header)
                        files[n] = (out, header, out.tell())
                elif block.keys() != files.keys():
                    raise ValueError(f"{folder}: a block's columns differ from the first block's")
                for n, a in block.items():
                    f, header, _ = files[n]
                    if a.dtype != np.dtype(header["descr"]) or a.shape[1:] != header["shape"][1:]:
                        raise ValueError(f"{folder}: column {n} changes dtype or shape between blocks")
                    f.write(np.ascontiguousarray(a).data)
                rows += len(next(iter(block.values()))) if block else 0
            for f, header, offset in files.values():
                header["shape"] = (rows, *header["shape"][1:])
                f.seek(0)
                np.lib.format.write_array_header_1_0(f, header)
                if f.tell() != offset:  # (numpy leaves room for 21 digits: cannot happen)
                    raise OSError(f"{folder}: the header grew")
        finally:
            for f, _, _ in files.values():
                f.close()
        if not files:
            shutil.rmtree(tmp, ignore_errors=True)
            return 0
        (tmp / "columns").write_text("\n".join(files) + "\n")
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        os.rename(tmp, folder)
    except OSError:  # another writer got there first (the folder exists), or the disk is full
        shutil.rmtree(tmp, ignore_errors=True)
        return rows if folder.is_dir() else None
    return rows


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
