"""Column names, their units and the dtypes of every table geoexpose reads or writes.

Names carry their units (``_m``, ``_s``, ``_m2``, ``_cm``, ``_utc``). This module is
the one place that spells them; the rest of the package imports the constants.
"""

__all__ = [
    "ALT_AGL_M",
    "ALT_MSL_M",
    "ALT_REF",
    "ALT_REFS",
    "ALT_REF_GROUND",
    "ALT_REF_TAKEOFF",
    "BEST_GSD_CM",
    "CAM_LAT",
    "CAM_LON",
    "CAPACITY_MW",
    "CAPTURE_COLUMNS",
    "CAPTURE_ID",
    "CAPTURE_KIND",
    "CAPTURE_KINDS",
    "CRS_LONLAT",
    "DURATION_S",
    "DWELL_S",
    "EXPOSURE_COLUMNS",
    "EXPOSURE_SCORE",
    "FAMILIES",
    "FAMILY",
    "FIRST_SEEN_UTC",
    "FIX_COLUMNS",
    "FLAGS",
    "FLIGHT_COLUMNS",
    "FLIGHT_ID",
    "GEOMETRY",
    "GIMBAL_PITCH_DEG",
    "GIMBAL_YAW_DEG",
    "GSD_CM",
    "IMAGED_AREA_M2",
    "IMAGED_FRACTION",
    "IS_PHOTO",
    "IS_VIDEO",
    "KIND",
    "LAST_SEEN_UTC",
    "LENGTH_M",
    "MAX_AGL_M",
    "MIN_AGL_M",
    "MIN_DISTANCE_M",
    "NAME",
    "N_CAPTURES",
    "N_FIXES",
    "N_FLIGHTS",
    "OPERATOR",
    "PAIR_COLUMNS",
    "PATH",
    "PITCH_DEG",
    "ROLL_DEG",
    "SITE_COLUMNS",
    "SITE_ID",
    "SOURCE",
    "SPEED_M_S",
    "STANDOFF_M",
    "TIME_DTYPE",
    "TIME_UTC",
    "VOLTAGE_KV",
    "YAW_DEG",
]

CRS_LONLAT = "EPSG:4326"
GEOMETRY = "geometry"
TIME_DTYPE = "datetime64[ns, UTC]"

# Sites
SITE_ID = "site_id"
FAMILY = "family"
KIND = "kind"
NAME = "name"
OPERATOR = "operator"
STANDOFF_M = "standoff_m"
SOURCE = "source"
FAMILIES = ("water", "rail", "power", "military")
SITE_COLUMNS = [SITE_ID, FAMILY, KIND, NAME, OPERATOR, STANDOFF_M, SOURCE, GEOMETRY]

# Fixes: one row per position
FLIGHT_ID = "flight_id"
TIME_UTC = "time_utc"
ALT_AGL_M = "alt_agl_m"
ALT_REF = "alt_ref"
ALT_MSL_M = "alt_msl_m"
ALT_REF_GROUND = "ground"
ALT_REF_TAKEOFF = "takeoff"
ALT_REFS = (ALT_REF_GROUND, ALT_REF_TAKEOFF)
FIX_COLUMNS = [FLIGHT_ID, TIME_UTC, ALT_AGL_M, ALT_REF, ALT_MSL_M, SOURCE, GEOMETRY]

# Optional columns of fixes (gx.read_tracks) and sites (gx.read_sites)
SPEED_M_S = "speed_m_s"
YAW_DEG = "yaw_deg"
GIMBAL_PITCH_DEG = "gimbal_pitch_deg"
GIMBAL_YAW_DEG = "gimbal_yaw_deg"
IS_PHOTO = "is_photo"
IS_VIDEO = "is_video"
CAPACITY_MW = "capacity_mw"
VOLTAGE_KV = "voltage_kv"

# Captures: one row per photo, video frame or orthomosaic; geometry = ground footprint
CAPTURE_ID = "capture_id"
PATH = "path"
CAPTURE_KIND = "kind"
CAPTURE_KINDS = ("photo", "video_frame", "orthomosaic")
CAM_LON = "cam_lon"
CAM_LAT = "cam_lat"
PITCH_DEG = "pitch_deg"
ROLL_DEG = "roll_deg"
GSD_CM = "gsd_cm"
FLAGS = "flags"
CAPTURE_COLUMNS = [
    CAPTURE_ID,
    PATH,
    CAPTURE_KIND,
    TIME_UTC,
    FLIGHT_ID,
    CAM_LON,
    CAM_LAT,
    ALT_AGL_M,
    YAW_DEG,
    PITCH_DEG,
    ROLL_DEG,
    GSD_CM,
    FLAGS,
    GEOMETRY,
]

# Exposure, per site and per flight x site pair
N_FLIGHTS = "n_flights"
N_FIXES = "n_fixes"
N_CAPTURES = "n_captures"
DWELL_S = "dwell_s"
MIN_DISTANCE_M = "min_distance_m"
MIN_AGL_M = "min_agl_m"
BEST_GSD_CM = "best_gsd_cm"
IMAGED_AREA_M2 = "imaged_area_m2"
IMAGED_FRACTION = "imaged_fraction"
FIRST_SEEN_UTC = "first_seen_utc"
LAST_SEEN_UTC = "last_seen_utc"
EXPOSURE_SCORE = "exposure_score"
EXPOSURE_COLUMNS = [
    N_FLIGHTS,
    N_CAPTURES,
    DWELL_S,
    MIN_DISTANCE_M,
    MIN_AGL_M,
    BEST_GSD_CM,
    IMAGED_AREA_M2,
    IMAGED_FRACTION,
    FIRST_SEEN_UTC,
    LAST_SEEN_UTC,
    EXPOSURE_SCORE,
]
PAIR_COLUMNS = [
    FLIGHT_ID,
    SITE_ID,
    N_FIXES,
    DWELL_S,
    MIN_DISTANCE_M,
    MIN_AGL_M,
    FIRST_SEEN_UTC,
    LAST_SEEN_UTC,
]

# Flights: one line per flight
DURATION_S = "duration_s"
LENGTH_M = "length_m"
MAX_AGL_M = "max_agl_m"
FLIGHT_COLUMNS = [
    FLIGHT_ID,
    SOURCE,
    N_FIXES,
    FIRST_SEEN_UTC,
    LAST_SEEN_UTC,
    DURATION_S,
    LENGTH_M,
    MAX_AGL_M,
    ALT_REF,
    GEOMETRY,
]
