-- TLS session ticket keys shared by the nodes (issue 17). The newest key
-- encrypts new tickets; every key not yet expired decrypts them. A node
-- adds a key when the newest is older than the rotation interval and
-- deletes the expired ones, under an advisory lock. The secret is hex
-- text (32 bytes); it is never logged nor shown by any API.
CREATE TABLE tls_ticket_keys (
    id      TEXT COLLATE "C" PRIMARY KEY,
    secret  TEXT NOT NULL CHECK (length(secret) = 64),
    created TIMESTAMPTZ NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);
CREATE INDEX tls_ticket_keys_created ON tls_ticket_keys (created DESC, id DESC);
