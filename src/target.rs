//! What gets probed: mail protocols, the ports they live on, and endpoints.
//!
//! The port table follows RFC 8314 (implicit TLS on 465, 993 and 995), RFC 6186
//! (SRV service names) and RFC 5804 (ManageSieve on 4190).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The eight mail ports every endpoint host is checked on.
pub const MAIL_PORTS: [u16; 8] = [25, 465, 587, 110, 995, 143, 993, 4190];

/// A mail protocol as spoken on one port.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// SMTP between servers (port 25).
    Smtp,
    /// Message submission with STARTTLS (port 587).
    Submission,
    /// Message submission over implicit TLS (port 465).
    Submissions,
    /// IMAP with STARTTLS (port 143).
    Imap,
    /// IMAP over implicit TLS (port 993).
    Imaps,
    /// POP3 with STLS (port 110).
    Pop3,
    /// POP3 over implicit TLS (port 995).
    Pop3s,
    /// ManageSieve with STARTTLS (port 4190).
    Sieve,
}

/// How TLS is reached on an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plaintext greeting, then an upgrade command (STARTTLS, STLS).
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

/// Whether an endpoint receives mail from the internet or serves users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// SMTP at a host the domain's MX records name (or the domain itself as
    /// implicit MX): where the internet delivers the domain's mail.
    Mx,
    /// Submission and mailbox access for users.
    Client,
    /// SMTP on a host the domain's MX records do not name (a usual name such
    /// as `smtp.DOMAIN`, or `--host`): a relay or smarthost, not an MX.
    Relay,
}

impl Protocol {
    /// All protocols, in the order of [`MAIL_PORTS`].
    pub const ALL: [Protocol; 8] = [
        Protocol::Smtp,
        Protocol::Submissions,
        Protocol::Submission,
        Protocol::Pop3,
        Protocol::Pop3s,
        Protocol::Imap,
        Protocol::Imaps,
        Protocol::Sieve,
    ];

    /// The IANA default port.
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Smtp => 25,
            Protocol::Submissions => 465,
            Protocol::Submission => 587,
            Protocol::Pop3 => 110,
            Protocol::Pop3s => 995,
            Protocol::Imap => 143,
            Protocol::Imaps => 993,
            Protocol::Sieve => 4190,
        }
    }

    /// The protocol normally found on `port`, if it is one of [`MAIL_PORTS`].
    pub fn for_port(port: u16) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.default_port() == port)
    }

    /// The protocol named by a URL-style scheme (`imaps`) or SRV label (`_imaps`).
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name() == name.trim_start_matches('_'))
    }

    /// The stable lower-case name, also the RFC 6186/8314 SRV service label.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Submission => "submission",
            Protocol::Submissions => "submissions",
            Protocol::Imap => "imap",
            Protocol::Imaps => "imaps",
            Protocol::Pop3 => "pop3",
            Protocol::Pop3s => "pop3s",
            Protocol::Sieve => "sieve",
        }
    }

    /// How TLS is reached.
    pub fn tls_mode(self) -> TlsMode {
        match self {
            Protocol::Submissions | Protocol::Imaps | Protocol::Pop3s => TlsMode::Implicit,
            _ => TlsMode::Starttls,
        }
    }

    /// Server-to-server or user-facing, for an endpoint learnt from `sources`.
    ///
    /// SMTP is an MX only on a host the MX records name, or on the domain
    /// itself as implicit MX (RFC 5321 §5.1): that is where other servers
    /// deliver. The same SMTP port on a usual name or a `--host` endpoint is
    /// not where the internet delivers, so it is a relay.
    pub fn role(self, sources: &[Source]) -> Role {
        match self {
            Protocol::Smtp
                if sources
                    .iter()
                    .any(|s| matches!(s, Source::Mx | Source::ImplicitMx)) =>
            {
                Role::Mx
            }
            Protocol::Smtp => Role::Relay,
            _ => Role::Client,
        }
    }

    /// The implicit-TLS port serving the same purpose (RFC 8314 §3), if any.
    pub fn implicit_tls_counterpart(self) -> Option<u16> {
        match self {
            Protocol::Submission => Some(465),
            Protocol::Imap => Some(993),
            Protocol::Pop3 => Some(995),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an endpoint was learnt from. An endpoint the domain declares (MX, SRV,
/// or the user's `--host`) is *expected*: if it does not answer, rules about it
/// are inconclusive rather than silently dropped.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum Source {
    /// An MX record of the domain.
    Mx,
    /// An SRV record, e.g. `_imaps._tcp`.
    Srv(String),
    /// A usual name such as `imap.DOMAIN` that resolved.
    UsualName,
    /// The domain's own address, used as implicit MX (RFC 5321 §5.1).
    ImplicitMx,
    /// Given on the command line with `--host`.
    CommandLine,
}

/// One host and port to probe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Lower-case host name without trailing dot.
    pub host: String,
    pub port: u16,
    pub protocol: Protocol,
}

impl Endpoint {
    /// The subject form of the rule catalogue: `host:port`.
    pub fn subject(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Normalises a DNS name: lower case, no trailing dot.
pub fn normalize_host(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mail_port_has_a_protocol_and_back() {
        for port in MAIL_PORTS {
            let protocol = Protocol::for_port(port).expect("protocol");
            assert_eq!(protocol.default_port(), port);
            assert_eq!(Protocol::from_name(protocol.name()), Some(protocol));
        }
        assert_eq!(Protocol::for_port(8080), None);
    }

    #[test]
    fn srv_labels_map_to_protocols() {
        assert_eq!(
            Protocol::from_name("_submissions"),
            Some(Protocol::Submissions)
        );
        assert_eq!(Protocol::from_name("_pop3s"), Some(Protocol::Pop3s));
        assert_eq!(Protocol::from_name("_gopher"), None);
    }

    #[test]
    fn smtp_is_an_mx_only_where_the_mx_records_name_the_host() {
        // Given SMTP learnt from the MX records, the implicit MX, or both an
        // MX record and --host: an MX.
        assert_eq!(Protocol::Smtp.role(&[Source::Mx]), Role::Mx);
        assert_eq!(Protocol::Smtp.role(&[Source::ImplicitMx]), Role::Mx);
        assert_eq!(
            Protocol::Smtp.role(&[Source::Mx, Source::CommandLine]),
            Role::Mx
        );
        // Given SMTP only from --host or a usual name: not an MX.
        assert_eq!(Protocol::Smtp.role(&[Source::CommandLine]), Role::Relay);
        assert_eq!(Protocol::Smtp.role(&[Source::UsualName]), Role::Relay);
        // User-facing protocols stay client, even on an MX host.
        assert_eq!(Protocol::Imaps.role(&[Source::Mx]), Role::Client);
        assert_eq!(
            Protocol::Submission.role(&[Source::CommandLine]),
            Role::Client
        );
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(normalize_host("MX.Example.ORG."), "mx.example.org");
    }
}

/// Why a domain or `--host` value was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TargetError {
    #[error("'{input}' is not a valid domain name: {reason}")]
    Domain { input: String, reason: String },
    #[error(
        "'{input}' is not a valid --host: {reason}. Use HOST:PORT with a standard mail port (25, 465, 587, 110, 995, 143, 993, 4190) or PROTOCOL://HOST:PORT, e.g. imaps://mail.example.org:10993"
    )]
    Host { input: String, reason: String },
}

