//! The TLS 1.2 pseudo-random function and what the active checks' own
//! handshake derives with it (RFC 5246 §5, §6.3, §7.4.9; RFC 7627 §4):
//! the master secret, the key block and the Finished `verify_data`.
//!
//! Only the SHA-256 and SHA-384 PRFs exist here: the handshake offers AES-GCM
//! suites of TLS 1.2 only, whose PRF hash is named by the suite.

use aws_lc_rs::{digest, hmac};

/// The PRF hash of a suite (RFC 5288 §3, RFC 5289 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrfHash {
    Sha256,
    Sha384,
}

impl PrfHash {
    fn hmac(self) -> hmac::Algorithm {
        match self {
            PrfHash::Sha256 => hmac::HMAC_SHA256,
            PrfHash::Sha384 => hmac::HMAC_SHA384,
        }
    }

    /// The hash of `bytes` (the handshake transcript).
    pub fn digest(self, bytes: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            PrfHash::Sha256 => &digest::SHA256,
            PrfHash::Sha384 => &digest::SHA384,
        };
        digest::digest(algorithm, bytes).as_ref().to_vec()
    }
}

/// RFC 5246 §5: `PRF(secret, label, seed) = P_hash(secret, label + seed)`,
/// `length` bytes of it.
pub fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[u8], length: usize) -> Vec<u8> {
    let key = hmac::Key::new(hash.hmac(), secret);
    let mut label_seed = Vec::with_capacity(label.len() + seed.len());
    label_seed.extend_from_slice(label);
    label_seed.extend_from_slice(seed);
    // A(0) = seed; A(i) = HMAC(secret, A(i-1));
    // P_hash = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
    let mut a = hmac::sign(&key, &label_seed).as_ref().to_vec();
    let mut out = Vec::with_capacity(length + 48);
    while out.len() < length {
        let mut context = hmac::Context::with_key(&key);
        context.update(&a);
        context.update(&label_seed);
        out.extend_from_slice(context.sign().as_ref());
        a = hmac::sign(&key, &a).as_ref().to_vec();
    }
    out.truncate(length);
    out
}

/// The 48-byte master secret: RFC 7627 §4 (`extended master secret`, seeded
/// with the transcript hash up to the ClientKeyExchange) when the server
/// echoed the extension, else RFC 5246 §8.1 (seeded with both randoms).
pub fn master_secret(
    hash: PrfHash,
    premaster: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    session_hash: Option<&[u8]>,
) -> Vec<u8> {
    match session_hash {
        Some(session_hash) => prf(hash, premaster, b"extended master secret", session_hash, 48),
        None => {
            let mut seed = client_random.to_vec();
            seed.extend_from_slice(server_random);
            prf(hash, premaster, b"master secret", &seed, 48)
        }
    }
}

/// The keys of an AEAD suite (RFC 5246 §6.3, no MAC keys; RFC 5288 §3:
/// a 4-byte implicit IV per direction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBlock {
    pub client_key: Vec<u8>,
    pub server_key: Vec<u8>,
    pub client_iv: [u8; 4],
    pub server_iv: [u8; 4],
}

/// Expands the master secret into the key block for `key_length`-byte keys.
pub fn key_block(
    hash: PrfHash,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    key_length: usize,
) -> KeyBlock {
    // The seed is server_random + client_random here (RFC 5246 §6.3).
    let mut seed = server_random.to_vec();
    seed.extend_from_slice(client_random);
    let block = prf(hash, master, b"key expansion", &seed, 2 * key_length + 8);
    let (client_key, rest) = block.split_at(key_length);
    let (server_key, rest) = rest.split_at(key_length);
    KeyBlock {
        client_key: client_key.to_vec(),
        server_key: server_key.to_vec(),
        client_iv: [rest[0], rest[1], rest[2], rest[3]],
        server_iv: [rest[4], rest[5], rest[6], rest[7]],
    }
}

/// RFC 5246 §7.4.9: the 12-byte `verify_data` of a Finished message, over
/// the hash of the handshake messages before it.
pub fn verify_data(hash: PrfHash, master: &[u8], label: &[u8], transcript: &[u8]) -> Vec<u8> {
    prf(hash, master, label, &hash.digest(transcript), 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    // The known-answer tests posted to the IETF TLS list
    // (https://mailarchive.ietf.org/arch/msg/tls/fzVCzk-z3FShgGJ6DOXqM1ydxms/,
    // used by rustls' own PRF tests); OpenSSL 3's `openssl kdf TLS1-PRF`
    // gives the same bytes.
    #[test]
    fn the_sha256_prf_matches_the_published_vector() {
        let output = prf(
            PrfHash::Sha256,
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &hex("a0ba9f936cda311827a6f796ffd5198c"),
            100,
        );
        assert_eq!(
            output,
            hex(concat!(
                "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a",
                "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab",
                "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701",
                "87347b66"
            ))
        );
    }

    #[test]
    fn the_sha384_prf_matches_the_published_vector() {
        let output = prf(
            PrfHash::Sha384,
            &hex("b80b733d6ceefcdc71566ea48e5567df"),
            b"test label",
            &hex("cd665cf6a8447dd6ff8b27555edb7465"),
            148,
        );
        assert_eq!(
            output,
            hex(concat!(
                "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd",
                "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd",
                "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425",
                "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6",
                "91c8f3a26854308d5eaa3be85e0990703d73e56f"
            ))
        );
    }

    #[test]
    fn the_key_block_splits_in_rfc_order() {
        let master = [7u8; 48];
        let (client, server) = ([1u8; 32], [2u8; 32]);
        let keys = key_block(PrfHash::Sha256, &master, &client, &server, 16);
        let mut seed = server.to_vec();
        seed.extend_from_slice(&client);
        let block = prf(PrfHash::Sha256, &master, b"key expansion", &seed, 40);
        assert_eq!(keys.client_key, block[..16]);
        assert_eq!(keys.server_key, block[16..32]);
        assert_eq!(keys.client_iv, block[32..36]);
        assert_eq!(keys.server_iv, block[36..40]);
        assert_eq!(verify_data(PrfHash::Sha384, &master, b"x", b"y").len(), 12);
    }
}
