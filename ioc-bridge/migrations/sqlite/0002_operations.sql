-- Operations: plates on events, per-minute gate counts, alerts and their history, people and
-- their enrolment photos, users, sessions and the audit log of access to personal data.
ALTER TABLE events ADD COLUMN plate TEXT;          -- canonical plate text, when the event has one
ALTER TABLE events ADD COLUMN plate_key TEXT;      -- plate folded over confusable characters
CREATE INDEX events_by_plate_key ON events (plate_key);

CREATE TABLE gate_counts (
    site_id      TEXT NOT NULL,
    edge_id      TEXT NOT NULL,
    camera_id    TEXT NOT NULL,
    gate_id      TEXT NOT NULL,
    minute_start TEXT NOT NULL,   -- RFC 3339 UTC, whole minute
    entries      INTEGER NOT NULL,
    exits        INTEGER NOT NULL,
    PRIMARY KEY (site_id, edge_id, camera_id, gate_id, minute_start)
);
CREATE INDEX gate_counts_by_time ON gate_counts (minute_start);

CREATE TABLE alerts (
    event_id    TEXT PRIMARY KEY,  -- the event that raised it
    site_id     TEXT NOT NULL,
    camera_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    person_id   TEXT,
    person_name TEXT,
    raised_at   TEXT NOT NULL,
    state       TEXT NOT NULL,     -- new | in_progress | closed
    updated_at  TEXT NOT NULL,
    updated_by  TEXT
);
CREATE INDEX alerts_by_state ON alerts (state, raised_at);

CREATE TABLE alert_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT NOT NULL
);
CREATE INDEX alert_history_by_alert ON alert_history (event_id, id);

CREATE TABLE people (
    person_id   TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    list        TEXT NOT NULL,
    valid_from  TEXT,
    valid_until TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);

CREATE TABLE person_samples (
    person_id   TEXT NOT NULL,
    photo_sha256 TEXT NOT NULL,   -- the enrolment photo, in snapshots
    embedder_id TEXT NOT NULL,
    embedding   BLOB NOT NULL,    -- little-endian f32, L2-normalised
    added_at    TEXT NOT NULL,
    PRIMARY KEY (person_id, photo_sha256, embedder_id)
);

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,   -- argon2id, PHC string
    role          TEXT NOT NULL,   -- operator | police | security | admin
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY, -- the cookie is never stored, only its hash
    username     TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    username TEXT NOT NULL,
    action   TEXT NOT NULL,    -- e.g. view_snapshot, view_event, view_person, search_face
    subject  TEXT NOT NULL,    -- what was accessed (event id, snapshot sha256, person id)
    detail   TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (at);
