package gpkg

import "strings"

// migrations are applied in order, each in its own transaction; migration i
// (0-based) has version i+1 in gapmap_migrations. Never edit one that has
// shipped: append a new one.
var migrations = []string{
	// 1: GeoPackage 1.3 core tables (spec §1.1.2, §1.1.3, §2.1.5) and
	// gapmap's four feature tables.
	`
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326,
   'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');

CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);

CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);

CREATE TABLE areas (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom MULTIPOLYGON,
  vintage TEXT NOT NULL,
  code TEXT NOT NULL,
  name TEXT,
  parent_code TEXT,
  level TEXT,
  population INTEGER,
  households INTEGER,
  props TEXT,
  UNIQUE (vintage, code)
);

CREATE TABLE reports (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT,
  id TEXT NOT NULL UNIQUE,
  observed_at TEXT NOT NULL,
  carrier TEXT,
  tech TEXT,
  signal_dbm REAL,
  download_mbps REAL,
  upload_mbps REAL,
  no_service INTEGER,
  source TEXT,
  reporter TEXT,
  note TEXT,
  received_at TEXT,
  idempotency_key TEXT UNIQUE
);

CREATE TABLE teams (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT,
  id TEXT UNIQUE,
  name TEXT,
  area_code TEXT,
  members INTEGER,
  households_reached INTEGER
);

CREATE TABLE holes (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom MULTIPOLYGON,
  id TEXT UNIQUE,
  carrier TEXT,
  rank INTEGER,
  priority REAL,
  severity REAL,
  confidence REAL,
  area_km2 REAL,
  population_affected REAL,
  households_affected REAL,
  reports INTEGER,
  weak_reports INTEGER,
  weak_share REAL,
  median_signal_dbm REAL,
  first_observed TEXT,
  last_observed TEXT,
  area_codes TEXT
);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('areas', 'features', 'areas', 'Administrative and community areas (hamlets, communes)', 4326),
  ('reports', 'features', 'reports', 'Weak-signal reports', 4326),
  ('teams', 'features', 'teams', 'Community digital-technology teams', 4326),
  ('holes', 'features', 'holes', 'Coverage holes and all-carrier dead zones', 4326);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES
  ('gapmap_migrations', 'attributes', 'gapmap_migrations', 'Schema migrations applied by gapmap');

INSERT INTO gpkg_geometry_columns VALUES
  ('areas', 'geom', 'MULTIPOLYGON', 4326, 0, 0),
  ('reports', 'geom', 'POINT', 4326, 0, 0),
  ('teams', 'geom', 'POINT', 4326, 0, 0),
  ('holes', 'geom', 'MULTIPOLYGON', 4326, 0, 0);
`,
	// 2: R-tree spatial indexes (GeoPackage 1.3 extension F.3,
	// gpkg_rtree_index). The triggers call ST_MinX etc., which Open
	// registers with the driver (GDAL and QGIS register their own).
	`
CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
` + rtreeSQL("areas") + rtreeSQL("reports") + rtreeSQL("teams") + rtreeSQL("holes"),
	// 3: accounts, credentials, the audit log and report reviews. These are
	// deliberately not registered in gpkg_contents, so GDAL and QGIS do not
	// offer password and token hashes as layers. Times are RFC 3339 UTC
	// with nine fraction digits (see timeUTC), so they sort as text; NULL
	// is the zero time.
	`
CREATE TABLE users (
  name TEXT NOT NULL PRIMARY KEY,
  role TEXT NOT NULL,
  scope TEXT NOT NULL DEFAULT '',
  carrier TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT
);

CREATE TABLE tokens (
  id TEXT NOT NULL PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name),
  hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL DEFAULT '',
  created_at TEXT,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX tokens_user ON tokens(user);

CREATE TABLE sessions (
  hash TEXT NOT NULL PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name),
  csrf TEXT NOT NULL,
  created_at TEXT,
  expires_at TEXT
);
CREATE INDEX sessions_user ON sessions(user);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  via TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  remote TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);

CREATE TABLE report_reviews (
  report_id TEXT NOT NULL PRIMARY KEY REFERENCES reports(id),
  status TEXT NOT NULL CHECK (status IN ('confirmed', 'rejected')),
  reviewer TEXT NOT NULL DEFAULT '',
  at TEXT,
  comment TEXT NOT NULL DEFAULT ''
);
`,
	// 4: the current analysis, for GIS tools that open the file (see
	// SaveAnalysis): the holes table gains the hole's state (a hole
	// lifecycle comes later; every saved hole is 'open'), its reporters,
	// cells, weak_low, area names and when it was computed; area_scores
	// holds each area's scores (per-carrier figures flattened into
	// columns named as in the areas GeoJSON layer); scored_areas is a
	// features view of the areas joined with their scores, so QGIS draws
	// a choropleth from it as it is; analysis is one row saying when the
	// analysis was computed and over how many reports. Times in the new
	// columns are DATETIME (GeoPackage: UTC, milliseconds).
	`
ALTER TABLE holes ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE holes ADD COLUMN reporters INTEGER;
ALTER TABLE holes ADD COLUMN cells INTEGER;
ALTER TABLE holes ADD COLUMN weak_low REAL;
ALTER TABLE holes ADD COLUMN area_names TEXT;
ALTER TABLE holes ADD COLUMN computed_at DATETIME;

CREATE TABLE area_scores (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  vintage TEXT NOT NULL,
  code TEXT NOT NULL,
  name TEXT,
  parent_code TEXT,
  level TEXT,
  children INTEGER,
  population INTEGER,
  households INTEGER,
  households_estimated BOOLEAN,
  land_km2 REAL,
  reports INTEGER,
  weak INTEGER,
  weak_share REAL,
  weak_low REAL,
  viettel_reports INTEGER, viettel_weak INTEGER, viettel_weak_share REAL, viettel_weak_low REAL,
  viettel_median_signal_dbm REAL, viettel_hole_km2 REAL, viettel_hole_share REAL,
  vinaphone_reports INTEGER, vinaphone_weak INTEGER, vinaphone_weak_share REAL, vinaphone_weak_low REAL,
  vinaphone_median_signal_dbm REAL, vinaphone_hole_km2 REAL, vinaphone_hole_share REAL,
  mobifone_reports INTEGER, mobifone_weak INTEGER, mobifone_weak_share REAL, mobifone_weak_low REAL,
  mobifone_median_signal_dbm REAL, mobifone_hole_km2 REAL, mobifone_hole_share REAL,
  vietnamobile_reports INTEGER, vietnamobile_weak INTEGER, vietnamobile_weak_share REAL, vietnamobile_weak_low REAL,
  vietnamobile_median_signal_dbm REAL, vietnamobile_hole_km2 REAL, vietnamobile_hole_share REAL,
  hole_km2 REAL,
  hole_share REAL,
  dead_km2 REAL,
  dead_share REAL,
  population_affected REAL,
  households_affected REAL,
  teams INTEGER,
  members INTEGER,
  members_per_1000_households REAL,
  households_reached INTEGER,
  reached_share REAL,
  nearest_team_km REAL,
  reach_low BOOLEAN,
  action TEXT,
  priority REAL,
  rank INTEGER,
  computed_at DATETIME,
  UNIQUE (vintage, code)
);

CREATE VIEW scored_areas AS SELECT
  a.fid AS fid, a.geom AS geom,
  s.vintage, s.code, s.name, s.parent_code, s.level, s.children, s.population, s.households,
  s.households_estimated, s.land_km2, s.reports, s.weak, s.weak_share, s.weak_low,
  s.viettel_reports, s.viettel_weak, s.viettel_weak_share, s.viettel_weak_low,
  s.viettel_median_signal_dbm, s.viettel_hole_km2, s.viettel_hole_share, s.vinaphone_reports,
  s.vinaphone_weak, s.vinaphone_weak_share, s.vinaphone_weak_low,
  s.vinaphone_median_signal_dbm, s.vinaphone_hole_km2, s.vinaphone_hole_share,
  s.mobifone_reports, s.mobifone_weak, s.mobifone_weak_share, s.mobifone_weak_low,
  s.mobifone_median_signal_dbm, s.mobifone_hole_km2, s.mobifone_hole_share,
  s.vietnamobile_reports, s.vietnamobile_weak, s.vietnamobile_weak_share,
  s.vietnamobile_weak_low, s.vietnamobile_median_signal_dbm, s.vietnamobile_hole_km2,
  s.vietnamobile_hole_share, s.hole_km2, s.hole_share, s.dead_km2, s.dead_share,
  s.population_affected, s.households_affected, s.teams, s.members,
  s.members_per_1000_households, s.households_reached, s.reached_share, s.nearest_team_km,
  s.reach_low, s.action, s.priority, s.rank, s.computed_at
FROM areas a JOIN area_scores s ON s.vintage = a.vintage AND s.code = a.code;

CREATE TABLE analysis (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  computed_at DATETIME NOT NULL,
  reports INTEGER NOT NULL,
  holes INTEGER NOT NULL,
  dead_zones INTEGER NOT NULL,
  areas INTEGER NOT NULL
);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES
  ('area_scores', 'attributes', 'area_scores', 'Scores of every area and roll-up in the current analysis'),
  ('analysis', 'attributes', 'analysis', 'When the current analysis was computed, and over how many reports');
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('scored_areas', 'features', 'scored_areas', 'Areas with their scores in the current analysis', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('scored_areas', 'geom', 'MULTIPOLYGON', 4326, 0, 0);
`,
	// 5: change counters, so a running server sees writes made by
	// another process (see Version): gapmap_changes holds one counter per
	// table that triggers bump on every row inserted, updated or deleted,
	// whoever writes (gapmap, GDAL, QGIS). Reports need none: they are
	// only ever added, and max(fid) says when. Not registered in
	// gpkg_contents: it is bookkeeping, not a layer.
	`
CREATE TABLE gapmap_changes (
  tbl TEXT NOT NULL PRIMARY KEY,
  n INTEGER NOT NULL DEFAULT 0
);
INSERT INTO gapmap_changes (tbl) VALUES ('areas'), ('teams'), ('report_reviews');
` + changeTriggersSQL("areas") + changeTriggersSQL("teams") + changeTriggersSQL("report_reviews"),
	// 6: who submitted each report, and the lineage of tokens. reports
	// gains submitter (the account, or for the command line the typed
	// reporter, that the evidence rules count: see geo.Report.Submitter),
	// client_id (the id a scoped submitter gave), and request_key and
	// request_hash, the Idempotency-Key, now unique per submitter, and a
	// hash of the report it came with. The keys move from the old
	// idempotency_key column (unique over everyone, left empty from now
	// on) to request_key. Reports stored before get the account their
	// audit entry names (report.create through a session or token), the
	// rest keep an empty submitter and count by their typed reporter.
	// tokens gains parent (the token, session or command line that made
	// it: see geo.Token.Parent).
	`
ALTER TABLE reports ADD COLUMN submitter TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN client_id TEXT;
ALTER TABLE reports ADD COLUMN request_key TEXT;
ALTER TABLE reports ADD COLUMN request_hash TEXT;
UPDATE reports SET submitter = 'user:' || a.actor
  FROM (SELECT target, min(actor) AS actor FROM audit_log
        WHERE action = 'report.create' AND via IN ('session', 'token') AND actor <> '' AND target <> ''
        GROUP BY target) AS a
  WHERE reports.id = a.target;
UPDATE reports SET request_key = idempotency_key, idempotency_key = NULL WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX reports_submitter_request_key ON reports (submitter, request_key) WHERE request_key IS NOT NULL;

ALTER TABLE tokens ADD COLUMN parent TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_parent ON tokens (parent);
`,
	// 7: the teams' measurement tasks.
	migrationTasks,
	// 8: the hole registry, answers, frozen lists and webhooks.
	migrationHoleRegistry,
	// 9: what replicas share. A 'holes' change counter, bumped by
	// triggers on hole_registry (every save of a record that changes it
	// writes its row), so a running service re-reads the registry when
	// another process answered or ruled on a hole; and the sign-in
	// throttle's counts (see geo.ThrottleStore).
	`
INSERT INTO gapmap_changes (tbl) VALUES ('holes');
` + strings.ReplaceAll(changeTriggersSQL("hole_registry"), "tbl = 'hole_registry'", "tbl = 'holes'") + `
CREATE TABLE signin_throttle (
  key TEXT NOT NULL PRIMARY KEY,
  fails INTEGER NOT NULL,
  last TEXT NOT NULL,
  mark TEXT NOT NULL
);
`,
	// 10: the serving state, for a fast restart (see SaveServeState).
	migrationServeState,
	// 11: the serving state in parts, each written in its own short
	// transaction (see SaveServeState).
	migrationServeStateParts,
}

