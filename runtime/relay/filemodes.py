"""Owner-only files for what the relay keeps on disk.

The store holds customers' names, emails and addresses and the data directory may hold the signing
secret, so neither may be readable by other local users whatever the umask: directories are made
0700 and files 0600, and a start on files that others can already read says so.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) so that only the owner can enter the directories made."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(directory, PRIVATE_DIR)  # mkdir's mode is filtered by the umask; chmod is not


def private_file(path: Path) -> None:
    """Create ``path`` empty if it is missing, owner read/write only, before anyone writes to it.

    SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so a database
    created here keeps all three private.
    """
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))  # a umask only removes bits


def exposed(paths: list[Path]) -> list[str]:
    """Describe each existing path that users other than its owner can read, write or enter."""
    found: list[str] = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & _OTHERS:
            found.append(f"{path} (mode {mode:04o})")
    return found


def data_paths(db_path: Path) -> list[Path]:
    """The store, its WAL files, its directory and every file beside it (the dev secret lives there)."""
    directory = db_path.parent
    paths = [directory, db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
    with contextlib.suppress(OSError):
        paths += sorted(p for p in directory.iterdir() if p.is_file() and p not in paths)
    return paths
