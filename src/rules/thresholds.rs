//! Thresholds the rules stage uses outside CEL conditions, read from the
//! `[parameters]` tables of the rule files that own them: when a certificate
//! counts as expiring (CRT-001), how many years RET-001 checks for sent mail,
//! and how many messages per year RET-007 expects. Keeping them in the rule
//! files means one number per threshold, changed with the rule and judged
//! again when a saved report is re-evaluated.

use super::Rule;

/// The parameters the rules stage reads, by rule ID and name. A rule file
/// with one of these IDs must declare the parameter (checked on loading).
pub const OWNED: [(&str, &str); 3] = [
    ("CRT-001", "expiring_days"),
    ("RET-001", "sent_window_years"),
    ("RET-007", "expected_messages_per_year"),
];

/// The thresholds of a rule set. A field is `None` when the rule that owns
/// it is not in the set; then nothing depends on it (no certificate is
/// flagged expiring, no year is checked for sent mail, no minimum expected).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Thresholds {
    /// Days left below which a certificate counts as expiring (CRT-001).
    pub expiring_days: Option<i64>,
    /// Years back from the last year of activity in which every year needs
    /// sent mail (RET-001; § 257(4) HGB keeps sent Handelsbriefe 6 years).
    pub sent_window_years: Option<i32>,
    /// Messages per year of activity a mailbox is expected to keep when the
    /// audit profile sets none (RET-007).
    pub expected_messages_per_year: Option<u32>,
}

impl Thresholds {
    /// The thresholds `rules` declare.
    pub fn of(rules: &[Rule]) -> Thresholds {
        let parameter = |index: usize| {
            let (id, name) = OWNED[index];
            rules
                .iter()
                .find(|r| r.id == id)
                .and_then(|r| r.parameters.get(name).copied())
        };
        Thresholds {
            expiring_days: parameter(0),
            sent_window_years: parameter(1).and_then(|v| i32::try_from(v).ok()),
            expected_messages_per_year: parameter(2).and_then(|v| u32::try_from(v).ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rules_keep_the_thresholds_the_code_had() {
        // Given the embedded rule files, when their thresholds are read,
        // then they are the numbers the report and RET-001/007 used before
        // they moved out of the code.
        let rules = super::super::defaults().expect("default rules load");
        assert_eq!(
            Thresholds::of(&rules),
            Thresholds {
                expiring_days: Some(30),
                sent_window_years: Some(6),
                expected_messages_per_year: Some(50),
            }
        );
        assert_eq!(Thresholds::of(&[]), Thresholds::default());
    }
}
