-- The dashboard's security events shared by the nodes (issue 15).
--
-- security_events: the blocked and challenged requests each node sampled
-- (the latest 2,000 in its memory), appended by the node's flusher every
-- 10 s, so that the events page of any node shows every node's events.
-- at is the Unix time in microseconds; id orders the events of one
-- microsecond. Every text field has a size limit (bytes in Go, checked
-- here in characters): path is cut at 1,024 and user_agent at 512 by the
-- store; node, zone 255, action 32, rule_id 128, client_ip 64, country 2,
-- method 32, request_id 128. The nodes prune the events older than a day
-- and, of each zone, all but the newest 10,000.
CREATE TABLE security_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node       TEXT COLLATE "C" NOT NULL CHECK (length(node) BETWEEN 1 AND 255),
    at         BIGINT NOT NULL,
    zone       TEXT COLLATE "C" NOT NULL CHECK (length(zone) <= 255),
    action     TEXT COLLATE "C" NOT NULL CHECK (length(action) BETWEEN 1 AND 32),
    rule_id    TEXT COLLATE "C" NOT NULL CHECK (length(rule_id) <= 128),
    client_ip  TEXT COLLATE "C" NOT NULL CHECK (length(client_ip) <= 64),
    country    TEXT COLLATE "C" NOT NULL CHECK (length(country) <= 2),
    asn        BIGINT NOT NULL CHECK (asn BETWEEN 0 AND 4294967295),
    method     TEXT COLLATE "C" NOT NULL CHECK (length(method) <= 32),
    path       TEXT COLLATE "C" NOT NULL CHECK (length(path) <= 1024),
    user_agent TEXT NOT NULL CHECK (length(user_agent) <= 512),
    status     INTEGER NOT NULL CHECK (status BETWEEN 0 AND 999),
    request_id TEXT COLLATE "C" NOT NULL CHECK (length(request_id) <= 128)
);

-- The events page reads newest first, mostly of one zone, with the other
-- filters applied to the rows the index walks (a zone keeps at most
-- 10,000); the second index serves the all-zones read and the pruning
-- by time.
CREATE INDEX security_events_zone_at ON security_events (zone, at DESC, id DESC);
CREATE INDEX security_events_at ON security_events (at DESC, id DESC);
