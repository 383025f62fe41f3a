"""A large track file streamed in pieces of fixes, and the exact sum of its pieces.

A track file too large for one batch is read once
(:func:`geoexpose.tracks.read_track_pieces`: cleaned and cut into flights on the
whole file) and given to the engine as batches of about ``piece_fixes`` fixes
(:class:`PiecedFile`). A flight may run over several pieces; a piece then begins
with the last fix of the piece before, so the segment between them is measured
once, in the later piece. The pieces add up to the answer of one batch:

- pairs: that repeated fix's own counts (``n_fixes`` of the sites it lies in) are
  taken off again by a row of negative counts (:func:`repeated_fix_pairs`), which
  the merge of batches (:func:`geoexpose.scale._merge.combine_pairs`) sums;
- the recording-gap limit of each flight is the whole flight's
  (:attr:`geoexpose.tracks.TrackPiece.gap_limits`), not the piece's;
- flight lines (:func:`merge_flight_rows`): counts and lengths summed, times and
  heights by minimum and maximum, the lines joined where the segment between two
  pieces counts (each piece's line simplified on its own, so the joined line may
  keep a vertex more than one simplification of the whole);
- flight summaries for copies in other files (:func:`merge_spans`): spans joined;
- fixes near captures: each piece looks at its neighbours in time
  (:attr:`~geoexpose.tracks.TrackPiece.context`) and keeps its own fixes only;
- photo triggers: a flag rising on the repeated fix is the piece before's; the
  file's photos are numbered again in time order (:func:`renumber_triggers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.exposure import PreparedSites, fix_pairs
from geoexpose.scale._copies import flight_spans
from geoexpose.schema import (
    ALT_REF,
    BEST_GSD_CM,
    CAPTURE_ID,
    CRS_LONLAT,
    DRONE_ID,
    DURATION_S,
    DWELL_S,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    IDENTITY_COLUMNS,
    LAST_SEEN_UTC,
    LAT,
    LENGTH_M,
    LON,
    MAX_AGL_M,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    SOURCE,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks import (
    FixArrays,
    TrackPiece,
    fix_lonlat,
    read_track_pieces,
    read_trigger_poses,
)

__all__ = [
    "Loaded",
    "PieceBatch",
    "PieceMark",
    "PiecedFile",
    "merge_flight_rows",
    "merge_spans",
    "near_of_piece",
    "renumber_triggers",
    "repeated_fix_pairs",
]


@dataclass
class Loaded:
    """The fixes of a batch, the file entries of the reader, and photo triggers.

    Track files read with ``duplicates="drop"`` also give ``spans``, a summary of
    each flight read (before copies were dropped), and ``kept``, the fixes kept
    of each file. A piece of a file (:class:`PieceBatch`) gives ``piece``.
    """

    fixes: pd.DataFrame
    files: list[dict[str, Any]] = field(default_factory=list)
    triggers: pd.DataFrame | None = None
    spans: pd.DataFrame | None = None
    kept: dict[str, int] = field(default_factory=dict)
    piece: TrackPiece | None = None


@dataclass(frozen=True)
class PieceMark:
    """What the sum of the pieces needs to know of one piece's results."""

    path: str
    label: str
    number: int
    continued: tuple[str, ...]  # flights whose first fix repeats the piece before's last
    joined: tuple[str, ...]  # of those, the ones whose segment between the pieces counts


@dataclass(frozen=True)
class PieceBatch:
    """One piece of a large track file, loaded where it is worked on."""

    piece: TrackPiece
    triggers: bool
    spans: bool
    group: int
    number: int

    def load(self) -> Loaded:
        """Make the piece's table of fixes (and its triggers and flight summaries)."""
        piece = self.piece
        fixes = piece.fixes()
        entries = fixes.attrs["geoexpose"]["files"]
        triggers = None
        if self.triggers:
            triggers = read_trigger_poses([piece.path], fixes=fixes)
            triggers = _not_repeated(triggers, fixes, piece.continued)
        fixes.attrs = {}
        spans = None
        if self.spans:
            spans = flight_spans(fixes).assign(group=self.group, batch=self.number)
        kept = {piece.path: piece.n_fixes} if piece.n_fixes else {}
        light = replace(piece, rows=piece.rows.iloc[:0])  # the rows are in ``fixes`` now
        return Loaded(fixes, entries, triggers, spans, kept, light)


