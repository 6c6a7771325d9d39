-- Identical public reports (same host, category, normalised description,
-- evidence and reporter network, within the dedupe window) are counted on
-- the report already stored instead of adding a row: fingerprint is the
-- hex SHA-256 of those fields (compliance.ReportFingerprint), repeats how
-- many identical reports were folded into this one.
ALTER TABLE reports ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
CREATE INDEX reports_fingerprint ON reports (case_id, fingerprint, created);
