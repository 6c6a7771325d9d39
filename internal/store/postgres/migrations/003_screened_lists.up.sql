-- The list versions the accounts and zones were last (re-)screened
-- against, one row per list source, written in the same transaction as a
-- re-screening's results. At start the compliance desk compares them with
-- the active list versions and catches up a re-screening lost to a crash.
CREATE TABLE screened_lists (
    source  TEXT COLLATE "C" PRIMARY KEY,
    version TEXT NOT NULL
);
