//! Evaluating every SLO: the counts of each burn window and of the whole window, the budget and
//! burn arithmetic of `app::health::slo`, then one transaction storing every evaluation. Probe
//! SLOs are summed for all SLOs at once (one grouped query over minutes, one over hours), so a
//! round stays cheap with thousands of SLOs; PromQL SLOs ask Prometheus.
//!
//! When an SLO starts firing a rule it raises an `SLOBurnRate` alert (critical for a page rule,
//! warning for a ticket rule) and stops it when no rule fires. A page-level burn also rolls back
//! any deployment of the service whose post-deploy watch window is still open.

use super::counts::{HOUR_MS, MINUTE_MS};
use super::Slos;
use crate::alerts::incoming::Incoming;
use crate::error::Context as _;
use crate::probes::prometheus::{total, Series};
use crate::store;
use app::error::AppError;
use app::health::alert::{fingerprint, AlertSource};
use app::health::slo::{evaluate, BurnWindow, Counts, Evaluation, RuleSeverity};
use app::maintenance;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// Windows read from minute counts; 1d and 3d are read from hour counts.
const MINUTE_WINDOWS: [BurnWindow; 5] = [
    BurnWindow::M5,
    BurnWindow::M30,
    BurnWindow::H1,
    BurnWindow::H2,
    BurnWindow::H6,
];

/// What one round did, for the log and the benchmark.
#[derive(Debug, Clone, Default)]
pub struct RoundSummary {
    pub evaluated: usize,
    pub failed: usize,
    pub started_firing: usize,
    pub stopped_firing: usize,
}

struct Definition {
    id: i64,
    service: String,
    name: String,
    environment: Option<String>,
    from_probes: bool,
    good_query: Option<String>,
    total_query: Option<String>,
    objective: f64,
    window_days: u32,
    firing: Option<String>,
}

/// Per SLO: the counts of each burn window and of the 28- and 30-day windows.
#[derive(Default, Clone)]
struct Sums {
    windows: HashMap<BurnWindow, Counts>,
    whole_28: Counts,
    whole_30: Counts,
}

fn counts(row: &sqlx::any::AnyRow, good: &str, total: &str) -> Result<Counts, sqlx::Error> {
    // Sums are cast to BIGINT (PostgreSQL sums BIGINT as NUMERIC, which the Any driver cannot
    // read); a SUM over no rows is NULL.
    let read = |column: &str| -> Result<f64, sqlx::Error> {
        Ok(match row.try_get::<Option<i64>, _>(column) {
            Ok(v) => v.unwrap_or(0) as f64,
            Err(_) => row.try_get::<Option<f64>, _>(column)?.unwrap_or(0.0),
        })
    };
    Ok(Counts::new(read(good)?, read(total)?))
}

/// A PromQL range duration for `ms` milliseconds (`300000ms` is `5m`; Prometheus accepts both).
fn prometheus_duration(ms: i64) -> String {
    match ms {
        ms if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms => format!("{}ms", ms.max(1)),
    }
}

/// Pairs hourly good and total series (PromQL) into (end of hour, counts) points.
pub fn zip_hours(good: &[Series], total: &[Series]) -> Vec<(i64, Counts)> {
    let sum = |series: &[Series]| {
        let mut by_time: BTreeMap<i64, f64> = BTreeMap::new();
        for s in series {
            for (t, v) in &s.points {
                if v.is_finite() {
                    *by_time.entry(*t as i64).or_default() += v;
                }
            }
        }
        by_time
    };
    let (good, total) = (sum(good), sum(total));
    total
        .iter()
        .map(|(t, all)| {
            (
                t * 1000,
                Counts::new(good.get(t).copied().unwrap_or(0.0).min(*all), *all),
            )
        })
        .collect()
}

