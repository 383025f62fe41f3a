"""Read DJI video telemetry subtitles (``.SRT``) as a track and as video-frame poses.

DJI drones write, next to each video, a subtitle file with one block per video
frame (newer models) or per second (older ones)::

    12
    00:00:00,183 --> 00:00:00,200
    <font size="28">FrameCnt: 12, DiffTime: 16ms
    2026-05-17 08:28:30.402
    [iso: 180] ... [focal_len: 24.00] [latitude: 34.270373] [longitude: -84.176160]
    [rel_alt: 0.000 abs_alt: 302.208] ... </font>

Families read (keys are matched without regard to case or blanks around ``:``):

- bracket blocks (Mavic 2/3, Air 2S/3/3S, Mini 3/4/5, Neo, Avata): ``latitude``,
  ``longitude`` (also Mavic 2's ``longtitude``), ``rel_alt`` (height above
  take-off), ``abs_alt`` or ``altitude``, ``gb_yaw``/``gb_pitch``/``gb_roll``
  (gimbal attitude, Avata 360), ``focal_len`` (35 mm-equivalent; written
  without a decimal point it is in tenths of a millimetre: ``240`` = 24 mm),
  ``dzoom_ratio``, and a ``YYYY-MM-DD HH:MM:SS.fff`` (or ``,fff,fff``) line;
- the one-line legacy block (Mavic Mini, Phantom 4 Pro / RTK):
  ``GPS (lon, lat, n)`` - longitude first; the third number is not an altitude
  and is not read - ``H 12.3m`` (height above take-off), ``H.S 4.1m/s``
  (horizontal speed), ``F.PRY (p, r, y)`` and ``G.PRY (p, r, y)`` (aircraft and
  gimbal attitude). It has no date: times are NaT and a warning says so;
- ``GPS(a,b,n) BAROMETER:x`` (Mavic Pro, Phantom 4, M300): ``GPS(lon,lat,n)``
  when ``n`` is a whole number (satellites), ``GPS(lat,lon,alt)`` when it has a
  decimal point or an ``M``; a file whose values only fit the other order is read
  in that order, with a note. ``BAROMETER`` is the height above take-off.

Date-times are the camera's local clock, without zone: they are read in
``time_zone``, else taken as UTC (``time_basis="assumed_utc"``). ``alt_agl_m``
is the height above take-off (``alt_ref="takeoff"``, whatever the ``alt_ref``
option says: the file states it); ``alt_msl_m`` is ``abs_alt`` as written, which
is often not above mean sea level (-124.7 m at a sea-level site on an Avata 360).
Values cut short by a truncated file are not read (each needs its closing
``]``, ``)`` or unit). Blocks with no position stay as rows with missing
``lat``/``lon``, which cleaning drops as ``no_fix``. The file is read whole (a
subtitle track of an hour's video is a few tens of megabytes); a line longer than
:data:`geoexpose._limits.MAX_LINE_BYTES` refuses it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from geoexpose._limits import LimitError, check_file_bytes, check_line_bytes
from geoexpose.errors import InputError, UsageError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    CAM_LAT,
    CAM_LON,
    FLAGS,
    GIMBAL_PITCH_DEG,
    GIMBAL_YAW_DEG,
    IS_VIDEO,
    LAT,
    LON,
    PITCH_DEG,
    ROLL_DEG,
    SPEED_M_S,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks._values import TIME_BASIS_ASSUMED_UTC, check_time_zone, parse_times
from geoexpose.tracks.normalize import RawTrack

__all__ = [
    "ABS_ALT_M",
    "DZOOM_RATIO",
    "FOCAL_LEN_MM",
    "VIDEO_TIME_S",
    "read_srt",
    "sniff_srt",
    "srt_frames",
]

logger = logging.getLogger(__name__)

#: Offset of a block's start in the video, seconds.
VIDEO_TIME_S = "video_time_s"
#: DJI ``abs_alt`` as written (metres; often not above mean sea level).
ABS_ALT_M = "abs_alt_m"
#: ``focal_len`` in millimetres, 35 mm-equivalent as DJI writes it.
FOCAL_LEN_MM = "focal_len_mm"
#: ``dzoom_ratio``: digital zoom factor.
DZOOM_RATIO = "dzoom_ratio"

_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+))"
_TIME = r"(\d{1,4}):(\d\d):(\d\d)[,.](\d{1,6})"
# An optional block number line, then the cue line "HH:MM:SS,mmm --> HH:MM:SS,mmm".
_CUE = re.compile(
    rf"(?:^[ \t]*(\d{{1,9}})[ \t]*\n)?^[ \t]*{_TIME}[ \t]*-->[ \t]*{_TIME}[^\n]*$", re.MULTILINE
)
_N_CUE_GROUPS = 9
# A bracket value ends at "]" or where the next "key:" of the same bracket starts.
_END = r"(?=\s*\]|\s+[a-z_]+\s*:)"


def _key(name: str, group: str) -> str:
    return rf"\b{name}\s*:\s*(?P<{group}>{_NUM[1:-1]}){_END}"


def _num(group: str) -> str:
    return f"(?P<{group}>{_NUM[1:-1]})"


def _pry(prefix: str, group: str) -> str:
    axes = (_num(f"{group}_{axis}") + r"[^,)]*" for axis in ("pitch", "roll", "yaw"))
    return rf"\b{prefix}\s*\(\s*" + r",\s*".join(axes) + r"\)"


# Every value a block may hold; each is searched from the start of the block text.
_VALUES = (
    _key("latitude", "latitude"),
    _key("long?t?itude", "longitude"),
    _key("rel_alt", "rel_alt"),
    _key("(?:abs_alt|altitude)", "abs_alt"),
    _key("gb_yaw", "gb_yaw"),
    _key("gb_pitch", "gb_pitch"),
    _key("gb_roll", "gb_roll"),
    _key("dzoom_ratio", "dzoom"),
    rf"\bfocal_len\s*:\s*(?P<focal>\d+)(?P<focal_dec>\.\d*)?{_END}",
    rf"\bH\s+{_num('height')}\s*m(?![/\w])",
    rf"\bH\.S\s+{_num('speed')}\s*m/s",
    rf"\bBAROMETER\s*(?::\s*{_num('baro')}\s*M?(?=\s)|\(\s*{_num('baro2')}\s*M?\s*\))",
    rf"\bGPS(?P<gps_space>\s*)\(\s*{_num('gps_a')}\s*,\s*{_num('gps_b')}\s*,\s*"
    rf"{_num('gps_c')}(?P<gps_m>\s*M)?\s*\)",
    _pry(r"F\.PRY", "flight"),
    _pry(r"G\.PRY", "gimbal"),
    r"(?P<year>\d{4})[-./](?P<month>\d\d)[-./](?P<day>\d\d)[ T]+(?P<hour>\d\d):"
    r"(?P<minute>\d\d):(?P<second>\d\d)(?:[.,](?P<frac>\d+)(?:[.,](?P<frac2>\d+))?)?",
)
# One optional look-ahead per value: one pass of pandas over the blocks reads them all.
_BLOCK = re.compile("".join(f"(?=(?:.*?{v})?)" for v in _VALUES), re.IGNORECASE | re.DOTALL)
_TEXT_GROUPS: tuple[str, ...] = ("gps_space", "gps_m", "focal_dec", "year", "month", "day")
_TEXT_GROUPS += ("hour", "minute", "second", "frac", "frac2")
_SNIFF = re.compile(rb"\A\s*\d+[ \t]*\r?\n[ \t]*\d+:\d\d:\d\d[,.]\d+[ \t]*-->[ \t]*\d+:\d\d:\d\d")
_TELEMETRY = re.compile(rb"latitude|GPS\s*\(", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def sniff_srt(head: bytes, path: Path) -> bool:
    """Whether a file is a DJI telemetry subtitle file, from its first bytes.

    The first non-blank line is a block number, the next a subtitle cue
    (``00:00:00,000 --> 00:00:00,016``), and the text mentions ``latitude`` or
    ``GPS(`` (or the file name ends in ``.srt``).
    """
    text = head.removeprefix(b"\xef\xbb\xbf")
    if not _SNIFF.match(text):
        return False
    return bool(_TELEMETRY.search(text)) or path.suffix.lower() == ".srt"


def _decode(data: bytes) -> tuple[str, list[str]]:
    if not data.strip():
        raise InputError("empty file")
    notes = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"not readable as UTF-16 text ({exc.reason})") from exc
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append("not UTF-8; text decoded as latin-1")
    sample = text[:8192]
    if len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise InputError("binary data, not an SRT subtitle text")
    return text.replace("\r\n", "\n").replace("\r", "\n"), notes


def _seconds(parts: np.ndarray) -> np.ndarray:
    """Seconds from (hours, minutes, seconds, fraction digits) text columns."""
    h, m, sec, frac = pd.DataFrame(parts).astype("float64").to_numpy().T
    return h * 3600 + m * 60 + sec + frac / 10.0 ** pd.Series(parts[:, 3]).str.len().to_numpy()


def _blocks(text: str) -> tuple[pd.DataFrame, list[str]]:
    """Split the text into blocks: number, start offset, body text."""
    parts = _CUE.split(text)
    n = (len(parts) - 1) // (_N_CUE_GROUPS + 1)
    if n == 0:
        raise InputError("no subtitle blocks (a number line, then 'HH:MM:SS,mmm --> ...')")
    table = np.array(parts[1:], dtype=object).reshape(n, _N_CUE_GROUPS + 1)
    number = pd.Series(table[:, 0]).astype("float64").to_numpy()
    start = _seconds(table[:, 1:5])
    notes = []
    step = np.diff(number)
    skipped = step[step > 1] - 1
    if len(skipped):
        notes.append(f"subtitle numbers skip {int(skipped.sum())} block(s); read what is there")
    back = int((np.diff(start) < 0).sum())
    if back:
        notes.append(f"{back} block(s) start earlier in the video than the block before")
    return pd.DataFrame({"start": start, "body": pd.Series(table[:, 9], dtype=object)}), notes


def _gps(
    values: pd.DataFrame, found: pd.DataFrame, notes: list[str]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Positions (and height) of ``GPS(...)`` blocks, in the order the form implies."""
    matched = found["gps_space"].notna()
    a, b, c = values["gps_a"], values["gps_b"], values["gps_c"]
    # "GPS(lat,lon,69.800)" / "GPS(lat,lon,0.0M)": a height; "GPS(lon,lat,19)": satellites
    height_form = found["gps_c"].str.contains(".", regex=False, na=False)
    height_form |= found["gps_m"].notna()
    lat_first = (found["gps_space"].str.len() == 0) & height_form
    lat, lon = b.where(~lat_first, a), a.where(~lat_first, b)
    if (lat.abs() > 90).any() and not (lon.abs() > 90).any():
        lat, lon, lat_first = lon, lat, ~lat_first
        notes.append("GPS(...) values only fit the other (latitude, longitude) order here")
    if matched.any():
        order = "(lat, lon, ...)" if bool(lat_first[matched].all()) else "(lon, lat, ...)"
        notes.append(f"positions from GPS{order}; a whole third number is not read as a height")
    return lat, lon, c.where(height_form)


def _times(found: pd.DataFrame, time_zone: str | None) -> tuple[pd.Series, str, bool]:
    if found["year"].isna().all():
        return pd.Series(pd.NaT, index=found.index, dtype="datetime64[ns, UTC]"), "utc", False
    frac = found["frac"].fillna("") + found["frac2"].fillna("")
    date = found["year"] + "-" + found["month"] + "-" + found["day"]
    clock = found["hour"] + ":" + found["minute"] + ":" + found["second"]
    text = date + " " + clock + frac.where(frac == "", "." + frac)
    try:
        times, basis = parse_times(text, column="date-time", time_zone=time_zone)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return times, basis, True


def _parse(path: Path, time_zone: str | None) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    """Every value of every block, with notes and warnings on how it was read."""
    try:
        check_file_bytes(path, what="video subtitle (SRT) file")  # 1 GiB: hours of video
        data = path.read_bytes()
        check_line_bytes(data)  # a subtitle line is short: a giant one is no SRT
    except LimitError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})") from exc
    text, notes = _decode(data)
    blocks, more = _blocks(text)
    notes += more
    found = blocks["body"].str.extract(_BLOCK)
    numbers = [name for name in found.columns if name not in _TEXT_GROUPS]
    values = pd.DataFrame(found[numbers].to_numpy(dtype=object).astype("float64"), columns=numbers)
    gps_lat, gps_lon, gps_alt = _gps(values, found, notes)
    lat = values["latitude"].fillna(gps_lat)
    lon = values["longitude"].fillna(gps_lon)
    if lat.isna().all() or lon.isna().all():
        raise InputError("no positions in the subtitles (no [latitude: ] / GPS(...) values)")
    agl = values["rel_alt"].fillna(values["height"]).fillna(values["baro"])
    # focal_len "240" (no decimals, legacy files) is in tenths of a millimetre: 24 mm
    focal = (found["focal"] + found["focal_dec"].fillna("")).to_numpy(dtype=object)
    tenths = found["focal_dec"].isna().to_numpy()
    values = values.assign(
        **{
            LAT: lat,
            LON: lon,
            ALT_AGL_M: agl.fillna(values["baro2"]),
            ABS_ALT_M: values["abs_alt"].fillna(gps_alt),
            FOCAL_LEN_MM: np.where(tenths, values["focal"] / 10.0, focal.astype("float64")),
            VIDEO_TIME_S: blocks["start"],
        }
    )
    values[TIME_UTC], basis, dated = _times(found, time_zone)
    warnings = []
    if not dated:
        warnings.append(
            "the subtitles have no date-time (per-second legacy format): only offsets in "
            "the video are known, so the positions have no time"
        )
    elif basis == TIME_BASIS_ASSUMED_UTC:
        notes.append(
            "date-times are the camera's local clock without zone; taken as UTC (pass time_zone=)"
        )
    if values[ABS_ALT_M].notna().any():
        notes.append("abs_alt/altitude kept as alt_msl_m as written: DJI's is often not MSL")
    logger.debug("%s: %d subtitle blocks", path, len(values))
    return values, basis, notes, warnings


