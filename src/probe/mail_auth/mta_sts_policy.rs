//! The MTA-STS policy file (RFC 8461 §3.2, §3.3): fetched from
//! `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` with a certificate that
//! must validate, no redirects, a size limit and a timeout, then parsed.
//!
//! The fetch itself is [`crate::probe::https::get`]: our resolver's
//! addresses, our trust store, no redirects, 64 KiB, a timeout.

use crate::evidence::MtaStsPolicy;
use crate::probe::context::ProbeContext;
use crate::probe::https;
use std::net::IpAddr;

/// Fetches and parses the policy of `domain` from `addresses`. `Err` names
/// why it could not be fetched over valid HTTPS.
pub async fn fetch(
    context: &ProbeContext,
    domain: &str,
    addresses: &[IpAddr],
) -> Result<MtaStsPolicy, String> {
    let host = format!("mta-sts.{domain}");
    let path = "/.well-known/mta-sts.txt";
    let url = format!("https://{host}{path}");
    let response = https::get(context, &host, path, addresses).await?;
    if response.status != 200 {
        let location = response
            .location
            .map(|l| format!(" to {l} (redirects are not followed, RFC 8461 §3.3)"))
            .unwrap_or_default();
        let status = reqwest::StatusCode::from_u16(response.status)
            .map(|s| s.to_string())
            .unwrap_or_else(|_| response.status.to_string());
        return Err(format!("{url}: HTTP {status}{location}"));
    }
    let content_type = response.content_type;
    let mut policy = parse(&String::from_utf8_lossy(&response.body));
    // RFC 8461 §3.3: the media type is "text/plain".
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("text/plain") {
        policy.errors.push(format!(
            "served as '{content_type}', RFC 8461 §3.3 requires text/plain"
        ));
    }
    policy.url = url;
    policy.addresses = addresses.iter().map(IpAddr::to_string).collect();
    policy.content_type = content_type;
    Ok(policy)
}

/// Parses the `key: value` lines of a policy (RFC 8461 §3.2), separated by
/// CRLF (LF alone is accepted too). Unknown keys are ignored; `mx` repeats.
pub fn parse(body: &str) -> MtaStsPolicy {
    let mut policy = MtaStsPolicy {
        body: body.to_string(),
        ..MtaStsPolicy::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for (number, line) in body.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            policy
                .errors
                .push(format!("line {}: '{line}' is not 'key: value'", number + 1));
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        if key != "mx" && seen.contains(&key) {
            policy
                .errors
                .push(format!("line {}: '{key}' appears twice", number + 1));
            continue;
        }
        seen.push(key.clone());
        match key.as_str() {
            "version" => policy.version = Some(value),
            "mode" => policy.mode = Some(value),
            "mx" => policy.mx.push(value.to_ascii_lowercase()),
            "max_age" => match value.parse::<u64>() {
                // sts-policy-max-age-value = 1*10(DIGIT), at most 31557600.
                Ok(age) if value.len() <= 10 && age <= 31_557_600 => policy.max_age = Some(age),
                _ => policy.errors.push(format!(
                    "line {}: max_age '{value}' is not a number of seconds up to 31557600",
                    number + 1
                )),
            },
            _ => {}
        }
    }
    match policy.version.as_deref() {
        Some("STSv1") => {}
        Some(other) => policy
            .errors
            .push(format!("version is '{other}', not STSv1")),
        None => policy.errors.push("version is missing".to_string()),
    }
    match policy.mode.as_deref() {
        Some("enforce" | "testing" | "none") => {}
        Some(other) => policy
            .errors
            .push(format!("mode '{other}' is not enforce, testing or none")),
        None => policy.errors.push("mode is missing".to_string()),
    }
    if policy.max_age.is_none() && !policy.errors.iter().any(|e| e.contains("max_age")) {
        policy.errors.push("max_age is missing".to_string());
    }
    if policy.mx.is_empty() && policy.mode.as_deref() != Some("none") {
        policy
            .errors
            .push("no mx pattern, so no MX can be valid".to_string());
    }
    policy
}

/// RFC 8461 §4.1: a pattern is a host name, or `*.` plus a domain, which
/// matches exactly one extra left-most label.
pub fn pattern_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crlf_policy_parses() {
        let policy = parse(
            "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmx: *.backup.test\r\nmax_age: 604800\r\n",
        );
        assert!(policy.errors.is_empty(), "{:?}", policy.errors);
        assert_eq!(policy.mode.as_deref(), Some("enforce"));
        assert_eq!(policy.mx, vec!["mx.good.test", "*.backup.test"]);
        assert_eq!(policy.max_age, Some(604800));
    }

    #[test]
    fn lf_lines_unknown_keys_and_errors() {
        let policy = parse(
            "version: STSv1\nmode: testing\nmx: mail.bad.test\nmax_age: 86400\nextension: x\n",
        );
        assert!(policy.errors.is_empty(), "{:?}", policy.errors);
        assert_eq!(policy.mode.as_deref(), Some("testing"));
        let broken = parse("version: STSv2\nmode: enforce\nmode: none\nmax_age: -1\ngarbage");
        let errors = broken.errors.join("\n");
        assert!(errors.contains("'mode' appears twice"), "{errors}");
        assert!(errors.contains("max_age '-1'"), "{errors}");
        assert!(errors.contains("'garbage' is not"), "{errors}");
        assert!(errors.contains("not STSv1"), "{errors}");
        assert!(errors.contains("no mx pattern"), "{errors}");
        assert!(!parse("").errors.is_empty());
        assert!(!parse("max_age: 99999999999999999999999").errors.is_empty());
    }

    #[test]
    fn wildcards_match_one_label() {
        assert!(pattern_matches("*.example.org", "mx1.example.org"));
        assert!(!pattern_matches("*.example.org", "example.org"));
        assert!(!pattern_matches("*.example.org", "a.mx1.example.org"));
        assert!(pattern_matches("MX.Example.org.", "mx.example.org"));
        assert!(!pattern_matches("mail.bad.test", "mx.bad.test"));
    }
}
