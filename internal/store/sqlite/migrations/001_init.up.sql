-- rampart control-plane schema, SQLite dialect. Times are UTC RFC 3339
-- text of fixed width (microseconds), audit times with nanoseconds; JSON
-- columns are text checked with json_valid.

CREATE TABLE accounts (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL CHECK (name <> ''),
    kind      TEXT NOT NULL CHECK (kind IN ('person', 'organization')),
    country   TEXT NOT NULL DEFAULT '',
    address   TEXT NOT NULL DEFAULT '',
    email     TEXT NOT NULL DEFAULT '',
    status    TEXT NOT NULL CHECK (status IN ('active', 'review', 'blocked')),
    screening TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(screening)),
    created   TEXT NOT NULL,
    updated   TEXT NOT NULL
);
CREATE INDEX accounts_status ON accounts (status);

CREATE TABLE zones (
    id         TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id) ON DELETE RESTRICT,
    host       TEXT NOT NULL UNIQUE CHECK (host <> ''),
    aliases    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(aliases)),
    origins    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(origins)),
    settings   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    status     TEXT NOT NULL CHECK (status IN ('active', 'review', 'rejected', 'suspended')),
    reasons    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(reasons)),
    source     TEXT NOT NULL CHECK (source IN ('config', 'api')),
    created    TEXT NOT NULL,
    updated    TEXT NOT NULL
);
CREATE INDEX zones_account ON zones (account_id);
CREATE INDEX zones_status ON zones (status);

CREATE TABLE screenings (
    id           TEXT PRIMARY KEY,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('account', 'zone')),
    subject_id   TEXT NOT NULL,
    lists        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(lists)),
    matches      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(matches)),
    result       TEXT NOT NULL,
    actor        TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL
);
CREATE INDEX screenings_subject ON screenings (subject_type, subject_id, created);

CREATE TABLE cases (
    id              TEXT PRIMARY KEY,
    zone_id         TEXT REFERENCES zones (id) ON DELETE SET NULL,
    host            TEXT NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('sanctions', 'abuse', 'other')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'dismissed', 'suspended', 'reinstated')),
    origin          TEXT NOT NULL CHECK (origin IN ('report', 'screening')),
    summary         TEXT NOT NULL DEFAULT '',
    opened          TEXT NOT NULL,
    last_report     TEXT NOT NULL,
    report_count    INTEGER NOT NULL DEFAULT 0 CHECK (report_count >= 0),
    decided_at      TEXT,
    decision_action TEXT NOT NULL DEFAULT '',
    decision_reason TEXT NOT NULL DEFAULT '',
    decided_by      TEXT NOT NULL DEFAULT '',
    updated         TEXT NOT NULL
);
CREATE INDEX cases_host ON cases (host, category, status);
CREATE INDEX cases_status ON cases (status, opened);
CREATE INDEX cases_zone ON cases (zone_id);

CREATE TABLE reports (
    id             TEXT PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases (id) ON DELETE RESTRICT,
    reporter_email TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    evidence_urls  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(evidence_urls)),
    client_ip      TEXT NOT NULL DEFAULT '',
    created        TEXT NOT NULL
);
CREATE INDEX reports_case ON reports (case_id, created);

CREATE TABLE decisions (
    id      TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE RESTRICT,
    action  TEXT NOT NULL CHECK (action IN ('dismiss', 'suspend', 'reinstate')),
    reason  TEXT NOT NULL CHECK (reason <> ''),
    actor   TEXT NOT NULL CHECK (actor <> ''),
    created TEXT NOT NULL
);
CREATE INDEX decisions_case ON decisions (case_id, created);

CREATE TABLE tokens (
    id      TEXT PRIMARY KEY,
    scope   TEXT NOT NULL CHECK (scope IN ('read', 'compliance', 'admin')),
    note    TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    revoked TEXT,
    hash    TEXT NOT NULL CHECK (length(hash) = 64)
);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY CHECK (seq > 0),
    time      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL DEFAULT '',
    data      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject);

-- audit_head is the one row appends lock and move; Verify compares it with
-- the last entry, so a removed tail is detected.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
