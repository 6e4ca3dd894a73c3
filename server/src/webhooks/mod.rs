//! CI/CD webhooks: the inbox deliveries wait in until applied, the webhook secrets, the payload
//! parsers, and GitHub's signature, form-encoded body and ping. The endpoint itself is `rest/webhooks.rs`.

mod inbox;
pub mod parse;
mod secrets;
mod settings;

pub use inbox::{Inbox, NewDelivery};
pub use secrets::Secrets;
pub use settings::WebhookSettings;

use axum::body::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Larger deliveries are refused with 413 before anything is read into memory past this.
pub const MAX_BODY: usize = 1024 * 1024;

/// `sha256=<hex>` over the raw body, compared in constant time.
pub fn github_signature_ok(secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex) = signature.and_then(|s| s.strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// GitHub sends `payload=<JSON>` form-encoded unless a webhook's content type is set to
/// `application/json`, and its settings page offers the form first: the signature covers the
/// bytes sent, and the JSON is the `payload` field.
pub fn github_payload(content_type: Option<&str>, body: Bytes) -> Result<Bytes, String> {
    let form = content_type.is_some_and(|t| {
        t.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if !form {
        return Ok(body);
    }
    url::form_urlencoded::parse(&body)
        .find(|(key, _)| key == "payload")
        .map(|(_, json)| Bytes::from(json.into_owned()))
        .ok_or_else(|| {
            "A form-encoded delivery carries its JSON in the `payload` field, and this one has none."
                .to_string()
        })
}

/// GitHub pings a webhook when it is saved and shows the answer beside the delivery: whether it
/// sends the events read here, which the webhook's settings list far from its secret.
pub fn github_ping_note(body: &[u8]) -> String {
    let ping: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let events: Vec<&str> = ping
        .pointer("/hook/events")
        .and_then(serde_json::Value::as_array)
        .map(|events| events.iter().filter_map(|e| e.as_str()).collect())
        .unwrap_or_default();
    let sends = |event: &str| events.iter().any(|e| *e == event || *e == "*");
    match (sends("workflow_run"), sends("deployment_status")) {
        (true, _) => "Signed with the secret set here. Workflow runs arrive as builds.".into(),
        (false, true) => "Signed with the secret set here. Deployment statuses arrive as deployments; select Workflow runs too for builds.".into(),
        (false, false) => "Signed with the secret set here, but this webhook sends neither Workflow runs nor Deployment statuses: select Workflow runs in its settings for builds.".into(),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Hex HMAC-SHA256 of `body`: what the webhook deployer sends, and what tests sign with.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_signatures_are_checked() {
        let body = br#"{"zen":"Design for failure."}"#;
        let good = format!("sha256={}", sign("It's a Secret to Everybody", body));
        assert!(github_signature_ok(
            "It's a Secret to Everybody",
            body,
            Some(&good)
        ));
        assert!(!github_signature_ok("another secret", body, Some(&good)));
        assert!(!github_signature_ok(
            "It's a Secret to Everybody",
            b"{}",
            Some(&good)
        ));
        assert!(!github_signature_ok(
            "It's a Secret to Everybody",
            body,
            Some("sha256=zz")
        ));
        assert!(!github_signature_ok(
            "It's a Secret to Everybody",
            body,
            None
        ));
    }

    /// The example from GitHub's "Validating webhook deliveries" documentation.
    #[test]
    fn matches_githubs_published_example() {
        assert_eq!(
            sign("It's a Secret to Everybody", b"Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
