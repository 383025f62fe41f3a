"""Write outputs atomically: one file under a temporary name, or a folder as one transaction.

:func:`atomic_path` writes one file beside its target and renames it into place.
:func:`output_folder` writes a whole set of outputs as one transaction:

1. A lock (``.geoexpose.lock``, held with ``flock``) keeps a second writer out; it
   fails at once with a one-line message. The kernel drops the lock of a killed
   process, so a stale lock never blocks.
2. Leftovers of a killed run (``.geoexpose-stage-*`` folders, ``.<name>.XXXXXXXX.<ext>``
   temporary files of the outputs) are removed; never through a symbolic link.
3. The files are written into a hidden staging folder beside them
   (``.geoexpose-stage-<random>``, on the same file system); on an error it is
   removed and the folder is left as it was.
4. On success the previous complete file (``last``: ``summary.json``) is removed
   first, so that the folder is visibly incomplete while files move; the manifest
   (``.geoexpose-manifest.json``: each file's size and SHA-256) records both runs;
   each file is renamed into place; the files of the previous run that this one no
   longer writes are removed, but only those its manifest lists and that still match
   it (a file someone else wrote or changed stays); the manifest is rewritten and
   ``last`` moved in at the very end.

So a folder with ``summary.json`` holds one complete run, and a folder without it
was interrupted. Nothing is written or removed through a symbolic link: a linked
sub-folder is refused, a linked file is replaced by the new file (the link itself).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "LOCK_FILE",
    "MANIFEST_FILE",
    "STAGE_PREFIX",
    "atomic_path",
    "check_targets",
    "file_digest",
    "listed_files",
    "output_folder",
    "write_text_atomic",
]

#: The manifest of an output folder: every file geoexpose wrote there, with its size
#: and SHA-256 (``{"complete": bool, "files": {relative path: [{"size", "sha256"}]}}``).
MANIFEST_FILE = ".geoexpose-manifest.json"
#: The lock file of a folder being written (removed when the writer is done).
LOCK_FILE = ".geoexpose.lock"
#: The name of a staging folder starts with this.
STAGE_PREFIX = ".geoexpose-stage-"
_TEMP = "[a-z0-9_]{8}"  # the random part of tempfile's names
_STAGES: set[str] = set()  # staging folders open in this process (nested writes go straight in)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On any error the temporary file is removed and an existing ``path`` is left as
    it was. The file keeps the permissions of the file it replaces (0644 for a new
    one). A symbolic link at ``path`` is replaced, never written through.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.is_file() and not path.is_symlink() else 0o644
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write text (UTF-8, Unix newlines) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def file_digest(path: Path) -> dict[str, Any]:
    """Return the size and SHA-256 of a file, as the manifest records them."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": h.hexdigest()}


