"""Column names, their units and the dtypes of every table geoexpose reads or writes.

Names carry their units (``_m``, ``_s``, ``_m2``, ``_cm``, ``_utc``). This module is
the one place that spells them, and the names of the files and layers of the output
folder; the rest of the package imports the constants.
"""

__all__ = [
    "AIRCRAFT",
    "AIRCRAFT_COLUMNS",
    "AIRCRAFT_CSV",
    "AIRCRAFT_ID",
    "AIRCRAFT_ID_SOURCE",
    "AIRCRAFT_MODEL",
    "ALT_AGL_M",
    "ALT_MSL_M",
    "ALT_REF",
    "ALT_REFS",
    "ALT_REF_GROUND",
    "ALT_REF_TAKEOFF",
    "AREA_ID",
    "BEST_GSD_CM",
    "BEST_NIIRS",
    "CAM_LAT",
    "CAM_LON",
    "CAPACITY_MW",
    "CAPTURE_COLUMNS",
    "CAPTURE_ID",
    "CAPTURE_IDS",
    "CAPTURE_KIND",
    "CAPTURE_KINDS",
    "CRS_LONLAT",
    "CX_PX",
    "CY_PX",
    "DETAIL_AREA_M2",
    "DRONE_ID",
    "DURATION_S",
    "DWELL_S",
    "END_UTC",
    "EVIDENCE",
    "EXPOSURE_COLUMNS",
    "EXPOSURE_SCORE",
    "FAMILIES",
    "FAMILY",
    "FINDINGS_CSV",
    "FINDING_COLUMNS",
    "FINDING_ID",
    "FIRST_FIX",
    "FIRST_SEEN_UTC",
    "FIX_COLUMNS",
    "FLAGS",
    "FLIGHT_COLUMNS",
    "FLIGHT_ID",
    "FLIGHT_TIME_S",
    "FOCAL_PX",
    "GEOMETRY",
    "GIMBAL_PITCH_DEG",
    "GIMBAL_YAW_DEG",
    "GPKG_FILE",
    "GPKG_LAYERS",
    "GSD_CM",
    "IDENTITY_COLUMNS",
    "IMAGED_AREA_M2",
    "IMAGED_FRACTION",
    "IMAGE_HEIGHT_PX",
    "IMAGE_WIDTH_PX",
    "INTRINSICS",
    "IS_PHOTO",
    "IS_VIDEO",
    "KIND",
    "LAST_FIX",
    "LAST_SEEN_UTC",
    "LAT",
    "LENGTH_M",
    "LON",
    "MAP_FILE",
    "MAX_AGL_M",
    "MIN_AGL_M",
    "MIN_DISTANCE_M",
    "NAME",
    "NIIRS",
    "N_CAPTURES",
    "N_FIXES",
    "N_FLIGHTS",
    "N_SITES",
    "OPERATOR",
    "OPERATOR_ID",
    "OPERATOR_LAT",
    "OPERATOR_LON",
    "OSM_ID",
    "OSM_TYPE",
    "OUTPUT_FILES",
    "PAIRS_CSV",
    "PAIR_COLUMNS",
    "PATH",
    "PITCH_DEG",
    "REPORT_FILE",
    "ROLL_DEG",
    "ROUTE_ID",
    "ROUTE_KIND",
    "RULE",
    "SEVERITY",
    "SITES_CSV",
    "SITE_COLUMNS",
    "SITE_ID",
    "SITE_MAPS_FOLDER",
    "SOURCE",
    "SPEED_M_S",
    "STANDOFF_M",
    "START_UTC",
    "SUMMARY_FILE",
    "TIME_DTYPE",
    "TIME_UTC",
    "VALID_FROM_UTC",
    "VALID_TO_UTC",
    "VERTEX",
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
# The site families of the layer catalog (layers/catalog.toml), in the order maps list them;
# tests/test_new_families.py checks that the two agree.
FAMILIES = ("water", "rail", "power", "military", "hazmat", "transport", "emergency")
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

# Who flew: the aircraft's id (its serial, Remote ID UAS ID or flight-controller id, as
# the file gives it; hashed with ``--hash-ids``), its model, and the operator's id
# (Remote ID Operator ID). On fixes (one value per flight), flights and captures.
AIRCRAFT_ID = "aircraft_id"
AIRCRAFT_MODEL = "aircraft_model"
OPERATOR_ID = "operator_id"
IDENTITY_COLUMNS = [AIRCRAFT_ID, AIRCRAFT_MODEL, OPERATOR_ID]
# where a capture's aircraft_id comes from: "photo" (its own tags) or "flight" (the
# flight it was matched to by time)
AIRCRAFT_ID_SOURCE = "aircraft_id_source"

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
# ... and after them: the pinhole intrinsics each footprint was made with
INTRINSICS = "intrinsics"
FOCAL_PX = "focal_px"
IMAGE_WIDTH_PX = "image_width_px"
IMAGE_HEIGHT_PX = "image_height_px"
CX_PX = "cx_px"
CY_PX = "cy_px"

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
# resolution: a NIIRS estimate per capture x site (GIQE 5, geoexpose.imagery.niirs), the
# best per site, and the area of the site imaged finer than the detail GSD
NIIRS = "niirs"
BEST_NIIRS = "best_niirs"
DETAIL_AREA_M2 = "detail_area_m2"
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
    BEST_NIIRS,
    IMAGED_AREA_M2,
    IMAGED_FRACTION,
    DETAIL_AREA_M2,
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
    N_CAPTURES,
    BEST_GSD_CM,
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
    *IDENTITY_COLUMNS,
    GEOMETRY,
]

