-- The dashboard's security events shared by the nodes (issue 15); see
-- the PostgreSQL migration for the meaning of the columns and their
-- limits. (Only a PostgreSQL store is shared by several nodes; the table
-- exists in SQLite so both dialects stay alike.)
CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY,
    node       TEXT NOT NULL CHECK (length(node) BETWEEN 1 AND 255),
    at         BIGINT NOT NULL,
    zone       TEXT NOT NULL CHECK (length(zone) <= 255),
    action     TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 32),
    rule_id    TEXT NOT NULL CHECK (length(rule_id) <= 128),
    client_ip  TEXT NOT NULL CHECK (length(client_ip) <= 64),
    country    TEXT NOT NULL CHECK (length(country) <= 2),
    asn        BIGINT NOT NULL CHECK (asn BETWEEN 0 AND 4294967295),
    method     TEXT NOT NULL CHECK (length(method) <= 32),
    path       TEXT NOT NULL CHECK (length(path) <= 1024),
    user_agent TEXT NOT NULL CHECK (length(user_agent) <= 512),
    status     INTEGER NOT NULL CHECK (status BETWEEN 0 AND 999),
    request_id TEXT NOT NULL CHECK (length(request_id) <= 128)
);

CREATE INDEX security_events_zone_at ON security_events (zone, at DESC, id DESC);
CREATE INDEX security_events_at ON security_events (at DESC, id DESC);
