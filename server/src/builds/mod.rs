//! CI builds in the database: ingestion (group-committed by [`writer`]; a repeated delivery
//! updates its build), back-filling,
//! listing, statistics, and the failure predictor (trained here, kept in `build_models`,
//! retrained daily and after every 500 newly finished builds). Every build that arrives gets a
//! prediction stored with it, with what the last-build baseline said, so both are scored when
//! it finishes.

mod bulk;
pub mod ci;
pub mod input;
pub mod model;
mod prediction;
mod prior_cache;
mod queries;
mod writer;
mod writes;

use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::builds::evaluation::{samples, Evaluation};
use app::builds::features::{Prior, NAMES};
use app::builds::{Build, BuildOutcome, ModelInfo, PreRun, Prediction, TOPIC};
use app::error::AppError;
use model::Fitted;
use sqlx::{AnyPool, Row};
use std::sync::{Arc, RwLock};

/// Retrain after this many newly finished builds.
pub const RETRAIN_AFTER: i64 = 500;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// The event a newly trained model publishes on the builds topic (`{version, samples}`).
pub const MODEL_TRAINED: &str = "build.model_trained";

/// The model in use.
#[derive(Debug, Clone)]
pub struct StoredModel {
    pub version: i64,
    pub trained_at: i64,
    pub samples: usize,
    pub evaluation: Evaluation,
    pub fitted: Fitted,
}

impl StoredModel {
    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            version: self.version,
            trained_at: app::time_fmt::rfc3339(self.trained_at),
            samples: self.samples,
            evaluation: self.evaluation.clone(),
        }
    }
}

/// The model in use, shared with the writer that predicts each new build.
type ModelSlot = Arc<RwLock<Option<Arc<StoredModel>>>>;

pub struct Builds {
    pool: AnyPool,
    /// SQLite's own pool, for the period reads of the statistics and charts (three times as
    /// fast as through the Any driver: `queries::outcomes_since`).
    sqlite: Option<sqlx::SqlitePool>,
    bus: Arc<EventBus>,
    model: ModelSlot,
    writer: tokio::sync::mpsc::Sender<writer::Job>,
    /// Imports in progress and done, which the writer's remembered priors follow.
    imports: Arc<prior_cache::Imports>,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub stored: usize,
    pub created: usize,
    pub updated: usize,
}

impl Builds {
    pub async fn start(db: &crate::db::Db, bus: Arc<EventBus>) -> Arc<Builds> {
        let pool = db.pool.clone();
        let model = ModelSlot::default();
        let imports = Arc::new(prior_cache::Imports::default());
        let writer = writer::start(pool.clone(), model.clone(), imports.clone());
        let builds = Arc::new(Builds {
            pool,
            sqlite: match &db.typed {
                crate::db::TypedPool::Sqlite(sqlite) => Some(sqlite.clone()),
                crate::db::TypedPool::Postgres(_) => None,
            },
            bus,
            model,
            writer,
            imports,
        });
        if let Err(e) = builds.load_model().await {
            tracing::warn!(error = %e.message, "loading the build failure model");
        }
        builds
    }

    pub fn model(&self) -> Option<Arc<StoredModel>> {
        self.model.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn load_model(&self) -> Result<(), AppError> {
        let row = sqlx::query("SELECT version, trained_at, samples, evaluation, model FROM build_models ORDER BY version DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .context("loading the build model")?;
        let Some(row) = row else { return Ok(()) };
        let decoded = (|| -> Result<StoredModel, Box<dyn std::error::Error>> {
            let samples: i64 = row.try_get("samples")?;
            Ok(StoredModel {
                version: row.try_get("version")?,
                trained_at: row.try_get("trained_at")?,
                samples: samples as usize,
                evaluation: serde_json::from_str(&row.try_get::<String, _>("evaluation")?)?,
                fitted: serde_json::from_str(&row.try_get::<String, _>("model")?)?,
            })
        })()
        .context("decoding the build model")?;
        if !decoded.fitted.reads(&NAMES) {
            // Fitted before the features changed (an upgrade): not used; with no model the
            // worker trains a new one within a minute, and the baseline answers meanwhile.
            tracing::debug!(
                version = decoded.version,
                "the stored build model reads other features; a new one will be trained"
            );
            return Ok(());
        }
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(decoded));
        Ok(())
    }

    /// What came before a build about to run, as the stored builds say now.
    pub async fn prior(&self, pre: &PreRun) -> Result<Prior, AppError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("reading a build's history")?;
        queries::prior(&mut conn, pre).await
    }

    /// What the model (or, without one, the last-build baseline) says of a build about to run.
    pub async fn predict(&self, pre: &PreRun) -> Result<Prediction, AppError> {
        let prior = self.prior(pre).await?;
        Ok(prediction::predict_with(
            self.model().as_deref(),
            pre,
            &prior,
        ))
    }

