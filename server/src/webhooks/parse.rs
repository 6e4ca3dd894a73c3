//! What a CI/CD delivery means for Flightdeck, whatever system sent it. Pure: the payload in, one
//! [`Observed`] out, tested against the shapes GitHub, GitLab and CDEvents document.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// A deployment finished somewhere: completes a deployment Flightdeck handed to that
    /// system (the webhook deployer), or is recorded as one that happened outside.
    DeploymentOutcome {
        service: String,
        environment: String,
        version: String,
        git_sha: Option<String>,
        succeeded: bool,
        rollback: bool,
        /// A Flightdeck deployment id the sender echoed back.
        deployment_id: Option<i64>,
    },
    /// CI built a commit successfully: a release of the service.
    BuildSucceeded {
        service: String,
        version: String,
        git_sha: String,
    },
    /// Understood, but nothing to do (a deployment still in progress, a failed build...).
    Nothing(String),
}

/// The non-empty string at `path` in a webhook's JSON (the CI sources read their runs with it).
pub(crate) fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, key| v.get(key))?
        .as_str()
        .filter(|s| !s.is_empty())
}

fn required(v: &Value, path: &[&str]) -> Result<String, String> {
    text(v, path)
        .map(str::to_string)
        .ok_or_else(|| format!("missing {}", path.join(".")))
}

/// `https://...` and other repository paths give their last segment; names are lowercased the
/// way Flightdeck's slugs are.
fn service_name(raw: &str) -> String {
    raw.rsplit('/').next().unwrap_or(raw).to_ascii_lowercase()
}

fn short_sha(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// `X-GitHub-Event` is `deployment_status` or `workflow_run`.
pub fn github(event: &str, body: &Value) -> Result<Observed, String> {
    match event {
        "deployment_status" => {
            let state = required(body, &["deployment_status", "state"])?;
            let succeeded = match state.as_str() {
                "success" => true,
                "failure" | "error" => false,
                other => return Ok(Observed::Nothing(format!("deployment is {other}"))),
            };
            let deployment = body.get("deployment").ok_or("missing deployment")?;
            let payload = deployment.get("payload").unwrap_or(&Value::Null);
            Ok(Observed::DeploymentOutcome {
                service: service_name(&required(body, &["repository", "name"])?),
                environment: required(deployment, &["environment"])?,
                version: text(payload, &["version"])
                    .map(str::to_string)
                    .map_or_else(|| required(deployment, &["ref"]), Ok)?,
                git_sha: text(deployment, &["sha"]).map(str::to_string),
                succeeded,
                rollback: false,
                deployment_id: payload
                    .get("flightdeck_deployment_id")
                    .and_then(Value::as_i64),
            })
        }
        "workflow_run" => {
            let run = body.get("workflow_run").ok_or("missing workflow_run")?;
            if text(body, &["action"]) != Some("completed")
                || text(run, &["conclusion"]) != Some("success")
            {
                return Ok(Observed::Nothing(
                    "the run has not succeeded, so there is no release".into(),
                ));
            }
            let sha = required(run, &["head_sha"])?;
            Ok(Observed::BuildSucceeded {
                service: service_name(&required(body, &["repository", "name"])?),
                version: short_sha(&sha),
                git_sha: sha,
            })
        }
        other => Err(format!("unsupported GitHub event {other}")),
    }
}

/// `X-Gitlab-Event` is `Deployment Hook` or `Pipeline Hook`.
pub fn gitlab(event: &str, body: &Value) -> Result<Observed, String> {
    match event {
        "Deployment Hook" => {
            let succeeded = match required(body, &["status"])?.as_str() {
                "success" => true,
                "failed" => false,
                other => return Ok(Observed::Nothing(format!("deployment is {other}"))),
            };
            Ok(Observed::DeploymentOutcome {
                service: service_name(&required(body, &["project", "name"])?),
                environment: required(body, &["environment"])?,
                version: required(body, &["ref"])?,
                git_sha: text(body, &["short_sha"]).map(str::to_string),
                succeeded,
                rollback: false,
                deployment_id: None,
            })
        }
        "Pipeline Hook" => {
            if text(body, &["object_attributes", "status"]) != Some("success") {
                return Ok(Observed::Nothing(
                    "the pipeline has not succeeded, so there is no release".into(),
                ));
            }
            let sha = required(body, &["object_attributes", "sha"])?;
            Ok(Observed::BuildSucceeded {
                service: service_name(&required(body, &["project", "name"])?),
                version: short_sha(&sha),
                git_sha: sha,
            })
        }
        other => Err(format!("unsupported GitLab event {other}")),
    }
}

/// The version in a package URL: `pkg:oci/app@1.2.3?repository_url=...`, or its `tag` qualifier
/// when the `@` part is a digest.
fn purl_version(purl: &str) -> Option<String> {
    let (path, qualifiers) = purl.split_once('?').unwrap_or((purl, ""));
    let tag = qualifiers
        .split('&')
        .find_map(|q| q.strip_prefix("tag="))
        .filter(|t| !t.is_empty());
    let at = path
        .rsplit_once('@')
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty());
    match (at, tag) {
        (Some(v), Some(tag)) if v.contains(':') => Some(tag.to_string()),
        (Some(v), _) => Some(v.to_string()),
        (None, tag) => tag.map(str::to_string),
    }
}

