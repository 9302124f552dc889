//! The syntax of one SPF record (RFC 7208 §4.6.1, §5, §6, §7.1): terms,
//! qualifiers, mechanisms, modifiers and macro strings. Every error names
//! the term as written.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A mechanism; the string is the target domain-spec as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(String),
    A(Option<String>),
    Mx(Option<String>),
    Ptr(Option<String>),
    Ip4,
    Ip6,
    Exists(String),
}

/// A qualifier and mechanism, with the term as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// `+`, `-`, `~` or `?` (`+` when omitted, RFC 7208 §4.6.2).
    pub qualifier: char,
    pub mechanism: Mechanism,
    pub text: String,
}

impl Directive {
    /// True for the mechanisms RFC 7208 §4.6.4 counts against the limit of
    /// 10 (the `redirect` modifier counts too; see `SpfRecord::redirect`).
    pub fn queries_dns(&self) -> bool {
        matches!(
            self.mechanism,
            Mechanism::Include(_)
                | Mechanism::A(_)
                | Mechanism::Mx(_)
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }
}

/// One parsed SPF record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpfRecord {
    pub directives: Vec<Directive>,
    /// `redirect=` target as written.
    pub redirect: Option<String>,
    /// Each error names the offending term.
    pub errors: Vec<String>,
}

impl SpfRecord {
    /// The first `all` directive, which ends evaluation (RFC 7208 §5.1).
    pub fn all(&self) -> Option<&Directive> {
        self.directives
            .iter()
            .find(|d| d.mechanism == Mechanism::All)
    }
}

/// Parses a record that starts with `v=spf1`.
pub fn parse(record: &str) -> SpfRecord {
    let mut parsed = SpfRecord::default();
    let mut terms = record.split([' ', '\t']).filter(|t| !t.is_empty());
    match terms.next() {
        Some(version) if version.eq_ignore_ascii_case("v=spf1") => {}
        other => {
            parsed.errors.push(format!(
                "the record starts with '{}', not 'v=spf1'",
                other.unwrap_or("")
            ));
            return parsed;
        }
    }
    let mut explanation_seen = false;
    for term in terms {
        match parse_term(term) {
            Ok(Term::Directive(directive)) => parsed.directives.push(directive),
            Ok(Term::Redirect(target)) => {
                if parsed.redirect.is_some() {
                    // RFC 7208 §6: redirect and exp each at most once.
                    parsed
                        .errors
                        .push(format!("'{term}': redirect= appears more than once"));
                } else {
                    parsed.redirect = Some(target);
                }
            }
            Ok(Term::Explanation) => {
                if explanation_seen {
                    parsed
                        .errors
                        .push(format!("'{term}': exp= appears more than once"));
                }
                explanation_seen = true;
            }
            Ok(Term::UnknownModifier) => {}
            Err(error) => parsed.errors.push(format!("'{term}': {error}")),
        }
    }
    parsed
}

enum Term {
    Directive(Directive),
    Redirect(String),
    Explanation,
    UnknownModifier,
}