    /// Stores a build, or updates the one with the same source id, once it is committed
    /// (group-committed with whatever else arrived meanwhile: see [`writer`]). A new build gets
    /// its prediction; an update keeps the one made when it arrived.
    pub async fn ingest(&self, b: Build) -> Result<(Build, bool), AppError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer.send((b, reply)).await.map_err(|_| {
            AppError::unavailable("Flightdeck is shutting down; send the build again.")
        })?;
        let stored = answer.await.map_err(|_| {
            AppError::unavailable("The build could not be stored; send it again.")
        })??;
        self.bus.wake();
        Ok((stored.build, stored.created))
    }

    /// Stores a batch in one transaction: all of it or none. Back-filled history gets no
    /// predictions (there was nobody to predict for).
    pub async fn import(&self, batch: Vec<Build>) -> Result<ImportSummary, AppError> {
        let backend = crate::db::Backend::of(&self.pool);
        let _writing = self.imports.writing();
        let mut tx = store::begin(&self.pool).await?;
        // An import follows what is stored the way a delivery does.
        let batch = app::builds::one_per_source_id(batch);
        let known = queries::stored_by_source_id(&mut tx, backend, &batch).await?;
        let mut summary = ImportSummary {
            stored: batch.len(),
            created: 0,
            updated: 0,
        };
        let (mut updates, mut new) = (Vec::new(), Vec::new());
        for mut b in batch {
            let existing = known.get(&(b.source.clone(), b.source_id.clone()));
            if existing.is_some_and(|old| !b.follow(old)) {
                summary.updated += 1;
                continue;
            }
            if existing.is_some() {
                updates.push(b);
            } else {
                new.push(b);
            }
        }
        summary.updated += updates.len();
        summary.created = new.len();
        bulk::update_all(&mut tx, backend, &updates).await?;
        bulk::insert_all(&mut tx, backend, &new).await?;
        let data = serde_json::json!({ "imported": summary.stored });
        crate::events::append(&mut tx, TOPIC, "builds.imported", &data)
            .await
            .context("publishing an import")?;
        tx.commit().await.context("committing an import")?;
        self.bus.wake();
        Ok(summary)
    }

    /// The build stored under a source's id, if any.
    pub async fn find(&self, source: &str, source_id: &str) -> Result<Option<Build>, AppError> {
        let mut conn = self.pool.acquire().await.context("reading a build")?;
        let backend = crate::db::Backend::of(&self.pool);
        Ok(
            queries::find_all(&mut conn, backend, &[(source, source_id)])
                .await?
                .pop(),
        )
    }

    pub async fn list(
        &self,
        q: &app::builds::BuildQuery,
    ) -> Result<(Vec<Build>, Option<i64>), AppError> {
        queries::list(&self.pool, q).await
    }

    /// The outcomes of the builds started since `since`, oldest first (optionally one pipeline
    /// or branch).
    pub async fn outcomes_since(
        &self,
        since: i64,
        pipeline: Option<&str>,
        branch: Option<&str>,
    ) -> Result<Vec<BuildOutcome>, AppError> {
        queries::outcomes_since(&self.pool, self.sqlite.as_ref(), since, pipeline, branch).await
    }

    /// Trains on the whole history now, stores the model and uses it.
    pub async fn train(&self) -> Result<Arc<StoredModel>, AppError> {
        let history = queries::since(&self.pool, i64::MIN, None, None).await?;
        let examples = samples(&history);
        let count = examples.len();
        let trained = tokio::task::spawn_blocking(move || model::train(&examples))
            .await
            .context("training the build model")?
            .map_err(AppError::conflict)?;
        let (mut fitted, evaluation) = trained;
        fitted.features = NAMES.iter().map(ToString::to_string).collect();
        let now = crate::now_ms();
        let mut tx = self.pool.begin().await.context("storing the build model")?;
        let version: i64 = sqlx::query("INSERT INTO build_models (trained_at, samples, evaluation, model) VALUES ($1, $2, $3, $4) RETURNING version")
            .bind(now)
            .bind(count as i64)
            .bind(serde_json::to_string(&evaluation).unwrap_or_default())
            .bind(serde_json::to_string(&fitted).unwrap_or_default())
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.try_get(0))
            .context("storing the build model")?;
        // Open build pages show the new model's record (and running builds its predictions).
        let data = serde_json::json!({ "version": version, "samples": count });
        crate::events::append(&mut tx, TOPIC, MODEL_TRAINED, &data)
            .await
            .context("publishing the build model")?;
        tx.commit().await.context("storing the build model")?;
        let stored = Arc::new(StoredModel {
            version,
            trained_at: now,
            samples: count,
            evaluation,
            fitted,
        });
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = Some(stored.clone());
        // After the model is in use, so the pages the event refreshes read it.
        self.bus.wake();
        tracing::info!(version, samples = count, "trained the build failure model");
        Ok(stored)
    }

    /// How the predictions stored with the latest `n` finished builds fared, beside the
    /// baselines.
    pub async fn live_accuracy(
        &self,
        pipeline: Option<&str>,
        n: i64,
    ) -> Result<app::builds::LiveAccuracy, AppError> {
        queries::live_accuracy(&self.pool, pipeline, n).await
    }

    /// Why the model in use should be trained again now, if it should: there is none, it is
    /// a day old, or [`RETRAIN_AFTER`] more builds have finished than it learnt from. Counted in
    /// the database, so every replica agrees, and a restart or an import counts as well.
    pub async fn training_due(&self, now: i64) -> Result<Option<String>, AppError> {
        let Some(model) = self.model() else {
            return Ok(Some("no model yet".into()));
        };
        if now - model.trained_at > DAY_MS {
            return Ok(Some("the model is a day old".into()));
        }
        let finished = queries::finished_count(&self.pool).await?;
        Ok((finished - model.samples as i64 >= RETRAIN_AFTER)
            .then(|| format!("{RETRAIN_AFTER} builds finished since the model was trained")))
    }

    /// Retrains when [`Builds::training_due`] says so, checking each minute, and takes up a
    /// model another replica trained as soon as its event arrives.
    pub fn spawn_worker(self: &Arc<Self>) {
        let builds = self.clone();
        let mut events = self.bus.subscribe();
        tokio::spawn(async move {
            // The last failed attempt (too little history, mostly): when, and how many builds
            // had finished then.
            let mut failed: Option<(i64, i64)> = None;
            loop {
                let announced = tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => false,
                    _ = model_trained(&mut events) => true,
                };
                // Another replica may have trained since: the pages its event wakes here, and
                // the predictions made here, use the new model instead of one up to a minute old.
                let _ = builds.load_model().await;
                let now = crate::now_ms();
                if announced {
                    continue;
                }
                if let Some(failed) = failed {
                    let finished = queries::finished_count(&builds.pool).await.ok();
                    if !finished.is_some_and(|n| try_again(failed, now, n)) {
                        continue;
                    }
                }
                let reason = match builds.training_due(now).await {
                    Ok(Some(reason)) => reason,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e.message, "checking whether the build model is due");
                        continue;
                    }
                };
                tracing::debug!(%reason, "training the build model");
                failed = match builds.train().await {
                    Ok(_) => None,
                    Err(e) => {
                        tracing::debug!(error = %e.message, "not retraining the build model");
                        let finished = queries::finished_count(&builds.pool).await;
                        Some((now, finished.unwrap_or(-1)))
                    }
                };
            }
        });
    }
}