/// The CDEvents type without its version: `dev.cdevents.service.deployed.0.1.1` ->
/// `dev.cdevents.service.deployed`.
pub fn cdevents_kind(full: &str) -> String {
    full.split('.')
        .take_while(|part| !part.starts_with(|c: char| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether Flightdeck acts on this CDEvents type (others are acknowledged and ignored).
pub fn cdevents_supported(kind: &str) -> bool {
    matches!(
        kind,
        "dev.cdevents.service.deployed"
            | "dev.cdevents.service.upgraded"
            | "dev.cdevents.service.rolledback"
    ) || kind.starts_with("dev.cdevents.environment.")
}

pub fn cdevents(body: &Value) -> Result<Observed, String> {
    let kind = cdevents_kind(&required(body, &["context", "type"])?);
    let subject = body.get("subject").ok_or("missing subject")?;
    match kind.as_str() {
        "dev.cdevents.service.deployed" | "dev.cdevents.service.upgraded" | "dev.cdevents.service.rolledback" => {
            let artifact = required(subject, &["content", "artifactId"])?;
            Ok(Observed::DeploymentOutcome {
                service: service_name(&required(subject, &["id"])?),
                environment: required(subject, &["content", "environment", "id"])?,
                version: purl_version(&artifact).ok_or("subject.content.artifactId has no version")?,
                git_sha: None,
                succeeded: true,
                rollback: kind.ends_with("rolledback"),
                deployment_id: None,
            })
        }
        other if other.starts_with("dev.cdevents.environment.") => Ok(Observed::Nothing(format!(
            "{other}: environments (and which are protected) are managed in Flightdeck, not by events"
        ))),
        other => Err(format!("unsupported CDEvents type {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn github_deployment_status_maps_to_an_outcome() {
        let body = json!({
            "deployment_status": {"state": "failure"},
            "deployment": {"environment": "production", "ref": "v2.1.0", "sha": "a1b2c3d4e5f6a7b8",
                            "payload": {"flightdeck_deployment_id": 42}},
            "repository": {"name": "Checkout-API"}
        });
        assert_eq!(
            github("deployment_status", &body).unwrap(),
            Observed::DeploymentOutcome {
                service: "checkout-api".into(),
                environment: "production".into(),
                version: "v2.1.0".into(),
                git_sha: Some("a1b2c3d4e5f6a7b8".into()),
                succeeded: false,
                rollback: false,
                deployment_id: Some(42),
            }
        );
        let pending = json!({"deployment_status": {"state": "in_progress"}});
        assert!(matches!(
            github("deployment_status", &pending).unwrap(),
            Observed::Nothing(_)
        ));
        assert!(github("deployment_status", &json!({}))
            .unwrap_err()
            .contains("deployment_status.state"));
    }

    #[test]
    fn a_successful_workflow_run_is_a_release() {
        let body = json!({"action": "completed", "workflow_run": {"conclusion": "success", "head_sha": "0123456789abcdef0123"},
                          "repository": {"name": "search"}});
        assert_eq!(
            github("workflow_run", &body).unwrap(),
            Observed::BuildSucceeded {
                service: "search".into(),
                version: "0123456789ab".into(),
                git_sha: "0123456789abcdef0123".into()
            }
        );
    }

    #[test]
    fn gitlab_hooks_map_the_same_way() {
        let body = json!({"object_kind": "deployment", "status": "success", "environment": "staging",
                          "ref": "1.4.0", "short_sha": "deadbeef", "project": {"name": "api"}});
        assert!(matches!(
            gitlab("Deployment Hook", &body).unwrap(),
            Observed::DeploymentOutcome {
                succeeded: true,
                ..
            }
        ));
        let running = json!({"status": "running"});
        assert!(matches!(
            gitlab("Deployment Hook", &running).unwrap(),
            Observed::Nothing(_)
        ));
        assert!(gitlab("Push Hook", &body).is_err());
    }

    #[test]
    fn cdevents_types_and_package_urls() {
        assert_eq!(
            cdevents_kind("dev.cdevents.service.deployed.0.1.1"),
            "dev.cdevents.service.deployed"
        );
        assert!(cdevents_supported("dev.cdevents.environment.deleted"));
        assert!(!cdevents_supported("dev.cdevents.pipelinerun.finished"));
        assert_eq!(
            purl_version("pkg:oci/api@1.2.3?repository_url=r.example/api").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(
            purl_version("pkg:oci/api@sha256:abc?tag=1.2.4").as_deref(),
            Some("1.2.4")
        );
        assert_eq!(purl_version("pkg:oci/api"), None);
        let body = json!({"context": {"id": "e1", "type": "dev.cdevents.service.rolledback.0.1.1"},
                          "subject": {"id": "services/api", "content": {"environment": {"id": "prod"}, "artifactId": "pkg:oci/api@1.0.0"}}});
        assert!(
            matches!(cdevents(&body).unwrap(), Observed::DeploymentOutcome { rollback: true, ref version, .. } if version == "1.0.0")
        );
    }
}
