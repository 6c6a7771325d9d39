-- The desired-state version (issue 14): one counter, bumped in the
-- transaction of every change the nodes apply (zones, accounts, statuses,
-- cases and decisions, tokens). Nodes compare it with the version they
-- applied; on PostgreSQL the bump also notifies channel rampart_state.
CREATE TABLE state_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO state_version (id, version) VALUES (1, 0);

-- The edge nodes sharing this store, each written by the node itself at
-- start and on every heartbeat.
CREATE TABLE nodes (
    id            TEXT PRIMARY KEY,
    address       TEXT NOT NULL,
    version       TEXT NOT NULL,
    state_version BIGINT NOT NULL,
    lists         TEXT NOT NULL,
    healthy       BOOLEAN NOT NULL,
    problem       TEXT NOT NULL,
    started       TEXT NOT NULL,
    last_seen     TEXT NOT NULL
);
