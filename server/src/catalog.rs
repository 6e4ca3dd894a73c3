//! Services and environments in the database. Creation is audited in the same transaction.

use crate::audit::{record, NewAudit};
use crate::error::{internal, is_unique_violation};
use crate::events::EventBus;
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
        repo_url: row.try_get("repo_url")?,
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

impl Catalog {
    pub fn new(pool: AnyPool, bus: Arc<EventBus>) -> Self {
        Catalog { pool, bus }
    }
}

#[async_trait]
impl CatalogPort for Catalog {
    async fn list_services(&self) -> Result<Vec<Service>, AppError> {
        let rows = sqlx::query(
            "SELECT id, name, description, owner, repo_url, created_at FROM services ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| internal("listing services", e))?;
        rows.iter()
            .map(decode_service)
            .collect::<Result<_, _>>()
            .map_err(|e| internal("decoding services", e))
    }

    async fn create_service(
        &self,
        actor: &Principal,
        new: NewService,
    ) -> Result<Service, AppError> {
        let new = new.normalized().map_err(AppError::unprocessable)?;
        let now = crate::now_ms();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| internal("starting a transaction", e))?;
        let inserted = sqlx::query(
            "INSERT INTO services (name, description, owner, repo_url, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.description.as_deref())
        .bind(new.owner.as_deref())
        .bind(new.repo_url.as_deref())
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row
                .try_get(0)
                .map_err(|e| internal("reading a new service's id", e))?,
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::conflict(format!(
                    "A service named '{}' already exists.",
                    new.name
                )))
            }
            Err(e) => return Err(internal("creating a service", e)),
        };
        record(
            &mut tx,
            NewAudit {
                actor: &actor.actor(),
                action: "service.created",
                target: &new.name,
                reason: None,
                detail: serde_json::json!({ "owner": new.owner, "repo_url": new.repo_url }),
            },
        )
        .await
        .map_err(|e| internal("auditing a new service", e))?;
        tx.commit()
            .await
            .map_err(|e| internal("committing a new service", e))?;
        self.bus.wake();
        Ok(Service {
            id,
            name: new.name,
            description: new.description,
            owner: new.owner,
            repo_url: new.repo_url,
            created_at: now,
        })
    }

    async fn list_environments(&self) -> Result<Vec<Environment>, AppError> {
        let rows = sqlx::query(
            "SELECT id, name, rank, protected, created_at FROM environments ORDER BY rank",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| internal("listing environments", e))?;
        rows.iter()
            .map(decode_environment)
            .collect::<Result<_, _>>()
            .map_err(|e| internal("decoding environments", e))
    }

    async fn create_environment(
        &self,
        actor: &Principal,
        new: NewEnvironment,
    ) -> Result<Environment, AppError> {
        let new = new.normalized().map_err(AppError::unprocessable)?;
        let now = crate::now_ms();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| internal("starting a transaction", e))?;
        // Two unique constraints can refuse this row; look first so the message names the right one.
        let clash = sqlx::query("SELECT name, rank FROM environments WHERE name = $1 OR rank = $2")
            .bind(&new.name)
            .bind(new.rank)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| internal("checking environment names", e))?;
        if let Some(row) = clash {
            let name: String = row
                .try_get("name")
                .map_err(|e| internal("decoding an environment", e))?;
            return Err(AppError::conflict(if name == new.name {
                format!("An environment named '{name}' already exists.")
            } else {
                format!("Rank {} is taken by '{name}'; pick a free rank so the pipeline order stays clear.", new.rank)
            }));
        }
        let inserted = sqlx::query(
            "INSERT INTO environments (name, rank, protected, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.rank)
        .bind(new.protected)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row
                .try_get(0)
                .map_err(|e| internal("reading a new environment's id", e))?,
            // A concurrent request won the race between the check and the insert.
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::conflict(format!(
                    "An environment with name '{}' or rank {} already exists.",
                    new.name, new.rank
                )))
            }
            Err(e) => return Err(internal("creating an environment", e)),
        };
        record(
            &mut tx,
            NewAudit {
                actor: &actor.actor(),
                action: "environment.created",
                target: &new.name,
                reason: None,
                detail: serde_json::json!({ "rank": new.rank, "protected": new.protected }),
            },
        )
        .await
        .map_err(|e| internal("auditing a new environment", e))?;
        tx.commit()
            .await
            .map_err(|e| internal("committing a new environment", e))?;
        self.bus.wake();
        Ok(Environment {
            id,
            name: new.name,
            rank: new.rank,
            protected: new.protected,
            created_at: now,
        })
    }
}
