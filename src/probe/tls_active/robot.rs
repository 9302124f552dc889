//! ROBOT (TLS-115, CVE-2017-13099): a Bleichenbacher padding oracle on RSA
//! key exchange, detected with the published probe set of the ROBOT paper
//! (Böck, Somorovsky, Young, USENIX Security 2018) and its `robot-detect`
//! script. One connection per ClientKeyExchange variant, each offering
//! only RSA key exchange suites in TLS 1.2; the premaster secret is
//! encrypted raw with the server's RSA key (from its certificate), then a
//! ChangeCipherSpec and a Finished of 64 zero bytes follow that the server
//! cannot decrypt, as `robot-detect` sends them:
//!
//! 1. correctly formatted PKCS#1 v1.5 (`00 02`, padding, `00`, `03 03`);
//! 2. wrong first bytes (`41 17` instead of `00 02`);
//! 3. the `00` separator in the wrong place (near the end);
//! 4. no `00` separator at all;
//! 5. a wrong TLS version in the premaster secret (`02 02`).
//!
//! A fixed server answers every variant the same (OpenSSL: `bad_record_mac`
//! for all, since it carries on with a random premaster secret). Differing
//! answers, seen the same way in a second round, are the oracle. A variant
//! without an answer (timeout, busy) leaves the check "not tested"; a
//! server that accepts no RSA key exchange suite is not affected.

use super::handshake12::{CLIENT_KEY_EXCHANGE, read_flight};
use super::hello12::{TLS12, client_hello_with, message};
use super::records::{ALERT, CHANGE_CIPHER_SPEC, HANDSHAKE, alert_name, record};
use super::transport::{Connection, Next};
use super::{Try, Verdict, with_retries};
use crate::evidence::{ActiveCheck, ActiveOutcome};
use crate::probe::context::AddressLimit;
use crate::probe::tls_scan::ScanTarget;
use num_bigint::BigUint;

/// RSA key exchange suites (RFC 5246 Appendix A.5, RFC 5288 §3).
const RSA_SUITES: [u16; 6] = [0x009c, 0x009d, 0x003c, 0x003d, 0x002f, 0x0035];
/// The variants, in the order above, with the names used in evidence.
const VARIANTS: [&str; 5] = [
    "correct padding",
    "wrong first bytes",
    "0x00 in the wrong place",
    "no 0x00 separator",
    "wrong TLS version",
];

/// Runs the probe set: one round of five connections, and a second when
/// the answers differ, so that at most ten connections are opened.
pub(super) async fn check(target: &ScanTarget, limit: &AddressLimit) -> ActiveCheck {
    let mut connections = 0;
    let mut rounds: Vec<Vec<String>> = Vec::new();
    for _ in 0..2 {
        let mut answers = Vec::new();
        for variant in 0..VARIANTS.len() {
            let found = with_retries(limit, || one(target, variant)).await;
            connections += found.connections;
            match (found.outcome, &found.version) {
                // A decision for the whole check: no RSA key exchange, TLS
                // 1.3 only, or no answer that can be compared.
                (ActiveOutcome::NotAffected, None) | (ActiveOutcome::NotTested, _) => {
                    // `with_retries` reads silent closes as "no TLS 1.0–1.2";
                    // here the hello offered RSA key exchange only.
                    let observed = if found.observed.starts_with("the server closed") {
                        "the server closed the connection without answering a TLS 1.2 hello offering only RSA key exchange suites, each time: it accepts none, so there is no RSA decryption to probe".to_string()
                    } else {
                        found.observed
                    };
                    return ActiveCheck {
                        observed,
                        connections,
                        ..found
                    };
                }
                _ => answers.push(found.observed),
            }
        }
        let same = answers.windows(2).all(|pair| pair[0] == pair[1]);
        if same {
            return answered(
                ActiveOutcome::NotAffected,
                format!(
                    "every ClientKeyExchange variant was answered the same: {}",
                    answers[0]
                ),
                connections,
            );
        }
        if let Some(first) = rounds.first() {
            return if *first == answers {
                answered(
                    ActiveOutcome::Affected,
                    format!(
                        "the answers depend on the PKCS#1 padding, the same in two rounds: {}",
                        describe(&answers)
                    ),
                    connections,
                )
            } else {
                ActiveCheck::not_tested(
                    format!(
                        "the answers differed between two rounds (first: {}; second: {})",
                        describe(first),
                        describe(&answers)
                    ),
                    connections,
                )
            };
        }
        rounds.push(answers);
    }
    ActiveCheck::not_tested("no comparable answers", connections)
}

