-- Same schema as migrations/sqlite/0001_events.sql, in PostgreSQL types. Times are RFC 3339
-- text in UTC with millisecond precision on both backends, so they compare and sort the same.
CREATE TABLE events (
    event_id        TEXT PRIMARY KEY,
    schema_version  BIGINT NOT NULL,
    site_id         TEXT NOT NULL,
    edge_id         TEXT NOT NULL,
    camera_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    captured_at     TEXT NOT NULL,
    stream_pts_ms   BIGINT,
    received_at     TEXT NOT NULL,
    person_id       TEXT,
    person_name     TEXT,
    person_list     TEXT,
    distance        DOUBLE PRECISION,
    snapshot_sha256 TEXT,
    payload         TEXT NOT NULL
);
CREATE INDEX events_by_time ON events (captured_at);
CREATE INDEX events_by_camera ON events (site_id, camera_id, captured_at);
CREATE INDEX events_by_person ON events (person_id, captured_at);
CREATE INDEX events_by_kind ON events (kind, captured_at);

CREATE TABLE snapshots (
    sha256       TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    width        BIGINT NOT NULL,
    height       BIGINT NOT NULL,
    data         BYTEA NOT NULL,
    first_seen   TEXT NOT NULL
);

CREATE TABLE quarantine (
    id          BIGSERIAL PRIMARY KEY,
    received_at TEXT NOT NULL,
    topic       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    payload     BYTEA NOT NULL
);

CREATE TABLE edges (
    site_id    TEXT NOT NULL,
    edge_id    TEXT NOT NULL,
    state      TEXT NOT NULL,
    status     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (site_id, edge_id)
);
