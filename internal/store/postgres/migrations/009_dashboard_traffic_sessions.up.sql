-- The dashboard's shared data (issue 15).
--
-- traffic_rollups: every node flushes its per-minute traffic counters
-- here (an upsert of the running totals per node, zone and minute, every
-- few seconds), so that the dashboard of any node shows the sum over the
-- nodes. zone '' is a node's sum over all its zones, so that the
-- all-zones series reads one row per node and minute. minute is the Unix
-- time in minutes. Rows older than a day are pruned by the nodes.
-- st0..st5 count the status classes (st0: other, st1: 1xx ... st5: 5xx);
-- lat0..lat9 are the latency histogram (upper bounds 5, 10, 25, 50, 100,
-- 250, 500, 1000, 2500 ms, unbounded).
CREATE TABLE traffic_rollups (
    minute       BIGINT NOT NULL,
    zone         TEXT COLLATE "C" NOT NULL,
    node         TEXT COLLATE "C" NOT NULL,
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
);

-- Pruning by minute.
CREATE INDEX traffic_rollups_minute ON traffic_rollups (minute);
-- traffic_rollups_10m: the same counters summed over ten minutes (minute
-- is the first, a multiple of 10), written by the same flushes, so that
-- the day's series (144 points) and the busiest zones of the last hour
-- read a tenth of the rows.
CREATE TABLE traffic_rollups_10m (
    minute       BIGINT NOT NULL,
    zone         TEXT COLLATE "C" NOT NULL,
    node         TEXT COLLATE "C" NOT NULL,
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
);
CREATE INDEX traffic_rollups_10m_minute ON traffic_rollups_10m (minute, zone) INCLUDE (requests, bytes, cache_hits, st5, rate_limited, challenged, waf_blocked, legal);

-- dashboard_sessions: the signed-in browsers of the dashboard, shared by
-- the nodes so that a session works on every node behind a load balancer
-- and a sign-out on one ends it on all. id_hash is the hex SHA-256 of the
-- session cookie (the cookie itself is never stored); token_id names the
-- admin API token the user signed in with, checked again on every
-- request. revoked is set by the sign-out.
CREATE TABLE dashboard_sessions (
    id_hash  TEXT COLLATE "C" PRIMARY KEY CHECK (length(id_hash) = 64),
    token_id TEXT NOT NULL,
    created  TIMESTAMPTZ NOT NULL,
    seen     TIMESTAMPTZ NOT NULL,
    expires  TIMESTAMPTZ NOT NULL,
    revoked  TIMESTAMPTZ
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires);
