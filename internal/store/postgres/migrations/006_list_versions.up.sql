-- The sanctions list versions shared by every node (issue 14). The files
-- are content-addressed (SHA-256 of the bytes); a version names its files
-- by canonical name and content hash. One version per source is active:
-- the one every node screens with. Activating a version is one
-- transaction that also bumps state_version (and so notifies the nodes).
CREATE TABLE list_files (
    hash TEXT COLLATE "C" PRIMARY KEY,
    data BYTEA NOT NULL
);

CREATE TABLE list_versions (
    source    TEXT COLLATE "C" NOT NULL,
    hash      TEXT COLLATE "C" NOT NULL,
    list      TEXT NOT NULL,
    files     TEXT NOT NULL,
    entities  INTEGER NOT NULL,
    published TIMESTAMPTZ,
    imported  TIMESTAMPTZ NOT NULL,
    origin    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    forced    BOOLEAN NOT NULL,
    reason    TEXT NOT NULL,
    active    BOOLEAN NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (source, hash)
);
CREATE UNIQUE INDEX list_versions_active ON list_versions (source) WHERE active;

-- Leases: one holder at a time of a named job across the nodes (the list
-- feeds' scheduler), renewed by its holder, taken over once expired.
CREATE TABLE leases (
    name    TEXT COLLATE "C" PRIMARY KEY,
    holder  TEXT NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);