@dataclass(frozen=True)
class PiecedFile:
    """A track file read once and given out as :class:`PieceBatch` es."""

    path: str
    label: str
    source: Any  # the TrackFiles it belongs to
    group: int
    number: int
    piece_fixes: int
    max_gap_s: float
    gap_factor: float
    context_s: float
    progress: bool = False

    def batches(self) -> Iterator[PieceBatch]:
        """Read the file and give its pieces, one at a time."""
        s = self.source
        pieces = read_track_pieces(
            self.path,
            label=self.label,
            piece_fixes=self.piece_fixes,
            format=s.format,
            time_zone=s.time_zone,
            split_gap_s=s.split_gap_s,
            strict=s.strict,
            max_gap_s=self.max_gap_s,
            gap_factor=self.gap_factor,
            context_s=self.context_s,
            progress=self.progress,
        )
        drop = s.duplicates == "drop"
        for piece in pieces:
            yield PieceBatch(piece, s.triggers, drop, self.group, self.number)


def _not_repeated(triggers: pd.DataFrame, fixes: pd.DataFrame, continued) -> pd.DataFrame:
    """Drop the photos a piece finds on its repeated first fix (the piece before's)."""
    if not len(triggers) or not continued:
        return triggers
    ids = fixes[FLIGHT_ID].astype(str)
    first = fixes[TIME_UTC][ids.isin(continued)].groupby(ids[ids.isin(continued)]).min()
    at = triggers[FLIGHT_ID].astype(str).map(first)
    repeated = triggers[TIME_UTC].to_numpy() == at.to_numpy()
    return triggers[~np.asarray(repeated, dtype=bool)].reset_index(drop=True)