fn answered(outcome: ActiveOutcome, observed: String, connections: u32) -> ActiveCheck {
    ActiveCheck {
        outcome,
        observed,
        version: Some("TLSv1.2".into()),
        returned_bytes: None,
        connections,
    }
}

fn describe(answers: &[String]) -> String {
    VARIANTS
        .iter()
        .zip(answers)
        .map(|(variant, answer)| format!("{variant}: {answer}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One connection with variant `variant`. An answer to compare is a
/// `NotAffected` verdict with a version; without one it decides the check.
async fn one(target: &ScanTarget, variant: usize) -> Try {
    let mut connection = match Connection::open(target).await {
        Ok(connection) => connection,
        Err(error) => return error.into(),
    };
    let hello = client_hello_with(target.server_name.as_deref(), &[], &RSA_SUITES);
    if !connection.send(&record(HANDSHAKE, 0x0301, &hello)).await {
        return Try::Again("the connection closed before the hello was written".into());
    }
    let refused = |alert: String| {
        Try::decided(
            ActiveOutcome::NotAffected,
            format!(
                "the server accepts no RSA key exchange suite in TLS 1.2 ({alert}), so there is no RSA decryption to probe"
            ),
        )
    };
    let mut transcript = Vec::new();
    let flight = match read_flight(
        &mut connection,
        &mut transcript,
        target.step_timeout,
        refused,
    )
    .await
    {
        Ok(flight) => flight,
        Err(end) => return end,
    };
    let Some((modulus, exponent)) = flight.certificate.as_deref().and_then(rsa_key) else {
        return Try::not_tested("the server's certificate holds no RSA key");
    };
    let premaster = premaster(variant, modulus.len());
    let encrypted = encrypt(&premaster, &modulus, &exponent);
    let mut body = (encrypted.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(&encrypted);
    let mut bytes = record(HANDSHAKE, TLS12, &message(CLIENT_KEY_EXCHANGE, &body));
    bytes.extend(record(CHANGE_CIPHER_SPEC, TLS12, &[1]));
    bytes.extend(record(HANDSHAKE, TLS12, &[0; 64]));
    if !connection.send(&bytes).await {
        return answer("the connection closed before the key exchange was written".into());
    }
    loop {
        return match connection.next(target.step_timeout).await {
            Next::Record(head, fragment) if head.content_type == ALERT => match fragment[..] {
                [level, description] => answer(alert_name(level, description)),
                _ => answer(format!("an alert of {} bytes", fragment.len())),
            },
            Next::Record(..) => continue,
            Next::Closed => answer("the connection closed without an alert".into()),
            Next::Timeout => Try::not_tested(format!(
                "no answer within {:?} to the ClientKeyExchange variant \"{}\"",
                target.step_timeout, VARIANTS[variant]
            )),
            Next::Garbage(problem) => Try::not_tested(format!(
                "{problem} after the ClientKeyExchange variant \"{}\"",
                VARIANTS[variant]
            )),
            Next::Bound => Try::not_tested("the byte limit was reached"),
        };
    }
}

fn answer(observed: String) -> Try {
    Try::Decided(Verdict {
        outcome: ActiveOutcome::NotAffected,
        observed,
        version: Some(TLS12),
        returned_bytes: None,
    })
}

/// Modulus and public exponent of an RSA certificate, big-endian.
fn rsa_key(certificate: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    match parsed.public_key().parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(key) => {
            let modulus = key.modulus.iter().skip_while(|b| **b == 0).copied();
            Some((modulus.collect(), key.exponent.to_vec()))
        }
        _ => None,
    }
}

/// The premaster secret block of `variant` for a `length`-byte modulus, as
/// `robot-detect` builds it: a non-zero padding of `length - 51` bytes and
/// a fixed 46-byte secret.
pub(super) fn premaster(variant: usize, length: usize) -> Vec<u8> {
    let padding: Vec<u8> = [0xab, 0xcd]
        .iter()
        .copied()
        .cycle()
        .take(length.saturating_sub(51))
        .collect();
    let secret: Vec<u8> = (0..46u8).map(|i| 0x11 + i % 0x77).collect();
    let (head, separator, tail): (&[u8], u8, Vec<u8>) = match variant {
        0 => (&[0x00, 0x02], 0x00, [&[0x03, 0x03][..], &secret].concat()),
        1 => (&[0x41, 0x17], 0x00, [&[0x03, 0x03][..], &secret].concat()),
        2 => (&[0x00, 0x02], 0x11, [&secret[..], &[0x00, 0x11]].concat()),
        3 => (&[0x00, 0x02], 0x11, [&[0x11, 0x11][..], &secret].concat()),
        _ => (&[0x00, 0x02], 0x00, [&[0x02, 0x02][..], &secret].concat()),
    };
    [head, &padding, &[separator], &tail].concat()
}

/// Raw RSA: `message^exponent mod modulus`, left-padded to the modulus'
/// length (RFC 8017 §5.1.1, I2OSP).
fn encrypt(message: &[u8], modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let n = BigUint::from_bytes_be(modulus);
    let c = BigUint::from_bytes_be(message)
        .modpow(&BigUint::from_bytes_be(exponent), &n)
        .to_bytes_be();
    let mut out = vec![0; modulus.len().saturating_sub(c.len())];
    out.extend_from_slice(&c);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_premaster_blocks_fill_the_modulus_and_differ_where_published() {
        for variant in 0..5 {
            let block = premaster(variant, 256);
            assert_eq!(block.len(), 256, "{variant}");
            assert!(block[2..207].iter().all(|b| *b != 0), "{variant}");
        }
        let good = premaster(0, 256);
        assert_eq!(
            (good[0], good[1], good[207], good[208], good[209]),
            (0, 2, 0, 3, 3)
        );
        assert_eq!(premaster(1, 256)[..2], [0x41, 0x17]);
        assert_eq!(premaster(2, 256)[254], 0x00);
        assert!(!premaster(3, 256)[2..].contains(&0));
        assert_eq!(premaster(4, 256)[208..210], [2, 2]);
    }

    #[test]
    fn raw_rsa_matches_a_small_textbook_key() {
        // n = 61 * 53 = 3233, e = 17: 65^17 mod 3233 = 2790.
        let sealed = encrypt(&[65], &3233u16.to_be_bytes(), &[17]);
        assert_eq!(sealed, 2790u16.to_be_bytes());
    }

    #[test]
    fn the_variants_decrypt_as_the_paper_says_with_a_real_key() {
        use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
        let certificate = include_bytes!("../../../tests/fixtures/robot/cert.der");
        let key = include_bytes!("../../../tests/fixtures/robot/key.pk8");
        let (modulus, exponent) = rsa_key(certificate).expect("an RSA certificate");
        assert_eq!(modulus.len(), 256);
        let key =
            Pkcs1PrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(key).unwrap()).unwrap();
        let mut output = vec![0u8; 512];
        let sealed = encrypt(&premaster(0, 256), &modulus, &exponent);
        let good = key
            .decrypt(&sealed, &mut output)
            .expect("good padding")
            .to_vec();
        assert_eq!(good.len(), 48);
        assert_eq!(good[..2], [3, 3]);
    }
}
