//! The findings of a batch's domains, kept from their JSONL lines until the
//! batch report is assembled.
//!
//! Domains on one provider share its endpoints, and an endpoint's findings
//! mostly come out the same for each of them: of a thousand domains' 219,000
//! findings a few hundred differ. So each distinct finding is stored once,
//! with the domains that produced it, and each domain keeps only the order
//! of its (rule, subject) keys. [`Judged::assemble`] then gives what
//! `rules::evaluate` over all targets gives: in target order, each (rule,
//! subject) judged for the first domain that has it.

use crate::finding::Finding;
use std::collections::{HashMap, HashSet};

/// Findings per domain, each distinct finding stored once.
#[derive(Default)]
pub struct Judged {
    /// (rule, subject) → key index.
    keys: HashMap<(String, String), usize>,
    /// Per key: the distinct findings, each with the (ascending) indices of
    /// the domains that produced it.
    variants: Vec<Vec<(Finding, Vec<usize>)>>,
    /// Domain → its index and its keys in the order judged.
    domains: HashMap<String, (usize, Vec<usize>)>,
}

impl Judged {
    fn key(&mut self, finding: &Finding) -> usize {
        let next = self.keys.len();
        let index = *self
            .keys
            .entry((finding.rule.clone(), finding.subject.clone()))
            .or_insert(next);
        if index == self.variants.len() {
            self.variants.push(Vec::new());
        }
        index
    }

    /// Keeps `domain`'s findings (a domain given twice keeps the first).
    pub fn insert(&mut self, domain: &str, findings: Vec<Finding>) {
        if self.domains.contains_key(domain) {
            return;
        }
        let domain_index = self.domains.len();
        let mut order = Vec::with_capacity(findings.len());
        for finding in findings {
            let key = self.key(&finding);
            order.push(key);
            let variants = &mut self.variants[key];
            match variants.iter_mut().find(|(kept, _)| *kept == finding) {
                Some((_, domains)) => domains.push(domain_index),
                None => variants.push((finding, vec![domain_index])),
            }
        }
        self.domains
            .insert(domain.to_string(), (domain_index, order));
    }

    /// The report's findings for `targets` in order; a domain not kept here
    /// (resumed from an earlier run) is judged by `judge`.
    pub fn assemble<'a>(
        mut self,
        targets: impl IntoIterator<Item = &'a str>,
        mut judge: impl FnMut(&str) -> Vec<Finding>,
    ) -> Vec<Finding> {
        let mut seen = HashSet::new();
        let mut findings = Vec::new();
        for domain in targets {
            match self.domains.remove(domain) {
                Some((domain_index, order)) => {
                    for key in order {
                        if !seen.insert(key) {
                            continue;
                        }
                        let produced = self.variants[key]
                            .iter()
                            .find(|(_, domains)| domains.binary_search(&domain_index).is_ok());
                        if let Some((finding, _)) = produced {
                            findings.push(finding.clone());
                        }
                    }
                }
                None => {
                    for finding in judge(domain) {
                        if seen.insert(self.key(&finding)) {
                            findings.push(finding);
                        }
                    }
                }
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Severity, Status};

    fn finding(rule: &str, subject: &str, detail: &str) -> Finding {
        Finding {
            rule: rule.into(),
            subject: subject.into(),
            status: Status::Fail,
            severity: Severity::High,
            area: "transport".into(),
            title: "t".into(),
            detail: detail.into(),
            references: Vec::new(),
            citations: Vec::new(),
            remediation: "r".into(),
            change: None,
            accepted: None,
        }
    }

    /// What `rules::evaluate` does with the same per-domain findings: in
    /// target order, the first finding of each (rule, subject).
    fn reference(per_domain: &[(&str, Vec<Finding>)], order: &[&str]) -> Vec<Finding> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for domain in order {
            let (_, findings) = per_domain.iter().find(|(d, _)| d == domain).unwrap();
            for f in findings {
                if seen.insert((f.rule.clone(), f.subject.clone())) {
                    out.push(f.clone());
                }
            }
        }
        out
    }

    #[test]
    fn assembles_in_target_order_whatever_order_the_domains_finished_in() {
        let per_domain = vec![
            (
                "b.test",
                vec![
                    finding("DNS-001", "dns:b.test", "b"),
                    finding("TLS-001", "mx.p:25", "seen from b"),
                ],
            ),
            (
                "a.test",
                vec![
                    finding("DNS-001", "dns:a.test", "a"),
                    finding("TLS-001", "mx.p:25", "seen from a"),
                    finding("TLS-002", "mx.p:25", "same"),
                ],
            ),
            (
                "c.test",
                vec![
                    finding("TLS-002", "mx.p:25", "same"),
                    finding("TLS-001", "mx.p:25", "seen from a"),
                ],
            ),
        ];
        let mut judged = Judged::default();
        for (domain, findings) in &per_domain {
            judged.insert(domain, findings.clone());
        }
        let order = ["a.test", "c.test", "b.test"];
        let assembled = judged.assemble(order, |_| unreachable!("every domain is kept"));
        assert_eq!(assembled, reference(&per_domain, &order));
        // The shared endpoint's finding is a.test's, as a.test comes first.
        assert_eq!(assembled[1].detail, "seen from a");
    }

    #[test]
    fn identical_findings_are_stored_once() {
        let mut judged = Judged::default();
        for domain in ["a.test", "b.test", "c.test"] {
            judged.insert(domain, vec![finding("TLS-002", "mx.p:25", "same")]);
        }
        assert_eq!(judged.variants[0].len(), 1);
        assert_eq!(judged.variants[0][0].1, vec![0, 1, 2]);
    }

    #[test]
    fn a_domain_not_kept_is_judged_and_joins_the_order() {
        let mut judged = Judged::default();
        judged.insert("b.test", vec![finding("TLS-001", "mx.p:25", "from b")]);
        let assembled = judged.assemble(["a.test", "b.test"], |domain| {
            assert_eq!(domain, "a.test");
            vec![finding("TLS-001", "mx.p:25", "from a")]
        });
        assert_eq!(assembled.len(), 1);
        assert_eq!(assembled[0].detail, "from a");
    }
}
