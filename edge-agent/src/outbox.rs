//! Durable delivery: every event is written to an on-disk outbox before it is sent and removed
//! only when the IOC acknowledges it (by event id, after its database commit).
//!
//! Two layers, after the usual "pure core, thin shell" split:
//! - [`OutboxState`] is the pure state machine: order, priorities, size bound, in-flight
//!   marks, eviction decisions and loss counters. No I/O.
//! - [`Outbox`] persists it: one file per event in a directory (`{seq}.{priority}.json`,
//!   written to a temporary name, fsynced, then renamed), rebuilt by scanning on start.
//!
//! When the outbox is full, what gives way is decided by priority: per-minute counts first,
//! then ordinary events, and alerts last; an alert is never dropped to make room for anything
//! of lower priority, and every loss is counted (and logged by the caller).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// What gives way first when the outbox is full (lowest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Per-minute counts: re-derivable, least valuable.
    Count = 0,
    /// Ordinary events (crossings, recognitions, unknown persons).
    Event = 1,
    /// Watch-list hits and other alerts.
    Alert = 2,
}

impl Priority {
    fn tag(self) -> char {
        match self {
            Priority::Count => 'c',
            Priority::Event => 'e',
            Priority::Alert => 'a',
        }
    }

    fn from_tag(c: &str) -> Option<Self> {
        match c {
            "c" => Some(Priority::Count),
            "e" => Some(Priority::Event),
            "a" => Some(Priority::Alert),
            _ => None,
        }
    }
}

/// One stored entry's bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryMeta {
    pub event_id: Uuid,
    pub camera_id: String,
    pub priority: Priority,
    pub bytes: u64,
    pub in_flight: bool,
}

/// Losses by priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Losses {
    pub counts: u64,
    pub events: u64,
    pub alerts: u64,
}

impl Losses {
    fn add(&mut self, p: Priority) {
        match p {
            Priority::Count => self.counts += 1,
            Priority::Event => self.events += 1,
            Priority::Alert => self.alerts += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.counts + self.events + self.alerts
    }
}

/// The outcome of offering an entry to a full (or not full) outbox.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Admission {
    /// The new entry was accepted (its sequence number).
    pub accepted: Option<u64>,
    /// Entries evicted to make room, with what they were.
    pub evicted: Vec<(u64, EntryMeta)>,
}

/// The pure outbox state.
#[derive(Debug, Clone)]
pub struct OutboxState {
    capacity_bytes: u64,
    used_bytes: u64,
    next_seq: u64,
    entries: BTreeMap<u64, EntryMeta>,
    /// event id -> sequence number, so an acknowledgement finds its entry at once.
    by_id: HashMap<Uuid, u64>,
    /// Everything given up, by priority: evicted, refused for lack of room, or not writable.
    pub lost: Losses,
}

