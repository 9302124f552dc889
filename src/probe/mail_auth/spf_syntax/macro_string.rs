//! Macro strings and domain-specs of SPF (RFC 7208 §7.1): which
//! characters are macro-literals, which `%` sequences are macro-expands,
//! and how a domain-spec must end (a top label or a macro). The record
//! parser in the parent module checks every domain and modifier value here.

/// `domain-spec = macro-string domain-end` with
/// `domain-end = ( "." toplabel [ "." ] ) / macro-expand` (RFC 7208 §7.1).
/// Labels may hold any macro-literal (`a:foo:bar/baz.example.com` is
/// valid); only the top label is restricted.
pub(super) fn check_domain_spec(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("the domain is empty".to_string());
    }
    let tokens = macro_tokens(spec, false)?;
    if tokens.last() == Some(&MacroToken::Expand) {
        return Ok(());
    }
    // The literals after the last macro-expand hold "." toplabel ["."].
    let literal_end: Vec<char> = tokens
        .iter()
        .rev()
        .map_while(|t| match t {
            MacroToken::Literal(c) => Some(*c),
            MacroToken::Expand => None,
        })
        .collect();
    let literal_end: String = literal_end.into_iter().rev().collect();
    let without_root = literal_end.strip_suffix('.').unwrap_or(&literal_end);
    let Some((_, top)) = without_root.rsplit_once('.') else {
        return Err(format!(
            "'{spec}' is not a domain name: it must end in '.' and a top label, or in a macro"
        ));
    };
    if !is_toplabel(top) {
        return Err(format!("'{spec}' does not end in a valid top label"));
    }
    if !tokens.contains(&MacroToken::Expand) {
        // Without macros the name is queried as written, so it must be one
        // DNS can carry (RFC 1035 §2.3.4); a receiver cannot look it up
        // otherwise.
        let name = spec.strip_suffix('.').unwrap_or(spec);
        if name.len() > 253 || name.split('.').any(|l| l.is_empty() || l.len() > 63) {
            return Err(format!(
                "'{spec}' is not a domain name: a label is empty or over 63 characters, or the name over 253"
            ));
        }
    }
    Ok(())
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) /
/// ( 1*alphanum "-" *( alphanum / "-" ) alphanum )` (RFC 7208 §7.1).
fn is_toplabel(label: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    if label.chars().all(alphanumeric) {
        return label.chars().any(|c| c.is_ascii_alphabetic());
    }
    label.chars().all(|c| alphanumeric(c) || c == '-')
        && label.starts_with(alphanumeric)
        && label.ends_with(alphanumeric)
}

/// One unit of a macro-string (RFC 7208 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MacroToken {
    /// `macro-literal = %x21-24 / %x26-7E`.
    Literal(char),
    /// `"%{" macro-letter transformers *delimiter "}"`, `%%`, `%_` or `%-`.
    Expand,
}

/// Checks macro syntax (RFC 7208 §7.1), e.g. in an unknown modifier's value.
pub(super) fn check_macro_string(text: &str, in_explanation: bool) -> Result<(), String> {
    macro_tokens(text, in_explanation).map(|_| ())
}

/// Splits `text` into macro-literals and macro-expands. Only `exp` text may
/// use the letters c, r and t (§7.2).
fn macro_tokens(text: &str, in_explanation: bool) -> Result<Vec<MacroToken>, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c != '%' {
            if !('!'..='~').contains(&c) {
                return Err(format!("character {c:?} is not allowed"));
            }
            tokens.push(MacroToken::Literal(c));
            continue;
        }
        match rest.chars().next() {
            Some('%' | '_' | '-') => rest = &rest[1..],
            Some('{') => {
                let Some(end) = rest.find('}') else {
                    return Err(format!("'%{rest}' is not closed with '}}'"));
                };
                let body = &rest[1..end];
                rest = &rest[end + 1..];
                // macro-letter transformers *delimiter, transformers =
                // *DIGIT [ "r" ].
                let letter = body.chars().next().map(|c| c.to_ascii_lowercase());
                let allowed = letter.is_some_and(|l| {
                    "slodiphv".contains(l) || (in_explanation && "crt".contains(l))
                });
                let after = body.get(1..).unwrap_or("");
                let after = after.trim_start_matches(|c: char| c.is_ascii_digit());
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
        tokens.push(MacroToken::Expand);
    }
    Ok(tokens)
}
