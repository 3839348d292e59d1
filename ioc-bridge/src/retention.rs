//! Retention: events, snapshots and personal data purged after the configured periods.

use chrono::{Duration, Utc};

use crate::config::RetentionConfig;
use crate::store::{Store, StoreError, ts};

/// What one purge removed.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub face_events: u64,
    pub crossing_events: u64,
    pub plate_events: u64,
    pub counts: u64,
    pub snapshots: u64,
    pub visitors: Vec<String>,
    pub tombstones: u64,
}

fn cutoff(days: u32) -> Option<String> {
    (days > 0).then(|| ts(Utc::now() - Duration::days(i64::from(days))))
}

/// Runs one purge with the configured periods.
pub async fn purge(store: &Store, cfg: &RetentionConfig) -> Result<Purged, StoreError> {
    let mut p = Purged::default();
    if let Some(before) = cutoff(cfg.face_events_days) {
        for kind in ["face_match", "watchlist_hit", "unknown_person"] {
            p.face_events += store.purge_events(Some(kind), &before).await?;
        }
    }
    if let Some(before) = cutoff(cfg.crossing_events_days) {
        p.crossing_events += store.purge_events(Some("gate_crossing"), &before).await?;
    }
    if let Some(before) = cutoff(cfg.plate_events_days) {
        p.plate_events += store.purge_events(Some("plate_read"), &before).await?;
    }
    if let Some(before) = cutoff(cfg.counts_days) {
        p.counts += store.purge_events(Some("gate_count"), &before).await?;
        p.counts += store.purge_counts(&before).await?;
    }
    if let Some(before) = cutoff(cfg.expired_visitors_days) {
        p.visitors = store.purge_expired_people(&before).await?;
    }
    if let Some(before) = cutoff(cfg.gallery_tombstones_days) {
        p.tombstones = store.purge_tombstones(&before).await?;
    }
    let audit_before = cutoff(cfg.audit_days).unwrap_or_default();
    store.purge_sessions_and_audit(&audit_before).await?;
    p.snapshots = store.purge_orphan_snapshots().await?;
    Ok(p)
}

/// Purges now and then every `interval_secs`, logging what went.
pub async fn run(store: Store, cfg: RetentionConfig) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(cfg.interval_secs));
    loop {
        tick.tick().await;
        match purge(&store, &cfg).await {
            Ok(p) => tracing::info!(?p, "retention purge"),
            Err(e) => tracing::error!(error = %e, "retention purge failed; retried next round"),
        }
    }
}
