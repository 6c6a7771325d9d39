-- The case desk (issue 15): who works a case (assignee), comments, and the
-- per-match review of a case's screening matches. Reviews are history
-- (the latest of a pair is its verdict); match_whitelist holds the pairs
-- (subject, listed entity) whose latest review is "whitelisted", which a
-- re-screening does not hold the subject on again.
ALTER TABLE cases ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_assignee ON cases (assignee, status, opened);

CREATE TABLE match_reviews (
    id           TEXT COLLATE "C" PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (id) ON DELETE RESTRICT,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('account', 'zone')),
    subject_id   TEXT NOT NULL CHECK (subject_id <> ''),
    match_id     TEXT NOT NULL CHECK (match_id <> ''),
    verdict      TEXT NOT NULL CHECK (verdict IN ('confirmed', 'no_match', 'whitelisted')),
    reason       TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL CHECK (actor <> ''),
    created      TIMESTAMPTZ NOT NULL,
    CHECK (verdict <> 'whitelisted' OR reason <> '')
);
CREATE INDEX match_reviews_case ON match_reviews (case_id, created);

CREATE TABLE match_whitelist (
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    match_id     TEXT NOT NULL,
    review_id    TEXT NOT NULL REFERENCES match_reviews (id) ON DELETE RESTRICT,
    PRIMARY KEY (subject_type, subject_id, match_id)
);

CREATE TABLE case_comments (
    id          TEXT COLLATE "C" PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE RESTRICT,
    author      TEXT NOT NULL CHECK (author <> ''),
    author_name TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL CHECK (body <> ''),
    created     TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_comments_case ON case_comments (case_id, created);