// migrationServeStateParts lets the serving state be kept in parts:
// serve_state.generation, when set, names the parts that hold it, in
// order, and its data is then empty.
const migrationServeStateParts = `
ALTER TABLE serve_state ADD COLUMN generation INTEGER;
CREATE TABLE serve_state_parts (
  generation INTEGER NOT NULL,
  part INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (generation, part)
);
`

// migrationServeState keeps the published analysis of a running service
// in one row, so a restart serves it at once (see geo.ServeState). Not
// registered in gpkg_contents: the holes and area_scores tables already
// show the analysis to GIS tools; this is the service's own encoding.
const migrationServeState = `
CREATE TABLE serve_state (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  areas_version INTEGER NOT NULL,
  teams_version INTEGER NOT NULL,
  reports INTEGER NOT NULL,
  data BLOB NOT NULL,
  saved_at TEXT NOT NULL
);
`

// migrationTasks keeps the teams' measurement tasks: the places each
// team is asked to measure, open or done (see geo.Task). An attributes
// table with the place's centre as lat/lon: the list, not a layer.
const migrationTasks = `
CREATE TABLE tasks (
  id TEXT NOT NULL PRIMARY KEY,
  team TEXT NOT NULL,
  team_name TEXT NOT NULL,
  area_code TEXT NOT NULL,
  area_name TEXT NOT NULL,
  place TEXT NOT NULL,
  lat REAL NOT NULL,
  lon REAL NOT NULL,
  carrier TEXT NOT NULL,
  why TEXT NOT NULL,
  households REAL NOT NULL,
  score REAL NOT NULL,
  rank INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'done')),
  proposed_at DATETIME NOT NULL,
  done_at DATETIME,
  done_by TEXT,
  hole TEXT
);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES
  ('tasks', 'attributes', 'tasks', 'Places the digital technology teams are asked to measure next, open and done');
`

