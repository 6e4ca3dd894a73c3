//! Email over SMTP (lettre) for email channels. Configured by `FLIGHTDECK_SMTP_URL`; without it an
//! email notification fails with an error saying so, visible on the alert.

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: String,
}

impl Mailer {
    /// `url` was validated at start-up; a URL lettre still refuses leaves email unconfigured
    /// (and says so in the log, without the URL, which may hold a password).
    pub fn new(url: Option<&str>, from: &str) -> Mailer {
        let transport = url.and_then(|url| match AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
            Ok(builder) => Some(builder.timeout(Some(std::time::Duration::from_secs(10))).build()),
            Err(error) => {
                tracing::error!(%error, "FLIGHTDECK_SMTP_URL cannot be used; email notifications will fail");
                None
            }
        });
        Mailer {
            transport,
            from: from.to_string(),
        }
    }

    /// Sends a plain-text message to the comma-separated `to` addresses.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let transport = self
            .transport
            .as_ref()
            .ok_or("email is not configured: set FLIGHTDECK_SMTP_URL")?;
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|e| format!("FLIGHTDECK_SMTP_FROM is not an address: {e}"))?;
        let mut message = Message::builder().from(from).subject(subject);
        for address in to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|e| format!("'{address}' is not an email address: {e}"))?;
            message = message.to(mailbox);
        }
        let message = message
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| format!("cannot build the message: {e}"))?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