# Aircraft: one row per aircraft (aircraft_exposure.csv, layer "aircraft")
N_SITES = "n_sites"
FLIGHT_TIME_S = "flight_time_s"
AIRCRAFT_COLUMNS = [
    AIRCRAFT_ID,
    AIRCRAFT_MODEL,
    OPERATOR_ID,
    N_FLIGHTS,
    FLIGHT_TIME_S,
    N_SITES,
    DWELL_S,
    N_CAPTURES,
    BEST_GSD_CM,
    FIRST_SEEN_UTC,
    LAST_SEEN_UTC,
]

# Fixes given as plain lon/lat columns (EPSG:4326, degrees) instead of Point geometry
LON = "lon"
LAT = "lat"

# Fixes of third-party drones (Remote ID): the drone's broadcast id and its operator
DRONE_ID = "drone_id"
OPERATOR_LON = "operator_lon"
OPERATOR_LAT = "operator_lat"

# Routes: positions without times (planned missions, tracks drawn without times)
ROUTE_ID = "route_id"
ROUTE_KIND = "route_kind"
VERTEX = "vertex"

# Sites read from OpenStreetMap data: the element type (node, way, relation) and its id
OSM_TYPE = "osm_type"
OSM_ID = "osm_id"

# Audits: authorized areas of a work order, and findings (one row per finding)
AREA_ID = "area_id"
VALID_FROM_UTC = "valid_from_utc"
VALID_TO_UTC = "valid_to_utc"
AIRCRAFT = "aircraft"
FINDING_ID = "finding_id"
SEVERITY = "severity"
RULE = "rule"
START_UTC = "start_utc"
END_UTC = "end_utc"
FIRST_FIX = "first_fix"
LAST_FIX = "last_fix"
CAPTURE_IDS = "capture_ids"
EVIDENCE = "evidence"
FINDING_COLUMNS = [
    FINDING_ID,
    SEVERITY,
    RULE,
    FLIGHT_ID,
    DRONE_ID,
    SITE_ID,
    NAME,
    FAMILY,
    START_UTC,
    END_UTC,
    DURATION_S,
    N_FIXES,
    FIRST_FIX,
    LAST_FIX,
    N_CAPTURES,
    CAPTURE_IDS,
    MIN_DISTANCE_M,
    MIN_AGL_M,
    BEST_GSD_CM,
    EVIDENCE,
    GEOMETRY,
]

# The output folder of a scan (SPEC.md): its files, and the layers of its GeoPackage
GPKG_FILE = "exposure.gpkg"
SITES_CSV = "site_exposure.csv"
PAIRS_CSV = "flight_site_exposure.csv"
AIRCRAFT_CSV = "aircraft_exposure.csv"
SUMMARY_FILE = "summary.json"
MAP_FILE = "map.html"
SITE_MAPS_FOLDER = "sites"  # sites/<site_id>.html, one map per exposed site
OUTPUT_FILES = (GPKG_FILE, SITES_CSV, PAIRS_CSV, AIRCRAFT_CSV, SUMMARY_FILE, MAP_FILE)
# ... and the files an audit adds to it
FINDINGS_CSV = "findings.csv"
REPORT_FILE = "report.html"
#: Layer of exposure.gpkg holding each table of an exposure result.
GPKG_LAYERS = {
    "sites": "sites",
    "flights": "flights",
    "pairs": "flight_sites",
    "footprints": "footprints",
    "captures": "captures",
    "capture_sites": "capture_sites",
    "aircraft": "aircraft",
}