// migrationHoleRegistry: the hole registry and what hangs off it — the
// identity of each hole across analyses, its carriers' answers and its
// history (see geo.HoleRecord), the frozen monthly gap lists, and the
// webhooks with their delivery log. Not registered in gpkg_contents:
// the holes layer already carries each hole's state, and the webhooks
// hold their signing secrets. Times are RFC 3339 UTC (see timeUTC).
const migrationHoleRegistry = `
CREATE TABLE hole_registry (
  id TEXT NOT NULL PRIMARY KEY,
  carrier TEXT NOT NULL,
  state TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  current INTEGER NOT NULL,
  cells BLOB,
  area_codes TEXT NOT NULL DEFAULT '[]',
  parent_ids TEXT NOT NULL DEFAULT '[]',
  child_ids TEXT NOT NULL DEFAULT '[]',
  lead_carrier TEXT NOT NULL DEFAULT '',
  cause TEXT NOT NULL DEFAULT '',
  funding TEXT NOT NULL DEFAULT '',
  rev INTEGER NOT NULL
);

CREATE TABLE hole_tracks (
  hole_id TEXT NOT NULL REFERENCES hole_registry(id),
  carrier TEXT NOT NULL,
  state TEXT NOT NULL,
  before_dispute TEXT NOT NULL DEFAULT '',
  since TEXT,
  answered_at TEXT,
  planned_date TEXT,
  plan TEXT NOT NULL DEFAULT '',
  fixed_date TEXT,
  fix_cells BLOB,
  overdue_notified TEXT,
  PRIMARY KEY (hole_id, carrier)
);

CREATE TABLE hole_history (
  hole_id TEXT NOT NULL REFERENCES hole_registry(id),
  n INTEGER NOT NULL,
  at TEXT NOT NULL,
  state TEXT NOT NULL,
  carrier TEXT NOT NULL,
  kind TEXT NOT NULL,
  role TEXT NOT NULL,
  user TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  planned_date TEXT NOT NULL DEFAULT '',
  plan TEXT NOT NULL DEFAULT '',
  fixed_date TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (hole_id, n)
);

CREATE TABLE frozen_months (
  month TEXT NOT NULL PRIMARY KEY,
  frozen_at TEXT NOT NULL
);

CREATE TABLE frozen_gaps (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom MULTIPOLYGON,
  month TEXT NOT NULL REFERENCES frozen_months(month),
  carrier TEXT NOT NULL,
  id TEXT NOT NULL,
  rank INTEGER,
  state TEXT,
  props TEXT NOT NULL,
  UNIQUE (month, id)
);
CREATE INDEX frozen_gaps_month ON frozen_gaps(month, carrier);

CREATE TABLE webhooks (
  id TEXT NOT NULL PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  carrier TEXT NOT NULL DEFAULT '',
  secret TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at TEXT
);

CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event TEXT NOT NULL,
  hole_id TEXT NOT NULL DEFAULT '',
  body BLOB NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  next_at TEXT,
  done_at TEXT,
  delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(next_at) WHERE next_at IS NOT NULL;
`

