//! The mailbox part of the render view (HTML and PDF): per audited mailbox
//! the folders with their counts by year and the retention view the rules
//! stage stored in the report (what is due for erasure review, what lies in
//! Trash), and the assumptions the retention rules used, printed as the
//! report's assumptions. Nothing here judges: it formats.

use super::Report;
use super::classes::{self, ClassTable};
use crate::evidence::FolderRole;
use crate::profile::AuditProfile;
use serde::Serialize;

/// One audited mailbox, for the templates.
#[derive(Debug, Serialize)]
pub struct MailboxView {
    pub user: String,
    pub server: String,
    /// Why the audit could not read the folders (empty when it could).
    pub problem: String,
    pub folders: Vec<FolderRow>,
    /// Every year that appears in any folder, oldest first (table columns).
    pub years: Vec<i32>,
    /// "folder year: count (reviewable from date)".
    pub past_deadline: Vec<String>,
    pub past_deadline_total: u64,
    pub retained_in_trash_total: u64,
    pub quota: Vec<String>,
    pub redirects: Vec<String>,
    /// Messages by class and year, with keep-until and review-due per
    /// class; none when the view counts no message.
    pub classes: Option<ClassTable>,
}

/// One domain's audited mailboxes together (`org:DOMAIN`).
#[derive(Debug, Serialize)]
pub struct OrganisationView {
    pub domain: String,
    pub mailboxes: u32,
    pub audited: u32,
    /// "user: reason" of each mailbox that could not be audited.
    pub incomplete: Vec<String>,
    pub classes: Option<ClassTable>,
}

/// The organisation views of a report.
pub fn organisations(report: &Report) -> Vec<OrganisationView> {
    report
        .assessment
        .organisations
        .iter()
        .map(|o| OrganisationView {
            domain: o.domain.clone(),
            mailboxes: o.mailboxes,
            audited: o.audited,
            incomplete: o
                .incomplete
                .iter()
                .map(|p| format!("{}: {}", p.user, p.reason))
                .collect(),
            classes: classes::table(&o.retention, report.language),
        })
        .collect()
}

/// One folder row.
#[derive(Debug, Serialize)]
pub struct FolderRow {
    pub name: String,
    pub role: &'static str,
    pub messages: u32,
    /// Messages without `\Seen` (STATUS UNSEEN); empty when unknown.
    pub unseen: String,
    /// Counts in the order of [`MailboxView::years`] (0 where none).
    pub by_year: Vec<u32>,
    pub oldest: String,
}

