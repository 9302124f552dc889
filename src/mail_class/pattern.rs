//! Shell-style patterns for file names and header values, as a
//! data-protection officer writes them in the class file: `*` stands for
//! any text, `?` for one character, everything else for itself, and case
//! does not matter (`*rechnung*.pdf` matches `RECHNUNG_März.PDF`).
//!
//! Matching is iterative with one backtrack point, so a pattern like
//! `*a*a*a*b` costs O(text × pattern) at worst, never exponential time.

/// A compiled, case-folded pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    chars: Vec<char>,
}

impl Pattern {
    /// Compiles `source`; an empty pattern is refused (it would match only
    /// empty text, which is never what was meant).
    pub fn new(source: &str) -> Result<Pattern, String> {
        if source.trim().is_empty() {
            return Err("an empty pattern matches nothing; remove it or write *".into());
        }
        Ok(Pattern {
            source: source.to_string(),
            chars: source.to_lowercase().chars().collect(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.to_lowercase().chars().collect();
        let pattern = &self.chars;
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some('*') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(&c) if c == '?' || c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p.min(pattern.len())..].iter().all(|&c| c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(text)
    }

    #[test]
    fn stars_questions_and_case() {
        assert!(matches("*rechnung*.pdf", "RECHNUNG_März.PDF"));
        assert!(matches("*rechnung*.pdf", "Ihre Rechnung 2024-0042.pdf"));
        assert!(!matches("*rechnung*.pdf", "Rechnung.pdf.exe"));
        assert!(matches("auto-*", "auto-generated"));
        assert!(!matches("auto-*", "no"));
        assert!(matches("application/*", "application/pdf"));
        assert!(matches("factur-x.xml", "Factur-X.XML"));
        assert!(matches("invoice_??.pdf", "Invoice_07.pdf"));
        assert!(!matches("invoice_??.pdf", "Invoice_7.pdf"));
        assert!(matches("*", ""));
        assert!(matches("*über*", "Überweisung_ÜBERSICHT"));
    }

    #[test]
    fn empty_patterns_are_refused() {
        assert!(Pattern::new("").is_err());
        assert!(Pattern::new("  ").is_err());
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let text = "a".repeat(5000);
        let pattern = format!("{}b", "*a".repeat(50));
        let started = std::time::Instant::now();
        assert!(!matches(&pattern, &text));
        assert!(started.elapsed().as_secs() < 2);
    }
}