impl Slos {
    /// Evaluates every SLO as of `now` (tests pass their own clock).
    pub async fn evaluate_all(&self, now: i64) -> Result<RoundSummary, AppError> {
        let definitions: Vec<Definition> = sqlx::query(
            "SELECT o.id, s.name AS service, o.name, e.name AS environment, o.component_id, o.good_query, \
             o.total_query, o.objective, o.window_days, o.firing FROM slos o JOIN services s ON s.id = o.service_id \
             LEFT JOIN components c ON c.id = o.component_id LEFT JOIN environments e ON e.id = c.environment_id",
        )
        .fetch_all(&self.pool)
        .await
        .context("evaluating SLOs")?
        .iter()
        .map(|r| {
            Ok(Definition {
                id: r.try_get("id")?,
                service: r.try_get("service")?,
                name: r.try_get("name")?,
                environment: r.try_get("environment")?,
                from_probes: r.try_get::<Option<i64>, _>("component_id")?.is_some(),
                good_query: r.try_get("good_query")?,
                total_query: r.try_get("total_query")?,
                objective: r.try_get("objective")?,
                window_days: r.try_get::<i64, _>("window_days")? as u32,
                firing: r.try_get("firing")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("evaluating SLOs")?;
        if definitions.is_empty() {
            return Ok(RoundSummary::default());
        }
        let mut sums = self.probe_sums(now).await?;
        let mut results: Vec<(&Definition, Result<Evaluation, String>)> =
            Vec::with_capacity(definitions.len());
        for definition in &definitions {
            let result = if definition.from_probes {
                let s = sums.remove(&definition.id).unwrap_or_default();
                let whole = if definition.window_days == 28 {
                    s.whole_28
                } else {
                    s.whole_30
                };
                Ok(evaluate(
                    definition.objective,
                    definition.window_days,
                    whole,
                    |w| s.windows.get(&w).copied().unwrap_or_default(),
                ))
            } else {
                self.promql_evaluation(definition, now).await
            };
            results.push((definition, result));
        }

        let mut summary = RoundSummary::default();
        let mut changes = Vec::new();
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        for (definition, result) in &results {
            match result {
                Ok(evaluation) => {
                    let firing = evaluation.severity().map(|s| match s {
                        RuleSeverity::Page => "page",
                        RuleSeverity::Ticket => "ticket",
                    });
                    sqlx::query("UPDATE slos SET evaluation = $2, evaluated_at = $3, evaluation_error = NULL, firing = $4 WHERE id = $1")
                        .bind(definition.id)
                        .bind(serde_json::to_string(evaluation).unwrap_or_default())
                        .bind(now)
                        .bind(firing)
                        .execute(&mut *tx)
                        .await
                        .context("evaluating SLOs")?;
                    summary.evaluated += 1;
                    if firing != definition.firing.as_deref() {
                        changes.push((*definition, firing, evaluation.clone()));
                    }
                }
                Err(error) => {
                    sqlx::query(
                        "UPDATE slos SET evaluated_at = $2, evaluation_error = $3 WHERE id = $1",
                    )
                    .bind(definition.id)
                    .bind(now)
                    .bind(error)
                    .execute(&mut *tx)
                    .await
                    .context("evaluating SLOs")?;
                    summary.failed += 1;
                }
            }
        }
        let data = serde_json::json!({ "evaluated": summary.evaluated, "failed": summary.failed, "at": now });
        crate::events::append(&mut tx, app::health::topics::SLOS, "slos.evaluated", &data)
            .await
            .context("evaluating SLOs")?;
        tx.commit().await.context("evaluating SLOs")?;
        self.bus.wake();

        let mut alerts = Vec::new();
        for (definition, firing, evaluation) in changes {
            match firing {
                Some(_) => summary.started_firing += 1,
                None => summary.stopped_firing += 1,
            }
            alerts.push(burn_alert(definition, firing, &evaluation, now));
            if firing == Some("page") && definition.firing.as_deref() != Some("page") {
                self.roll_back_watched(definition, &evaluation).await;
                let why = format!(
                    "SLO {} of {} is burning its error budget at a paging rate",
                    definition.name, definition.service
                );
                self.flags
                    .kill_for_slo(&definition.service, &definition.name, &why)
                    .await;
            }
        }
        if !alerts.is_empty() {
            self.alerts.ingest(AlertSource::Slo, alerts).await?;
        }
        Ok(summary)
    }

    /// Window sums of every probe SLO, in two grouped queries.
    async fn probe_sums(&self, now: i64) -> Result<HashMap<i64, Sums>, AppError> {
        let minute_start = |w: BurnWindow| (now - w.seconds() * 1000) / MINUTE_MS;
        let hour_start = |ms: i64| (now - ms) / HOUR_MS;
        let mut sql = String::from("SELECT slo_id");
        for (i, _) in MINUTE_WINDOWS.iter().enumerate() {
            let p = i + 1;
            sql.push_str(&format!(
                ", CAST(SUM(CASE WHEN minute >= ${p} THEN good ELSE 0 END) AS BIGINT) AS g{i}, CAST(SUM(CASE WHEN minute >= ${p} THEN total ELSE 0 END) AS BIGINT) AS t{i}"
            ));
        }
        sql.push_str(&format!(
            " FROM slo_minutes WHERE minute >= ${} GROUP BY slo_id",
            MINUTE_WINDOWS.len()
        ));
        let mut query = sqlx::query(&sql);
        for w in MINUTE_WINDOWS {
            query = query.bind(minute_start(w));
        }
        let mut sums: HashMap<i64, Sums> = HashMap::new();
        for row in query
            .fetch_all(&self.pool)
            .await
            .context("summing SLO counts")?
        {
            let entry = sums
                .entry(row.try_get("slo_id").context("summing SLO counts")?)
                .or_default();
            for (i, w) in MINUTE_WINDOWS.iter().enumerate() {
                entry.windows.insert(
                    *w,
                    counts(&row, &format!("g{i}"), &format!("t{i}"))
                        .context("summing SLO counts")?,
                );
            }
        }
        let rows = sqlx::query(
            "SELECT slo_id, \
             CAST(SUM(CASE WHEN hour >= $1 THEN good ELSE 0 END) AS BIGINT) AS g1d, CAST(SUM(CASE WHEN hour >= $1 THEN total ELSE 0 END) AS BIGINT) AS t1d, \
             CAST(SUM(CASE WHEN hour >= $2 THEN good ELSE 0 END) AS BIGINT) AS g3d, CAST(SUM(CASE WHEN hour >= $2 THEN total ELSE 0 END) AS BIGINT) AS t3d, \
             CAST(SUM(CASE WHEN hour >= $3 THEN good ELSE 0 END) AS BIGINT) AS g28, CAST(SUM(CASE WHEN hour >= $3 THEN total ELSE 0 END) AS BIGINT) AS t28, \
             CAST(SUM(good) AS BIGINT) AS g30, CAST(SUM(total) AS BIGINT) AS t30 FROM slo_hours WHERE hour >= $4 GROUP BY slo_id",
        )
        .bind(hour_start(BurnWindow::D1.seconds() * 1000 - HOUR_MS))
        .bind(hour_start(BurnWindow::D3.seconds() * 1000 - HOUR_MS))
        .bind(hour_start(28 * 86_400_000 - HOUR_MS))
        .bind(hour_start(30 * 86_400_000 - HOUR_MS))
        .fetch_all(&self.pool)
        .await
        .context("summing SLO counts")?;
        for row in rows {
            let entry = sums
                .entry(row.try_get("slo_id").context("summing SLO counts")?)
                .or_default();
            entry.windows.insert(
                BurnWindow::D1,
                counts(&row, "g1d", "t1d").context("summing SLO counts")?,
            );
            entry.windows.insert(
                BurnWindow::D3,
                counts(&row, "g3d", "t3d").context("summing SLO counts")?,
            );
            entry.whole_28 = counts(&row, "g28", "t28").context("summing SLO counts")?;
            entry.whole_30 = counts(&row, "g30", "t30").context("summing SLO counts")?;
        }
        Ok(sums)
    }

    /// A PromQL SLO: `$window` in the queries is replaced by each window (`5m` ... `3d`, `30d`),
    /// every query evaluated at `now`. What happened during maintenance of the SLO's
    /// environment is left out: for each stretch of it inside a window, the same queries over
    /// just that stretch (`$window` its length, evaluated at its end) are subtracted, which is
    /// exact for the counters-over-a-range queries SLOs are written as (`increase(...[$window])`).
    async fn promql_evaluation(&self, d: &Definition, now: i64) -> Result<Evaluation, String> {
        let prometheus = self
            .prometheus
            .as_ref()
            .ok_or("no Prometheus configured: set FLIGHTDECK_PROMETHEUS_URL")?;
        let (good_q, total_q) = (
            d.good_query.as_deref().unwrap_or(""),
            d.total_query.as_deref().unwrap_or(""),
        );
        let ask = |length_ms: i64, at: i64| async move {
            let window = prometheus_duration(length_ms);
            let good = total(
                &prometheus
                    .instant_at(&good_q.replace("$window", &window), at)
                    .await?,
            );
            let all = total(
                &prometheus
                    .instant_at(&total_q.replace("$window", &window), at)
                    .await?,
            );
            Ok::<(f64, f64), String>((good, all))
        };
        let whole_ms = i64::from(d.window_days) * 86_400_000;
        let periods = self
            .maintenance
            .periods_since(now - whole_ms)
            .await
            .map_err(|e| e.message)?;
        let environment = d.environment.as_deref();
        // Each stretch is asked once, however many windows hold it.
        let mut asked: HashMap<(i64, i64), (f64, f64)> = HashMap::new();
        let mut counts = async |length_ms: i64| -> Result<Counts, String> {
            let (mut good, mut all) = ask(length_ms, now).await?;
            for span in maintenance::spans(&periods, environment, now - length_ms, now) {
                let (g, a) = match asked.get(&span) {
                    Some(known) => *known,
                    None => {
                        let answer = ask(span.1 - span.0, span.1).await?;
                        *asked.entry(span).or_insert(answer)
                    }
                };
                good -= g;
                all -= a;
            }
            let all = all.max(0.0);
            Ok(Counts::new(good.clamp(0.0, all), all))
        };
        let mut windows = HashMap::new();
        for w in BurnWindow::ALL {
            windows.insert(w, counts(w.seconds() * 1000).await?);
        }
        let whole = counts(whole_ms).await?;
        Ok(evaluate(d.objective, d.window_days, whole, |w| {
            windows.get(&w).copied().unwrap_or_default()
        }))
    }

    async fn roll_back_watched(&self, d: &Definition, evaluation: &Evaluation) {
        let rule = evaluation
            .firing
            .first()
            .map(|r| r.label())
            .unwrap_or_default();
        let reason = format!(
            "Automatic rollback: SLO {}/{} is burning its error budget ({rule}) inside the post-deploy watch window.",
            d.service, d.name
        );
        for outcome in self
            .deployments
            .roll_back_watched(&d.service, d.environment.as_deref(), &reason)
            .await
        {
            match outcome {
                Ok(accepted) => {
                    tracing::warn!(slo = %d.name, deployment = accepted.id, "SLO burn rolled back a deployment")
                }
                Err(e) => {
                    tracing::warn!(slo = %d.name, error = %e.message, "SLO burn rollback refused")
                }
            }
        }
    }
}

/// The `SLOBurnRate` alert of an SLO: firing while a rule fires, resolved when none does.
fn burn_alert(d: &Definition, firing: Option<&str>, evaluation: &Evaluation, now: i64) -> Incoming {
    let mut labels = BTreeMap::from([
        ("alertname".to_string(), "SLOBurnRate".to_string()),
        ("service".to_string(), d.service.clone()),
        ("slo".to_string(), d.name.clone()),
    ]);
    let fp = fingerprint(&labels);
    labels.insert(
        "severity".into(),
        if firing == Some("page") {
            "critical"
        } else {
            "warning"
        }
        .into(),
    );
    let rules: Vec<String> = evaluation.firing.iter().map(|r| r.label()).collect();
    let annotations = BTreeMap::from([(
        "summary".to_string(),
        format!(
            "{}/{} burns its error budget: {}; {} of the budget left.",
            d.service,
            d.name,
            rules.join(", "),
            app::health::slo::percent(evaluation.budget.remaining, 1)
        ),
    )]);
    Incoming {
        // One alert per SLO whatever its severity, so a page that calms to a ticket updates it.
        fingerprint: fp,
        labels,
        annotations,
        starts_at: Some(now),
        ends_at: None,
        generator_url: None,
        resolved: firing.is_none(),
    }
}
