//! The wire contract between edge agents and the IOC bridge.
//!
//! This crate owns everything both sides must agree on and nothing else: the MQTT topic layout,
//! the versioned JSON event envelope and its payloads, and parsing with clear errors. It links no
//! GStreamer, no ONNX Runtime and no database so that `ioc-bridge` (and any third-party consumer)
//! can depend on it cheaply. The human-readable description of every topic and payload lives in
//! `docs/WIRE.md`; keep the two in step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the event envelope schema. Bump on any incompatible change; consumers reject
/// envelopes whose `schema_version` they do not know.
pub const SCHEMA_VERSION: u32 = 1;

/// Root of every topic this system publishes.
pub const TOPIC_ROOT: &str = "gw/v1";

/// Largest envelope (bytes) a consumer accepts; snapshots are small JPEG crops.
pub const MAX_ENVELOPE_BYTES: usize = 1024 * 1024;

/// MQTT topics. Ids are restricted to `[A-Za-z0-9_-]` (see [`validate_id`]) so they never
/// contain MQTT wildcards or separators.
pub mod topics {
    use super::TOPIC_ROOT;

    /// Events of one camera: `gw/v1/{site}/{edge}/events/{camera}` (QoS 1, not retained).
    pub fn events(site: &str, edge: &str, camera: &str) -> String {
        format!("{TOPIC_ROOT}/{site}/{edge}/events/{camera}")
    }

    /// Filter matching the events of every camera of every edge.
    pub fn events_filter_all() -> String {
        format!("{TOPIC_ROOT}/+/+/events/+")
    }

    /// Acknowledgements from the IOC to one edge, published after the events are committed:
    /// `gw/v1/{site}/{edge}/acks` (QoS 1, not retained; payload [`super::EventAck`]).
    pub fn acks(site: &str, edge: &str) -> String {
        format!("{TOPIC_ROOT}/{site}/{edge}/acks")
    }

    /// Gallery changes from the IOC to one edge: `gw/v1/{site}/{edge}/gallery` (QoS 1).
    pub fn gallery(site: &str, edge: &str) -> String {
        format!("{TOPIC_ROOT}/{site}/{edge}/gallery")
    }

    /// Retained status of one camera (state, counters, last error), refreshed every minute:
    /// `gw/v1/{site}/{edge}/cameras/{camera}/status`. When the edge is offline (its last
    /// will), its cameras' statuses are stale.
    pub fn camera_status(site: &str, edge: &str, camera: &str) -> String {
        format!("{TOPIC_ROOT}/{site}/{edge}/cameras/{camera}/status")
    }

    /// Retained online/offline status of an edge (also its MQTT last will):
    /// `gw/v1/{site}/{edge}/status`.
    pub fn edge_status(site: &str, edge: &str) -> String {
        format!("{TOPIC_ROOT}/{site}/{edge}/status")
    }
}

/// Why an id or an envelope was refused.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("{field} {value:?} is not a valid id: use 1-64 characters from A-Z a-z 0-9 _ -")]
    InvalidId { field: &'static str, value: String },
    #[error("envelope is {got} bytes, larger than the limit of {limit}")]
    TooLarge { got: usize, limit: usize },
    #[error("envelope is not valid JSON for schema {SCHEMA_VERSION}: {source}")]
    Json {
        #[source]
        source: serde_json::Error,
    },
    #[error("envelope has schema_version {got}; this build understands {SCHEMA_VERSION}")]
    UnknownSchema { got: u32 },
    #[error("envelope field {field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// Checks that `value` is usable as a site, edge or camera id.
pub fn validate_id(field: &'static str, value: &str) -> Result<(), WireError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(WireError::InvalidId {
            field,
            value: value.to_owned(),
        })
    }
}

/// The IOC has durably stored these events (or already had them): the edge may forget them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventAck {
    pub schema_version: u32,
    pub event_ids: Vec<Uuid>,
}

impl EventAck {
    pub fn new(event_ids: Vec<Uuid>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            event_ids,
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let ack: Self =
            serde_json::from_slice(bytes).map_err(|source| WireError::Json { source })?;
        if ack.schema_version != SCHEMA_VERSION {
            return Err(WireError::UnknownSchema {
                got: ack.schema_version,
            });
        }
        Ok(ack)
    }
}

