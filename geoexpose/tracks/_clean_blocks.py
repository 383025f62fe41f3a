"""Clean a file's rows block by block from a spill, deciding as :func:`clean_rows` does.

:class:`BlockCleaner` takes the reader's rows as blocks in file order (each a
:class:`~geoexpose.tracks.normalize.RawTrack` frame of some rows), keeps them in a
:class:`~geoexpose.tracks._spill.Spill`, and decides what
:func:`geoexpose.tracks.normalize.clean_rows` decides on the whole file with passes
over the blocks that carry a little state from one block to the next (the rules are
the same functions):

1. as the blocks come: the rows without a place or a time in range
   (:func:`~geoexpose.tracks.normalize.row_faults`), and the rows behind the running
   maximum of their track (carried: the last track and its maximum);
2. backwards: the rows later than a later row of their track (the minimum after,
   carried), counted per track, so ``time_ahead`` drops them where they are fewer
   than the rows behind;
3. forwards: ``duplicate_time`` and ``time_backwards`` against the running maximum;
4. forwards: GPS jumps (:func:`~geoexpose.tracks._jumps.lone_spikes`' rule on
   windows that carry the two fixes before);
5. forwards: the flights (a gap over ``split_gap_s`` or a new track), the kept rows
   written as blocks of their own with their heights emptied where absurd, each
   flight's intervals counted for its recording-gap limit and the few fixes that
   decide its height above take-off kept (:mod:`geoexpose.tracks._flight_stats`).

This holds only where the tracks follow each other in the file (a track number that
never goes down); :meth:`BlockCleaner.add` says when they do not. What stays in
memory is a block, counts per track and per flight, and the positions of the GPS
jumps (eight bytes each).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, TIME_UTC
from geoexpose.tracks._flight_stats import FlightStats
from geoexpose.tracks._jumps import spikes_of
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._time_order import running_max, running_min_after
from geoexpose.tracks.fix_arrays import GAP_FACTOR, MAX_GAP_S
from geoexpose.tracks.normalize import (
    FLIGHT_NO,
    MAX_SPEED_M_S,
    SEGMENT,
    blank_bad_heights,
    latest_time,
    nanoseconds,
    row_faults,
)

__all__ = ["BlockCleaner"]

_NONE = -1  # the track (or flight) of no row yet
_LAST = np.iinfo(np.int64).max


def _grown(counts: np.ndarray, codes: np.ndarray, weights: np.ndarray | None = None):
    """Add the counts of ``codes`` (weighted) to ``counts``, which grows as needed."""
    if not len(codes):
        return counts
    more = np.bincount(codes, weights=weights, minlength=len(counts))
    if len(more) > len(counts):
        counts = np.r_[counts, np.zeros(len(more) - len(counts), dtype=counts.dtype)]
    counts[: len(more)] += more.astype(counts.dtype)
    return counts


class BlockCleaner:
    """Clean the blocks of one file (see module notes).

    Parameters
    ----------
    spill
        Where the blocks are kept.
    split_gap_s, max_speed_m_s
        As for :func:`geoexpose.tracks.normalize.clean_rows`.
    max_gap_s, gap_factor
        The recording-gap rule (:func:`geoexpose.tracks.fix_arrays.gap_limits`).
    """

    def __init__(
        self,
        spill: Spill,
        *,
        split_gap_s: float,
        max_speed_m_s: float = MAX_SPEED_M_S,
        max_gap_s: float = MAX_GAP_S,
        gap_factor: float = GAP_FACTOR,
    ) -> None:
        self.spill = spill
        self.split_gap_s = split_gap_s
        self.max_speed_m_s = max_speed_m_s
        self.latest = latest_time()
        self.blocks = 0
        self.rows_read = 0
        self.n_placed = 0
        self.dropped: dict[str, int] = dict.fromkeys(
            ("no_fix", "null_island", "out_of_range", "time_out_of_range"), 0
        )
        self.stats = FlightStats(takeoff=False, max_gap_s=max_gap_s, gap_factor=gap_factor)
        self.in_order = True  # the tracks follow each other in the blocks so far
        self.kept_sizes: list[int] = []
        self.blanked = 0
        self._seg_value: object = None  # the last track value seen and its code
        self._seg_code = _NONE
        self._seen: set[object] = set()  # the track values met so far
        self._max = (_NONE, 0)  # (track, running maximum) of the placed rows
        self._behind = np.zeros(0, dtype=np.int64)

    # -- pass 1 -------------------------------------------------------------------
    def add(self, frame: pd.DataFrame) -> bool:
        """Keep a block of the reader's rows; False once the tracks are out of file order.

        The block is kept either way (:meth:`frames` gives them all back).
        """
        codes = self._codes(frame) if self.in_order else None
        if codes is None:
            self.in_order = False
            self.spill.put("raw", self.blocks, frame)
            self.blocks += 1
            return False
        ns = nanoseconds(frame[TIME_UTC])
        lat, lon, placed, counts = row_faults(frame, ns, self.latest)
        for key, value in counts.items():
            self.dropped[key] += value
        rows = np.flatnonzero(placed)
        v_ns, v_seg = ns[rows], codes[rows]
        if len(rows):
            values = np.r_[self._max[1], v_ns]
            group = np.r_[self._max[0], v_seg]
            run = running_max(values, group)
            behind = (group[1:] == group[:-1]) & (v_ns < run[:-1])
            self._behind = _grown(self._behind, v_seg[behind])
            self._max = (int(v_seg[-1]), int(run[-1]))
        core = {"rows": rows, "ns": v_ns, "seg": v_seg, "lon": lon[rows], "lat": lat[rows]}
        self.spill.put("core", self.blocks, core)
        self.spill.put("raw", self.blocks, frame)
        self.blocks += 1
        self.rows_read += len(frame)
        self.n_placed += len(rows)
        return True

    def _codes(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Track codes 0, 1, ... of the rows, carried over blocks (None: out of order).

        The tracks are in order where each value of ``segment`` stands in one run of
        rows (the codes are then those of
        :func:`~geoexpose.tracks.normalize.clean_rows`, in order of first appearance).
        """
        n = len(frame)
        if SEGMENT not in frame:
            self._seg_code = 0
            return np.zeros(n, dtype=np.int64)
        values = frame[SEGMENT].to_numpy()
        if not n:
            return np.zeros(0, dtype=np.int64)
        if values.dtype.kind not in "iu" and bool(pd.isna(values).any()):
            return None  # a missing track value: left to the whole reading
        last = self._seg_value
        change = np.r_[last is None or values[0] != last, values[1:] != values[:-1]]
        starts = values[change].tolist()  # the value of each run that starts here
        if len(set(starts)) < len(starts) or not self._seen.isdisjoint(starts):
            return None  # a track value comes back after another
        self._seen.update(starts)
        codes = self._seg_code + np.cumsum(change, dtype=np.int64)
        self._seg_value, self._seg_code = values[-1], int(codes[-1])
        return codes

    def frames(self) -> list[pd.DataFrame]:
        """All the reader's blocks (to read the file whole after all)."""
        return [self.spill.get("raw", i) for i in range(self.blocks)]

    # -- passes 2 to 5 ------------------------------------------------------------
    def finish(self, *, takeoff: bool = False) -> None:
        """Decide the kept rows and their flights; write the kept blocks.

        ``takeoff``: gather what decides the heights above take-off (the reader's
        ``takeoff_from`` is known once the file is read).
        """
        self.stats.takeoff = takeoff
        ahead = self._pass_ahead()
        self._pass_order(ahead)
        spikes = self._pass_jumps()
        self._pass_flights(spikes)

    def _pass_ahead(self) -> np.ndarray:
        """Count the rows ahead of a later row per track; say which tracks drop them."""
        n_ahead = np.zeros(0, dtype=np.int64)
        if self.n_placed >= 3:  # the rule of ahead_of_track
            carry = (_NONE, _LAST)
            for i in reversed(range(self.blocks)):  # a loop over blocks
                core = self.spill.get("core", i)
                v_ns, v_seg = core["ns"], core["seg"]
                if not len(v_ns):
                    continue
                after = running_min_after(np.r_[v_ns, carry[1]], np.r_[v_seg, carry[0]])[:-1]
                ahead = v_ns > after
                n_ahead = _grown(n_ahead, v_seg[ahead])
                self.spill.put("ahead", i, ahead)
                carry = (int(v_seg[0]), int(min(v_ns[0], after[0])))
        size = max(len(n_ahead), len(self._behind), self._seg_code + 1)
        n_ahead = np.r_[n_ahead, np.zeros(size - len(n_ahead), dtype=np.int64)]
        behind = np.r_[self._behind, np.zeros(size - len(self._behind), dtype=np.int64)]
        return n_ahead < behind

    def _pass_order(self, drops_ahead: np.ndarray) -> None:
        """Drop the rows ahead, repeating a time or going back (see module notes)."""
        self.dropped.update(time_ahead=0, duplicate_time=0, time_backwards=0)
        carry = (_NONE, 0)
        self.n_ordered = 0
        for i in range(self.blocks):  # a loop over blocks
            core = self.spill.get("core", i)
            v_ns, v_seg = core["ns"], core["seg"]
            stay = np.ones(len(v_ns), dtype=bool)
            if self.n_placed >= 3 and len(v_ns):
                ahead = self.spill.get("ahead", i) & drops_ahead[v_seg]
                self.spill.drop("ahead", i)
                self.dropped["time_ahead"] += int(ahead.sum())
                stay &= ~ahead
            r_ns, r_seg = v_ns[stay], v_seg[stay]
            good = np.zeros(len(r_ns), dtype=bool)
            if len(r_ns):
                group = np.r_[carry[0], r_seg]
                run = running_max(np.r_[carry[1], r_ns], group)
                later = group[1:] == group[:-1]  # not the first of its track
                duplicate = later & (r_ns == run[:-1])
                backwards = later & (r_ns < run[:-1])
                self.dropped["duplicate_time"] += int(duplicate.sum())
                self.dropped["time_backwards"] += int(backwards.sum())
                good = ~(duplicate | backwards)
                carry = (int(r_seg[-1]), int(run[-1]))
            picked = np.flatnonzero(stay)[good]  # of the placed rows of the block
            self.spill.put("ordered", i, picked)
            self.n_ordered += len(picked)

    def _pass_jumps(self) -> np.ndarray:
        """Return the numbers (in the sequence of ordered rows) of the GPS jumps."""
        found: list[np.ndarray] = []
        if self.n_ordered < 3 or not np.isfinite(self.max_speed_m_s):
            return np.zeros(0, dtype=np.int64)
        keys = ("lon", "lat", "ns", "seg")
        carry = {k: np.zeros(0, dtype="int64" if k in ("ns", "seg") else "float64") for k in keys}
        carry["at"] = np.zeros(0, dtype=np.int64)
        start = 0
        for i in range(self.blocks):  # a loop over blocks
            core = self.spill.get("core", i)
            picked = self.spill.get("ordered", i)
            window = {k: np.r_[carry[k], core[k][picked]] for k in keys}
            window["at"] = np.r_[carry["at"], start + np.arange(len(picked))]
            start += len(picked)
            if len(window["at"]) >= 3:
                spike = spikes_of(
                    window["lon"], window["lat"], window["ns"], window["seg"], self.max_speed_m_s
                )
                found.append(window["at"][1:-1][spike])
            carry = {k: v[-2:] for k, v in window.items()}
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def _pass_flights(self, spikes: np.ndarray) -> None:
        """Give the kept rows their flights; write them and gather the flights' figures."""
        self.dropped["gps_jump"] = len(spikes)
        last = (_NONE, 0, 0)  # track, time and flight of the last kept row
        start = 0
        for i in range(self.blocks):  # a loop over blocks
            core = self.spill.get("core", i)
            picked = self.spill.get("ordered", i)
            self.spill.drop("ordered", i)
            seq = start + np.arange(len(picked))
            start += len(picked)
            lo, hi = np.searchsorted(spikes, [seq[0], seq[-1] + 1]) if len(seq) else (0, 0)
            picked = picked[~np.isin(seq, spikes[lo:hi])]
            k_ns, k_seg = core["ns"][picked], core["seg"][picked]
            new = np.ones(len(picked), dtype=bool)
            if len(picked):
                new = np.diff(np.r_[last[1], k_ns]) / 1e9 > self.split_gap_s
                new |= np.r_[last[0], k_seg][:-1] != k_seg
            flight_no = last[2] + np.cumsum(new, dtype=np.int64)
            raw = self.spill.get("raw", i)
            self.spill.drop("raw", i)
            self.spill.drop("core", i)
            kept = _take(raw, core["rows"][picked], flight_no)
            del raw
            self.blanked += blank_bad_heights(kept)
            self.stats.add(kept, k_ns, flight_no)
            self.spill.put("kept", i, kept)
            self.kept_sizes.append(len(kept))
            if len(picked):
                last = (int(k_seg[-1]), int(k_ns[-1]), int(flight_no[-1]))


def _take(raw: pd.DataFrame, rows: np.ndarray, flight_no: np.ndarray) -> pd.DataFrame:
    """Return the kept ``rows`` of a block, as :func:`geoexpose.tracks._kept.take_kept` takes them.

    ``alt_ref`` stays as read (blocks are joined before it becomes a categorical).
    """
    columns = {}
    for name in raw.columns:
        if name == SEGMENT:
            continue
        taken = raw[name].iloc[rows]
        if name in (ALT_AGL_M, ALT_MSL_M) and taken.dtype != np.float64:
            taken = taken.astype("float64")
        columns[name] = taken.reset_index(drop=True)
    columns[FLIGHT_NO] = pd.Series(flight_no)
    return pd.DataFrame(columns, copy=False)
