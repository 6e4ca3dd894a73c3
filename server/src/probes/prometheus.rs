//! The Prometheus adapter: instant and range queries over Prometheus' HTTP API (reqwest), for
//! PromQL probes and SLIs. Errors say what to fix (unreachable, refused query, unexpected answer).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone)]
pub struct Prometheus {
    http: reqwest::Client,
    base_url: String,
}

/// One sample of an instant vector (or the single value of a scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One series of a range query: (Unix seconds, value) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct VectorItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Option<Vec<(f64, String)>>,
}

fn number(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .map_err(|_| format!("Prometheus returned '{text}', not a number"))
}

impl Prometheus {
    pub fn new(base_url: &str) -> Prometheus {
        Prometheus {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Data, String> {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .query(params)
            .send()
            .await
            .map_err(|e| format!("Prometheus at {} is unreachable: {e}", self.base_url))?;
        let status = response.status();
        let answer: Answer = response.json().await.map_err(|e| {
            format!("Prometheus answered HTTP {status} with something else than its API: {e}")
        })?;
        if answer.status != "success" {
            return Err(format!(
                "Prometheus refused the query: {}",
                answer.error.unwrap_or_else(|| format!("HTTP {status}"))
            ));
        }
        answer
            .data
            .ok_or_else(|| "Prometheus answered without data".into())
    }

    /// `GET /api/v1/query`: the samples of an instant vector, or one sample for a scalar.
    pub async fn instant(&self, query: &str) -> Result<Vec<Sample>, String> {
        self.query(&[("query", query.to_string())]).await
    }

    /// `GET /api/v1/query` evaluated at `at_ms` (Unix ms), so that several queries of one
    /// evaluation see the same instant.
    pub async fn instant_at(&self, query: &str, at_ms: i64) -> Result<Vec<Sample>, String> {
        let time = format!("{}.{:03}", at_ms.div_euclid(1000), at_ms.rem_euclid(1000));
        self.query(&[("query", query.to_string()), ("time", time)])
            .await
    }

    async fn query(&self, params: &[(&str, String)]) -> Result<Vec<Sample>, String> {
        parse_instant(self.get("/api/v1/query", params).await?)
    }

    /// `GET /api/v1/query_range` from `start` to `end` (Unix seconds) every `step_s` seconds.
    pub async fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step_s: i64,
    ) -> Result<Vec<Series>, String> {
        let data = self
            .get(
                "/api/v1/query_range",
                &[
                    ("query", query.to_string()),
                    ("start", start.to_string()),
                    ("end", end.to_string()),
                    ("step", step_s.max(1).to_string()),
                ],
            )
            .await?;
        if data.result_type != "matrix" {
            return Err(format!(
                "expected a matrix from a range query, got a {}",
                data.result_type
            ));
        }
        let items: Vec<VectorItem> =
            serde_json::from_value(data.result).map_err(|e| e.to_string())?;
        items
            .into_iter()
            .map(|item| {
                let points = item
                    .values
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(t, v)| Ok((t, number(&v)?)))
                    .collect::<Result<_, String>>()?;
                Ok(Series {
                    labels: item.metric,
                    points,
                })
            })
            .collect()
    }
}

fn parse_instant(data: Data) -> Result<Vec<Sample>, String> {
    match data.result_type.as_str() {
        "vector" => {
            let items: Vec<VectorItem> =
                serde_json::from_value(data.result).map_err(|e| e.to_string())?;
            items
                .into_iter()
                .map(|item| {
                    let (_, value) = item.value.ok_or("a vector sample without a value")?;
                    Ok(Sample {
                        labels: item.metric,
                        value: number(&value)?,
                    })
                })
                .collect()
        }
        "scalar" => {
            let (_, value): (f64, String) =
                serde_json::from_value(data.result).map_err(|e| e.to_string())?;
            Ok(vec![Sample {
                labels: BTreeMap::new(),
                value: number(&value)?,
            }])
        }
        other => Err(format!("expected a vector or a scalar, got a {other}")),
    }
}

/// A PromQL probe passes when the query returns samples and none of them is 0 (`up == 1`).
pub fn probe_passes(samples: &[Sample]) -> Result<(), String> {
    if samples.is_empty() {
        return Err("the query returned no samples".into());
    }
    match samples.iter().find(|s| s.value == 0.0 || s.value.is_nan()) {
        Some(zero) => Err(format!(
            "{} sample(s); one is 0: {:?}",
            samples.len(),
            zero.labels
        )),
        None => Ok(()),
    }
}

/// The sum of an instant query's samples (a `sum(...)` returns one; no samples is 0 events).
pub fn total(samples: &[Sample]) -> f64 {
    samples
        .iter()
        .map(|s| s.value)
        .filter(|v| v.is_finite())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vectors_and_scalars() {
        let vector: Data = serde_json::from_str(
            r#"{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[1700000000.1,"1"]},{"metric":{"job":"db"},"value":[1700000000.1,"0"]}]}"#,
        )
        .unwrap();
        let samples = parse_instant(vector).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].labels["job"], "api");
        assert!(probe_passes(&samples).unwrap_err().contains("is 0"));
        assert!(probe_passes(&samples[..1]).is_ok());
        assert!(probe_passes(&[]).is_err());
        let scalar: Data =
            serde_json::from_str(r#"{"resultType":"scalar","result":[1700000000,"42.5"]}"#)
                .unwrap();
        assert_eq!(total(&parse_instant(scalar).unwrap()), 42.5);
        let text: Data =
            serde_json::from_str(r#"{"resultType":"string","result":[1,"x"]}"#).unwrap();
        assert!(parse_instant(text).is_err());
    }
}
