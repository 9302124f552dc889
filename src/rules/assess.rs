//! The judgements besides findings that a report shows: the overall grade,
//! which certificates expire soon, each mailbox's retention view and the
//! period unclassified mail is kept. Computed here, in the rules stage, and
//! stored in the [`Report`](crate::report::Report), so renderers format them
//! and decide nothing, and a saved report judged again gets them anew.

use super::retention_view;
use super::{Rule, Thresholds};
use crate::finding::{Finding, Status};
use crate::profile::AuditProfile;
use crate::report::Target;
use crate::report::assessment::{Assessment, CertificateExpiry, Grade, MailboxRetention};
use crate::retention::{RetentionClass, deadline};
use chrono::{DateTime, Utc};

/// Assesses `targets` and their `findings` with the thresholds of `rules`,
/// at the scan time `now`, under `profile`.
pub fn assess(
    rules: &[Rule],
    targets: &[Target],
    findings: &[Finding],
    now: DateTime<Utc>,
    profile: &AuditProfile,
) -> Assessment {
    let thresholds = Thresholds::of(rules);
    let as_of = now.date_naive();
    let worst = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.severity)
        .max();
    let mut certificates: Vec<CertificateExpiry> = Vec::new();
    for endpoint in targets.iter().flat_map(|t| &t.evidence.endpoints) {
        let Some(leaf) = endpoint.tls.value().and_then(|t| t.chain.first()) else {
            continue;
        };
        if certificates.iter().any(|c| c.sha256 == leaf.sha256) {
            continue;
        }
        certificates.push(CertificateExpiry {
            sha256: leaf.sha256.clone(),
            days_left: leaf.days_left,
            expiring: thresholds
                .expiring_days
                .is_some_and(|days| leaf.days_left < days),
        });
    }
    let mailboxes = targets
        .iter()
        .flat_map(|t| &t.evidence.mailboxes)
        .map(|mailbox| MailboxRetention {
            user: mailbox.user.clone(),
            server: mailbox.server.clone(),
            retention: retention_view::view(mailbox, profile, as_of, &thresholds),
        })
        .collect();
    // Mail of the scan's own year: the longest period mail can have today.
    let unclassified = deadline(
        RetentionClass::Unclassified,
        as_of,
        &profile.retention(),
        as_of,
    );
    Assessment {
        grade: Some(Grade::of(worst)),
        expiring_days: thresholds.expiring_days,
        certificates,
        mailboxes,
        unclassified_retention_years: Some(unclassified.period_years),
        sources: super::references::works_cited(findings.iter().flat_map(|f| &f.citations)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use chrono::TimeZone;

    fn failed(severity: Severity) -> Finding {
        Finding {
            rule: "TLS-001".into(),
            subject: "mx.example.org:25".into(),
            status: Status::Fail,
            severity,
            area: "transport".into(),
            title: String::new(),
            detail: String::new(),
            references: vec![],
            citations: vec![],
            remediation: String::new(),
            change: None,
            accepted: None,
        }
    }

    #[test]
    fn the_grade_is_the_worst_failed_severity_and_the_period_follows_beg_iv() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let profile = AuditProfile::default();
        let assessed = |findings: &[Finding]| assess(&[], &[], findings, now, &profile);
        assert_eq!(assessed(&[]).grade, Some(Grade::A));
        assert_eq!(assessed(&[failed(Severity::Info)]).grade, Some(Grade::A));
        let mut passed = failed(Severity::Critical);
        passed.status = Status::Pass;
        assert_eq!(
            assessed(&[passed, failed(Severity::Medium)]).grade,
            Some(Grade::C)
        );
        assert_eq!(
            assessed(&[failed(Severity::Low), failed(Severity::Critical)]).grade,
            Some(Grade::F)
        );
        // Since BEG IV (1 Jan 2025) vouchers are kept 8 years, 10 in the
        // financial sector; before it, 10 for everyone.
        assert_eq!(assessed(&[]).unclassified_retention_years, Some(8));
        let mut financial = AuditProfile::default();
        financial.organisation.financial_sector = true;
        let assessed = assess(&[], &[], &[], now, &financial);
        assert_eq!(assessed.unclassified_retention_years, Some(10));
        let before = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
        let assessed = assess(&[], &[], &[], before, &profile);
        assert_eq!(assessed.unclassified_retention_years, Some(10));
        assert_eq!(assessed.expiring_days, None);
    }
}
