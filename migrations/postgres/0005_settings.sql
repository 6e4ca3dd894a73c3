-- Settings an admin changes in the UI. Today: the shared secrets of the CI/CD webhooks, used when
-- the matching FLIGHTDECK_* variable is not set. Kept as text: verifying an HMAC needs the secret
-- itself, so it cannot be stored as a hash; it is never sent back to a browser or an API client.
CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT    NOT NULL
);
