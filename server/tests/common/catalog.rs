//! Creating the catalog a test stands on: a service, an environment. Each fails the test when
//! the server refuses, so a test never goes on to assert against a catalog that is not there.

use super::{Auth, TestApp};
use axum::http::StatusCode;
use serde_json::json;

impl TestApp {
    pub async fn create_service(&self, auth: &Auth, name: &str) {
        let res = self
            .post_json("/api/v1/services", auth, json!({ "name": name }))
            .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "service {name}: {}",
            res.body
        );
    }

    pub async fn create_environment(&self, auth: &Auth, name: &str, rank: i64, protected: bool) {
        let res = self
            .post_json(
                "/api/v1/environments",
                auth,
                json!({ "name": name, "rank": rank, "protected": protected }),
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "environment {name}: {}",
            res.body
        );
    }
}