fn parse_term(term: &str) -> Result<Term, String> {
    // A modifier is name=value with a name of ALPHA *(ALPHA/DIGIT/-/_/.);
    // a mechanism never has '=' before its ':' or '/' (RFC 7208 §4.6.1).
    if let Some((name, value)) = term.split_once('=')
        && !name.contains(':')
        && !name.contains('/')
    {
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            return Err(format!("'{name}' is not a valid modifier name"));
        }
        return match name.to_ascii_lowercase().as_str() {
            "redirect" => {
                check_domain_spec(value)?;
                Ok(Term::Redirect(value.to_string()))
            }
            "exp" => {
                check_domain_spec(value)?;
                Ok(Term::Explanation)
            }
            _ => {
                check_macro_string(value, false)?;
                Ok(Term::UnknownModifier)
            }
        };
    }
    let (qualifier, rest) = match term.chars().next() {
        Some(q @ ('+' | '-' | '~' | '?')) => (q, &term[1..]),
        _ => ('+', term),
    };
    let (name, argument) = match rest.find([':', '/']) {
        Some(index) => (&rest[..index], Some(&rest[index..])),
        None => (rest, None),
    };
    let mechanism = match name.to_ascii_lowercase().as_str() {
        "all" => {
            if argument.is_some() {
                return Err("'all' takes no argument".to_string());
            }
            Mechanism::All
        }
        "include" => Mechanism::Include(required_domain(argument)?),
        "exists" => Mechanism::Exists(required_domain(argument)?),
        "a" => Mechanism::A(optional_domain_with_cidr(argument)?),
        "mx" => Mechanism::Mx(optional_domain_with_cidr(argument)?),
        "ptr" => Mechanism::Ptr(match argument {
            None => None,
            Some(a) => Some(required_domain(Some(a))?),
        }),
        "ip4" => {
            check_network(argument, "ip4", |a| a.parse::<Ipv4Addr>().is_ok(), 32)?;
            Mechanism::Ip4
        }
        "ip6" => {
            check_network(argument, "ip6", |a| a.parse::<Ipv6Addr>().is_ok(), 128)?;
            Mechanism::Ip6
        }
        "" => return Err("a qualifier without a mechanism".to_string()),
        other => return Err(format!("unknown mechanism '{other}'")),
    };
    Ok(Term::Directive(Directive {
        qualifier,
        mechanism,
        text: term.to_string(),
    }))
}

fn required_domain(argument: Option<&str>) -> Result<String, String> {
    match argument.and_then(|a| a.strip_prefix(':')) {
        Some(domain) => {
            check_domain_spec(domain)?;
            Ok(domain.to_string())
        }
        None => Err("the mechanism needs ':domain'".to_string()),
    }
}

/// `a` and `mx`: `[":" domain-spec] [ip4-cidr-length] ["/" ip6-cidr-length]`.
fn optional_domain_with_cidr(argument: Option<&str>) -> Result<Option<String>, String> {
    let Some(argument) = argument else {
        return Ok(None);
    };
    let (domain, cidr) = match argument.find('/') {
        Some(index) => (&argument[..index], &argument[index..]),
        None => (argument, ""),
    };
    if !cidr.is_empty() {
        check_dual_cidr(cidr)?;
    }
    if domain.is_empty() {
        return Ok(None);
    }
    required_domain(Some(domain)).map(Some)
}

/// `/n`, `//m` or `/n//m` with n ≤ 32 and m ≤ 128 (RFC 7208 §5.6).
fn check_dual_cidr(cidr: &str) -> Result<(), String> {
    let (v4, v6) = match cidr.split_once("//") {
        Some((v4, v6)) => (v4, Some(v6)),
        None => (cidr, None),
    };
    if !v4.is_empty() {
        cidr_length(v4.strip_prefix('/').unwrap_or(v4), 32)?;
    }
    if let Some(v6) = v6 {
        cidr_length(v6, 128)?;
    }
    Ok(())
}

fn cidr_length(digits: &str, max: u32) -> Result<(), String> {
    // RFC 7208 §5.6: no leading zeros.
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'));
    match digits.parse::<u32>() {
        Ok(n) if valid && n <= max => Ok(()),
        _ => Err(format!("'/{digits}' is not a prefix length of 0 to {max}")),
    }
}

fn check_network(
    argument: Option<&str>,
    name: &str,
    valid_address: impl Fn(&str) -> bool,
    max: u32,
) -> Result<(), String> {
    let Some(network) = argument.and_then(|a| a.strip_prefix(':')) else {
        return Err(format!("{name} needs ':address'"));
    };
    let (address, length) = match network.split_once('/') {
        Some((address, length)) => (address, Some(length)),
        None => (network, None),
    };
    if !valid_address(address) {
        return Err(format!("'{address}' is not an {name} address"));
    }
    if let Some(length) = length {
        cidr_length(length, max)?;
    }
    Ok(())
}

/// `domain-spec = macro-string domain-end` (RFC 7208 §7.1). Without macros
/// the name needs at least two labels and a top label with a letter.
fn check_domain_spec(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("the domain is empty".to_string());
    }
    if check_macro_string(spec, false)? {
        return Ok(());
    }
    let name = spec.strip_suffix('.').unwrap_or(spec);
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(format!("'{spec}' is not a domain name"));
    }
    let top = labels[labels.len() - 1];
    if !top.bytes().any(|b| b.is_ascii_alphabetic()) || top.starts_with('-') || top.ends_with('-') {
        return Err(format!("'{spec}' does not end in a valid top label"));
    }
    Ok(())
}

