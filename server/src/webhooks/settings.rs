//! The webhooks as the settings page sees them: where each secret comes from, and the latest
//! deliveries with what applying them did, so an admin setting up a webhook sees it work.

use super::{Inbox, Secrets};
use app::error::AppError;
use app::model::Principal;
use app::ports::SettingsPort;
use app::webhook_settings::{WebhookDelivery, WebhookSecretStatus};
use async_trait::async_trait;
use std::sync::Arc;

pub struct WebhookSettings {
    pub secrets: Arc<Secrets>,
    pub inbox: Arc<Inbox>,
}

#[async_trait]
impl SettingsPort for WebhookSettings {
    async fn webhook_deliveries(&self) -> Result<Vec<WebhookDelivery>, AppError> {
        self.inbox.recent().await
    }
    async fn webhook_secrets(&self) -> Result<Vec<WebhookSecretStatus>, AppError> {
        self.secrets.webhook_secrets().await
    }
    async fn set_webhook_secret(
        &self,
        actor: &Principal,
        source: &str,
        secret: &str,
    ) -> Result<(), AppError> {
        self.secrets.set_webhook_secret(actor, source, secret).await
    }
}
