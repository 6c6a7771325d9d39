-- rampart control-plane schema, PostgreSQL dialect. Times are timestamptz
-- (microseconds); audit times are RFC 3339 text with nanoseconds, and audit
-- data is text, so that the hashed bytes are exactly what is stored (jsonb
-- would reorder keys). Other JSON columns are jsonb. Ids and hosts use the
-- "C" collation, so that they sort by bytes as in SQLite whatever the
-- database locale.

CREATE TABLE accounts (
    id        TEXT COLLATE "C" PRIMARY KEY,
    name      TEXT NOT NULL CHECK (name <> ''),
    kind      TEXT NOT NULL CHECK (kind IN ('person', 'organization')),
    country   TEXT NOT NULL DEFAULT '',
    address   TEXT NOT NULL DEFAULT '',
    email     TEXT NOT NULL DEFAULT '',
    status    TEXT NOT NULL CHECK (status IN ('active', 'review', 'blocked')),
    screening JSONB NOT NULL DEFAULT '{}',
    created   TIMESTAMPTZ NOT NULL,
    updated   TIMESTAMPTZ NOT NULL
);
CREATE INDEX accounts_status ON accounts (status);

CREATE TABLE zones (
    id         TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id) ON DELETE RESTRICT,
    host       TEXT COLLATE "C" NOT NULL UNIQUE CHECK (host <> ''),
    aliases    JSONB NOT NULL DEFAULT '[]',
    origins    JSONB NOT NULL DEFAULT '[]',
    settings   JSONB NOT NULL DEFAULT '{}',
    status     TEXT NOT NULL CHECK (status IN ('active', 'review', 'rejected', 'suspended')),
    reasons    JSONB NOT NULL DEFAULT '[]',
    source     TEXT NOT NULL CHECK (source IN ('config', 'api')),
    created    TIMESTAMPTZ NOT NULL,
    updated    TIMESTAMPTZ NOT NULL
);
CREATE INDEX zones_account ON zones (account_id);
CREATE INDEX zones_status ON zones (status);

CREATE TABLE screenings (
    id           TEXT COLLATE "C" PRIMARY KEY,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('account', 'zone')),
    subject_id   TEXT NOT NULL,
    lists        JSONB NOT NULL DEFAULT '{}',
    matches      JSONB NOT NULL DEFAULT '[]',
    result       TEXT NOT NULL,
    actor        TEXT NOT NULL DEFAULT '',
    created      TIMESTAMPTZ NOT NULL
);
CREATE INDEX screenings_subject ON screenings (subject_type, subject_id, created);

CREATE TABLE cases (
    id              TEXT COLLATE "C" PRIMARY KEY,
    zone_id         TEXT REFERENCES zones (id) ON DELETE SET NULL,
    host            TEXT COLLATE "C" NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('sanctions', 'abuse', 'other')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'dismissed', 'suspended', 'reinstated')),
    origin          TEXT NOT NULL CHECK (origin IN ('report', 'screening')),
    summary         TEXT NOT NULL DEFAULT '',
    opened          TIMESTAMPTZ NOT NULL,
    last_report     TIMESTAMPTZ NOT NULL,
    report_count    BIGINT NOT NULL DEFAULT 0 CHECK (report_count >= 0),
    decided_at      TIMESTAMPTZ,
    decision_action TEXT NOT NULL DEFAULT '',
    decision_reason TEXT NOT NULL DEFAULT '',
    decided_by      TEXT NOT NULL DEFAULT '',
    updated         TIMESTAMPTZ NOT NULL
);
CREATE INDEX cases_host ON cases (host, category, status);
CREATE INDEX cases_status ON cases (status, opened);
CREATE INDEX cases_zone ON cases (zone_id);

CREATE TABLE reports (
    id             TEXT COLLATE "C" PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases (id) ON DELETE RESTRICT,
    reporter_email TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    evidence_urls  JSONB NOT NULL DEFAULT '[]',
    client_ip      TEXT NOT NULL DEFAULT '',
    created        TIMESTAMPTZ NOT NULL
);
CREATE INDEX reports_case ON reports (case_id, created);

CREATE TABLE decisions (
    id      TEXT COLLATE "C" PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE RESTRICT,
    action  TEXT NOT NULL CHECK (action IN ('dismiss', 'suspend', 'reinstate')),
    reason  TEXT NOT NULL CHECK (reason <> ''),
    actor   TEXT NOT NULL CHECK (actor <> ''),
    created TIMESTAMPTZ NOT NULL
);
CREATE INDEX decisions_case ON decisions (case_id, created);

CREATE TABLE tokens (
    id      TEXT COLLATE "C" PRIMARY KEY,
    scope   TEXT NOT NULL CHECK (scope IN ('read', 'compliance', 'admin')),
    note    TEXT NOT NULL DEFAULT '',
    created TIMESTAMPTZ NOT NULL,
    revoked TIMESTAMPTZ,
    hash    TEXT NOT NULL CHECK (length(hash) = 64)
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY CHECK (seq > 0),
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
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
