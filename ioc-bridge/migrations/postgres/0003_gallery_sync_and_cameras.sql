-- Gallery sync: people removed at the IOC, so that an edge that was offline when they were
-- removed drops them when it comes back (it is sent every person and every tombstone).
CREATE TABLE gallery_tombstones (
    person_id  TEXT PRIMARY KEY,
    removed_at TEXT NOT NULL,
    removed_by TEXT NOT NULL
);

-- The retained status of each camera (state, frame counters, last error), as its edge last
-- reported it; stale while the edge is offline.
CREATE TABLE cameras (
    site_id    TEXT NOT NULL,
    edge_id    TEXT NOT NULL,
    camera_id  TEXT NOT NULL,
    state      TEXT NOT NULL,
    status     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (site_id, edge_id, camera_id)
);
