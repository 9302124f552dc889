//! The syntax of one SPF record (RFC 7208 §4.6.1, §5, §6, §7.1): terms,
//! qualifiers, mechanisms, modifiers and macro strings. Every error names
//! the term as written.

mod macro_string;

use macro_string::{check_domain_spec, check_macro_string};
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

/// `a` and `mx`: `[ ":" domain-spec ] [ dual-cidr-length ]` (RFC 7208 §5.3,
/// §5.4).
fn optional_domain_with_cidr(argument: Option<&str>) -> Result<Option<String>, String> {
    let Some(argument) = argument else {
        return Ok(None);
    };
    let (domain, ip4_length, ip6_length) = split_dual_cidr(argument);
    if let Some(digits) = ip4_length {
        cidr_length(digits, 32)?;
    }
    if let Some(digits) = ip6_length {
        cidr_length(digits, 128)?;
    }
    if domain.is_empty() {
        return Ok(None);
    }
    required_domain(Some(domain)).map(Some)
}

/// Splits `dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]`
/// (`/n`, `//m` or `/n//m`, digits only) off the end of an `a` or `mx`
/// argument, returning the rest and the two lengths' digits. It is taken
/// from the right because a domain-spec may itself hold '/' and ':', both
/// macro-literals (RFC 7208 §7.1): `a:foo:bar/baz.example.com/24`.
fn split_dual_cidr(argument: &str) -> (&str, Option<&str>, Option<&str>) {
    fn digits_at_end(text: &str) -> Option<(&str, &str)> {
        let (before, digits) = text.rsplit_once('/')?;
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some((before, digits))
    }
    let mut rest = argument;
    let mut ip6_length = None;
    if let Some((before, digits)) = digits_at_end(rest)
        && let Some(before) = before.strip_suffix('/')
    {
        ip6_length = Some(digits);
        rest = before;
    }
    let mut ip4_length = None;
    if let Some((before, digits)) = digits_at_end(rest) {
        ip4_length = Some(digits);
        rest = before;
    }
    (rest, ip4_length, ip6_length)
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
    fn a_and_mx_take_the_prefix_length_from_the_right() {
        // Given domain-specs with ':' and '/', which are macro-literals
        // (RFC 7208 §7.1), with and without a dual-cidr-length after them
        for record in [
            "v=spf1 a:foo:bar/baz.example.com -all",
            "v=spf1 mx:foo:bar/baz.example.com -all",
            "v=spf1 a:foo:bar/baz.example.com/24 -all",
            "v=spf1 mx:foo:bar/baz.example.com//64 -all",
            "v=spf1 a:foo:bar/baz.example.com/24//64 -all",
        ] {
            // Then they parse, and the target is the whole domain-spec
            let parsed = parse(record);
            assert!(parsed.errors.is_empty(), "{record}: {:?}", parsed.errors);
            let target = match &parsed.directives[0].mechanism {
                Mechanism::A(target) | Mechanism::Mx(target) => target.clone(),
                other => panic!("{other:?}"),
            };
            assert_eq!(target.as_deref(), Some("foo:bar/baz.example.com"));
        }
        // And a bad length after such a name is still named
        let errors = parse("v=spf1 a:foo/bar.example.com/33 -all").errors;
        assert!(
            errors[0].contains("'/33' is not a prefix length"),
            "{errors:?}"
        );
    }

    #[test]
    fn domain_specs_follow_the_abnf_of_section_7_1() {
        // Given macro escapes (%%, %_, %-), which are macro-expands, and
        // names that end in a top label or a macro-expand
        for record in [
            "v=spf1 include:foo%%bar.example.com -all",
            "v=spf1 exists:%-%_.example.com -all",
            "v=spf1 exists:%{i}.example.com%- -all",
            "v=spf1 exists:%{d} -all",
            "v=spf1 include:a!b$c.example.com. -all",
            "v=spf1 include:example.x-1 -all",
            "v=spf1 include:example.1-2 -all",
        ] {
            // Then they are valid domain-specs
            let errors = parse(record).errors;
            assert!(errors.is_empty(), "{record}: {errors:?}");
        }
        // But the end must be "." toplabel ["."] or a macro-expand, and every
        // character a macro-literal (%x21-24 / %x26-7E) or part of a macro
        for (record, expected) in [
            ("v=spf1 include:%{d}. -all", "not a domain name"),
            ("v=spf1 include:example.com.. -all", "top label"),
            ("v=spf1 include:example.-1 -all", "top label"),
            ("v=spf1 include:example.1- -all", "top label"),
            ("v=spf1 include:example.1_2 -all", "top label"),
            ("v=spf1 include:100%.example.com -all", "not a valid macro"),
            ("v=spf1 exists:%{d.example.com -all", "not closed"),
        ] {
            let errors = parse(record).errors;
            assert!(
                errors.len() == 1 && errors[0].contains(expected),
                "{record}: {errors:?}"
            );
        }
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
