"""What each aircraft exposed: one row per aircraft from an exposure's flights and captures.

:func:`attribute_captures` gives a capture whose own tags name no aircraft the
aircraft of the flight it was matched to by time (``aircraft_id_source`` says which:
``photo`` or ``flight``). :func:`aircraft_exposure` then sums, per ``aircraft_id``,
the flights (all of them, exposing or not), their time, the sites their fixes or
captures exposed, the time spent in site zones, the captures and the finest ground
sample distance at which a capture shows a site. It reads only the tables both
engines give alike (flights, flight x site pairs, captures, capture x site pairs), so
:func:`geoexpose.expose` and the streamed engine give the same table.

Flights and captures of no known aircraft make one last row whose ``aircraft_id``,
``aircraft_model`` and ``operator_id`` are empty, so that the rows add up to the whole
exposure; an id is never guessed.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.schema import (
    AIRCRAFT_COLUMNS,
    AIRCRAFT_ID,
    AIRCRAFT_ID_SOURCE,
    AIRCRAFT_MODEL,
    BEST_GSD_CM,
    CAPTURE_ID,
    DURATION_S,
    DWELL_S,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    FLIGHT_TIME_S,
    GSD_CM,
    IDENTITY_COLUMNS,
    LAST_SEEN_UTC,
    N_CAPTURES,
    N_FLIGHTS,
    N_SITES,
    OPERATOR_ID,
    SITE_ID,
    TIME_DTYPE,
    TIME_UTC,
)

__all__ = ["aircraft_exposure", "attribute_captures"]

_UNKNOWN = "\0unknown"  # group key of flights and captures without an aircraft_id


def _texts(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return ``column`` as object text, stripped, None where missing or blank."""
    if column not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values = frame[column].astype(object)
    text = values.astype(str).str.strip()
    known = values.notna().to_numpy() & (text != "").to_numpy()
    return pd.Series(np.where(known, text.to_numpy(dtype=object), None), frame.index, dtype=object)


def attribute_captures(captures: gpd.GeoDataFrame, flights: pd.DataFrame) -> gpd.GeoDataFrame:
    """Give captures without an aircraft the aircraft of the flight they were matched to.

    Parameters
    ----------
    captures
        Captures with ``flight_id`` (empty where not matched) and, where known,
        ``aircraft_id``, ``aircraft_model``, ``operator_id``.
    flights
        One row per flight with ``flight_id`` and the same identity columns.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``captures`` with the identity columns filled from the flight where
        the capture names no aircraft, and ``aircraft_id_source``: ``photo`` (its own
        tags), ``flight`` (its flight's) or empty (unknown). A capture that names its
        aircraft keeps it, even where its flight names another.

    Examples
    --------
    >>> caps = pd.DataFrame({"capture_id": ["a", "b", "c"], "flight_id": ["f", "f", None],
    ...                      "aircraft_id": ["X1", None, None]})
    >>> fl = pd.DataFrame({"flight_id": ["f"], "aircraft_id": ["Y2"],
    ...                    "aircraft_model": ["Mini 2"], "operator_id": [None]})
    >>> out = attribute_captures(caps, fl)
    >>> out[["aircraft_id", "aircraft_id_source"]].values.tolist()
    [['X1', 'photo'], ['Y2', 'flight'], [None, None]]
    """
    out = captures.copy()
    own = _texts(out, AIRCRAFT_ID)
    source = pd.Series("photo", out.index, dtype=object).where(own.notna(), None)
    if AIRCRAFT_ID_SOURCE in out:
        given = _texts(out, AIRCRAFT_ID_SOURCE)
        source = given.where(given.notna() & own.notna(), source)
    take = own.isna()
    if FLIGHT_ID in out and FLIGHT_ID in flights and take.any():
        by_flight = flights.drop_duplicates(FLIGHT_ID).set_index(FLIGHT_ID)
        flight_of = out[FLIGHT_ID].astype(object)
        from_flight = {
            c: _texts(by_flight, c).reindex(flight_of).to_numpy() for c in IDENTITY_COLUMNS
        }
        take &= pd.notna(from_flight[AIRCRAFT_ID])
        for column in IDENTITY_COLUMNS:
            mine = _texts(out, column)
            out[column] = mine.where(~take, pd.Series(from_flight[column], out.index, dtype=object))
        source = source.where(~take, "flight")
    else:
        for column in IDENTITY_COLUMNS:
            out[column] = _texts(out, column)
    out[AIRCRAFT_ID_SOURCE] = source
    return out


def _first_known(values: pd.Series, keys: pd.Series) -> pd.Series:
    """Return the first non-missing value of ``values`` per key."""
    return values.groupby(keys.to_numpy(), sort=False).first()


