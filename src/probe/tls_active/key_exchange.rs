//! The key exchange of the active checks' own TLS 1.2 handshake: the suites
//! it offers, the server's ephemeral parameters read from its
//! ServerKeyExchange (RFC 8422 §5.4 for ECDHE, RFC 5246 §7.4.3 for DHE), and
//! the client's share with the premaster secret it yields.
//!
//! The server's signature over its parameters is skipped, not checked: the
//! checks observe how a server behaves and send nothing worth protecting.
//! Server bytes are untrusted: parsing is bounded and answers in words.

use super::prf::PrfHash;
use aws_lc_rs::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use num_bigint::BigUint;

/// A suite the handshake can complete: AES-GCM with ECDHE or DHE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    pub key_length: usize,
    pub hash: PrfHash,
    pub finite_field: bool,
}

/// The suites offered, in order of preference (RFC 5289 §3.2, RFC 5288 §3).
pub const SUITES: [Suite; 6] = [
    suite(0xc02b, 16, PrfHash::Sha256, false), // ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    suite(0xc02f, 16, PrfHash::Sha256, false), // ECDHE_RSA_WITH_AES_128_GCM_SHA256
    suite(0xc02c, 32, PrfHash::Sha384, false), // ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    suite(0xc030, 32, PrfHash::Sha384, false), // ECDHE_RSA_WITH_AES_256_GCM_SHA384
    suite(0x009e, 16, PrfHash::Sha256, true),  // DHE_RSA_WITH_AES_128_GCM_SHA256
    suite(0x009f, 32, PrfHash::Sha384, true),  // DHE_RSA_WITH_AES_256_GCM_SHA384
];

const fn suite(code: u16, key_length: usize, hash: PrfHash, finite_field: bool) -> Suite {
    Suite {
        code,
        key_length,
        hash,
        finite_field,
    }
}

/// The suite with code point `code`, when it is one offered.
pub fn find_suite(code: u16) -> Option<Suite> {
    SUITES.iter().copied().find(|s| s.code == code)
}

/// The groups offered in `supported_groups`: X25519, P-256, P-384.
pub const GROUPS: [u16; 3] = [29, 23, 24];

/// The client's share and the premaster secret.
pub struct Agreed {
    /// The ClientKeyExchange body (RFC 8422 §5.7, RFC 5246 §7.4.7.2).
    pub client_key_exchange: Vec<u8>,
    pub premaster: Vec<u8>,
}

/// Reads the server's parameters for `suite` from a ServerKeyExchange body
/// and agrees on a premaster secret with them.
pub fn agree(suite: Suite, server_key_exchange: &[u8]) -> Result<Agreed, String> {
    if suite.finite_field {
        agree_finite_field(server_key_exchange)
    } else {
        agree_elliptic(server_key_exchange)
    }
}

fn agree_elliptic(body: &[u8]) -> Result<Agreed, String> {
    let malformed = || "a malformed ECDHE ServerKeyExchange".to_string();
    let header = body.get(..4).ok_or_else(malformed)?;
    if header[0] != 3 {
        return Err(format!(
            "an ECDHE ServerKeyExchange with curve type {} (only named curves are offered)",
            header[0]
        ));
    }
    let group = u16::from_be_bytes([header[1], header[2]]);
    let point = body
        .get(4..4 + usize::from(header[3]))
        .ok_or_else(malformed)?;
    let algorithm = match group {
        29 => &agreement::X25519,
        23 => &agreement::ECDH_P256,
        24 => &agreement::ECDH_P384,
        other => {
            return Err(format!(
                "the server chose group {other}, which was not offered"
            ));
        }
    };
    let failed = || format!("no key agreement with the server's share in group {group}");
    let private =
        EphemeralPrivateKey::generate(algorithm, &SystemRandom::new()).map_err(|_| failed())?;
    let public = private.compute_public_key().map_err(|_| failed())?;
    let mut client_key_exchange = vec![public.as_ref().len() as u8];
    client_key_exchange.extend_from_slice(public.as_ref());
    let premaster = agreement::agree_ephemeral(
        private,
        UnparsedPublicKey::new(algorithm, point),
        (),
        |secret| Ok(secret.to_vec()),
    )
    .map_err(|()| failed())?;
    Ok(Agreed {
        client_key_exchange,
        premaster,
    })
}