/// The mailbox views of a report.
pub fn build(report: &Report) -> Vec<MailboxView> {
    report
        .targets
        .iter()
        .flat_map(|t| &t.evidence.mailboxes)
        .map(|mailbox| {
            let folders = mailbox
                .folders
                .value()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut years: Vec<i32> = folders
                .iter()
                .flat_map(|f| f.years.keys().copied())
                .collect();
            years.sort_unstable();
            years.dedup();
            let view = report.assessment.mailbox(&mailbox.user, &mailbox.server);
            let sieve = mailbox.sieve.value();
            MailboxView {
                user: mailbox.user.clone(),
                server: mailbox.server.clone(),
                problem: mailbox.folders.reason.clone().unwrap_or_default(),
                folders: folders
                    .iter()
                    .map(|f| FolderRow {
                        name: f.display_name.clone(),
                        role: role_key(f.role),
                        messages: f.messages,
                        unseen: f.unseen.map(|n| n.to_string()).unwrap_or_default(),
                        by_year: years
                            .iter()
                            .map(|y| f.years.get(y).copied().unwrap_or(0))
                            .collect(),
                        oldest: f
                            .oldest
                            .map(|d| d.format("%Y-%m-%d").to_string())
                            .unwrap_or_default(),
                    })
                    .collect(),
                years,
                past_deadline: view
                    .map(|v| {
                        v.past_deadline
                            .iter()
                            .map(|c| {
                                format!(
                                    "{} {}: {} ({})",
                                    c.folder, c.year, c.count, c.earliest_erasure
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                classes: view.and_then(|v| classes::table(v, report.language)),
                past_deadline_total: view.map_or(0, |v| v.past_deadline_total),
                retained_in_trash_total: view.map_or(0, |v| v.retained_in_trash_total),
                quota: mailbox
                    .quota
                    .value()
                    .map(|q| {
                        q.iter()
                            .map(|r| {
                                format!(
                                    "{} {} / {} ({} %)",
                                    r.resource, r.usage, r.limit, r.percent
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                redirects: sieve
                    .map(|s| {
                        s.scripts
                            .iter()
                            .filter(|script| script.active)
                            .flat_map(|script| {
                                script
                                    .redirects
                                    .iter()
                                    .map(move |r| format!("{}: {}", script.name, r.address))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The i18n key of a folder role.
fn role_key(role: FolderRole) -> &'static str {
    match role {
        FolderRole::Inbox => "role_inbox",
        FolderRole::Sent => "role_sent",
        FolderRole::Drafts => "role_drafts",
        FolderRole::Trash => "role_trash",
        FolderRole::Junk => "role_junk",
        FolderRole::Archive => "role_archive",
        FolderRole::Other => "role_other",
    }
}

/// The assumptions printed in the report: what the profile declared (or
/// that nothing was), and the period the rules stage kept unclassified mail
/// for (`period`; none in a report written before schema 1.4), in the
/// report language.
pub fn assumptions(profile: &AuditProfile, period: Option<i32>, german: bool) -> Vec<String> {
    let yes_no = |value: bool| match (value, german) {
        (true, true) => "ja",
        (false, true) => "nein",
        (true, false) => "yes",
        (false, false) => "no",
    };
    let unknown = if german {
        "nicht angegeben"
    } else {
        "not declared"
    };
    let mut lines = Vec::new();
    if !profile.declared {
        lines.push(if german {
            "Kein Auditprofil angegeben (--profile): es gelten die vorsichtigen Annahmen."
                .to_string()
        } else {
            "No audit profile given (--profile): the cautious defaults apply.".to_string()
        });
    }
    let kaufmann = profile.organisation.kaufmann.map_or(unknown, yes_no);
    let period = period.map_or_else(|| "?".to_string(), |years| years.to_string());
    if german {
        lines.push(format!(
            "Kaufmann (§ 257 HGB): {kaufmann}; Finanzsektor: {}.",
            yes_no(profile.organisation.financial_sector)
        ));
        lines.push(format!("Nicht klassifizierte Post wird wie Buchungsbelege behandelt: {period} Jahre ab Ende des Kalenderjahres (§ 257 Abs. 4, 5 HGB; § 147 Abs. 3, 4 AO)."));
        lines.push(format!(
            "GoBD-/Journal-Archiv: {}; POP3-Clients: {}; AVV mit dem Anbieter: {}.",
            yes_no(profile.archive.gobd_archive),
            yes_no(profile.pop3.clients_in_use),
            profile.provider.avv.map_or(unknown, yes_no)
        ));
    } else {
        lines.push(format!(
            "Kaufmann (§ 257 HGB): {kaufmann}; financial sector: {}.",
            yes_no(profile.organisation.financial_sector)
        ));
        lines.push(format!("Unclassified mail is kept like vouchers: {period} years from the end of its calendar year (§ 257(4),(5) HGB; § 147(3),(4) AO)."));
        lines.push(format!(
            "GoBD/journaling archive: {}; POP3 clients: {}; AVV with the provider: {}.",
            yes_no(profile.archive.gobd_archive),
            yes_no(profile.pop3.clients_in_use),
            profile.provider.avv.map_or(unknown, yes_no)
        ));
    }
    for (folder, years) in &profile.retention.non_business_folders {
        lines.push(if german {
            format!("Ordner „{folder}“: keine Geschäftspost, {years} Jahre laut Organisation.")
        } else {
            format!(
                "Folder \"{folder}\": no business mail, {years} years by the organisation's policy."
            )
        });
    }
    for hold in &profile.retention.holds {
        lines.push(if german {
            format!("Sperre bis {}: {}", hold.until, hold.reason)
        } else {
            format!("Hold until {}: {}", hold.until, hold.reason)
        });
    }
    for accepted in &profile.accepted {
        lines.push(format!(
            "{} {}{}: {} ({} {})",
            if german { "Akzeptiert" } else { "Accepted" },
            accepted.rule,
            accepted
                .subject
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            accepted.reason,
            if german { "bis" } else { "until" },
            accepted.until
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumptions_say_when_nothing_was_declared() {
        let lines = assumptions(&AuditProfile::default(), Some(8), false);
        assert!(lines[0].starts_with("No audit profile"));
        assert!(lines.iter().any(|l| l.contains("8 years")));
        let mut profile = AuditProfile {
            declared: true,
            ..AuditProfile::default()
        };
        profile.organisation.financial_sector = true;
        let lines = assumptions(&profile, Some(10), true);
        assert!(lines.iter().any(|l| l.contains("10 Jahre")));
        assert!(!lines[0].starts_with("Kein Auditprofil"));
    }
}
