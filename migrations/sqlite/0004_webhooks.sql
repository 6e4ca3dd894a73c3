-- Inbound CI/CD webhooks: every accepted delivery is stored (the inbox) before it is acknowledged,
-- once per source and delivery id, then applied by a worker that leases rows like jobs.

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT    NOT NULL,
    delivery_id TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    lease_until INTEGER,
    processed_at INTEGER,
    -- What applying it did, in words: "recorded deployment #12", "ignored: ...", "refused: ...".
    outcome     TEXT,
    CONSTRAINT webhook_deliveries_key UNIQUE (source, delivery_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (processed_at, id);

-- What a CI/CD system reported for a deployment run by the webhook deployer.
ALTER TABLE deployments ADD COLUMN external_status TEXT;
