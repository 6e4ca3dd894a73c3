//! Fixtures of the build tests.

use serde_json::{json, Value};

/// A build as CI reports it, on `acme/shop/ci`'s main branch.
pub fn build(source_id: &str, status: &str) -> Value {
    json!({"pipeline": "acme/shop/ci", "branch": "main", "commit": "0123abcd", "author": "ann", "trigger": "push",
           "message": "Add cart", "files_changed": 3, "lines_added": 120, "lines_deleted": 4,
           "started_at": "2026-11-30T14:05:00Z", "status": status, "source_id": source_id})
}