def repeated_fix_pairs(
    sites: PreparedSites, a: FixArrays, continued: tuple[str, ...]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Pairs that take off the counts of the first fix of ``continued`` flights again.

    Returns the pairs (``n_fixes`` negative, nothing else counted) and the flights
    whose first segment here (from the repeated fix) counts.
    """
    names = np.asarray(a.names).astype(str)
    codes = np.flatnonzero(np.isin(names, list(continued)))
    first = np.searchsorted(a.codes, codes, side="left")
    none = np.zeros(len(first), dtype=bool)
    one = FixArrays(
        order=first,
        codes=a.codes[first],
        names=a.names,
        t_ns=a.t_ns[first],
        xy=a.xy[first],
        alt=a.alt[first],
        seg_ok=none,
        dt=np.zeros(len(first)),
    )
    pairs = fix_pairs(sites, one)
    pairs[N_FIXES] = -pairs[N_FIXES]
    pairs[DWELL_S] = 0.0
    pairs[N_CAPTURES] = 0
    for col in (MIN_DISTANCE_M, MIN_AGL_M, BEST_GSD_CM):
        pairs[col] = np.nan
    for col in (FIRST_SEEN_UTC, LAST_SEEN_UTC):
        pairs[col] = pd.Series(pd.NaT, index=pairs.index, dtype=TIME_DTYPE)
    joined = tuple(names[codes[a.seg_ok[first]]].tolist())
    return pairs, joined


def near_of_piece(windows: Any, fixes: pd.DataFrame, piece: TrackPiece) -> pd.DataFrame:
    """Return the fixes near captures (``windows.near``) that are the piece's own.

    The piece's neighbours in time are looked at with it, so a window that runs over
    the edge of the piece keeps the fixes it keeps in one batch.
    """
    xy = fix_lonlat(fixes)
    plain = pd.DataFrame(
        {FLIGHT_ID: fixes[FLIGHT_ID].astype(str).to_numpy(dtype=object),
         TIME_UTC: fixes[TIME_UTC].to_numpy(), LON: xy[:, 0], LAT: xy[:, 1]}
    )  # fmt: skip
    plain[TIME_UTC] = pd.to_datetime(plain[TIME_UTC], utc=True).astype(TIME_DTYPE)
    others = [piece.context] if piece.context is not None and len(piece.context) else []
    if piece.continued:
        ids = plain[FLIGHT_ID]
        repeated = plain[ids.isin(piece.continued)].groupby(FLIGHT_ID, sort=False).head(1)
        others.append(repeated)
    near = windows.near(pd.concat([plain, *others], ignore_index=True))
    if not others or not len(near):
        return near
    skip = pd.concat(others, ignore_index=True)
    key = pd.MultiIndex.from_frame(near[[FLIGHT_ID, TIME_UTC]])
    theirs = pd.MultiIndex.from_frame(skip[[FLIGHT_ID, TIME_UTC]])
    return near[~key.isin(theirs)].reset_index(drop=True)


def merge_flight_rows(
    frames: list[gpd.GeoDataFrame], marks: list[PieceMark | None]
) -> list[gpd.GeoDataFrame]:
    """Join the rows of flights that several pieces hold (see module notes)."""
    pieced = [i for i, m in enumerate(marks) if m is not None and len(frames[i])]
    if not pieced:
        return frames
    rows = pd.concat(
        [frames[i].assign(_piece=marks[i].number) for i in pieced],  # type: ignore[union-attr]
        ignore_index=True,
    )
    twice = rows[FLIGHT_ID].duplicated(keep=False).to_numpy()
    if not twice.any():
        return frames
    joined = {f for i in pieced for f in marks[i].joined}  # type: ignore[union-attr]
    split = rows[twice].sort_values([FLIGHT_ID, "_piece"], kind="stable")
    merged = [_merge_flight(part, fid in joined) for fid, part in split.groupby(FLIGHT_ID)]
    again = set(split[FLIGHT_ID])
    out = [f[~f[FLIGHT_ID].isin(again)] for f in frames]
    columns = list(frames[pieced[0]].columns)
    out.append(gpd.GeoDataFrame(pd.DataFrame(merged)[columns], geometry="geometry", crs=CRS_LONLAT))
    return out


def _merge_flight(part: pd.DataFrame, joined: bool) -> dict[str, Any]:
    """One flight's row from its rows in several pieces (in piece order)."""
    lines: list[Any] = []
    for k, geom in enumerate(part.geometry.to_numpy()):  # a loop over a flight's pieces
        mine = list(shapely.get_parts(geom)) if geom is not None and not geom.is_empty else []
        if k and joined and lines and mine:
            tail, head = shapely.get_coordinates(lines[-1]), shapely.get_coordinates(mine[0])
            if np.array_equal(tail[-1], head[0]):
                lines[-1] = shapely.linestrings(np.vstack([tail, head[1:]]))
                mine = mine[1:]
        lines += mine
    first, last = part[FIRST_SEEN_UTC].min(), part[LAST_SEEN_UTC].max()
    refs = part[ALT_REF]
    ref = None if refs.isna().any() else (refs.iloc[0] if (refs == refs.iloc[0]).all() else "mixed")
    return {
        FLIGHT_ID: part[FLIGHT_ID].iloc[0],
        SOURCE: part[SOURCE].iloc[0],
        N_FIXES: int(part[N_FIXES].sum()),
        FIRST_SEEN_UTC: first,
        LAST_SEEN_UTC: last,
        DURATION_S: (last - first).total_seconds(),
        LENGTH_M: float(part[LENGTH_M].sum()),
        MAX_AGL_M: np.fmax.reduce(part[MAX_AGL_M].to_numpy("float64")),
        ALT_REF: ref,
        "geometry": shapely.multilinestrings(lines) if lines else part.geometry.iloc[0],
        **{c: next(iter(part[c].dropna()), None) for c in IDENTITY_COLUMNS if c in part},
    }


def merge_spans(spans: pd.DataFrame) -> pd.DataFrame:
    """One flight summary per flight of a file read in pieces (the others as they are)."""
    if not len(spans):
        return spans
    key = [FLIGHT_ID, "group"]
    twice = spans.duplicated(key, keep=False).to_numpy()
    if not twice.any():
        return spans
    how = {SOURCE: "first", "t0_ns": "min", "t1_ns": "max", DRONE_ID: "first"}
    how.update({"lon_min": "min", "lat_min": "min", "lon_max": "max", "lat_max": "max"})
    how["batch"] = "first"
    merged = spans[twice].groupby(key, sort=False).agg(how).reset_index()
    return pd.concat([spans[~twice], merged[spans.columns]], ignore_index=True)


def renumber_triggers(triggers: list[pd.DataFrame], labels: dict[str, str]) -> list[pd.DataFrame]:
    """Give the photos of files read in pieces their numbers of one reading (by time).

    ``labels``: the label of each such file by path (photo ids ``"<label>#photo<n>"``).
    """
    paths = set(labels)
    if not paths or not triggers:
        return triggers
    every = pd.concat(triggers, ignore_index=True)
    mine = every["path"].astype(str).isin(paths).to_numpy()
    if not mine.any():
        return triggers
    rest, own = every[~mine], every[mine].sort_values(["path", TIME_UTC], kind="stable")
    label = own["path"].astype(str).map(labels)
    number = own.groupby("path", sort=False).cumcount() + 1
    own = own.assign(**{CAPTURE_ID: (label + "#photo" + number.astype(str)).to_numpy()})
    return [frame for frame in (rest, own) if len(frame)]