impl OutboxState {
    pub fn new(capacity_bytes: u64) -> Self {
        Self {
            capacity_bytes,
            used_bytes: 0,
            next_seq: 1,
            entries: BTreeMap::new(),
            by_id: HashMap::new(),
            lost: Losses::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    /// Restores an entry found on disk (start-up).
    pub fn restore(&mut self, seq: u64, meta: EntryMeta) {
        self.used_bytes += meta.bytes;
        self.next_seq = self.next_seq.max(seq + 1);
        self.by_id.insert(meta.event_id, seq);
        self.entries.insert(
            seq,
            EntryMeta {
                in_flight: false,
                ..meta
            },
        );
    }

    /// Offers a new entry. Room is made by evicting entries of lower priority first, then of the
    /// same priority, oldest first within a priority; nothing ever displaces an entry of higher
    /// priority. An entry that cannot fit is refused. Every eviction and refusal is counted.
    pub fn admit(&mut self, meta: EntryMeta) -> Admission {
        let mut out = Admission::default();
        if meta.bytes > self.capacity_bytes {
            self.lost.add(meta.priority);
            return out;
        }
        let need = |s: &Self| (s.used_bytes + meta.bytes).saturating_sub(s.capacity_bytes);
        if need(self) > 0 {
            // Candidates in eviction order: priority ascending, then oldest first; in-flight
            // entries can go too (their ack, if any, is then ignored).
            let mut order: Vec<(Priority, u64, u64)> = self
                .entries
                .iter()
                .filter(|(_, m)| m.priority <= meta.priority)
                .map(|(s, m)| (m.priority, *s, m.bytes))
                .collect();
            order.sort();
            let available: u64 = order.iter().map(|o| o.2).sum();
            if available < need(self) {
                self.lost.add(meta.priority);
                return out;
            }
            for (_, seq, _) in order {
                if need(self) == 0 {
                    break;
                }
                if let Some(m) = self.remove(seq) {
                    self.lost.add(m.priority);
                    out.evicted.push((seq, m));
                }
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.used_bytes += meta.bytes;
        self.by_id.insert(meta.event_id, seq);
        self.entries.insert(seq, meta);
        out.accepted = Some(seq);
        out
    }

    /// Entries to send now, oldest first, at most `window` in flight in total. They are marked
    /// in flight.
    pub fn take_sendable(&mut self, window: usize) -> Vec<u64> {
        let in_flight = self.entries.values().filter(|m| m.in_flight).count();
        let room = window.saturating_sub(in_flight);
        let seqs: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, m)| !m.in_flight)
            .take(room)
            .map(|(s, _)| *s)
            .collect();
        for s in &seqs {
            if let Some(m) = self.entries.get_mut(s) {
                m.in_flight = true;
            }
        }
        seqs
    }

    /// The IOC acknowledged `event_id`: the entry is removed and returned with its sequence
    /// number (`None` for an unknown or duplicate ack).
    pub fn ack(&mut self, event_id: Uuid) -> Option<(u64, EntryMeta)> {
        let seq = *self.by_id.get(&event_id)?;
        self.remove(seq).map(|m| (seq, m))
    }

    fn remove(&mut self, seq: u64) -> Option<EntryMeta> {
        let m = self.entries.remove(&seq)?;
        self.by_id.remove(&m.event_id);
        self.used_bytes -= m.bytes;
        Some(m)
    }

    /// The connection was lost: everything in flight is sent again, in order.
    pub fn requeue_in_flight(&mut self) {
        for m in self.entries.values_mut() {
            m.in_flight = false;
        }
    }

    /// An entry that could not be stored is given up (counted).
    pub fn record_unwritable(&mut self, seq: u64) {
        if let Some(m) = self.remove(seq) {
            self.lost.add(m.priority);
        }
    }

    pub fn meta(&self, seq: u64) -> Option<&EntryMeta> {
        self.entries.get(&seq)
    }

    pub fn in_flight(&self) -> usize {
        self.entries.values().filter(|m| m.in_flight).count()
    }
}

/// Why the outbox could not do something.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox directory {path}: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("outbox entry {path} could not be written (disk full?): {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("outbox entry {path} could not be read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A stored event ready to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub seq: u64,
    pub event_id: Uuid,
    pub camera_id: String,
    pub payload: Vec<u8>,
}

/// The outbox on disk.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    pub state: OutboxState,
    /// Files found on start that were not outbox entries (left alone, reported).
    pub foreign_files: Vec<PathBuf>,
}

fn file_name(seq: u64, p: Priority, event_id: Uuid, camera: &str) -> String {
    format!("{seq:016}.{}.{event_id}.{camera}.json", p.tag())
}

fn parse_name(name: &str) -> Option<(u64, Priority, Uuid, String)> {
    let stem = name.strip_suffix(".json")?;
    let mut it = stem.splitn(4, '.');
    let seq = it.next()?.parse().ok()?;
    let p = Priority::from_tag(it.next()?)?;
    let id = it.next()?.parse().ok()?;
    let camera = it.next()?.to_owned();
    Some((seq, p, id, camera))
}

impl Outbox {
    /// Opens (creating) the outbox directory and restores every entry in it.
    pub fn open(dir: &Path, capacity_bytes: u64) -> Result<Self, OutboxError> {
        let derr = |source| OutboxError::Dir {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(derr)?;
        let mut state = OutboxState::new(capacity_bytes);
        let mut foreign = Vec::new();
        for e in std::fs::read_dir(dir).map_err(derr)? {
            let e = e.map_err(derr)?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                // A write interrupted before its rename: never accepted, never sent.
                let _ = std::fs::remove_file(e.path());
                continue;
            }
            match parse_name(&name) {
                Some((seq, priority, event_id, camera_id)) => {
                    let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
                    state.restore(
                        seq,
                        EntryMeta {
                            event_id,
                            camera_id,
                            priority,
                            bytes,
                            in_flight: false,
                        },
                    );
                }
                None => foreign.push(e.path()),
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            state,
            foreign_files: foreign,
        })
    }

