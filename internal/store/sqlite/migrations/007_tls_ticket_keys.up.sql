-- TLS session ticket keys shared by the nodes (issue 17). The newest key
-- encrypts new tickets; every key not yet expired decrypts them. A node
-- adds a key when the newest is older than the rotation interval and
-- deletes the expired ones. The secret is hex text (32 bytes); it is
-- never logged nor shown by any API. (Only a PostgreSQL store shares keys
-- between nodes; the table exists in SQLite so both dialects stay alike.)
CREATE TABLE tls_ticket_keys (
    id      TEXT PRIMARY KEY,
    secret  TEXT NOT NULL CHECK (length(secret) = 64),
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX tls_ticket_keys_created ON tls_ticket_keys (created DESC, id DESC);