// changeTriggersSQL is the triggers that bump t's counter in
// gapmap_changes on every insert, update and delete.
func changeTriggersSQL(t string) string {
	var b strings.Builder
	for _, op := range []string{"insert", "update", "delete"} {
		b.WriteString(strings.NewReplacer("<t>", t, "<op>", op, "<OP>", strings.ToUpper(op)).Replace(`
CREATE TRIGGER gapmap_changes_<t>_<op> AFTER <OP> ON <t>
BEGIN
  UPDATE gapmap_changes SET n = n + 1 WHERE tbl = '<t>';
END;`))
	}
	b.WriteString("\n")
	return b.String()
}

// rtreeSQL is the gpkg_rtree_index extension for column geom of table t,
// as given in GeoPackage 1.3 Annex F.3 with <i> = fid and <c> = geom.
func rtreeSQL(t string) string {
	return strings.NewReplacer("<t>", t).Replace(`
INSERT INTO gpkg_extensions VALUES ('<t>', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE VIRTUAL TABLE rtree_<t>_geom USING rtree(id, minx, maxx, miny, maxy);
INSERT OR REPLACE INTO rtree_<t>_geom
  SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM <t>
  WHERE geom NOT NULL AND NOT ST_IsEmpty(geom);
CREATE TRIGGER rtree_<t>_geom_insert AFTER INSERT ON <t>
  WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_geom VALUES (
    NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_<t>_geom_update1 AFTER UPDATE OF geom ON <t>
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_geom VALUES (
    NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_<t>_geom_update2 AFTER UPDATE OF geom ON <t>
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_<t>_geom_update3 AFTER UPDATE ON <t>
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_<t>_geom VALUES (
    NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_<t>_geom_update4 AFTER UPDATE ON <t>
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_<t>_geom_delete AFTER DELETE ON <t>
  WHEN OLD.geom NOT NULL
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id = OLD.fid;
END;
`)
}
