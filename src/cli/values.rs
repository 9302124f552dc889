//! The value parsers of the flags: each checks one value and says what is
//! wrong with it and how to write it. clap prints the message after
//! "invalid value 'INPUT' for '--FLAG'" and exits with code 2.

use crate::target::{Endpoint, HostSpec, parse_domain};
use std::net::{IpAddr, SocketAddr};

/// A mail domain (DOMAIN arguments), normalised.
pub fn domain(input: &str) -> Result<String, String> {
    parse_domain(input).map_err(|error| error.to_string())
}

/// `--concurrency`, `--connections-per-host`: a whole number, at least 1.
pub fn at_least_one(input: &str) -> Result<usize, String> {
    match input.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{input}' is not a whole number; give 1 or more")),
    }
}

/// `history prune --older-than`: days (`400d`), weeks (`12w`) or years
/// (`2y`, 365 days each).
pub fn age(input: &str) -> Result<chrono::Duration, String> {
    let text = input.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let days_per = match unit.trim() {
        "d" | "day" | "days" => 1,
        "w" | "week" | "weeks" => 7,
        "y" | "year" | "years" => 365,
        _ => {
            return Err(format!(
                "'{input}' is not a duration; give days, weeks or years, e.g. 400d, 12w or 2y"
            ));
        }
    };
    match number.parse::<i64>() {
        Ok(n) if n > 0 && n <= 100_000 => Ok(chrono::Duration::days(n * days_per)),
        _ => Err(format!(
            "'{input}' needs a whole number above 0, e.g. 400d, 12w or 2y"
        )),
    }
}

/// `--timeout`: seconds above 0 and at most 300.
pub fn timeout(input: &str) -> Result<f64, String> {
    let seconds: f64 = input
        .trim()
        .parse()
        .map_err(|_| format!("'{input}' is not a number of seconds, e.g. --timeout 10"))?;
    if seconds.is_finite() && seconds > 0.0 && seconds <= 300.0 {
        Ok(seconds)
    } else {
        Err(format!(
            "--timeout must be a number of seconds above 0 and at most 300, not {seconds}"
        ))
    }
}

/// `--resolver`: IP or IP:PORT (port 53 when none is given).
pub fn resolver(input: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = input.parse::<SocketAddr>() {
        return Ok(address);
    }
    input
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!(
                "--resolver '{input}' is not an IP address or IP:PORT, e.g. 10.0.0.53 or [::1]:5353"
            )
        })
}

/// `--host`: HOST:PORT on a standard mail port, or PROTOCOL://HOST:PORT.
pub fn host(input: &str) -> Result<Endpoint, String> {
    input
        .parse::<HostSpec>()
        .map(|spec| spec.0)
        .map_err(|error| error.to_string())
}

/// A DKIM selector is one or more DNS labels (RFC 6376 §3.1), e.g. `mail` or `2024.eu`.
pub fn dkim_selector(input: &str) -> Result<String, String> {
    let selector = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !selector.is_empty()
        && selector.len() <= 200
        && selector.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !valid {
        return Err(format!(
            "--dkim-selector '{input}' is not a DKIM selector; give the part before ._domainkey, e.g. --dkim-selector mail"
        ));
    }
    Ok(selector)
}

/// `--rdap-bootstrap`: an http(s) URL with a host; returned ending in `/`
/// so `ipv4.json` and `ipv6.json` can be appended.
pub fn rdap_bootstrap(input: &str) -> Result<String, String> {
    let hint = "give the base URL of an RDAP bootstrap registry, e.g. --rdap-bootstrap https://data.iana.org/rdap/";
    let url = reqwest::Url::parse(input.trim())
        .map_err(|e| format!("--rdap-bootstrap '{input}' is not a URL ({e}); {hint}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!(
            "--rdap-bootstrap '{input}' is not an http(s) URL with a host; {hint}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "--rdap-bootstrap '{input}' must not have a query or fragment; {hint}"
        ));
    }
    let mut base = url.to_string();
    if !base.ends_with('/') {
        base.push('/');
    }
    Ok(base)
}

/// An e-mail address for `--key-lookup`: a dot-atom local part (RFC 5322
/// §3.4.1, no quoted strings) and a domain; the domain is lower-cased, the
/// local part kept as given because RFC 7929 §3 hashes it as written.
pub fn key_lookup(input: &str) -> Result<String, String> {
    let address = input.trim();
    let valid_local = |local: &str| {
        !local.is_empty()
            && local.len() <= 64
            && local.split('.').all(|atom| {
                !atom.is_empty()
                    && atom
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
            })
    };
    match address.rsplit_once('@') {
        Some((local, domain)) if valid_local(local) => match parse_domain(domain) {
            Ok(domain) => Ok(format!("{local}@{domain}")),
            Err(error) => Err(format!(
                "--key-lookup '{input}': {error}; give an e-mail address, e.g. --key-lookup alice@example.org"
            )),
        },
        _ => Err(format!(
            "--key-lookup '{input}' is not an e-mail address; give one such as --key-lookup alice@example.org"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_normalised() {
        assert_eq!(resolver("10.0.0.53"), Ok("10.0.0.53:53".parse().unwrap()));
        assert_eq!(resolver("[::1]:5353"), Ok("[::1]:5353".parse().unwrap()));
        assert!(resolver("not-an-ip").unwrap_err().contains("'not-an-ip'"));
        assert_eq!(at_least_one("3"), Ok(3));
        assert!(at_least_one("0").is_err() && at_least_one("x").is_err());
        assert!(timeout("0").is_err() && timeout("301").is_err() && timeout("nan").is_err());
        assert_eq!(dkim_selector("Mail."), Ok("mail".to_string()));
        assert!(dkim_selector("a..b").is_err());
        assert_eq!(
            key_lookup("Alice@Example.ORG"),
            Ok("Alice@example.org".to_string())
        );
        assert!(key_lookup("no-at-sign").is_err());
        assert_eq!(
            rdap_bootstrap("https://rdap.example/base"),
            Ok("https://rdap.example/base/".to_string())
        );
        assert!(rdap_bootstrap("ftp://rdap.example/").is_err());
    }
}
