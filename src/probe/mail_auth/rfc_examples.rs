//! The parsers against the examples and ABNF of their RFCs (issue 16):
//! DKIM key records (RFC 6376 §3.6.1, Appendix C; Ed25519: RFC 8463
//! Appendix A.2), DMARC records (RFC 7489 §6.3, §6.4, Appendix B.2) and
//! MTA-STS policies (RFC 8461 §3.2, §4.1). Each case names its source.

use super::dkim::parse_key;
use super::dmarc::parse_into;
use super::mta_sts_policy::{parse, pattern_matches};
use crate::evidence::DmarcEvidence;

/// RFC 6376 Appendix C: the example's 1024-bit RSA key.
const RFC6376_KEY: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB";

fn dmarc(record: &str) -> DmarcEvidence {
    let mut evidence = DmarcEvidence {
        pct: 100,
        ..DmarcEvidence::default()
    };
    parse_into(record, &mut evidence);
    evidence
}

#[test]
fn dkim_key_records_of_rfc_6376_and_8463() {
    // Appendix C: "v=DKIM1; p=..." as published (k=rsa is the default)
    let key = parse_key(&format!("v=DKIM1; p={RFC6376_KEY}"));
    assert_eq!(key.error, None);
    assert_eq!(key.key_type, "rsa");
    assert_eq!(key.bits, Some(1024));
    // §3.6.1: p= is base64 in which whitespace is ignored, tags may be
    // surrounded by whitespace, h=, s=, n= and unknown tags are allowed
    // (§3.2: tag-name = ALPHA *ALNUMPUNC, where ALNUMPUNC has "_" but no "-")
    let (head, tail) = RFC6376_KEY.split_at(40);
    let spaced = parse_key(&format!(
        "v=DKIM1 ; h=sha256 ; k = rsa ; s=email ; n=notes; x_future=1; p = {head} {tail} ;"
    ));
    assert_eq!(spaced.error, None, "{spaced:?}");
    assert_eq!(spaced.bits, Some(1024));
    // §3.6.1 t=: flags separated by ':', "y" is testing
    assert!(parse_key(&format!("v=DKIM1; t=s:y; p={RFC6376_KEY}")).testing);
    assert!(!parse_key(&format!("v=DKIM1; t=s; p={RFC6376_KEY}")).testing);
    // §3.6.1 p=: "An empty value means that this public key has been revoked"
    let revoked = parse_key("v=DKIM1; p=");
    assert!(revoked.revoked);
    assert_eq!(revoked.error, None);
    // §3.6.1 v=: "If specified, this tag MUST be set to "DKIM1" ... and
    // MUST be the first tag in the record"
    assert!(
        parse_key(&format!("p={RFC6376_KEY}; v=DKIM1"))
            .error
            .is_some()
    );
    assert!(
        parse_key(&format!("v=DKIM2; p={RFC6376_KEY}"))
            .error
            .is_some()
    );
    // p= is REQUIRED; a tag name with "-" is not a tag-name (§3.2)
    assert!(
        parse_key(&format!("v=DKIM1; x-future=1; p={RFC6376_KEY}"))
            .error
            .is_some()
    );
    assert!(parse_key("v=DKIM1; k=rsa").error.is_some());
    // RFC 8463 Appendix A.2: the Ed25519 example key
    let ed = parse_key("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    assert_eq!(ed.error, None);
    assert_eq!(ed.key_type, "ed25519");
    assert_eq!(ed.bits, Some(256));
}

#[test]
fn dmarc_records_of_rfc_7489() {
    // Appendix B.2.1
    let b21 = dmarc("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com");
    assert!(b21.errors.is_empty(), "{:?}", b21.errors);
    assert_eq!(b21.p.as_deref(), Some("none"));
    assert_eq!(b21.rua[0].domain.as_deref(), Some("example.com"));
    // Appendix B.2.3: rua and ruf at different hosts
    let b23 = dmarc(
        "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@thirdparty.example.net",
    );
    assert!(b23.errors.is_empty(), "{:?}", b23.errors);
    assert_eq!(b23.ruf[0].domain.as_deref(), Some("thirdparty.example.net"));
    // Appendix B.2.4: quarantine for 25 %, a size limit after "!" (§6.4)
    let b24 = dmarc(
        "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,mailto:tld-test@thirdparty.example.net!10m; pct=25",
    );
    assert!(b24.errors.is_empty(), "{:?}", b24.errors);
    assert_eq!(b24.p.as_deref(), Some("quarantine"));
    assert_eq!(b24.pct, 25);
    assert_eq!(b24.rua.len(), 2);
    assert_eq!(b24.rua[1].uri, "mailto:tld-test@thirdparty.example.net");
    assert_eq!(b24.rua[1].domain.as_deref(), Some("thirdparty.example.net"));
    // §6.4: dmarc-sep = *WSP ";" *WSP, and WSP around "=" (dmarc-version =
    // "v" *WSP "=" *WSP "DMARC1"); a trailing ";" is allowed
    let spaced = dmarc("v = DMARC1 ;  p = reject ; sp=none;");
    assert!(spaced.errors.is_empty(), "{:?}", spaced.errors);
    assert_eq!(spaced.p.as_deref(), Some("reject"));
    assert_eq!(spaced.sp.as_deref(), Some("none"));
    // §6.3: unknown tags MUST be ignored; adkim, aspf, fo, rf, ri are known
    let extra = dmarc("v=DMARC1; p=reject; adkim=s; aspf=r; fo=1; rf=afrf; ri=86400; x=y");
    assert!(extra.errors.is_empty(), "{:?}", extra.errors);
    // §6.4: "v" first and exactly "DMARC1" (%x44 %x4d %x41 %x52 %x43 %x31)
    assert!(!dmarc("p=none; v=DMARC1").errors.is_empty());
    assert!(!dmarc("v=dmarc1; p=none").errors.is_empty());
    // §6.3 p= is required (for the policy record); values from dmarc-request
    assert!(
        !dmarc("v=DMARC1; rua=mailto:a@example.com")
            .errors
            .is_empty()
    );
    assert!(!dmarc("v=DMARC1; p=block").errors.is_empty());
    // §6.4: dmarc-percent = "pct" *WSP "=" *WSP 1*3DIGIT, 0..100
    assert!(!dmarc("v=DMARC1; p=none; pct=101").errors.is_empty());
    assert_eq!(dmarc("v=DMARC1; p=none; pct=0").pct, 0);
}

#[test]
fn mta_sts_policies_of_rfc_8461() {
    // §3.2: the example policy (CRLF line ends, §3.2 "sts-policy-term")
    let policy = parse(
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
    );
    assert!(policy.errors.is_empty(), "{:?}", policy.errors);
    assert_eq!(policy.version.as_deref(), Some("STSv1"));
    assert_eq!(policy.mode.as_deref(), Some("enforce"));
    assert_eq!(
        policy.mx,
        vec!["mail.example.com", "*.example.net", "backupmx.example.com"]
    );
    assert_eq!(policy.max_age, Some(604_800));
    // §3.2 max_age: "maximum value of 31557600"
    let too_long =
        parse("version: STSv1\r\nmode: testing\r\nmx: a.example\r\nmax_age: 31557601\r\n");
    assert!(!too_long.errors.is_empty());
    // §3.2 mode: one of enforce, testing, none; "none" needs no mx
    assert!(
        parse("version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n")
            .errors
            .is_empty()
    );
    assert!(
        !parse("version: STSv1\r\nmode: strict\r\nmx: a.example\r\nmax_age: 86400\r\n")
            .errors
            .is_empty()
    );
    // §3.2 "*.example.com" matches "mail.example.com" but not "example.com"
    // or "foo.bar.example.com" (only the left-most label)
    assert!(pattern_matches("*.example.com", "mail.example.com"));
    assert!(!pattern_matches("*.example.com", "example.com"));
    assert!(!pattern_matches("*.example.com", "foo.bar.example.com"));
    // host names compare case-insensitively, and a trailing dot is the same name
    assert!(pattern_matches("mail.example.com", "MAIL.Example.com."));
}