/// After an attempt to train that failed at `at` with `finished` builds then, whether to try
/// again: as soon as more have finished (a history imported after a first look at an empty
/// install trains within the minute), or an hour later whatever the reason was.
fn try_again((at, finished): (i64, i64), now: i64, finished_now: i64) -> bool {
    finished_now != finished || now - at >= HOUR_MS
}

/// Waits for a `build.model_trained` event (by any replica, this one included).
async fn model_trained(
    events: &mut tokio::sync::broadcast::Receiver<Arc<crate::events::Published>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(p) if p.event.topic == TOPIC && p.event.kind == MODEL_TRAINED => return,
            // Fell behind a burst: one of the skipped events may have been a new model.
            Err(RecvError::Lagged(_)) => return,
            Ok(_) => {}
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

#[async_trait::async_trait]
impl app::ports::BuildsPort for Builds {
    async fn list(
        &self,
        query: &app::builds::BuildQuery,
    ) -> Result<(Vec<Build>, Option<i64>), AppError> {
        Builds::list(self, query).await
    }
    async fn outcomes_since(
        &self,
        since: i64,
        pipeline: Option<&str>,
    ) -> Result<Vec<BuildOutcome>, AppError> {
        Builds::outcomes_since(self, since, pipeline, None).await
    }
    async fn of_commits(&self, commits: &[String]) -> Result<Vec<Build>, AppError> {
        // A hundred builds for each, as one commit's verdict reads.
        queries::of_commits(&self.pool, commits, 100 * commits.len() as i64).await
    }
    async fn unfinished(
        &self,
        pipeline: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<Build>, AppError> {
        queries::unfinished(&self.pool, pipeline, since, limit).await
    }
    async fn predict(&self, pre: &PreRun) -> Result<Prediction, AppError> {
        Builds::predict(self, pre).await
    }
    fn model_info(&self) -> Option<ModelInfo> {
        self.model().map(|m| m.info())
    }
    async fn train(&self) -> Result<ModelInfo, AppError> {
        Builds::train(self).await.map(|m| m.info())
    }
    async fn live_accuracy(
        &self,
        pipeline: Option<&str>,
    ) -> Result<app::builds::LiveAccuracy, AppError> {
        Builds::live_accuracy(self, pipeline, 100).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_training_is_tried_again_once_builds_finish_or_an_hour_on() {
        let failed = (1_000, 12);
        assert!(
            !try_again(failed, 1_000 + 60_000, 12),
            "nothing new a minute later"
        );
        assert!(
            try_again(failed, 1_000 + 60_000, 3_012),
            "a history was imported"
        );
        assert!(
            try_again(failed, 1_000 + HOUR_MS, 12),
            "an hour on, whatever failed"
        );
    }
}