/// A change to an edge's gallery pushed by the IOC on `gw/v1/{site}/{edge}/gallery` (QoS 1):
/// applied without a restart and saved. Embeddings must come from the embedder the edge runs
/// (`embedder_id` and `embedder_sha256` are checked); anything else is refused and logged.
// No `deny_unknown_fields` here: serde does not support it together with `flatten`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryUpdate {
    pub schema_version: u32,
    /// Unique id of this update (for the logs and the IOC's audit).
    pub update_id: Uuid,
    pub embedder_id: String,
    pub embedder_sha256: String,
    #[serde(flatten)]
    pub op: GalleryOp,
}

/// What a gallery update does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GalleryOp {
    /// Adds the person or replaces their details and samples.
    UpsertPerson {
        person: GalleryPerson,
        /// One embedding per enrolment photo.
        embeddings: Vec<Vec<f32>>,
    },
    /// Removes the person and every sample of them.
    RemovePerson { person_id: String },
}

/// A person as the IOC sends them to edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GalleryPerson {
    pub person_id: String,
    pub name: String,
    /// `staff`, `visitor`, `watch`, ...
    pub list: String,
    /// Visitors: recognised only from/until these times (UTC).
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
}

impl GalleryUpdate {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let u: Self = serde_json::from_slice(bytes).map_err(|source| WireError::Json { source })?;
        if u.schema_version != SCHEMA_VERSION {
            return Err(WireError::UnknownSchema {
                got: u.schema_version,
            });
        }
        match &u.op {
            GalleryOp::UpsertPerson { person, embeddings } => {
                validate_id("person_id", &person.person_id)?;
                if embeddings.is_empty() {
                    return Err(WireError::Invalid {
                        field: "embeddings",
                        reason: "no embedding".into(),
                    });
                }
                if embeddings.iter().flatten().any(|v| !v.is_finite()) {
                    return Err(WireError::Invalid {
                        field: "embeddings",
                        reason: "not finite".into(),
                    });
                }
            }
            GalleryOp::RemovePerson { person_id } => validate_id("person_id", person_id)?,
        }
        Ok(u)
    }
}

/// One event as it travels from an edge to the IOC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventEnvelope {
    /// Always [`SCHEMA_VERSION`] when produced by this build.
    pub schema_version: u32,
    /// Unique, time-ordered (UUIDv7). The IOC stores each id once.
    pub event_id: Uuid,
    pub site_id: String,
    pub edge_id: String,
    pub camera_id: String,
    /// Wall-clock time the frame was captured (UTC).
    pub captured_at: DateTime<Utc>,
    /// Presentation timestamp of the frame within its stream, in milliseconds, when known.
    pub stream_pts_ms: Option<u64>,
    /// What happened; `kind` and `payload` in JSON.
    #[serde(flatten)]
    pub body: EventBody,
    /// Evidence picture, if any.
    pub snapshot: Option<Snapshot>,
}

/// Event kind and its payload, serialised as `"kind": "...", "payload": {...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum EventBody {
    /// An enrolled person was recognised.
    FaceMatch(FaceMatch),
    /// Someone on the watch list was recognised: a high-priority alert.
    WatchlistHit(FaceMatch),
    /// A tracked person matched nobody in the gallery.
    UnknownPerson(UnknownPerson),
    /// A tracked person crossed a gate line.
    GateCrossing(GateCrossing),
    /// In/out counts of one gate over one minute.
    GateCount(GateCount),
    /// A vehicle's licence plate was read (vehicle gates, junctions).
    PlateRead(PlateRead),
}

