//! `ServeArgs` (text, as given) to a `ServeConfig`: every value checked, every problem reported
//! at once, each saying what to change.

use super::*;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

impl ServeArgs {
    /// Checks every setting and returns all problems found, each saying what to change.
    pub fn validate(&self) -> Result<ServeConfig, Vec<String>> {
        let mut problems = Vec::new();
        let addr = self
            .addr
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.push(format!(
                    "FLIGHTDECK_ADDR '{}' is not host:port, e.g. 127.0.0.1:3000",
                    self.addr
                ))
            })
            .ok();
        if let Err(p) = check_database_url(&self.db.database_url) {
            problems.push(p);
        }
        let log_format = match self.log_format.as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            other => {
                problems.push(format!(
                    "FLIGHTDECK_LOG_FORMAT must be text or json (got '{other}')"
                ));
                None
            }
        };
        if let Some(p) = &self.admin_password {
            if let Err(e) = app::model::validate_password(p) {
                problems.push(format!("FLIGHTDECK_ADMIN_PASSWORD: {e}"));
            }
        }
        let mut allowed_origins = Vec::new();
        let mut secure_cookies = false;
        if let Some(raw) = self.public_url.as_deref().filter(|s| !s.is_empty()) {
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {
                    secure_cookies = u.scheme() == "https";
                    allowed_origins.push(origin_of(&u));
                }
                _ => problems.push(format!(
                    "FLIGHTDECK_PUBLIC_URL '{raw}' is not an http(s) URL"
                )),
            }
        }
        for raw in self
            .allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    allowed_origins.push(origin_of(&u))
                }
                _ => problems.push(format!(
                    "FLIGHTDECK_ALLOWED_ORIGINS entry '{raw}' is not an origin like http://127.0.0.1:8080"
                )),
            }
        }
        let trusted_proxies = crate::auth::proxies::parse_list(&self.trusted_proxies)
            .unwrap_or_else(|e| {
                problems.push(format!("FLIGHTDECK_TRUSTED_PROXIES: {e}"));
                Vec::new()
            });
        if !(1..=8760).contains(&self.session_max_hours) {
            problems.push(format!(
                "FLIGHTDECK_SESSION_MAX_HOURS must be from 1 to 8760 (got {})",
                self.session_max_hours
            ));
        }
        let session_idle = match self.session_idle_hours.parse::<u64>() {
            Ok(h) if (1..=24 * 30).contains(&h) => Some(Duration::from_secs(h * 3600)),
            _ => {
                problems.push(format!(
                    "FLIGHTDECK_SESSION_IDLE_HOURS must be a whole number from 1 to 720 (got '{}')",
                    self.session_idle_hours
                ));
                None
            }
        };
        let mut secret = |name: &str, value: &Option<String>| {
            let value = value.as_deref().filter(|v| !v.is_empty())?;
            if value.len() < 16 {
                problems.push(format!(
                    "{name} is shorter than 16 characters; use a long random value (e.g. openssl rand -hex 32)"
                ));
            }
            Some(value.to_string())
        };
        let webhooks = WebhookSecrets {
            github: secret(
                "FLIGHTDECK_GITHUB_WEBHOOK_SECRET",
                &self.github_webhook_secret,
            ),
            gitlab: secret(
                "FLIGHTDECK_GITLAB_WEBHOOK_TOKEN",
                &self.gitlab_webhook_token,
            ),
            deployer: secret(
                "FLIGHTDECK_DEPLOYER_WEBHOOK_SECRET",
                &self.deployer_webhook_secret,
            ),
        };
        let alerting = self.alerting(addr, &mut problems);
        let site_root = PathBuf::from(&self.site_root);
        let bundle = site_root.join("pkg").join("flightdeck.wasm");
        if !bundle.is_file() {
            problems.push(format!(
                "{} is missing: build the site with `cargo leptos build --release`, or point FLIGHTDECK_SITE_ROOT at a built site",
                bundle.display()
            ));
        }
        if !(1..=300).contains(&self.header_timeout_s) {
            problems.push(format!(
                "FLIGHTDECK_HEADER_TIMEOUT_S must be from 1 to 300 seconds (got {})",
                self.header_timeout_s
            ));
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            problems.push(format!(
                "FLIGHTDECK_MAX_CONNECTIONS must be from 1 to 1000000 (got {})",
                self.max_connections
            ));
        }
        if !(1..=3600).contains(&self.shutdown_timeout_s) {
            problems.push(format!(
                "FLIGHTDECK_SHUTDOWN_TIMEOUT_S must be from 1 to 3600 seconds (got {})",
                self.shutdown_timeout_s
            ));
        }
        if !(2..=600).contains(&self.job_lease_s) {
            problems.push(format!(
                "FLIGHTDECK_JOB_LEASE_S must be from 2 to 600 seconds (got {})",
                self.job_lease_s
            ));
        }
        match (addr, log_format, session_idle, problems.is_empty()) {
            (Some(addr), Some(log_format), Some(session_idle), true) => Ok(ServeConfig {
                addr,
                database_url: self.db.database_url.clone(),
                log_format,
                admin_password: self.admin_password.clone(),
                site_root,
                demo: self.demo,
                web: WebConfig {
                    deploy: crate::deploy::DeploySettings {
                        lease: Duration::from_secs(self.job_lease_s),
                        ..Default::default()
                    },
                    webhooks,
                    alerting,
                    secure_cookies,
                    allowed_origins,
                    session_idle,
                    session_max: Duration::from_secs(self.session_max_hours * 3600),
                    trusted_proxies,
                },
                limits: crate::serve::Limits {
                    header_read_timeout: Duration::from_secs(self.header_timeout_s),
                    max_connections: self.max_connections,
                    shutdown_timeout: Duration::from_secs(self.shutdown_timeout_s),
                },
            }),
            _ => Err(problems),
        }
    }
}

