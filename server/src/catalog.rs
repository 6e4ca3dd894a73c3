//! Services and environments in the database. Creation is audited in the same transaction.

use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::catalog::{Environment, NewEnvironment, NewService, Service};
use app::error::AppError;
use app::model::Principal;
use app::ports::CatalogPort;
use async_trait::async_trait;
use sqlx::{AnyPool, Row};
use std::sync::Arc;

pub struct Catalog {
    pool: AnyPool,
    bus: Arc<EventBus>,
}

fn decode_service(row: &sqlx::any::AnyRow) -> Result<Service, sqlx::Error> {
    Ok(Service {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        owner: row.try_get("owner")?,
        // Refused with credentials since 2026-12-07; one stored before then loses them here.
        repo_url: row
            .try_get::<Option<String>, _>("repo_url")?
            .map(|u| app::redact::without_credentials(&u)),
        created_at: row.try_get("created_at")?,
    })
}

fn decode_environment(row: &sqlx::any::AnyRow) -> Result<Environment, sqlx::Error> {
    Ok(Environment {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        rank: row.try_get("rank")?,
        protected: crate::db::get_bool(row, "protected")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Whether an environment of that name exists.
pub async fn environment_exists(pool: &AnyPool, name: &str) -> Result<bool, AppError> {
    sqlx::query("SELECT 1 FROM environments WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await
        .map(|row| row.is_some())
        .context("checking an environment")
}

impl Catalog {
    pub fn new(pool: AnyPool, bus: Arc<EventBus>) -> Self {
        Catalog { pool, bus }
    }

    pub async fn list_services(&self) -> Result<Vec<Service>, AppError> {
        store::list(
            &self.pool,
            "SELECT id, name, description, owner, repo_url, created_at FROM services ORDER BY name",
            decode_service,
            "listing services",
        )
        .await
    }

    pub async fn create_service(
        &self,
        actor: &Principal,
        new: NewService,
    ) -> Result<Service, AppError> {
        let new = new.normalized().map_err(AppError::unprocessable)?;
        let now = crate::now_ms();
        let mut tx = store::begin(&self.pool).await?;
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO services (name, description, owner, repo_url, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&new.name)
            .bind(new.description.as_deref())
            .bind(new.owner.as_deref())
            .bind(new.repo_url.as_deref())
            .bind(now),
            &mut tx,
            "creating a service",
            |_| format!(
                "A service named '{}' already exists.",
                new.name
            ),
        )
        .await?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "service.created",
                target: &new.name,
                reason: None,
                detail: serde_json::json!({ "owner": new.owner, "repo_url": new.repo_url }),
            },
        )
        .await?;
        Ok(Service {
            id,
            name: new.name,
            description: new.description,
            owner: new.owner,
            repo_url: new.repo_url,
            created_at: now,
        })
    }

    pub async fn list_environments(&self) -> Result<Vec<Environment>, AppError> {
        store::list(
            &self.pool,
            "SELECT id, name, rank, protected, created_at FROM environments ORDER BY rank",
            decode_environment,
            "listing environments",
        )
        .await
    }

    pub async fn create_environment(
        &self,
        actor: &Principal,
        new: NewEnvironment,
    ) -> Result<Environment, AppError> {
        let new = new.normalized().map_err(AppError::unprocessable)?;
        let now = crate::now_ms();
        let mut tx = store::begin(&self.pool).await?;
        // Two unique constraints can refuse this row; look first so the message names the right one.
        let clash = sqlx::query("SELECT name, rank FROM environments WHERE name = $1 OR rank = $2")
            .bind(&new.name)
            .bind(new.rank)
            .fetch_optional(&mut *tx)
            .await
            .context("checking environment names")?;
        if let Some(row) = clash {
            let name: String = row.try_get("name").context("decoding an environment")?;
            return Err(AppError::conflict(if name == new.name {
                format!("An environment named '{name}' already exists.")
            } else {
                format!("Rank {} is taken by '{name}'; pick a free rank so the pipeline order stays clear.", new.rank)
            }));
        }
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO environments (name, rank, protected, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&new.name)
            .bind(new.rank)
            .bind(new.protected)
            .bind(now),
            &mut tx,
            "creating an environment",
            // Another request took the name or the rank since the look above.
            |constraint| match constraint {
                Some("environments_name_key") => {
                    format!("An environment named '{}' already exists.", new.name)
                }
                Some("environments_rank_key") => format!(
                    "Rank {} is taken; pick a free rank so the pipeline order stays clear.",
                    new.rank
                ),
                _ => format!(
                    "An environment with name '{}' or rank {} already exists.",
                    new.name, new.rank
                ),
            },
        )
        .await?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "environment.created",
                target: &new.name,
                reason: None,
                detail: serde_json::json!({ "rank": new.rank, "protected": new.protected }),
            },
        )
        .await?;
        Ok(Environment {
            id,
            name: new.name,
            rank: new.rank,
            protected: new.protected,
            created_at: now,
        })
    }
}

#[async_trait]
impl CatalogPort for Catalog {
    async fn list_services(&self) -> Result<Vec<Service>, AppError> {
        Catalog::list_services(self).await
    }
    async fn create_service(
        &self,
        actor: &Principal,
        new: NewService,
    ) -> Result<Service, AppError> {
        Catalog::create_service(self, actor, new).await
    }
    async fn list_environments(&self) -> Result<Vec<Environment>, AppError> {
        Catalog::list_environments(self).await
    }
    async fn create_environment(
        &self,
        actor: &Principal,
        new: NewEnvironment,
    ) -> Result<Environment, AppError> {
        Catalog::create_environment(self, actor, new).await
    }
}
