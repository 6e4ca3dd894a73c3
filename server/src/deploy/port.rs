//! The engine as the port the server functions use; each method is the inherent one of the same
//! name, so the pages and the REST API run the very same code.

use super::Deployments;
use app::deploy::rollback;
use app::deploy::*;
use app::error::AppError;
use app::model::Principal;
use app::ports::DeploymentsPort;
use async_trait::async_trait;

#[async_trait]
impl DeploymentsPort for Deployments {
    async fn status(&self) -> Result<Vec<StatusCell>, AppError> {
        Deployments::status(self).await
    }
    async fn list(&self, query: &DeploymentQuery) -> Result<DeploymentPage, AppError> {
        Deployments::list(self, query).await
    }
    async fn get(&self, id: i64) -> Result<Deployment, AppError> {
        Deployments::get(self, id).await
    }
    async fn logs(&self, id: i64, after: i64, limit: i64) -> Result<Vec<LogLine>, AppError> {
        Deployments::logs(self, id, after, limit).await
    }
    async fn releases(&self, service: &str) -> Result<Vec<Release>, AppError> {
        Deployments::releases(self, service).await
    }
    async fn quarantines(&self) -> Result<Vec<Quarantine>, AppError> {
        Deployments::quarantines(self).await
    }
    async fn deploy(&self, who: &Initiator, request: DeployRequest) -> Result<Accepted, AppError> {
        Deployments::deploy(self, who, request).await
    }
    async fn rollback(
        &self,
        who: &Initiator,
        request: RollbackRequest,
    ) -> Result<Accepted, AppError> {
        Deployments::rollback(self, who, request).await
    }
    async fn promote(
        &self,
        who: &Initiator,
        request: PromoteRequest,
    ) -> Result<Accepted, AppError> {
        Deployments::promote(self, who, request).await
    }
    async fn cancel(&self, who: &Initiator, id: i64) -> Result<Deployment, AppError> {
        Deployments::cancel(self, who, id).await
    }
    async fn rollback_options(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<rollback::RollbackOptions, AppError> {
        Deployments::rollback_options(self, service, environment).await
    }
    async fn dismiss(&self, who: &Initiator, id: i64) -> Result<Deployment, AppError> {
        Deployments::dismiss(self, who, id).await
    }
    async fn lift_quarantine(
        &self,
        actor: &Principal,
        service: &str,
        environment: &str,
        version: &str,
    ) -> Result<(), AppError> {
        Deployments::lift_quarantine(self, actor, service, environment, version).await
    }
}
