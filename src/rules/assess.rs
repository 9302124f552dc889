//! The judgements besides findings that a report shows: the overall grade,
//! which certificates expire soon, each mailbox's retention view and the
//! period unclassified mail is kept. Computed here, in the rules stage, and
//! stored in the [`Report`](crate::report::Report), so renderers format them
//! and decide nothing, and a saved report judged again gets them anew.

use super::retention_view;
use super::{Rule, Thresholds};
use crate::finding::{Citation, Finding, Severity, Status};
use crate::profile::AuditProfile;
use crate::report::Target;
use crate::report::assessment::{
    Assessment, CertificateExpiry, Grade, MailboxRetention, OrganisationRetention,
};
use crate::retention::{RetentionClass, deadline};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashSet;

/// Assesses `targets` and their `findings` with the thresholds of `rules`,
/// at the scan time `now`, under `profile`.
pub fn assess(
    rules: &[Rule],
    targets: &[Target],
    findings: &[Finding],
    now: DateTime<Utc>,
    profile: &AuditProfile,
) -> Assessment {
    let mut assessor = Assessor::new(rules, now, profile);
    targets
        .iter()
        .for_each(|target| assessor.add_target(target));
    findings
        .iter()
        .for_each(|finding| assessor.add_finding(finding));
    assessor.finish()
}

/// [`assess`] one target and one finding at a time, for a batch report
/// written by streaming (`batch::streamed`): it keeps only what the
/// assessment holds, never a target or a finding.
pub struct Assessor<'a> {
    thresholds: Thresholds,
    profile: &'a AuditProfile,
    as_of: NaiveDate,
    worst: Option<Severity>,
    certificates: Vec<CertificateExpiry>,
    seen: HashSet<String>,
    mailboxes: Vec<MailboxRetention>,
    organisations: Vec<OrganisationRetention>,
    /// The rule set's tables: its class file sorts the classes' periods.
    tables: Option<std::sync::Arc<super::tables::Tables>>,
    /// The first citation of each work, in order of first citation.
    citations: Vec<Citation>,
}

impl<'a> Assessor<'a> {
    /// An assessment of nothing yet, with the thresholds of `rules`, at the
    /// scan time `now`, under `profile`.
    pub fn new(rules: &[Rule], now: DateTime<Utc>, profile: &'a AuditProfile) -> Assessor<'a> {
        Assessor {
            thresholds: Thresholds::of(rules),
            profile,
            as_of: now.date_naive(),
            worst: None,
            certificates: Vec::new(),
            seen: HashSet::new(),
            mailboxes: Vec::new(),
            organisations: Vec::new(),
            tables: super::engine::tables_of(rules),
            citations: Vec::new(),
        }
    }

    /// Takes in a target's leaf certificates and mailboxes.
    pub fn add_target(&mut self, target: &Target) {
        for endpoint in &target.evidence.endpoints {
            let Some(leaf) = endpoint.tls.value().and_then(|t| t.chain.first()) else {
                continue;
            };
            if !self.seen.insert(leaf.sha256.clone()) {
                continue;
            }
            self.certificates.push(CertificateExpiry {
                sha256: leaf.sha256.clone(),
                days_left: leaf.days_left,
                expiring: self
                    .thresholds
                    .expiring_days
                    .is_some_and(|days| leaf.days_left < days),
            });
        }
        let first = self.mailboxes.len();
        for mailbox in &target.evidence.mailboxes {
            self.mailboxes.push(MailboxRetention {
                user: mailbox.user.clone(),
                server: mailbox.server.clone(),
                retention: retention_view::view(
                    mailbox,
                    self.profile,
                    self.as_of,
                    &self.thresholds,
                    super::engine::class_file_of(&self.tables),
                ),
            });
        }
        let pairs: Vec<_> = target
            .evidence
            .mailboxes
            .iter()
            .zip(self.mailboxes[first..].iter().map(|m| &m.retention))
            .collect();
        let domain = &target.evidence.domain;
        let classes = super::engine::class_file_of(&self.tables);
        self.organisations
            .extend(retention_view::organisation::aggregate(
                classes, domain, &pairs,
            ));
    }

    /// Takes in a finding's status, severity and citations.
    pub fn add_finding(&mut self, finding: &Finding) {
        if finding.status == Status::Fail {
            self.worst = self.worst.max(Some(finding.severity));
        }
        for citation in &finding.citations {
            if !self.citations.iter().any(|c| c.work == citation.work) {
                self.citations.push(citation.clone());
            }
        }
    }

    /// The assessment of everything taken in.
    pub fn finish(self) -> Assessment {
        // Mail of the scan's own year: the longest period mail can have today.
        let unclassified = deadline(
            RetentionClass::Unclassified,
            self.as_of,
            &self.profile.retention(),
            self.as_of,
        );
        Assessment {
            grade: Some(Grade::of(self.worst)),
            expiring_days: self.thresholds.expiring_days,
            certificates: self.certificates,
            mailboxes: self.mailboxes,
            organisations: self.organisations,
            unclassified_retention_years: Some(unclassified.period_years),
            sources: super::references::works_cited(&self.citations),
        }
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