def _read_manifest(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Return what the folder's manifest lists (empty when missing or unreadable)."""
    path = folder / MANIFEST_FILE
    if path.is_symlink() or not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        files = info["files"]
        listed = {str(k): [dict(e) for e in v] for k, v in files.items() if isinstance(v, list)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {rel: entries for rel, entries in listed.items() if _inside(rel)}


def _inside(rel: str) -> bool:
    """Whether a manifest's path stays inside the folder (no ``..``, not absolute)."""
    parts = rel.split("/")
    return "\\" not in rel and ":" not in rel and all(p not in ("", ".", "..") for p in parts)


def listed_files(folder: str | os.PathLike[str]) -> set[str]:
    """Return the relative paths (``/``-separated) the folder's manifest lists."""
    return set(_read_manifest(Path(folder)))


def _linked(folder: Path, rel: str) -> Path | None:
    """Return the first symbolic link on the way from ``folder`` to ``rel`` (or None)."""
    here = folder
    for part in rel.split("/")[:-1]:
        here = here / part
        if here.is_symlink():
            return here
    return None


def _regular(path: Path) -> bool:
    """Whether ``path`` is a regular file, not a link."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _inventory(stage: Path) -> dict[str, dict[str, Any]]:
    """Return every regular file under ``stage`` (relative path: size and SHA-256)."""
    out = {}
    for root, dirs, files in os.walk(stage):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if _regular(path):
                out[path.relative_to(stage).as_posix()] = file_digest(path)
    return out


class _Lock:
    """An exclusive, non-blocking lock on ``folder/.geoexpose.lock``."""

    def __init__(self, folder: Path, error: type[Exception]) -> None:
        self.path = folder / LOCK_FILE
        if self.path.is_symlink():
            raise error(f"{self.path}: a symbolic link; remove it")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        for _ in range(3):
            fd = os.open(self.path, flags, 0o644)
            if not _try_lock(fd):
                holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise error(
                    f"{folder}: another geoexpose (pid {holder}) is writing this folder; "
                    "wait for it to finish or choose another output folder"
                )
            try:  # the file may have been removed by a writer that just finished
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode("ascii"))
                self.fd = fd
                return
            os.close(fd)
        raise error(f"{folder}: could not lock the folder; try again")

    def release(self) -> None:
        """Remove the lock file and let go of the lock."""
        if sys.platform != "win32":
            self.path.unlink(missing_ok=True)
        os.close(self.fd)  # closing the descriptor releases the lock


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False if another holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _clean_leftovers(folder: Path, scope: Collection[str]) -> None:
    """Remove the staging folders and temporary files a killed writer left behind."""
    names = [Path(n) for n in [*scope, MANIFEST_FILE] if Path(n).suffix and "/" not in n]
    temps = [
        re.compile(rf"^\.{re.escape(n.stem)}\.{_TEMP}{re.escape(n.suffix)}(-journal|-wal|-shm)?$")
        for n in names
    ]
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(STAGE_PREFIX) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)  # rmtree follows no link
            elif entry.is_file(follow_symlinks=False) and any(t.match(entry.name) for t in temps):
                os.unlink(entry.path)


def check_targets(
    folder: Path, names: Collection[str], *, overwrite: bool, error: type[Exception]
) -> None:
    """Refuse existing outputs (unless ``overwrite``) and linked output folders."""
    for name in names:
        path = folder / name
        if not os.path.lexists(path):
            continue
        if not overwrite:
            raise error(f"{path}: exists; pass --overwrite (overwrite=True)")
        if path.is_symlink() and path.is_dir():
            raise error(
                f"{path}: a symbolic link to a folder; geoexpose writes and removes nothing "
                "through links: remove the link or choose another output folder"
            )


@contextlib.contextmanager
def output_folder(
    folder: str | os.PathLike[str],
    *,
    scope: Collection[str] | None = None,
    check: Collection[str] | None = None,
    overwrite: bool = False,
    last: str | None = None,
    error: type[Exception] = FileExistsError,
) -> Iterator[Path]:
    """Write a set of outputs into ``folder`` as one transaction (see the module's docstring).

    Parameters
    ----------
    folder
        The output folder; made if needed.
    scope
        The names (files or folders, relative, ``/``-separated) this write owns: the
        files the previous manifest lists under them are replaced or removed; None:
        all of them. Other files of the folder are left alone.
    check
        Names whose presence is an error unless ``overwrite`` (default: ``scope``).
    overwrite
        Replace existing outputs.
    last
        The file moved into place last (``summary.json``): its presence marks a
        complete folder.
    error
        The exception raised for a refusal (an existing output, a linked folder,
        another writer).

    Yields
    ------
    Path
        The staging folder to write the files into; ``folder`` itself when the call
        is nested inside another transaction's staging folder.
    """
    folder = Path(folder)
    if str(folder.absolute()) in _STAGES:
        yield folder  # a writer called by another writer: its transaction is enough
        return
    folder.mkdir(parents=True, exist_ok=True)
    lock = _Lock(folder, error)
    try:
        _clean_leftovers(folder, scope or ())
        refused = (scope or ()) if check is None else check
        check_targets(folder, refused, overwrite=overwrite, error=error)
        check_targets(folder, scope or (), overwrite=True, error=error)  # linked folders
        stage = Path(tempfile.mkdtemp(dir=folder, prefix=STAGE_PREFIX))
        _STAGES.add(str(stage.absolute()))
        try:
            yield stage
            _commit(folder, stage, scope, last, error)
        finally:
            _STAGES.discard(str(stage.absolute()))
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        lock.release()


def _commit(
    folder: Path, stage: Path, scope: Collection[str] | None, last: str | None,
    error: type[Exception],
) -> None:  # fmt: skip
    """Move the staged files into ``folder``, remove the stale ones, rewrite the manifest."""
    new = _inventory(stage)
    old = _read_manifest(folder)
    owned = {rel for rel in old if scope is None or any(_under(rel, s) for s in scope)}
    replaced = {rel: entries for rel, entries in old.items() if rel in owned}
    kept = {rel: entries for rel, entries in old.items() if rel not in owned}
    links = [link for rel in new if (link := _linked(folder, rel)) is not None]
    if links:
        raise error(f"{links[0]}: a symbolic link; geoexpose writes nothing through links")
    if last and last in new and os.path.lexists(folder / last):
        os.unlink(folder / last)  # from here on the folder is visibly incomplete
    during = {**kept, **replaced}
    for rel, digest in new.items():
        during[rel] = [*during.get(rel, []), digest]
    _write_manifest(folder, during, complete=False)
    for rel in new:
        if rel != last:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, folder / rel)
    for rel, entries in replaced.items():
        if rel not in new:
            _remove_if_ours(folder, rel, entries)
    _write_manifest(folder, {**kept, **{rel: [d] for rel, d in new.items()}}, complete=True)
    if last and last in new:
        os.replace(stage / last, folder / last)


def _under(rel: str, name: str) -> bool:
    """Whether the relative path ``rel`` is ``name`` or lies under it."""
    name = name.strip("/")
    return rel == name or rel.startswith(name + "/")


def _remove_if_ours(folder: Path, rel: str, entries: list[dict[str, Any]]) -> None:
    """Remove ``folder/rel`` if it is a regular file as the manifest recorded it."""
    path = folder / rel
    if _linked(folder, rel) is not None or not _regular(path):
        return
    if os.lstat(path).st_size not in {e.get("size") for e in entries}:
        return
    if file_digest(path) in [{"size": e.get("size"), "sha256": e.get("sha256")} for e in entries]:
        path.unlink()
        parent = path.parent
        while parent != folder and not parent.is_symlink():
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when empty
            parent = parent.parent


def _write_manifest(
    folder: Path, files: dict[str, list[dict[str, Any]]], *, complete: bool
) -> None:
    info = {"geoexpose_manifest": 1, "complete": complete, "files": dict(sorted(files.items()))}
    write_text_atomic(folder / MANIFEST_FILE, json.dumps(info, indent=1) + "\n")
