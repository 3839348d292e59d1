-- Events as received from edges, one row per event id (inserts are idempotent).
CREATE TABLE events (
    event_id        TEXT PRIMARY KEY,
    schema_version  INTEGER NOT NULL,
    site_id         TEXT NOT NULL,
    edge_id         TEXT NOT NULL,
    camera_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    captured_at     TEXT NOT NULL,   -- RFC 3339, UTC, millisecond precision (sorts as text)
    stream_pts_ms   INTEGER,         -- frame timestamp within the camera stream
    received_at     TEXT NOT NULL,
    person_id       TEXT,
    person_name     TEXT,
    person_list     TEXT,
    distance        REAL,
    snapshot_sha256 TEXT,
    payload         TEXT NOT NULL    -- the envelope's payload object, JSON
);
CREATE INDEX events_by_time ON events (captured_at);
CREATE INDEX events_by_camera ON events (site_id, camera_id, captured_at);
CREATE INDEX events_by_person ON events (person_id, captured_at);
CREATE INDEX events_by_kind ON events (kind, captured_at);

-- Evidence pictures, content-addressed: stored once however many events refer to them.
CREATE TABLE snapshots (
    sha256       TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    data         BLOB NOT NULL,
    first_seen   TEXT NOT NULL
);

-- Messages that could not be accepted, with the reason; ingest never stops for them.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    topic       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    payload     BLOB NOT NULL
);

-- Last retained status of each edge.
CREATE TABLE edges (
    site_id    TEXT NOT NULL,
    edge_id    TEXT NOT NULL,
    state      TEXT NOT NULL,
    status     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (site_id, edge_id)
);