impl EventBody {
    /// The `kind` string as it appears on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::FaceMatch(_) => "face_match",
            EventBody::WatchlistHit(_) => "watchlist_hit",
            EventBody::UnknownPerson(_) => "unknown_person",
            EventBody::GateCrossing(_) => "gate_crossing",
            EventBody::GateCount(_) => "gate_count",
            EventBody::PlateRead(_) => "plate_read",
        }
    }

    /// The payload object alone, as JSON text.
    pub fn payload_json(&self) -> String {
        let v = match self {
            EventBody::FaceMatch(m) | EventBody::WatchlistHit(m) => serde_json::to_string(m),
            EventBody::UnknownPerson(u) => serde_json::to_string(u),
            EventBody::GateCrossing(c) => serde_json::to_string(c),
            EventBody::GateCount(c) => serde_json::to_string(c),
            EventBody::PlateRead(p) => serde_json::to_string(p),
        };
        v.unwrap_or_else(|_| "null".into())
    }
}

/// A licence plate folded for matching: upper case, only letters and digits (no dots, dashes
/// or spaces), and the characters a camera confuses mapped onto one (`O`/`D`/`Q` -> `0`,
/// `I`/`L`/`T` -> `1`, `B` -> `8`, `S` -> `5`, `Z` -> `2`, `G` -> `6`, `A` -> `4`). Two readings of
/// the same plate that differ only by such confusions get the same key.
pub fn plate_key(plate: &str) -> String {
    plate
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c.to_ascii_uppercase() {
            'O' | 'D' | 'Q' => '0',
            'I' | 'L' | 'T' => '1',
            'B' => '8',
            'S' => '5',
            'Z' => '2',
            'G' => '6',
            'A' => '4',
            c => c,
        })
        .collect()
}

/// Which way a gate line was crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossingDirection {
    In,
    Out,
}

/// Payload of a `gate_crossing` event: one per track and crossing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateCrossing {
    /// Gate line id from the camera's config.
    pub gate_id: String,
    pub direction: CrossingDirection,
    /// Tracker id of the person (unique per camera and agent run).
    pub track_id: u64,
    /// Person box in frame pixels at the crossing.
    pub person_box: BoxPx,
}

/// Payload of a `gate_count` event: in/out counts of one gate over one minute (published for
/// quiet minutes too, as zeros, while the camera runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateCount {
    pub gate_id: String,
    /// Start of the minute (UTC, whole minute).
    pub minute_start: DateTime<Utc>,
    pub entries: u32,
    pub exits: u32,
}

/// Payload of a `plate_read` event: one per vehicle track, with its best reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateRead {
    /// The plate as read, in Vietnamese format: `51G-123.45` (one line) or `59-X1 234.56` (a
    /// two-line motorbike plate, lines joined by a space).
    pub plate: String,
    /// Reader confidence, 0..1.
    pub confidence: f32,
    /// Plate box in frame pixels.
    pub plate_box: BoxPx,
    /// Vehicle class when known (`car`, `motorbike`, `truck`, `bus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
    /// Tracker id of the vehicle, when tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_id: Option<u64>,
}

/// Payload of a `face_match` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceMatch {
    pub identity: Identity,
    /// Distance between the probe and the best gallery sample under the embedder's metric
    /// (cosine distance `1 - similarity` for cosine embedders). Lower is closer.
    pub distance: f32,
    /// The threshold the distance was compared with.
    pub threshold: f32,
    /// Face box in frame pixels.
    pub face_box: BoxPx,
    /// Detector confidence, 0..1.
    pub detection_score: f32,
    /// Id of the embedder that produced the embedding (from its manifest).
    pub embedder_id: String,
    /// Tracker id of the person, when the camera tracks people (identity decided per track).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_id: Option<u64>,
    /// Agreeing votes (embedded face shots) behind a per-track decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<u32>,
}

/// Payload of an `unknown_person` event: a tracked person whose best face shots match nobody
/// in the gallery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnknownPerson {
    pub track_id: u64,
    /// Distance to the closest gallery sample (infinite -> `null` when the gallery is empty).
    pub best_distance: Option<f32>,
    /// The threshold above which a face counts as unknown.
    pub unknown_threshold: f32,
    pub votes: u32,
    /// Face box of the best shot, frame pixels.
    pub face_box: BoxPx,
    pub embedder_id: String,
}

/// Who was recognised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Stable person id within the gallery (the enrolment folder name).
    pub person_id: String,
    /// Display name.
    pub name: String,
    /// Which list the person is on (e.g. `staff`, `visitor`, `watch`).
    pub list: String,
}