/// Checks and normalises a domain name (RFC 1035 §2.3.4 lengths, LDH labels
/// plus `_` which some internal names carry).
pub fn parse_domain(input: &str) -> Result<String, TargetError> {
    let domain = normalize_host(input);
    let fail = |reason: &str| TargetError::Domain {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    if domain.is_empty() {
        return Err(fail("it is empty"));
    }
    if domain.len() > 253 {
        return Err(fail("it is longer than 253 characters"));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(fail("it has an empty label"));
        }
        if label.len() > 63 {
            return Err(fail("a label is longer than 63 characters"));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(fail(
                "only letters, digits, '-' and '_' are allowed (write internationalised names in their xn-- form)",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(fail("a label starts or ends with '-'"));
        }
    }
    Ok(domain)
}

/// An endpoint given with `--host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec(pub Endpoint);

impl std::str::FromStr for HostSpec {
    type Err = TargetError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| TargetError::Host {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = match input.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, input),
        };
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| fail("the port is missing"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| fail("the port is not a number from 1 to 65535"))?;
        if port == 0 {
            return Err(fail("port 0 is not valid"));
        }
        let host = parse_domain(host).map_err(|e| fail(&e.to_string()))?;
        let protocol = match scheme {
            Some(scheme) => Protocol::from_name(&scheme.to_ascii_lowercase())
                .ok_or_else(|| fail("unknown protocol; use smtp, submission, submissions, imap, imaps, pop3, pop3s or sieve"))?,
            None => Protocol::for_port(port).ok_or_else(|| fail("the port is not a standard mail port, so name the protocol"))?,
        };
        Ok(HostSpec(Endpoint {
            host,
            port,
            protocol,
        }))
    }
}

#[cfg(test)]
mod input_tests {
    use super::*;

    #[test]
    fn domains_are_checked_and_normalised() {
        assert_eq!(parse_domain("Example.ORG.").unwrap(), "example.org");
        assert!(parse_domain("exa mple.org").is_err());
        assert!(parse_domain("a..b").is_err());
        assert!(parse_domain("").is_err());
        assert!(parse_domain(&"a".repeat(64)).is_err());
    }

    #[test]
    fn hosts_take_a_standard_port_or_a_protocol() {
        let spec: HostSpec = "MX.example.org:25".parse().unwrap();
        assert_eq!(spec.0.protocol, Protocol::Smtp);
        assert_eq!(spec.0.host, "mx.example.org");
        let spec: HostSpec = "imaps://mail.example.org:10993".parse().unwrap();
        assert_eq!((spec.0.protocol, spec.0.port), (Protocol::Imaps, 10993));
        assert!("mail.example.org:8080".parse::<HostSpec>().is_err());
        assert!("mail.example.org".parse::<HostSpec>().is_err());
        assert!("gopher://mail.example.org:70".parse::<HostSpec>().is_err());
    }
}
