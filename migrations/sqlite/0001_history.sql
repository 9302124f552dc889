-- The scan history (issue 13), SQLite. Times are microseconds since the
-- Unix epoch, UTC, so both backends compare and sort them the same way.

-- Each report.json once, addressed by the SHA-256 of its bytes (the hash
-- the PDF's attachment has).
CREATE TABLE report_documents (
    sha256 TEXT PRIMARY KEY,
    content BLOB NOT NULL,
    bytes INTEGER NOT NULL
);

-- One recorded scan: what `scan`, `merge`, `report` or `history import`
-- wrote, in one transaction.
CREATE TABLE scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    rule_set_version TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    legal_snapshot TEXT NOT NULL,
    language TEXT NOT NULL,
    grade TEXT,
    failed INTEGER NOT NULL,
    inconclusive INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    settings TEXT NOT NULL,
    profile TEXT NOT NULL,
    report_sha256 TEXT NOT NULL UNIQUE REFERENCES report_documents (sha256)
);
CREATE INDEX scans_started_at ON scans (started_at);

-- Per domain of a scan: its evidence, grade and counts.
CREATE TABLE scan_domains (
    scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    grade TEXT NOT NULL,
    failed INTEGER NOT NULL,
    inconclusive INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (scan_id, domain)
);
CREATE INDEX scan_domains_domain ON scan_domains (domain, scan_id);

-- The findings that count for a domain (its own, its endpoints', its
-- mailboxes'): an endpoint shared by two domains counts for both.
CREATE TABLE findings (
    scan_id INTEGER NOT NULL,
    domain TEXT NOT NULL,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    finding TEXT NOT NULL,
    PRIMARY KEY (scan_id, domain, rule, subject),
    FOREIGN KEY (scan_id, domain) REFERENCES scan_domains (scan_id, domain) ON DELETE CASCADE
);
CREATE INDEX findings_rule_subject ON findings (rule, subject, status);