impl ServeArgs {
    fn alerting(&self, addr: Option<SocketAddr>, problems: &mut Vec<String>) -> AlertingSettings {
        let public_url = match (self.public_url.as_deref().filter(|s| !s.is_empty()), addr) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => String::new(),
        };
        let smtp_url = self.smtp_url.clone().filter(|s| !s.is_empty());
        if let Some(raw) = &smtp_url {
            // Never echo the URL: it may carry the SMTP password.
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some() => {}
                _ => problems.push(
                    "FLIGHTDECK_SMTP_URL is not an smtp:// or smtps:// URL with a host".into(),
                ),
            }
        }
        if !self.smtp_from.contains('@') {
            problems.push(format!(
                "FLIGHTDECK_SMTP_FROM '{}' is not an email address",
                self.smtp_from
            ));
        }
        let prometheus_url = self.prometheus_url.clone().filter(|s| !s.is_empty());
        if let Some(raw) = &prometheus_url {
            if !matches!(url::Url::parse(raw), Ok(u) if matches!(u.scheme(), "http" | "https")) {
                problems.push(format!(
                    "FLIGHTDECK_PROMETHEUS_URL '{raw}' is not an http(s) URL"
                ));
            }
        }
        if !(1..=3650).contains(&self.alert_retention_days) {
            problems.push(format!(
                "FLIGHTDECK_ALERT_RETENTION_DAYS {} is not between 1 and 3650",
                self.alert_retention_days
            ));
        }
        if !(1..=365).contains(&self.silence_max_days) {
            problems.push(format!(
                "FLIGHTDECK_SILENCE_MAX_DAYS {} is not between 1 and 365",
                self.silence_max_days
            ));
        }
        AlertingSettings {
            alert_retention: Duration::from_secs(u64::from(self.alert_retention_days) * 86_400),
            silence_max: Duration::from_secs(u64::from(self.silence_max_days) * 86_400),
            public_url,
            smtp_url,
            smtp_from: self.smtp_from.clone(),
            prometheus_url: prometheus_url.map(|u| u.trim_end_matches('/').to_string()),
            ..AlertingSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["flightdeck", "serve"];
        argv.extend_from_slice(extra);
        match Cli::parse_from(argv).command {
            Command::Serve(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = args(&[
            "--addr",
            "nowhere",
            "--database-url",
            "mysql://x",
            "--log-format",
            "xml",
            "--admin-password",
            "short",
            "--public-url",
            "ftp://x",
            "--allowed-origins",
            "not a url",
            "--session-idle-hours",
            "0",
            "--site-root",
            "/nonexistent",
            "--alert-retention-days",
            "0",
        ])
        .validate()
        .unwrap_err();
        assert_eq!(problems.len(), 9, "{problems:#?}");
        assert!(problems
            .iter()
            .any(|p| p.contains("FLIGHTDECK_ALERT_RETENTION_DAYS")));
        assert!(problems.iter().any(|p| p.contains("FLIGHTDECK_ADDR")));
        assert!(problems.iter().any(|p| p.contains("cargo leptos build")));
    }

    proptest::proptest! {
        /// Whichever settings are wrong, start-up names each of them, all at once.
        #[test]
        fn start_up_reports_exactly_the_wrong_settings(wrong in proptest::collection::vec(proptest::bool::ANY, 8)) {
            let bad: [(&str, &str, &str); 8] = [
                ("--addr", "nowhere", "FLIGHTDECK_ADDR"),
                ("--database-url", "mysql://x", "FLIGHTDECK_DATABASE_URL"),
                ("--log-format", "xml", "FLIGHTDECK_LOG_FORMAT"),
                ("--admin-password", "short", "FLIGHTDECK_ADMIN_PASSWORD"),
                ("--public-url", "ftp://x", "FLIGHTDECK_PUBLIC_URL"),
                ("--allowed-origins", "not a url", "FLIGHTDECK_ALLOWED_ORIGINS"),
                ("--session-idle-hours", "0", "FLIGHTDECK_SESSION_IDLE_HOURS"),
                ("--alert-retention-days", "0", "FLIGHTDECK_ALERT_RETENTION_DAYS"),
            ];
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
            std::fs::write(dir.path().join("pkg/flightdeck.wasm"), b"").unwrap();
            let mut argv = vec!["--site-root", dir.path().to_str().unwrap()];
            for ((flag, value, _), on) in bad.iter().zip(&wrong) {
                if *on {
                    argv.extend([*flag, *value]);
                }
            }
            let expected: Vec<&str> = bad.iter().zip(&wrong).filter(|(_, on)| **on).map(|((_, _, name), _)| *name).collect();
            match args(&argv).validate() {
                Ok(_) => proptest::prop_assert!(expected.is_empty()),
                Err(problems) => {
                    proptest::prop_assert_eq!(problems.len(), expected.len(), "{:#?}", problems);
                    for name in expected {
                        proptest::prop_assert!(problems.iter().any(|p| p.contains(name)), "{} not named: {:#?}", name, problems);
                    }
                }
            }
        }
    }

    #[test]
    fn a_good_configuration_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/flightdeck.wasm"), b"").unwrap();
        let cfg = args(&[
            "--public-url",
            "https://deck.example.com/",
            "--allowed-origins",
            "http://127.0.0.1:8080",
            "--site-root",
            dir.path().to_str().unwrap(),
        ])
        .validate()
        .unwrap();
        assert!(cfg.web.secure_cookies);
        assert_eq!(
            cfg.web.allowed_origins,
            ["https://deck.example.com", "http://127.0.0.1:8080"]
        );
        assert_eq!(cfg.log_format, LogFormat::Text);
    }
}