/// Checks macro syntax (RFC 7208 §7.1); returns whether the text contains a
/// macro. Only `exp` text may use c, r and t.
fn check_macro_string(text: &str, in_explanation: bool) -> Result<bool, String> {
    let mut has_macro = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            if !('!'..='~').contains(&c) {
                return Err(format!("character {c:?} is not allowed"));
            }
            continue;
        }
        match chars.next() {
            Some('%' | '_' | '-') => {}
            Some('{') => {
                has_macro = true;
                let body: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let letter = body.chars().next().map(|c| c.to_ascii_lowercase());
                let allowed = letter.is_some_and(|l| {
                    "slodiphv".contains(l) || (in_explanation && "crt".contains(l))
                });
                let rest = body.get(1..).unwrap_or("");
                let after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                let after = after.strip_prefix(['r', 'R']).unwrap_or(after);
                let delimiters_ok = after.chars().all(|c| ".-+,/_=".contains(c));
                if !allowed || !delimiters_ok {
                    return Err(format!("'%{{{body}}}' is not a valid macro"));
                }
            }
            other => {
                return Err(format!(
                    "'%{}' is not a valid macro (use %% for a percent sign)",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    Ok(has_macro)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_record_parses() {
        let record = parse(
            "v=spf1 a mx:mx.example.org/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net ~all exp=explain.%{d}",
        );
        assert!(record.errors.is_empty(), "{:?}", record.errors);
        assert_eq!(record.directives.len(), 6);
        assert_eq!(record.all().unwrap().qualifier, '~');
        assert_eq!(
            record.directives[4].mechanism,
            Mechanism::Include("_spf.example.net".into())
        );
        let querying = record.directives.iter().filter(|d| d.queries_dns()).count();
        assert_eq!(querying, 3);
    }

    #[test]
    fn errors_name_the_offending_term() {
        let record = parse(
            "v=spf1 mx ipv4:127.0.12.25 ip4:300.1.2.3 a:/33 include: all:x -all redirect=a.test redirect=b.test",
        );
        let errors = record.errors.join("\n");
        for expected in [
            "'ipv4:127.0.12.25': unknown mechanism 'ipv4'",
            "'ip4:300.1.2.3': '300.1.2.3' is not an ip4 address",
            "'a:/33': '/33' is not a prefix length",
            "'include:': the domain is empty",
            "'all:x': 'all' takes no argument",
            "'redirect=b.test': redirect= appears more than once",
        ] {
            assert!(errors.contains(expected), "{expected} not in {errors}");
        }
        assert_eq!(record.redirect.as_deref(), Some("a.test"));
    }

    #[test]
    fn macros_are_checked_and_unknown_modifiers_allowed() {
        let good = parse("v=spf1 exists:%{i}.%{l1r+-}._spf.%{d} foo=bar -all");
        assert!(good.errors.is_empty(), "{:?}", good.errors);
        let errors = parse("v=spf1 exists:%{x}.example.org include:%a.example.org -all").errors;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("'%{x}' is not a valid macro"));
    }

    #[test]
    fn the_version_must_come_first_and_names_need_a_top_label() {
        assert!(!parse("v=spf2 -all").errors.is_empty());
        assert!(parse("v=spf1 include:localhost -all").errors[0].contains("not a domain name"));
        assert!(parse("v=spf1 include:example.123 -all").errors[0].contains("top label"));
        assert!(parse("v=spf1 a//64 mx/24//64 -all").errors.is_empty());
        assert!(!parse("v=spf1 a/024 -all").errors.is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            "v=spf1 %",
            "v=spf1 a:%{",
            "v=spf1 a:é.test",
            "v=spf1 ~",
            "v=spf1 =x",
            "v=spf1 ip6:/",
            "v=spf1 a:%{é}.x",
        ] {
            assert!(!parse(input).errors.is_empty(), "{input}");
        }
    }
}