def read_srt(path: Path, *, time_zone: str | None = None, alt_ref: str | None = None) -> RawTrack:
    """Read a DJI telemetry subtitle file as a track, one row per block (see module notes).

    Parameters
    ----------
    path
        The ``.SRT`` file.
    time_zone
        IANA zone of the camera clock; without it, date-times are taken as UTC.
    alt_ref
        Not used: the file's heights are above take-off.

    Returns
    -------
    RawTrack
        Format ``"dji_srt"``; besides the usual columns, ``video_time_s``,
        ``is_video`` (True), ``speed_m_s``, ``yaw_deg`` (aircraft),
        ``gimbal_pitch_deg`` and ``gimbal_yaw_deg`` where the file has them.

    Raises
    ------
    InputError
        Empty, binary, no subtitle blocks, no position in any block, or no
        date-time readable.
    """
    del alt_ref  # the file states its reference
    values, basis, notes, warnings = _parse(path, time_zone)
    frame = pd.DataFrame(
        {
            LAT: values[LAT],
            LON: values[LON],
            TIME_UTC: values[TIME_UTC],
            ALT_AGL_M: values[ALT_AGL_M],
            ALT_REF: ALT_REF_TAKEOFF,
            ALT_MSL_M: values[ABS_ALT_M],
            VIDEO_TIME_S: values[VIDEO_TIME_S],
            SPEED_M_S: values["speed"],
            YAW_DEG: values["flight_yaw"],
            GIMBAL_PITCH_DEG: values["gb_pitch"].fillna(values["gimbal_pitch"]),
            GIMBAL_YAW_DEG: values["gb_yaw"].fillna(values["gimbal_yaw"]),
            IS_VIDEO: pd.Series(True, index=values.index, dtype="boolean"),
        }
    )
    return RawTrack(frame, "dji_srt", time_basis=basis, notes=notes, warnings=warnings)


