"""What an exposure found: :class:`ExposureResult`, and :class:`StreamResult` without fixes.

A result writes itself (``result.write(folder)``) through the output folder's writer,
:func:`geoexpose.outputs.write_outputs`, which stands above this wing because it also
draws the maps; ``write`` imports it when called, as
:meth:`geopandas.GeoDataFrame.to_file` imports its writer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoexpose.exposure._capture_metrics import CAPTURE_SITE_COLUMNS, DETAIL_COLUMNS
from geoexpose.exposure._validate import validate_fixes
from geoexpose.exposure.aircraft import aircraft_exposure, attribute_captures
from geoexpose.imagery import empty_captures
from geoexpose.schema import CRS_LONLAT, EXPOSURE_SCORE, N_CAPTURES, N_FLIGHTS
from geoexpose.tracks import GAP_FACTOR, MAX_GAP_S, fix_arrays, flight_lines

__all__ = ["ExposureResult", "StreamResult"]


@dataclass(frozen=True)
class ExposureResult:
    """What :func:`geoexpose.expose` found.

    Attributes
    ----------
    sites : GeoDataFrame
        Every input site with its exposure columns, EPSG:4326.
    pairs : DataFrame
        One row per flight x site pair with a fix or a passage in the site's zone.
    flights : GeoDataFrame
        One line per flight (a MultiLineString broken at recording gaps); made from
        ``fixes`` the first time it is asked for.
    footprints : GeoDataFrame
        One row per site that a capture shows: the part of it imaged finer than
        ``max_gsd_cm`` (empty where none was) and ``site_id``, ``n_captures``,
        ``best_gsd_cm``, ``best_niirs``, ``imaged_area_m2``, ``imaged_fraction``,
        ``detail_area_m2``.
    fixes : GeoDataFrame, DataFrame or None
        The fixes the result was computed from, for maps (a DataFrame with ``lon``
        and ``lat`` where they were given so).
    params : dict
        The parameters used.
    inputs : dict
        What the readers recorded of the inputs: ``"tracks"``, one entry per track
        file (from ``fixes.attrs``), ``"sites"`` (from ``sites.attrs``) and
        ``"captures"`` (from ``captures.attrs``).
    captures : GeoDataFrame
        The captures (footprints), with the flights they were matched to.
    capture_sites : DataFrame
        One row per capture x site pair whose footprint shows the site: ``capture_id``,
        ``site_id``, ``flight_id``, ``time_utc``, ``gsd_cm`` (where the site lies in the
        frame), ``niirs`` (where it lies finest), ``imaged_area_m2`` and
        ``detail_area_m2`` (of the site area imaged finer than ``max_gsd_cm`` and than
        ``detail_gsd_cm``).
    detail_footprints : GeoDataFrame
        The part of each site imaged finer than ``detail_gsd_cm`` (``site_id``,
        ``detail_area_m2``, geometry EPSG:4326), for the sites that have one.
    """

    sites: gpd.GeoDataFrame
    pairs: pd.DataFrame
    footprints: gpd.GeoDataFrame
    fixes: pd.DataFrame | None = None
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    captures: gpd.GeoDataFrame = field(default_factory=empty_captures)
    capture_sites: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CAPTURE_SITE_COLUMNS)
    )
    detail_footprints: gpd.GeoDataFrame = field(
        default_factory=lambda: gpd.GeoDataFrame(
            columns=DETAIL_COLUMNS, geometry=gpd.GeoSeries([], crs=CRS_LONLAT), crs=CRS_LONLAT
        )
    )

    @functools.cached_property
    def flights(self) -> gpd.GeoDataFrame:
        """One line per flight, made from ``fixes`` when first asked for."""
        fixes = self.fixes if self.fixes is not None else validate_fixes(None)
        gaps = {k: self.params[k] for k in ("max_gap_s", "gap_factor") if k in self.params}
        a = fix_arrays(fixes, **{"max_gap_s": MAX_GAP_S, "gap_factor": GAP_FACTOR, **gaps})
        return flight_lines(fixes.iloc[a.order], seg_ok=a.seg_ok, xy=a.xy, codes=a.codes)

    @functools.cached_property
    def attributed_captures(self) -> gpd.GeoDataFrame:
        """``captures`` with the aircraft of their flight where they name none.

        See :func:`geoexpose.exposure.aircraft.attribute_captures`; made once, for the
        ``captures`` layer and for :attr:`aircraft`.
        """
        return attribute_captures(self.captures, self.flights)

    @functools.cached_property
    def aircraft(self) -> pd.DataFrame:
        """One row per aircraft: :func:`geoexpose.exposure.aircraft.aircraft_exposure`."""
        return aircraft_exposure(
            self.flights, self.pairs, self.attributed_captures, self.capture_sites
        )

    @property
    def exposed(self) -> gpd.GeoDataFrame:
        """The exposed sites, highest ``exposure_score`` first."""
        s = self.sites
        hit = (s[N_FLIGHTS] > 0) | (s[N_CAPTURES] > 0)
        return s[hit].sort_values(EXPOSURE_SCORE, ascending=False, kind="stable")

    def write(
        self,
        folder: str | Path,
        *,
        overwrite: bool = False,
        site_maps: int | str | None = None,
        **kwargs: Any,
    ) -> Path:
        """Write the output folder; see :func:`geoexpose.outputs.write_outputs`.

        ``site_maps``: which sites get a map of their own, a whole number (the most
        exposed), ``"all"`` or ``"none"``; None for the default,
        ``geoexpose.maps.SITE_MAPS_CAP`` (50).
        """
        from geoexpose.outputs import write_outputs

        if site_maps is not None:
            kwargs["site_maps"] = site_maps
        return write_outputs(self, folder, overwrite=overwrite, **kwargs)


@dataclass(frozen=True)
class StreamResult(ExposureResult):
    """An exposure without its fixes: the flights come as a table.

    Attributes
    ----------
    flight_table : GeoDataFrame
        One line per flight, as :attr:`ExposureResult.flights`; the lines are
        simplified to ``params["simplify_m"]`` metres (their lengths and times are
        those of every fix).
    stats : dict
        How the work went: ``engine``, ``batches``, ``fixes``, ``seconds``.
    """

    flight_table: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame)
    stats: dict[str, Any] = field(default_factory=dict)

    @property  # type: ignore[override]
    def flights(self) -> gpd.GeoDataFrame:
        """One line per flight (see ``flight_table``)."""
        return self.flight_table

    def write(
        self,
        folder: str | Path,
        *,
        overwrite: bool = False,
        site_maps: int | str | None = None,
        **kwargs: Any,
    ) -> Path:
        """Write the output folder; ``summary.json`` counts the fixes streamed.

        ``site_maps`` as for :meth:`ExposureResult.write`.
        """
        from geoexpose.outputs import summary

        extra = dict(kwargs.pop("extra_summary", None) or {})
        rows = summary(self)["rows"] | {"fixes_kept": int(self.stats.get("fixes", 0))}
        extra = {"rows": rows, "engine": self.stats} | extra
        return super().write(
            folder, overwrite=overwrite, site_maps=site_maps, extra_summary=extra, **kwargs
        )