/// Axis-aligned box in pixels of the analysed frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxPx {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// Evidence picture, referenced by content hash. `data_b64` carries the bytes inline (small JPEG
/// crops); the IOC stores them content-addressed by `sha256` and serves them at
/// `/api/snapshots/{sha256}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Lower-case hex sha256 of the bytes.
    pub sha256: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    /// Standard base64 of the bytes; `None` when only the reference travels.
    pub data_b64: Option<String>,
}

impl EventEnvelope {
    /// Serialises to JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising these plain structs cannot fail (no maps with non-string keys).
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and validates an envelope received from the network.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(WireError::TooLarge {
                got: bytes.len(),
                limit: MAX_ENVELOPE_BYTES,
            });
        }
        // Check the version first so that a future schema gets a precise error, not a
        // confusing field error.
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let v: Version =
            serde_json::from_slice(bytes).map_err(|source| WireError::Json { source })?;
        if v.schema_version != SCHEMA_VERSION {
            return Err(WireError::UnknownSchema {
                got: v.schema_version,
            });
        }
        let env: EventEnvelope =
            serde_json::from_slice(bytes).map_err(|source| WireError::Json { source })?;
        env.validate()?;
        Ok(env)
    }

    /// Checks the invariants serde cannot express.
    pub fn validate(&self) -> Result<(), WireError> {
        validate_id("site_id", &self.site_id)?;
        validate_id("edge_id", &self.edge_id)?;
        validate_id("camera_id", &self.camera_id)?;
        if self.event_id.get_version_num() != 7 {
            return Err(WireError::Invalid {
                field: "event_id",
                reason: format!(
                    "expected a UUIDv7, got version {}",
                    self.event_id.get_version_num()
                ),
            });
        }
        if let Some(s) = &self.snapshot {
            let hex_ok = s.sha256.len() == 64
                && s.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_ok {
                return Err(WireError::Invalid {
                    field: "snapshot.sha256",
                    reason: "expected 64 lower-case hex characters".into(),
                });
            }
        }
        match &self.body {
            EventBody::UnknownPerson(u) => {
                if u.best_distance.is_some_and(|d| !d.is_finite()) {
                    return Err(WireError::Invalid {
                        field: "payload.best_distance",
                        reason: "not a finite number".into(),
                    });
                }
            }
            EventBody::FaceMatch(m) | EventBody::WatchlistHit(m) => {
                if !m.distance.is_finite() {
                    return Err(WireError::Invalid {
                        field: "payload.distance",
                        reason: "not a finite number".into(),
                    });
                }
                if m.identity.person_id.is_empty() {
                    return Err(WireError::Invalid {
                        field: "payload.identity.person_id",
                        reason: "empty".into(),
                    });
                }
            }
            EventBody::GateCrossing(c) => validate_id("payload.gate_id", &c.gate_id)?,
            EventBody::PlateRead(p) => {
                let key = plate_key(&p.plate);
                if key.len() < 5 || p.plate.chars().count() > 16 {
                    return Err(WireError::Invalid {
                        field: "payload.plate",
                        reason: format!(
                            "{:?} is not a plate (5 to 16 characters, letters and digits)",
                            p.plate
                        ),
                    });
                }
                if !(0.0..=1.0).contains(&p.confidence) {
                    return Err(WireError::Invalid {
                        field: "payload.confidence",
                        reason: format!("{} is not within 0..1", p.confidence),
                    });
                }
            }
            EventBody::GateCount(c) => {
                validate_id("payload.gate_id", &c.gate_id)?;
                if c.minute_start.timestamp() % 60 != 0 {
                    return Err(WireError::Invalid {
                        field: "payload.minute_start",
                        reason: format!("{} is not the start of a minute", c.minute_start),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plate_keys_agree_for_readings_that_differ_only_by_confusable_characters() {
        assert_eq!(plate_key("51G-123.45"), plate_key("5IG 123 4S"));
        assert_eq!(plate_key("59-X1 234.56"), plate_key("59X1-234.56"));
        assert_eq!(plate_key("30A-888.88"), plate_key("304-BBB.BB"));
        assert_ne!(plate_key("51G-123.45"), plate_key("51G-123.46"));
        assert_eq!(plate_key("51g-123.45"), "516123 45".replace(' ', ""));
    }

    #[test]
    fn a_gallery_update_round_trips_and_bad_ones_are_named() {
        let u = GalleryUpdate {
            schema_version: SCHEMA_VERSION,
            update_id: Uuid::now_v7(),
            embedder_id: "mobilefacenet_192d".into(),
            embedder_sha256: "ab".repeat(32),
            op: GalleryOp::UpsertPerson {
                person: GalleryPerson {
                    person_id: "le_van_c".into(),
                    name: "Lê Văn C".into(),
                    list: "visitor".into(),
                    valid_from: None,
                    valid_until: Some(Utc::now()),
                },
                embeddings: vec![vec![0.5; 4]],
            },
        };
        assert_eq!(GalleryUpdate::parse(&u.to_json()).expect("parse"), u);
        let bad = String::from_utf8(u.to_json())
            .expect("utf8")
            .replace("le_van_c", "le van c");
        let err = GalleryUpdate::parse(bad.as_bytes()).expect_err("bad id");
        assert!(err.to_string().contains("person_id"), "{err}");
    }

    fn sample() -> EventEnvelope {
        EventEnvelope {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            site_id: "hoi-an".into(),
            edge_id: "gate-1".into(),
            camera_id: "cam_1".into(),
            captured_at: Utc::now(),
            stream_pts_ms: Some(1200),
            body: EventBody::FaceMatch(FaceMatch {
                identity: Identity {
                    person_id: "nguyen_van_a".into(),
                    name: "Nguyễn Văn A".into(),
                    list: "staff".into(),
                },
                distance: 0.31,
                threshold: 0.55,
                face_box: BoxPx {
                    x: 1.0,
                    y: 2.0,
                    w: 30.0,
                    h: 40.0,
                },
                detection_score: 0.93,
                embedder_id: "mobilefacenet_192d".into(),
                track_id: None,
                votes: None,
            }),
            snapshot: None,
        }
    }

    #[test]
    fn an_envelope_survives_a_round_trip_through_json() {
        let e = sample();
        let back = EventEnvelope::parse(&e.to_json()).expect("parse");
        assert_eq!(back, e);
    }

    #[test]
    fn kind_and_payload_are_separate_json_fields() {
        let v: serde_json::Value = serde_json::from_slice(&sample().to_json()).expect("json");
        assert_eq!(v["kind"], "face_match");
        assert_eq!(v["payload"]["identity"]["person_id"], "nguyen_van_a");
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
    }

    #[test]
    fn a_future_schema_version_is_refused_by_name() {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_json()).expect("json");
        v["schema_version"] = 99.into();
        let err = EventEnvelope::parse(v.to_string().as_bytes()).expect_err("must refuse");
        assert!(matches!(err, WireError::UnknownSchema { got: 99 }), "{err}");
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_json()).expect("json");
        v["kind"] = "teleport".into();
        assert!(EventEnvelope::parse(v.to_string().as_bytes()).is_err());
    }

    #[test]
    fn ids_with_mqtt_wildcards_are_refused() {
        let mut e = sample();
        e.camera_id = "cam/+".into();
        let err = EventEnvelope::parse(&e.to_json()).expect_err("must refuse");
        assert!(err.to_string().contains("camera_id"), "{err}");
    }

    #[test]
    fn a_non_v7_event_id_is_refused() {
        let mut e = sample();
        e.event_id = Uuid::nil();
        assert!(EventEnvelope::parse(&e.to_json()).is_err());
    }

    #[test]
    fn garbage_is_a_json_error_not_a_panic() {
        assert!(matches!(
            EventEnvelope::parse(b"\xff\x00not json"),
            Err(WireError::Json { .. })
        ));
    }

    #[test]
    fn topics_follow_the_documented_layout() {
        assert_eq!(topics::events("s", "e", "c"), "gw/v1/s/e/events/c");
        assert_eq!(topics::events_filter_all(), "gw/v1/+/+/events/+");
        assert_eq!(topics::edge_status("s", "e"), "gw/v1/s/e/status");
    }
}
