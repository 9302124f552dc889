//! MX sanity on the lab (tests/lab, bad.test zone): an MX that is an alias
//! fails DNS-011 at medium; an MX host with an AAAA record passes DNS-010,
//! one without fails it (info). The evidence names the CNAME target.

mod common;

use common::{expect, scan_lab};

#[test]
fn an_alias_mx_and_a_missing_aaaa_are_reported() {
    let (_, report) = scan_lab(&["cname-mx.bad.test", "v6-mx.bad.test", "good.test"], &[]);
    expect(
        &report,
        "DNS-011",
        "dns:cname-mx.bad.test",
        "fail",
        Some("medium"),
    );
    expect(
        &report,
        "DNS-010",
        "dns:cname-mx.bad.test",
        "fail",
        Some("info"),
    );
    expect(&report, "DNS-010", "dns:v6-mx.bad.test", "pass", None);
    expect(&report, "DNS-011", "dns:v6-mx.bad.test", "pass", None);
    expect(&report, "DNS-010", "dns:good.test", "fail", Some("info"));
    let alias = &report["targets"][0]["evidence"]["mx_hosts"][0];
    assert_eq!(alias["host"], "alias.cname-mx.bad.test");
    assert_eq!(alias["cname"]["value"], "mx.bad.test");
    let v6 = &report["targets"][1]["evidence"]["mx_hosts"][0];
    assert_eq!(v6["has_ipv6"], true);
    assert_eq!(v6["addresses"]["value"][0], "::1");
}
