-- The dashboard's shared data (issue 15); see the PostgreSQL migration
-- for the meaning of the columns. (Only a PostgreSQL store is shared by
-- several nodes; the tables exist in SQLite so both dialects stay alike,
-- and a single node's dashboard reads them as well.)
CREATE TABLE traffic_rollups (
    minute       BIGINT NOT NULL,
    zone         TEXT NOT NULL,
    node         TEXT NOT NULL,
    requests     BIGINT NOT NULL,
    bytes        BIGINT NOT NULL,
    st0 BIGINT NOT NULL, st1 BIGINT NOT NULL, st2 BIGINT NOT NULL,
    st3 BIGINT NOT NULL, st4 BIGINT NOT NULL, st5 BIGINT NOT NULL,
    cache_hits   BIGINT NOT NULL,
    latency_sum  BIGINT NOT NULL,
    lat0 BIGINT NOT NULL, lat1 BIGINT NOT NULL, lat2 BIGINT NOT NULL, lat3 BIGINT NOT NULL, lat4 BIGINT NOT NULL,
    lat5 BIGINT NOT NULL, lat6 BIGINT NOT NULL, lat7 BIGINT NOT NULL, lat8 BIGINT NOT NULL, lat9 BIGINT NOT NULL,
    rate_limited BIGINT NOT NULL,
    challenged   BIGINT NOT NULL,
    waf_blocked  BIGINT NOT NULL,
    legal        BIGINT NOT NULL,
    PRIMARY KEY (zone, minute, node)
) WITHOUT ROWID;

CREATE INDEX traffic_rollups_minute ON traffic_rollups (minute);
CREATE TABLE traffic_rollups_10m (
    minute       BIGINT NOT NULL,
    zone         TEXT NOT NULL,
    node         TEXT NOT NULL,
    requests     BIGINT NOT NULL,
    bytes        BIGINT NOT NULL,
    st0 BIGINT NOT NULL, st1 BIGINT NOT NULL, st2 BIGINT NOT NULL,
    st3 BIGINT NOT NULL, st4 BIGINT NOT NULL, st5 BIGINT NOT NULL,
    cache_hits   BIGINT NOT NULL,
    latency_sum  BIGINT NOT NULL,
    lat0 BIGINT NOT NULL, lat1 BIGINT NOT NULL, lat2 BIGINT NOT NULL, lat3 BIGINT NOT NULL, lat4 BIGINT NOT NULL,
    lat5 BIGINT NOT NULL, lat6 BIGINT NOT NULL, lat7 BIGINT NOT NULL, lat8 BIGINT NOT NULL, lat9 BIGINT NOT NULL,
    rate_limited BIGINT NOT NULL,
    challenged   BIGINT NOT NULL,
    waf_blocked  BIGINT NOT NULL,
    legal        BIGINT NOT NULL,
    PRIMARY KEY (zone, minute, node)
) WITHOUT ROWID;
CREATE INDEX traffic_rollups_10m_minute ON traffic_rollups_10m (minute, zone, requests, bytes, cache_hits, st5, rate_limited, challenged, waf_blocked, legal);

CREATE TABLE dashboard_sessions (
    id_hash  TEXT PRIMARY KEY CHECK (length(id_hash) = 64),
    token_id TEXT NOT NULL,
    created  TEXT NOT NULL,
    seen     TEXT NOT NULL,
    expires  TEXT NOT NULL,
    revoked  TEXT
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires);
