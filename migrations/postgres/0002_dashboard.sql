-- The dashboard's indexes and compact storage (issue 13), PostgreSQL: what `mailaudit serve`
-- shows without reading every stored evidence. Filled when a scan is
-- recorded; scans recorded before this migration are indexed when the
-- store is next opened (`indexed` = 0 until then).

-- The leaf certificate each endpoint of a domain served in a scan (the
-- certificate expiry calendar).
CREATE TABLE certificates (
    scan_id BIGINT NOT NULL,
    domain TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    not_after BIGINT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (scan_id, domain, endpoint),
    FOREIGN KEY (scan_id, domain) REFERENCES scan_domains (scan_id, domain) ON DELETE CASCADE
);
CREATE INDEX certificates_not_after ON certificates (not_after);

-- For a failed finding: the start of the earliest scan of its domain from
-- which it has failed in every scan since (open findings by age).
ALTER TABLE findings ADD COLUMN failing_since BIGINT;
CREATE INDEX findings_domain_key ON findings (domain, rule, subject);

ALTER TABLE scan_domains ADD COLUMN indexed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX scan_domains_unindexed ON scan_domains (indexed);

-- Large texts stored deflated (history/packing.rs): a report.json's bytes
-- (`bytes` keeps its size before deflating) and a domain's evidence
-- (`evidence` is then empty). Rows written before stay as they were.
ALTER TABLE report_documents ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity';
ALTER TABLE scan_domains ADD COLUMN evidence_deflated BYTEA;