def aircraft_exposure(
    flights: pd.DataFrame,
    pairs: pd.DataFrame,
    captures: pd.DataFrame,
    capture_sites: pd.DataFrame,
) -> pd.DataFrame:
    """Sum an exposure per aircraft: one row per ``aircraft_id``.

    Parameters
    ----------
    flights
        One row per flight: ``flight_id``, ``duration_s``, ``first_seen_utc``,
        ``last_seen_utc`` and the identity columns.
    pairs
        Flight x site pairs: ``flight_id``, ``site_id``, ``dwell_s``.
    captures
        Captures as :func:`attribute_captures` returns them (``capture_id``,
        ``time_utc`` and the identity columns); others are attributed first.
    capture_sites
        Capture x site pairs: ``capture_id``, ``site_id``, ``gsd_cm``.

    Returns
    -------
    pandas.DataFrame
        :data:`geoexpose.schema.AIRCRAFT_COLUMNS`: ``aircraft_id``,
        ``aircraft_model`` and ``operator_id`` (the first each flight or capture
        names), ``n_flights`` (every flight of the aircraft), ``flight_time_s``
        (their durations summed), ``n_sites`` (distinct sites its fixes came into
        the zone of or its captures show), ``dwell_s`` (seconds in site zones summed
        over sites: a second inside two zones counts twice), ``n_captures`` (every
        capture of the aircraft), ``best_gsd_cm`` (finest GSD at which one of them
        shows a site), ``first_seen_utc`` and ``last_seen_utc`` (first and last fix
        or capture). Most flight time first, then by id; the flights and captures
        of no known aircraft make the last row, with ``aircraft_id`` empty.
    """
    if AIRCRAFT_ID_SOURCE not in captures:
        captures = attribute_captures(gpd.GeoDataFrame(captures), flights)
    fl_key = _texts(flights, AIRCRAFT_ID).fillna(_UNKNOWN)
    cap_key = _texts(captures, AIRCRAFT_ID).fillna(_UNKNOWN)
    flight_key = (
        pd.Series(fl_key.to_numpy(), index=flights[FLIGHT_ID].to_numpy()).groupby(level=0).first()
    )
    capture_key = pd.Series(cap_key.to_numpy(), index=captures[CAPTURE_ID].to_numpy())
    capture_key = capture_key[~capture_key.index.duplicated()]
    keys = pd.Index(pd.unique(np.concatenate([fl_key.to_numpy(), cap_key.to_numpy()])))
    out = pd.DataFrame(index=keys)
    for column in (AIRCRAFT_MODEL, OPERATOR_ID):
        both = pd.concat([_texts(flights, column), _texts(captures, column)], ignore_index=True)
        key = pd.concat([fl_key, cap_key], ignore_index=True)
        out[column] = _first_known(both, key).reindex(keys).astype(object)
    out[N_FLIGHTS] = fl_key.value_counts().reindex(keys, fill_value=0).astype("int64")
    duration = pd.to_numeric(flights[DURATION_S], errors="coerce").fillna(0.0)
    out[FLIGHT_TIME_S] = duration.groupby(fl_key.to_numpy()).sum().reindex(keys, fill_value=0.0)
    out[N_CAPTURES] = cap_key.value_counts().reindex(keys, fill_value=0).astype("int64")

    pair_key = flight_key.reindex(pairs[FLIGHT_ID].to_numpy()).fillna(_UNKNOWN).to_numpy()
    dwell = pd.to_numeric(pairs[DWELL_S], errors="coerce").fillna(0.0).to_numpy()
    out[DWELL_S] = pd.Series(dwell).groupby(pair_key).sum().reindex(keys, fill_value=0.0)
    shown_key = capture_key.reindex(capture_sites[CAPTURE_ID].to_numpy()).fillna(_UNKNOWN)
    sites = pd.DataFrame(
        {
            "key": np.concatenate([pair_key, shown_key.to_numpy()]),
            SITE_ID: np.concatenate(
                [
                    pairs[SITE_ID].to_numpy(dtype=object),
                    capture_sites[SITE_ID].to_numpy(dtype=object),
                ]
            ),
        }
    )
    n_sites = sites.drop_duplicates().groupby("key").size()
    out[N_SITES] = n_sites.reindex(keys, fill_value=0).astype("int64")
    gsd = pd.to_numeric(capture_sites[GSD_CM], errors="coerce").to_numpy(dtype="float64")
    best = pd.Series(gsd).groupby(shown_key.to_numpy()).min()
    out[BEST_GSD_CM] = best.reindex(keys).astype("float64")

    def times(frame: pd.DataFrame, column: str) -> pd.Series:
        values = frame[column] if column in frame else pd.Series(pd.NaT, index=frame.index)
        return pd.to_datetime(values, utc=True).astype(TIME_DTYPE).reset_index(drop=True)

    starts = pd.concat(
        [times(flights, FIRST_SEEN_UTC), times(captures, TIME_UTC)], ignore_index=True
    )
    ends = pd.concat([times(flights, LAST_SEEN_UTC), times(captures, TIME_UTC)], ignore_index=True)
    key = np.concatenate([fl_key.to_numpy(), cap_key.to_numpy()])
    out[FIRST_SEEN_UTC] = starts.groupby(key).min().reindex(keys)
    out[LAST_SEEN_UTC] = ends.groupby(key).max().reindex(keys)

    unknown = out.index == _UNKNOWN
    out[AIRCRAFT_ID] = np.where(unknown, None, out.index.to_numpy(dtype=object))
    out.loc[unknown, [AIRCRAFT_MODEL, OPERATOR_ID]] = None  # of several aircraft, perhaps
    order = np.lexsort((out.index.to_numpy(dtype=str), -out[FLIGHT_TIME_S].to_numpy(), unknown))
    out = out.iloc[order].reset_index(drop=True)
    out[AIRCRAFT_ID] = out[AIRCRAFT_ID].astype(object)
    return pd.DataFrame(out[AIRCRAFT_COLUMNS])