/// A 2-byte-length vector at `at`, and the offset after it.
fn vector(body: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let length = usize::from(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]));
    Some((body.get(at + 2..at + 2 + length)?, at + 2 + length))
}

fn agree_finite_field(body: &[u8]) -> Result<Agreed, String> {
    let malformed = || "a malformed DHE ServerKeyExchange".to_string();
    let (p, at) = vector(body, 0).ok_or_else(malformed)?;
    let (g, at) = vector(body, at).ok_or_else(malformed)?;
    let (server_share, _) = vector(body, at).ok_or_else(malformed)?;
    let (p, g, server_share) = (
        BigUint::from_bytes_be(p),
        BigUint::from_bytes_be(g),
        BigUint::from_bytes_be(server_share),
    );
    let one = BigUint::from(1u8);
    // RFC 7919 §5.1: the peer's share lies strictly between 1 and p - 1;
    // a prime of 512 bits or more keeps the exponentiations short.
    if p.bits() < 512 || p.bits() > 8192 || server_share <= one || server_share >= &p - &one {
        return Err(format!(
            "a DHE ServerKeyExchange with unusable parameters ({}-bit prime)",
            p.bits()
        ));
    }
    let mut exponent = [0u8; 32];
    SystemRandom::new()
        .fill(&mut exponent)
        .map_err(|_| "no random exponent".to_string())?;
    let exponent = BigUint::from_bytes_be(&exponent);
    let length = p.to_bytes_be().len();
    let public = g.modpow(&exponent, &p).to_bytes_be();
    let mut client_key_exchange = (public.len() as u16).to_be_bytes().to_vec();
    client_key_exchange.extend_from_slice(&public);
    // RFC 5246 §8.1.2: leading zero bytes of Z are stripped.
    let premaster = server_share.modpow(&exponent, &p).to_bytes_be();
    debug_assert!(premaster.len() <= length);
    Ok(Agreed {
        client_key_exchange,
        premaster,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_x25519_share_agrees_and_foreign_groups_are_refused() {
        let server =
            EphemeralPrivateKey::generate(&agreement::X25519, &SystemRandom::new()).unwrap();
        let point = server.compute_public_key().unwrap();
        let mut body = vec![3, 0, 29, 32];
        body.extend_from_slice(point.as_ref());
        body.extend_from_slice(&[8, 4, 0, 0]); // a signature, skipped
        let agreed = agree(find_suite(0xc02f).unwrap(), &body).unwrap();
        assert_eq!(agreed.client_key_exchange.len(), 33);
        let expected = agreement::agree_ephemeral(
            server,
            UnparsedPublicKey::new(&agreement::X25519, &agreed.client_key_exchange[1..]),
            (),
            |secret| Ok(secret.to_vec()),
        )
        .unwrap();
        assert_eq!(agreed.premaster, expected);
        body[2] = 30; // X448: not offered
        assert!(agree(find_suite(0xc02f).unwrap(), &body).is_err());
        for cut in 0..40 {
            let _ = agree(find_suite(0xc030).unwrap(), &body[..cut]);
        }
    }

    #[test]
    fn a_dhe_share_agrees_and_degenerate_shares_are_refused() {
        // RFC 3526 group 14 would do; a 512-bit safe-enough prime keeps the
        // test fast: 2^521 - 1 is prime (a Mersenne prime).
        let p: BigUint = (BigUint::from(1u8) << 521usize) - 1u8;
        let server_secret = BigUint::from(123_456_789u64);
        let g = BigUint::from(5u8);
        let server_share = g.modpow(&server_secret, &p);
        let field = |share: &BigUint| {
            let mut body = Vec::new();
            for value in [&p, &g, share] {
                let bytes = value.to_bytes_be();
                body.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
                body.extend_from_slice(&bytes);
            }
            body
        };
        let suite = find_suite(0x009e).unwrap();
        let agreed = agree(suite, &field(&server_share)).unwrap();
        let client_share = BigUint::from_bytes_be(&agreed.client_key_exchange[2..]);
        assert_eq!(
            agreed.premaster,
            client_share.modpow(&server_secret, &p).to_bytes_be()
        );
        assert!(agree(suite, &field(&BigUint::from(1u8))).is_err());
        assert!(agree(suite, &field(&(&p - 1u8))).is_err());
        assert!(agree(suite, &[0, 1]).is_err());
    }
}
