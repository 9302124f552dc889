-- What the dashboard's overview pages read (issue 13), SQLite, kept in the
-- transaction that records a scan (history/latest.rs) so that a page never
-- searches the whole history for each domain's latest scan.

-- Each domain's latest scan (ties: the higher scan id).
CREATE TABLE latest_scans (
    domain TEXT PRIMARY KEY,
    scan_id INTEGER NOT NULL,
    started_at INTEGER NOT NULL
);

-- The findings that failed in their domain's latest scan and are not
-- accepted, with since when they have failed in every scan (`since`).
CREATE TABLE open_findings (
    domain TEXT NOT NULL,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    severity TEXT NOT NULL,
    since INTEGER NOT NULL,
    scan_id INTEGER NOT NULL,
    finding TEXT NOT NULL,
    PRIMARY KEY (domain, rule, subject)
);
CREATE INDEX open_findings_since ON open_findings (since, domain, rule, subject);
CREATE INDEX open_findings_severity ON open_findings (severity, since);

INSERT INTO latest_scans (domain, scan_id, started_at)
SELECT domain, scan_id, started_at FROM (
    SELECT d.domain, d.scan_id, s.started_at,
           ROW_NUMBER() OVER (PARTITION BY d.domain ORDER BY s.started_at DESC, s.id DESC) AS n
    FROM scan_domains d JOIN scans s ON s.id = d.scan_id) ranked
WHERE n = 1;

INSERT INTO open_findings (domain, rule, subject, severity, since, scan_id, finding)
SELECT f.domain, f.rule, f.subject, f.severity, COALESCE(f.failing_since, l.started_at), f.scan_id, f.finding
FROM latest_scans l JOIN findings f ON f.scan_id = l.scan_id AND f.domain = l.domain
WHERE f.status = 'fail' AND f.accepted = 0;
