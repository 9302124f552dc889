//! The RDAP bootstrap registry for IP addresses (RFC 9224): which RDAP
//! service is authoritative for which prefix, and special-purpose
//! addresses that have no registry entry at all.

use serde_json::Value;
use std::net::IpAddr;

/// A network prefix: address and length.
pub type Prefix = (IpAddr, u8);

/// One `ipv4.json` or `ipv6.json` file: prefixes and their base URLs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bootstrap {
    pub services: Vec<(Vec<Prefix>, Vec<String>)>,
}

impl Bootstrap {
    /// Parses RFC 9224 §4 JSON: `{"services": [[[prefixes], [urls]], ...]}`.
    /// Malformed entries are skipped; a file without `services` is an error.
    pub fn parse(json: &Value) -> Result<Bootstrap, String> {
        let services = json
            .get("services")
            .and_then(Value::as_array)
            .ok_or("the bootstrap file has no \"services\" array (RFC 9224 §4)")?;
        let mut parsed = Vec::new();
        for service in services {
            let Some([prefixes, urls, ..]) = service.as_array().map(Vec::as_slice) else {
                continue;
            };
            let prefixes: Vec<(IpAddr, u8)> = prefixes
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(parse_prefix)
                .collect();
            let urls: Vec<String> = urls
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            if !prefixes.is_empty() && !urls.is_empty() {
                parsed.push((prefixes, urls));
            }
        }
        Ok(Bootstrap { services: parsed })
    }

    /// The base URLs of the longest matching prefix (RFC 9224 §5.1).
    pub fn lookup(&self, address: IpAddr) -> Option<&[String]> {
        self.services
            .iter()
            .flat_map(|(prefixes, urls)| prefixes.iter().map(move |p| (p, urls)))
            .filter(|((network, length), _)| contains(*network, *length, address))
            .max_by_key(|((_, length), _)| *length)
            .map(|(_, urls)| urls.as_slice())
    }
}

/// `192.0.2.0/24` or `2001:db8::/32`.
pub fn parse_prefix(text: &str) -> Option<(IpAddr, u8)> {
    let (address, length) = text.trim().split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let length: u8 = length.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (length <= max).then_some((address, length))
}

/// True when `address` lies in `network/length` (same family only).
pub fn contains(network: IpAddr, length: u8, address: IpAddr) -> bool {
    match (network, address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(length)).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Why an address has no RDAP entry: the IANA special-purpose registries
/// (RFC 6890 and successors) that are never delegated to a RIR.
pub fn special_purpose(address: IpAddr) -> Option<&'static str> {
    const V4: [(&str, &str); 12] = [
        ("0.0.0.0/8", "this network"),
        ("10.0.0.0/8", "private, RFC 1918"),
        ("100.64.0.0/10", "shared address space, RFC 6598"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private, RFC 1918"),
        ("192.0.2.0/24", "documentation, RFC 5737"),
        ("192.168.0.0/16", "private, RFC 1918"),
        ("198.18.0.0/15", "benchmarking, RFC 2544"),
        ("198.51.100.0/24", "documentation, RFC 5737"),
        ("203.0.113.0/24", "documentation, RFC 5737"),
        ("224.0.0.0/3", "multicast or reserved"),
    ];
    const V6: [(&str, &str); 6] = [
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "unique local, RFC 4193"),
        ("fe80::/10", "link-local"),
        ("2001:db8::/32", "documentation, RFC 3849"),
        ("ff00::/8", "multicast"),
    ];
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    V4.iter()
        .chain(V6.iter())
        .find(|(prefix, _)| {
            parse_prefix(prefix).is_some_and(|(network, length)| contains(network, length, address))
        })
        .map(|(_, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_longest_prefix_wins() {
        let bootstrap = Bootstrap::parse(&json!({
            "version": "1.0",
            "services": [
                [["127.0.0.0/8"], ["https://wide.example/rdap/"]],
                [["127.0.12.0/24", "10.0.0.0/8"], ["http://narrow.example/", "https://narrow.example/"]],
                ["broken"],
                [[42], ["https://ignored.example/"]],
                [["2001:db8::/32"], ["https://v6.example/"]]
            ]
        }))
        .unwrap();
        assert_eq!(bootstrap.services.len(), 3);
        assert_eq!(
            bootstrap.lookup(ip("127.0.11.25")).unwrap()[0],
            "https://wide.example/rdap/"
        );
        assert_eq!(
            bootstrap.lookup(ip("127.0.12.25")).unwrap()[1],
            "https://narrow.example/"
        );
        assert_eq!(
            bootstrap.lookup(ip("2001:db8::1")).unwrap()[0],
            "https://v6.example/"
        );
        assert!(bootstrap.lookup(ip("192.0.2.1")).is_none());
        assert!(bootstrap.lookup(ip("::1")).is_none());
        assert!(Bootstrap::parse(&json!({"nothing": 1})).is_err());
        assert!(Bootstrap::parse(&json!([1, 2])).is_err());
    }

    #[test]
    fn prefixes_are_checked() {
        assert_eq!(parse_prefix("0.0.0.0/0"), Some((ip("0.0.0.0"), 0)));
        assert!(contains(ip("0.0.0.0"), 0, ip("8.8.8.8")));
        assert!(contains(ip("::"), 0, ip("2001:db8::1")));
        assert!(!contains(ip("0.0.0.0"), 0, ip("::1")));
        assert!(parse_prefix("10.0.0.0/33").is_none());
        assert!(parse_prefix("10.0.0.0").is_none());
        assert!(contains(ip("10.0.0.0"), 8, ip("10.255.0.1")));
        assert!(!contains(ip("10.0.0.0"), 8, ip("11.0.0.1")));
    }

    #[test]
    fn special_purpose_addresses_have_no_registry() {
        assert_eq!(special_purpose(ip("127.0.11.25")), Some("loopback"));
        assert_eq!(
            special_purpose(ip("192.168.1.1")),
            Some("private, RFC 1918")
        );
        assert_eq!(
            special_purpose(ip("::ffff:10.1.2.3")),
            Some("private, RFC 1918")
        );
        assert!(
            special_purpose(ip("2001:db8::25"))
                .unwrap()
                .contains("documentation")
        );
        assert_eq!(special_purpose(ip("193.99.144.80")), None);
        assert_eq!(special_purpose(ip("2a00:1450::1")), None);
    }
}
