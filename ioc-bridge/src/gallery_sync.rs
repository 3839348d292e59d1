//! Gallery sync: every edge that comes online (first start, restart, reconnect after a broker
//! or network outage) is sent the IOC's whole gallery, so that people enrolled or removed
//! while it was away reach it too. The live push at enrolment covers edges that are online.
//!
//! ```text
//!  gw/v1/{site}/{edge}/status "online" ─▶ ingest ─▶ online feed ─▶ sync task
//!      store: people + samples (this embedder), tombstones ─▶ one GalleryUpdate per person
//!      (UpsertPerson) and per tombstone (RemovePerson) ─▶ gw/v1/{site}/{edge}/gallery, QoS 1
//! ```
//!
//! Updates are idempotent on the edge (an upsert replaces the person's samples, removing an
//! absent person is a no-op), so a sync that repeats a live push does no harm. People enrolled
//! on the edge itself (`edge-agent enrol`) and unknown to the IOC are left alone.

use std::collections::BTreeMap;

use rumqttc::v5::AsyncClient;
use rumqttc::v5::mqttbytes::QoS;
use tokio::sync::broadcast;

use crate::faces::EmbedderInfo;
use crate::store::{PersonRow, Store, StoreError};

/// The updates that bring an edge's gallery in line with the IOC's: one upsert per person
/// with every sample, then one removal per tombstone. Pure: the caller publishes them.
pub fn sync_updates(
    embedder: &EmbedderInfo,
    samples: Vec<(PersonRow, Vec<f32>, String)>,
    tombstones: &[String],
) -> Vec<wire::GalleryUpdate> {
    let mut people: BTreeMap<String, (PersonRow, Vec<Vec<f32>>)> = BTreeMap::new();
    for (p, e, _) in samples {
        people
            .entry(p.person_id.clone())
            .or_insert_with(|| (p, Vec::new()))
            .1
            .push(e);
    }
    let update = |op| wire::GalleryUpdate {
        schema_version: wire::SCHEMA_VERSION,
        update_id: uuid::Uuid::now_v7(),
        embedder_id: embedder.id.clone(),
        embedder_sha256: embedder.sha256.clone(),
        op,
    };
    let parse = |t: &Option<String>| {
        t.as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&chrono::Utc))
    };
    let mut out: Vec<wire::GalleryUpdate> = people
        .into_values()
        .map(|(p, embeddings)| {
            update(wire::GalleryOp::UpsertPerson {
                person: wire::GalleryPerson {
                    valid_from: parse(&p.valid_from),
                    valid_until: parse(&p.valid_until),
                    person_id: p.person_id,
                    name: p.name,
                    list: p.list,
                },
                embeddings,
            })
        })
        .collect();
    out.extend(tombstones.iter().map(|id| {
        update(wire::GalleryOp::RemovePerson {
            person_id: id.clone(),
        })
    }));
    out
}

/// Sends the whole gallery to one edge; returns how many updates went.
pub async fn sync_edge(
    store: &Store,
    client: &AsyncClient,
    embedder: &EmbedderInfo,
    site: &str,
    edge: &str,
) -> Result<usize, SyncError> {
    let samples = store.samples(&embedder.id, None).await?;
    let tombstones = store.tombstones().await?;
    let updates = sync_updates(embedder, samples, &tombstones);
    let topic = wire::topics::gallery(site, edge);
    for u in &updates {
        client
            .publish(topic.clone(), QoS::AtLeastOnce, false, u.to_json())
            .await
            .map_err(|e| SyncError::Mqtt {
                topic: topic.clone(),
                reason: e.to_string(),
            })?;
    }
    Ok(updates.len())
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("gallery update to {topic} not queued: {reason}")]
    Mqtt { topic: String, reason: String },
}

/// Syncs every edge that comes online, until the feed closes. If the task falls behind the
/// feed, every edge the store knows as online is synced again (nothing is skipped).
pub async fn run(
    store: Store,
    client: AsyncClient,
    embedder: std::sync::Arc<EmbedderInfo>,
    mut online: broadcast::Receiver<(String, String)>,
) {
    loop {
        let edges = match online.recv().await {
            Ok(e) => vec![e],
            Err(broadcast::error::RecvError::Closed) => return,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "gallery sync fell behind; syncing every online edge"
                );
                match store.list_edges().await {
                    Ok(list) => list
                        .iter()
                        .filter(|e| e["state"] == "online")
                        .filter_map(|e| {
                            Some((
                                e["site_id"].as_str()?.to_owned(),
                                e["edge_id"].as_str()?.to_owned(),
                            ))
                        })
                        .collect(),
                    Err(e) => {
                        tracing::error!(error = %e, "gallery sync cannot list edges");
                        Vec::new()
                    }
                }
            }
        };
        for (site, edge) in edges {
            match sync_edge(&store, &client, &embedder, &site, &edge).await {
                Ok(n) => tracing::info!(%site, %edge, updates = n, "gallery synced to edge"),
                Err(e) => {
                    tracing::error!(%site, %edge, error = %e, "gallery sync failed; retried when the edge next comes online")
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests report failures by panicking
mod tests {
    use super::*;

    fn embedder() -> EmbedderInfo {
        EmbedderInfo {
            id: "mobilefacenet_192d".into(),
            sha256: "ab".repeat(32),
            dim: 2,
            metric: models::Metric::Cosine,
            threshold: 0.5,
        }
    }

    fn person(id: &str, until: Option<&str>) -> PersonRow {
        PersonRow {
            person_id: id.into(),
            name: id.to_uppercase(),
            list: "staff".into(),
            valid_from: None,
            valid_until: until.map(str::to_owned),
            created_at: "2026-12-01T00:00:00Z".into(),
            created_by: "admin".into(),
            samples: 0,
        }
    }

    #[test]
    fn each_person_goes_once_with_all_samples_then_each_tombstone() {
        let samples = vec![
            (person("an", None), vec![1.0, 0.0], "p1".into()),
            (
                person("binh", Some("2027-01-01T00:00:00Z")),
                vec![0.0, 1.0],
                "p2".into(),
            ),
            (person("an", None), vec![0.6, 0.8], "p3".into()),
        ];
        let out = sync_updates(&embedder(), samples, &["cuong".into()]);
        assert_eq!(out.len(), 3);
        match &out[0].op {
            wire::GalleryOp::UpsertPerson { person, embeddings } => {
                assert_eq!(person.person_id, "an");
                assert_eq!(embeddings, &vec![vec![1.0, 0.0], vec![0.6, 0.8]]);
            }
            op => panic!("{op:?}"),
        }
        match &out[1].op {
            wire::GalleryOp::UpsertPerson { person, .. } => {
                assert_eq!(person.person_id, "binh");
                assert_eq!(
                    person.valid_until.map(|t| t.to_rfc3339()),
                    Some("2027-01-01T00:00:00+00:00".into())
                );
            }
            op => panic!("{op:?}"),
        }
        assert!(
            matches!(&out[2].op, wire::GalleryOp::RemovePerson { person_id } if person_id == "cuong")
        );
        for u in &out {
            assert_eq!(u.embedder_id, "mobilefacenet_192d");
            wire::GalleryUpdate::parse(&u.to_json()).expect("valid on the wire");
        }
    }

    #[test]
    fn an_empty_gallery_sends_nothing() {
        assert!(sync_updates(&embedder(), Vec::new(), &[]).is_empty());
    }
}
