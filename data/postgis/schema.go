package postgis

import (
	"strings"

	"github.com/gapmap/gapmap/data/tables"
)

// migrations are applied in order, each in its own transaction, under an
// advisory lock so that replicas starting together apply each once;
// migration i (0-based) has version i+1 in gapmap_migrations. Never edit
// one that has shipped: append a new one.
//
// The tables hold what the GeoPackage store's do, under the same names,
// with PostgreSQL's types: geometries in EPSG:4326 with GiST indexes,
// times as timestamptz (to the microsecond), JSON as jsonb.
var migrations = []string{
	// 1: the contract as of GeoPackage migration 8: areas, reports (with
	// their submitters and per-submitter idempotency keys), teams, holes,
	// the analysis, accounts (tokens with their lineage), the audit log,
	// reviews, the teams' measurement tasks, the hole registry with its
	// answers and history, the frozen monthly gap lists, webhooks with
	// their delivery log, and the change counters.
	//
	// gapmap_counters holds one counter per kind of change. A report
	// takes its sequence number from the 'reports' row inside its
	// inserting transaction, which holds that row's lock until it
	// commits: sequence numbers are therefore handed out in commit order,
	// and a reader that saw number n never later finds a report below n
	// (a plain sequence would not do: a transaction that took a smaller
	// number may commit after one that took a larger). The other rows
	// are bumped by statement triggers on their tables, whoever writes.
	// Every bump notifies channel gapmap_changes at commit, which wakes
	// the replicas' watchers at once.
	`
CREATE TABLE gapmap_counters (
  name text PRIMARY KEY,
  n bigint NOT NULL DEFAULT 0
);
INSERT INTO gapmap_counters (name) VALUES ('reports'), ('areas'), ('teams'), ('report_reviews');

CREATE FUNCTION gapmap_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gapmap_changes', NEW.name);
  RETURN NULL;
END $$;
CREATE TRIGGER gapmap_counters_notify AFTER UPDATE ON gapmap_counters
  FOR EACH ROW EXECUTE FUNCTION gapmap_notify_change();

CREATE FUNCTION gapmap_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE gapmap_counters SET n = n + 1 WHERE name = TG_TABLE_NAME;
  RETURN NULL;
END $$;

CREATE TABLE areas (
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  geom geometry(MultiPolygon, 4326),
  vintage text NOT NULL,
  code text NOT NULL,
  name text,
  parent_code text,
  level text,
  population bigint,
  households bigint,
  props jsonb,
  UNIQUE (vintage, code)
);
CREATE INDEX areas_geom ON areas USING gist (geom);

-- seq is the report's sequence number (see gapmap_counters); observed_at
-- is the instant and observed_offset the UTC offset, in seconds, it was
-- given with, so a report reads back as it was written. request_key is
-- the Idempotency-Key, unique per submitter, and request_hash the hash
-- of the report it came with (see geo.Submission).
CREATE TABLE reports (
  seq bigint PRIMARY KEY,
  geom geometry(Point, 4326) NOT NULL,
  id text NOT NULL UNIQUE,
  observed_at timestamptz NOT NULL,
  observed_offset integer NOT NULL DEFAULT 0,
  carrier text,
  tech text,
  signal_dbm double precision,
  download_mbps double precision,
  upload_mbps double precision,
  no_service boolean NOT NULL DEFAULT false,
  source text,
  reporter text,
  note text,
  submitter text NOT NULL DEFAULT '',
  client_id text,
  received_at timestamptz,
  request_key text,
  request_hash text
);
CREATE UNIQUE INDEX reports_submitter_request_key ON reports (submitter, request_key) WHERE request_key IS NOT NULL;
CREATE INDEX reports_geom ON reports USING gist (geom);
CREATE INDEX reports_observed_at ON reports (observed_at);

CREATE TABLE teams (
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  geom geometry(Point, 4326),
  id text UNIQUE,
  name text,
  area_code text,
  members integer,
  households_reached bigint
);
CREATE INDEX teams_geom ON teams USING gist (geom);

CREATE TABLE holes (
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  geom geometry(MultiPolygon, 4326),
  id text UNIQUE,
  carrier text,
  state text NOT NULL DEFAULT 'open',
  rank integer,
  priority double precision,
  severity double precision,
  confidence double precision,
  area_km2 double precision,
  cells integer,
  population_affected double precision,
  households_affected double precision,
  reports integer,
  weak_reports integer,
  reporters integer,
  weak_share double precision,
  weak_low double precision,
  median_signal_dbm double precision,
  first_observed timestamptz,
  last_observed timestamptz,
  area_codes jsonb,
  area_names jsonb,
  computed_at timestamptz
);
CREATE INDEX holes_geom ON holes USING gist (geom);

CREATE TABLE area_scores (
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  vintage text NOT NULL,
  code text NOT NULL,
  name text,
  parent_code text,
  level text,
  children integer,
  population bigint,
  households bigint,
  households_estimated boolean,
  land_km2 double precision,
  reports integer,
  weak integer,
  weak_share double precision,
  weak_low double precision,
` + carrierScoreColumns() + `
  hole_km2 double precision,
  hole_share double precision,
  dead_km2 double precision,
  dead_share double precision,
  population_affected double precision,
  households_affected double precision,
  teams integer,
  members integer,
  members_per_1000_households double precision,
  households_reached bigint,
  reached_share double precision,
  nearest_team_km double precision,
  reach_low boolean,
  action text,
  priority double precision,
  rank integer,
  computed_at timestamptz,
  UNIQUE (vintage, code)
);

CREATE VIEW scored_areas AS
  SELECT a.fid, a.geom, s.` + strings.Join(tables.ScoreColumns, ", s.") + `
  FROM areas a JOIN area_scores s ON s.vintage = a.vintage AND s.code = a.code;

CREATE TABLE analysis (
  computed_at timestamptz NOT NULL,
  reports integer NOT NULL,
  holes integer NOT NULL,
  dead_zones integer NOT NULL,
  areas integer NOT NULL
);

CREATE TABLE users (
  name text PRIMARY KEY,
  role text NOT NULL,
  scope text[] NOT NULL DEFAULT '{}',
  carrier text NOT NULL DEFAULT '',
  password_hash text NOT NULL DEFAULT '',
  created_at timestamptz
);

-- n orders tokens created at the same time (newest first).
CREATE TABLE tokens (
  n bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY,
  user_name text NOT NULL REFERENCES users(name),
  hash text NOT NULL UNIQUE,
  label text NOT NULL DEFAULT '',
  created_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  parent text NOT NULL DEFAULT ''
);
CREATE INDEX tokens_user ON tokens(user_name);
CREATE INDEX tokens_parent ON tokens(parent);

CREATE TABLE sessions (
  hash text PRIMARY KEY,
  user_name text NOT NULL REFERENCES users(name),
  csrf text NOT NULL,
  created_at timestamptz,
  expires_at timestamptz
);
CREATE INDEX sessions_user ON sessions(user_name);

CREATE TABLE audit_log (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL DEFAULT '',
  via text NOT NULL DEFAULT '',
  action text NOT NULL,
  target text NOT NULL DEFAULT '',
  remote text NOT NULL DEFAULT '',
  detail text NOT NULL DEFAULT ''
);

CREATE TABLE report_reviews (
  report_id text PRIMARY KEY REFERENCES reports(id),
  status text NOT NULL CHECK (status IN ('confirmed', 'rejected')),
  reviewer text NOT NULL DEFAULT '',
  at timestamptz,
  comment text NOT NULL DEFAULT ''
);

CREATE TABLE tasks (
  id text PRIMARY KEY,
  team text NOT NULL,
  team_name text NOT NULL,
  area_code text NOT NULL,
  area_name text NOT NULL,
  place text NOT NULL,
  lat double precision NOT NULL,
  lon double precision NOT NULL,
  carrier text NOT NULL,
  why text NOT NULL,
  households double precision NOT NULL,
  score double precision NOT NULL,
  rank integer NOT NULL,
  state text NOT NULL CHECK (state IN ('open', 'done')),
  proposed_at timestamptz NOT NULL,
  done_at timestamptz,
  done_by text
);

-- cells are H3 cells as little-endian 64-bit integers, as in the
-- GeoPackage.
CREATE TABLE hole_registry (
  id text PRIMARY KEY,
  carrier text NOT NULL,
  state text NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  current boolean NOT NULL,
  cells bytea,
  area_codes jsonb NOT NULL DEFAULT '[]',
  parent_ids jsonb NOT NULL DEFAULT '[]',
  child_ids jsonb NOT NULL DEFAULT '[]',
  lead_carrier text NOT NULL DEFAULT '',
  cause text NOT NULL DEFAULT '',
  funding text NOT NULL DEFAULT '',
  rev bigint NOT NULL
);

CREATE TABLE hole_tracks (
  hole_id text NOT NULL REFERENCES hole_registry(id),
  carrier text NOT NULL,
  state text NOT NULL,
  before_dispute text NOT NULL DEFAULT '',
  since timestamptz,
  answered_at timestamptz,
  planned_date timestamptz,
  plan text NOT NULL DEFAULT '',
  fixed_date timestamptz,
  fix_cells bytea,
  overdue_notified timestamptz,
  PRIMARY KEY (hole_id, carrier)
);

CREATE TABLE hole_history (
  hole_id text NOT NULL REFERENCES hole_registry(id),
  n integer NOT NULL,
  at timestamptz NOT NULL,
  state text NOT NULL,
  carrier text NOT NULL,
  kind text NOT NULL,
  role text NOT NULL,
  user_name text NOT NULL DEFAULT '',
  note text NOT NULL DEFAULT '',
  planned_date text NOT NULL DEFAULT '',
  plan text NOT NULL DEFAULT '',
  fixed_date text NOT NULL DEFAULT '',
  PRIMARY KEY (hole_id, n)
);

CREATE TABLE frozen_months (
  month text PRIMARY KEY,
  frozen_at timestamptz NOT NULL
);

CREATE TABLE frozen_gaps (
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  geom geometry(MultiPolygon, 4326),
  month text NOT NULL REFERENCES frozen_months(month),
  carrier text NOT NULL,
  id text NOT NULL,
  rank integer,
  state text,
  props jsonb NOT NULL,
  UNIQUE (month, id)
);
CREATE INDEX frozen_gaps_month ON frozen_gaps(month, carrier);
CREATE INDEX frozen_gaps_geom ON frozen_gaps USING gist (geom);

CREATE TABLE webhooks (
  id text PRIMARY KEY,
  url text NOT NULL,
  events jsonb NOT NULL,
  carrier text NOT NULL DEFAULT '',
  secret text NOT NULL,
  owner text NOT NULL,
  created_at timestamptz
);

CREATE TABLE webhook_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event text NOT NULL,
  hole_id text NOT NULL DEFAULT '',
  body bytea NOT NULL,
  created_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  status integer NOT NULL DEFAULT 0,
  error text NOT NULL DEFAULT '',
  next_at timestamptz,
  done_at timestamptz,
  delivered boolean NOT NULL DEFAULT false
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(next_at) WHERE next_at IS NOT NULL;
` + countTriggerSQL("areas") + countTriggerSQL("teams") + countTriggerSQL("report_reviews"),
	// 2: what replicas share, as GeoPackage migration 9: a 'holes'
	// counter bumped (and notified) by every statement that writes
	// hole_registry, and the sign-in throttle's counts.
	`
INSERT INTO gapmap_counters (name) VALUES ('holes');
CREATE FUNCTION gapmap_count_holes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE gapmap_counters SET n = n + 1 WHERE name = 'holes';
  RETURN NULL;
END $$;
CREATE TRIGGER gapmap_count_hole_registry AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hole_registry
  FOR EACH STATEMENT EXECUTE FUNCTION gapmap_count_holes();

-- key is bytea: the throttle's keys hold NUL separators.
CREATE TABLE signin_throttle (
  key bytea PRIMARY KEY,
  fails integer NOT NULL,
  last timestamptz NOT NULL,
  mark timestamptz NOT NULL
);
`,
	// 3: the serving state, as GeoPackage migration 10 (see
	// SaveServeState).
	`
CREATE TABLE serve_state (
  id integer PRIMARY KEY CHECK (id = 1),
  areas_version bigint NOT NULL,
  teams_version bigint NOT NULL,
  reports bigint NOT NULL,
  data bytea NOT NULL,
  saved_at timestamptz NOT NULL
);
`,
}

// carrierScoreColumns are area_scores' per-carrier columns.
func carrierScoreColumns() string {
	var b strings.Builder
	for _, c := range tables.Carriers {
		for _, col := range []string{"reports integer", "weak integer", "weak_share double precision",
			"weak_low double precision", "median_signal_dbm double precision", "hole_km2 double precision",
			"hole_share double precision"} {
			b.WriteString("  " + c.String() + "_" + col + ",\n")
		}
	}
	return b.String()
}

// countTriggerSQL is the trigger that bumps t's counter in
// gapmap_counters once per statement that inserts, updates, deletes or
// truncates t.
func countTriggerSQL(t string) string {
	return strings.ReplaceAll(`
CREATE TRIGGER gapmap_count_<t> AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON <t>
  FOR EACH STATEMENT EXECUTE FUNCTION gapmap_count_change();`, "<t>", t)
}
