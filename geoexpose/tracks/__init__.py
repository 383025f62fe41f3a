"""Tracks: flight logs read into one row per fix, and what other wings need of fixes.

:func:`read_tracks` reads every track format geoexpose knows (one table of formats,
:data:`TRACK_FORMATS` in :mod:`geoexpose.tracks.formats`, by which
:func:`sniff_format` tells a file's format and :func:`read_track_file` reads one
file; :func:`track_files` lists the files it reads under folders), cleans the
fixes and numbers the flights; :func:`read_routes` reads the files that hold
positions without times (planned missions, untimed tracks);
:func:`read_trigger_poses` the photos the logs say were taken. :func:`fix_arrays`
gives fixes as plain arrays ordered by flight and time, the form the exposure, the
maps and the audit work on, with the recording-gap rule; :func:`read_track_pieces`
gives one large file as pieces of a bounded number of fixes, for the streamed engine.
"""

from geoexpose.tracks._srt import sniff_srt, srt_frames
from geoexpose.tracks._values import check_time_zone, parse_times
from geoexpose.tracks.duplicates import drop_duplicate_flights, find_duplicate_flights
from geoexpose.tracks.files import track_files
from geoexpose.tracks.fix_arrays import (
    GAP_FACTOR,
    MAX_GAP_S,
    FixArrays,
    fix_arrays,
    fix_lonlat,
    gap_limits,
    lonlat_problems,
    reduce_ranges,
)
from geoexpose.tracks.flights import flight_lines
from geoexpose.tracks.formats import (
    FORMATS,
    TRACK_FORMATS,
    TRACK_SUFFIXES,
    ReadOptions,
    TrackFormat,
    read_track_file,
    sniff_format,
    track_format,
)
from geoexpose.tracks.normalize import RawTrack
from geoexpose.tracks.pieces import PIECE_FIXES, TrackPiece, read_track_pieces
from geoexpose.tracks.read import TrackReading, read_tracks
from geoexpose.tracks.routes import ROUTE_COLUMNS, read_routes
from geoexpose.tracks.triggers import FROM_LOG, read_trigger_poses

__all__ = [
    "FORMATS",
    "FROM_LOG",
    "GAP_FACTOR",
    "MAX_GAP_S",
    "PIECE_FIXES",
    "ROUTE_COLUMNS",
    "TRACK_FORMATS",
    "TRACK_SUFFIXES",
    "FixArrays",
    "RawTrack",
    "ReadOptions",
    "TrackFormat",
    "TrackPiece",
    "TrackReading",
    "check_time_zone",
    "drop_duplicate_flights",
    "find_duplicate_flights",
    "fix_arrays",
    "fix_lonlat",
    "flight_lines",
    "gap_limits",
    "lonlat_problems",
    "parse_times",
    "read_routes",
    "read_track_file",
    "read_track_pieces",
    "read_tracks",
    "read_trigger_poses",
    "reduce_ranges",
    "sniff_format",
    "sniff_srt",
    "srt_frames",
    "track_files",
    "track_format",
]
