"""Input files: folders walked for the files a reader takes, and short unique labels."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PARQUET_SUFFIXES", "expand_paths", "file_labels"]

#: Name endings of (Geo)Parquet files, whoever reads them (site layers, fixes, tables).
PARQUET_SUFFIXES = (".parquet", ".geoparquet")


def expand_paths(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], suffixes: Iterable[str]
) -> list[Path]:
    """List the files to read: given files as they are, folders walked for ``suffixes``.

    Hidden files and folders inside a walked folder are left out; a file named twice is
    listed once, where it first appears.
    """
    wanted = tuple(s.lower() for s in suffixes)
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            walked = (
                p
                for p in item.rglob("*")
                if p.suffix.lower() in wanted
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(item).parts)
            )
            found.extend(sorted(walked))
        else:
            found.append(item)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.absolute(), path)
    return list(unique.values())


def file_labels(files: list[Path]) -> list[str]:
    """File names, with parent folders added where two files share a name.

    >>> file_labels([Path("a/x.csv"), Path("b/x.csv"), Path("b/y.csv")])
    ['a/x.csv', 'b/x.csv', 'y.csv']
    """
    parts = [path.absolute().parts for path in files]
    depth = [1] * len(files)
    while True:
        labels = ["/".join(p[-d:]) for p, d in zip(parts, depth, strict=True)]
        count = Counter(labels)
        clash = [
            i for i, label in enumerate(labels) if count[label] > 1 and depth[i] < len(parts[i])
        ]
        if not clash:
            return labels
        for i in clash:
            depth[i] += 1