def _sample(start: np.ndarray, every_s: float) -> np.ndarray:
    """Positions of the first block of each ``every_s`` window of video time."""
    if every_s == 0 or len(start) == 0:
        return np.arange(len(start))
    window = np.floor(start / every_s + 1e-9)  # 0.15 / 0.05 is 2.9999...
    _, first = np.unique(window, return_index=True)
    return np.sort(first)


def srt_frames(path: Path, *, every_s: float = 1.0, time_zone: str | None = None) -> pd.DataFrame:
    """Camera poses of sampled video frames from a DJI telemetry subtitle file.

    Parameters
    ----------
    path
        The ``.SRT`` file.
    every_s
        Keep the first block with a position in each window of this many seconds
        of video (by block start times); 0 keeps every block.
    time_zone
        IANA zone of the camera clock; without it, date-times are taken as UTC.

    Returns
    -------
    pandas.DataFrame
        One row per kept frame, in video order: ``video_time_s``, ``time_utc``
        (NaT when the file has no date), ``cam_lon``, ``cam_lat``, ``alt_agl_m``
        (above take-off), ``abs_alt_m``, ``yaw_deg``, ``pitch_deg`` (-90 nadir,
        0 horizon), ``roll_deg``, ``focal_len_mm``, ``dzoom_ratio``, ``flags``.
        Without gimbal angles in the file the pose is taken as nadir (pitch -90,
        roll 0, yaw unknown) and flagged ``pose_nadir_assumed;yaw_unknown``.
        ``attrs["geoexpose"]`` holds ``time_basis``, ``notes`` and ``warnings``.

    Raises
    ------
    UsageError
        ``every_s`` is negative or not a number.
    InputError
        As for :func:`read_srt`.
    """
    if not np.isfinite(every_s) or every_s < 0:
        raise UsageError(f"every_s must be a number of seconds >= 0, not {every_s!r}")
    try:
        check_time_zone(time_zone)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    values, basis, notes, warnings = _parse(path, time_zone)
    lat, lon = values[LAT].to_numpy(), values[LON].to_numpy()
    placed = (np.abs(lat) <= 90) & (np.abs(lon) <= 180) & ~((lat == 0) & (lon == 0))
    if not placed.all():
        notes.append(f"{int((~placed).sum())} block(s) without a usable position left out")
    values = values[placed].reset_index(drop=True)
    values = values.iloc[_sample(values[VIDEO_TIME_S].to_numpy(), float(every_s))]
    pitch = values["gb_pitch"].fillna(values["gimbal_pitch"])
    known = pitch.notna()
    frames = pd.DataFrame(
        {
            VIDEO_TIME_S: values[VIDEO_TIME_S],
            TIME_UTC: values[TIME_UTC],
            CAM_LON: values[LON],
            CAM_LAT: values[LAT],
            ALT_AGL_M: values[ALT_AGL_M],
            ABS_ALT_M: values[ABS_ALT_M],
            YAW_DEG: values["gb_yaw"].fillna(values["gimbal_yaw"]),
            PITCH_DEG: pitch.fillna(-90.0),
            ROLL_DEG: values["gb_roll"].fillna(values["gimbal_roll"]).where(known, 0.0),
            FOCAL_LEN_MM: values[FOCAL_LEN_MM],
            DZOOM_RATIO: values["dzoom"],
            FLAGS: np.where(known, "", "pose_nadir_assumed;yaw_unknown"),
        }
    ).reset_index(drop=True)
    frames.loc[known.to_numpy() & frames[YAW_DEG].isna().to_numpy(), FLAGS] = "yaw_unknown"
    frames.attrs["geoexpose"] = {"time_basis": basis, "notes": notes, "warnings": warnings}
    return frames