    fn path(&self, seq: u64) -> Option<PathBuf> {
        let m = self.state.meta(seq)?;
        Some(
            self.dir
                .join(file_name(seq, m.priority, m.event_id, &m.camera_id)),
        )
    }

    /// Stores an event durably (fsync) before it may be sent. Returns the admission (what was
    /// evicted to make room, all counted in `state.lost`). A write error gives the entry up
    /// (counted) and is returned.
    pub fn push(
        &mut self,
        event_id: Uuid,
        camera_id: &str,
        priority: Priority,
        payload: &[u8],
    ) -> Result<Admission, OutboxError> {
        let adm = self.state.admit(EntryMeta {
            event_id,
            camera_id: camera_id.to_owned(),
            priority,
            bytes: payload.len() as u64,
            in_flight: false,
        });
        for (seq, m) in &adm.evicted {
            let p = self
                .dir
                .join(file_name(*seq, m.priority, m.event_id, &m.camera_id));
            let _ = std::fs::remove_file(p);
        }
        let Some(seq) = adm.accepted else {
            return Ok(adm);
        };
        let Some(path) = self.path(seq) else {
            return Ok(adm);
        };
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(payload)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            Ok(())
        };
        if let Err(source) = write() {
            let _ = std::fs::remove_file(&tmp);
            self.state.record_unwritable(seq);
            return Err(OutboxError::Write { path, source });
        }
        Ok(adm)
    }

    /// Entries to publish now (oldest first, at most `window` in flight), read from disk.
    pub fn take_sendable(&mut self, window: usize) -> Result<Vec<Pending>, OutboxError> {
        let seqs = self.state.take_sendable(window);
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let (Some(path), Some(m)) = (self.path(seq), self.state.meta(seq).cloned()) else {
                continue;
            };
            let payload = std::fs::read(&path).map_err(|source| OutboxError::Read {
                path: path.clone(),
                source,
            })?;
            out.push(Pending {
                seq,
                event_id: m.event_id,
                camera_id: m.camera_id,
                payload,
            });
        }
        Ok(out)
    }

    /// The IOC has the event: delete it. Unknown ids (duplicates, evicted) are ignored.
    pub fn ack(&mut self, event_id: Uuid) -> bool {
        let Some((seq, m)) = self.state.ack(event_id) else {
            return false;
        };
        let _ = std::fs::remove_file(self.dir.join(file_name(
            seq,
            m.priority,
            m.event_id,
            &m.camera_id,
        )));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(p: Priority, bytes: u64) -> EntryMeta {
        EntryMeta {
            event_id: Uuid::now_v7(),
            camera_id: "cam1".into(),
            priority: p,
            bytes,
            in_flight: false,
        }
    }

    #[test]
    fn entries_are_sent_oldest_first_within_the_window_and_acked_ones_are_gone() {
        let mut s = OutboxState::new(1000);
        let ids: Vec<Uuid> = (0..5)
            .map(|_| {
                let m = meta(Priority::Event, 10);
                let id = m.event_id;
                s.admit(m);
                id
            })
            .collect();
        assert_eq!(s.take_sendable(2), vec![1, 2]);
        assert!(s.take_sendable(2).is_empty(), "window full");
        assert_eq!(s.ack(ids[0]).map(|(seq, _)| seq), Some(1));
        assert_eq!(s.ack(ids[0]), None, "a duplicate ack changes nothing");
        assert_eq!(s.take_sendable(2), vec![3]);
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn after_a_disconnect_everything_unacknowledged_is_sent_again_in_order() {
        let mut s = OutboxState::new(1000);
        for _ in 0..3 {
            s.admit(meta(Priority::Event, 10));
        }
        assert_eq!(s.take_sendable(10), vec![1, 2, 3]);
        s.requeue_in_flight();
        assert_eq!(s.take_sendable(10), vec![1, 2, 3]);
    }

    #[test]
    fn when_full_counts_give_way_before_events_and_alerts_and_every_loss_is_counted() {
        let mut s = OutboxState::new(100);
        s.admit(meta(Priority::Alert, 40));
        s.admit(meta(Priority::Count, 30));
        s.admit(meta(Priority::Event, 30));
        let adm = s.admit(meta(Priority::Event, 30));
        assert_eq!(adm.evicted.len(), 1);
        assert_eq!(adm.evicted[0].1.priority, Priority::Count);
        assert_eq!(
            s.lost,
            Losses {
                counts: 1,
                events: 0,
                alerts: 0
            }
        );
        // A count cannot displace events or alerts: it is refused, and counted.
        let adm = s.admit(meta(Priority::Count, 30));
        assert!(adm.accepted.is_none());
        assert_eq!(s.lost.counts, 2);
        // An alert displaces events before any alert.
        let adm = s.admit(meta(Priority::Alert, 50));
        assert!(adm.accepted.is_some());
        assert!(
            adm.evicted
                .iter()
                .all(|(_, m)| m.priority == Priority::Event)
        );
        assert_eq!(s.lost.events, 2);
        assert!(s.used_bytes() <= 100);
    }

    #[test]
    fn an_alert_is_never_evicted_for_an_ordinary_event() {
        let mut s = OutboxState::new(100);
        s.admit(meta(Priority::Alert, 60));
        s.admit(meta(Priority::Alert, 40));
        let adm = s.admit(meta(Priority::Event, 10));
        assert!(adm.accepted.is_none() && adm.evicted.is_empty());
        assert_eq!(
            s.lost,
            Losses {
                counts: 0,
                events: 1,
                alerts: 0
            }
        );
        // Only a newer alert may displace the oldest alert, and that loss is counted too.
        let adm = s.admit(meta(Priority::Alert, 50));
        assert_eq!(adm.evicted.len(), 1);
        assert_eq!(s.lost.alerts, 1);
    }

    #[test]
    fn the_outbox_on_disk_survives_a_restart_with_order_and_priorities() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ids = Vec::new();
        {
            let mut o = Outbox::open(dir.path(), 1 << 20).expect("open");
            for (i, p) in [Priority::Event, Priority::Alert, Priority::Count]
                .into_iter()
                .enumerate()
            {
                let id = Uuid::now_v7();
                ids.push(id);
                o.push(id, "gate-1", p, format!("payload {i}").as_bytes())
                    .expect("push");
            }
            let sent = o.take_sendable(10).expect("read");
            assert_eq!(sent.len(), 3);
            assert!(o.ack(ids[0]));
        }
        let mut o = Outbox::open(dir.path(), 1 << 20).expect("reopen");
        assert_eq!(o.state.len(), 2);
        let sent = o.take_sendable(10).expect("read");
        assert_eq!(
            sent.iter().map(|p| p.event_id).collect::<Vec<_>>(),
            vec![ids[1], ids[2]]
        );
        assert_eq!(sent[0].payload, b"payload 1");
        // Restored entries are acknowledged like new ones.
        assert!(o.ack(ids[1]));
        assert_eq!(o.state.len(), 1);
        assert_eq!(sent[0].camera_id, "gate-1");
        // New entries continue the sequence after the restored ones.
        o.push(Uuid::now_v7(), "gate-1", Priority::Event, b"x")
            .expect("push");
        let next = o.take_sendable(10).expect("read");
        assert!(next.iter().all(|p| p.seq > sent[1].seq), "{next:?}");
    }

    #[test]
    fn an_interrupted_write_is_discarded_and_foreign_files_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("0000000000000001.e.x.tmp"), b"half").expect("write");
        std::fs::write(dir.path().join("notes.txt"), b"hello").expect("write");
        let o = Outbox::open(dir.path(), 1 << 20).expect("open");
        assert!(o.state.is_empty());
        assert_eq!(o.foreign_files.len(), 1);
        assert!(!dir.path().join("0000000000000001.e.x.tmp").exists());
    }

    #[test]
    fn a_write_that_fails_is_an_error_naming_the_file_and_is_counted_as_lost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut o = Outbox::open(dir.path(), 1 << 20).expect("open");
        // The directory disappears under the agent (unmounted disk).
        std::fs::remove_dir_all(dir.path()).expect("rm");
        let err = o
            .push(Uuid::now_v7(), "gate-1", Priority::Alert, b"x")
            .expect_err("cannot write");
        assert!(err.to_string().contains("could not be written"), "{err}");
        assert_eq!(o.state.lost.alerts, 1);
        assert!(o.state.is_empty());
    }
}
