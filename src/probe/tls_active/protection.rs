//! TLS 1.2 record protection with AES-GCM (RFC 5288 §3, RFC 5246 §6.2.3.3),
//! one direction per [`Protection`]: the nonce is the 4-byte implicit IV
//! from the key block and an 8-byte explicit part sent before the
//! ciphertext (here the sequence number, as most stacks do); the additional
//! data is the sequence number, content type, version and plaintext length.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

/// Bytes of the explicit nonce and of the tag.
const EXPLICIT: usize = 8;
const TAG: usize = 16;

/// One direction's key, implicit IV and sequence number.
pub struct Protection {
    key: LessSafeKey,
    iv: [u8; 4],
    sequence: u64,
}

impl Protection {
    /// A key of 16 bytes is AES-128-GCM, one of 32 AES-256-GCM; `None` for
    /// any other length.
    pub fn new(key: &[u8], iv: [u8; 4]) -> Option<Protection> {
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            32 => &AES_256_GCM,
            _ => return None,
        };
        let key = LessSafeKey::new(UnboundKey::new(algorithm, key).ok()?);
        Some(Protection {
            key,
            iv,
            sequence: 0,
        })
    }

    fn nonce(&self, explicit: &[u8]) -> Option<Nonce> {
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.iv);
        nonce[4..].copy_from_slice(explicit.get(..EXPLICIT)?);
        Some(Nonce::assume_unique_for_key(nonce))
    }

    fn aad(&self, content_type: u8, version: u16, length: usize) -> Aad<[u8; 13]> {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&self.sequence.to_be_bytes());
        aad[8] = content_type;
        aad[9..11].copy_from_slice(&version.to_be_bytes());
        aad[11..].copy_from_slice(&(length as u16).to_be_bytes());
        Aad::from(aad)
    }

    /// The protected fragment of one record: explicit nonce, ciphertext, tag.
    pub fn seal(&mut self, content_type: u8, version: u16, plaintext: &[u8]) -> Vec<u8> {
        let explicit = self.sequence.to_be_bytes();
        let mut out = explicit.to_vec();
        let mut body = plaintext.to_vec();
        let sealed = self.nonce(&explicit).and_then(|nonce| {
            let aad = self.aad(content_type, version, plaintext.len());
            self.key
                .seal_in_place_append_tag(nonce, aad, &mut body)
                .ok()
        });
        // Sealing fails only on lengths far beyond a record; such a record
        // is never built here, and an empty body would fail the peer's check.
        if sealed.is_none() {
            body.clear();
        }
        out.extend_from_slice(&body);
        self.sequence += 1;
        out
    }

    /// The plaintext of one protected fragment; `None` when it is too short
    /// or fails authentication (wrong keys, or bytes that were never
    /// protected).
    pub fn open(&mut self, content_type: u8, version: u16, fragment: &[u8]) -> Option<Vec<u8>> {
        if fragment.len() < EXPLICIT + TAG {
            return None;
        }
        let nonce = self.nonce(fragment)?;
        let aad = self.aad(content_type, version, fragment.len() - EXPLICIT - TAG);
        let mut body = fragment[EXPLICIT..].to_vec();
        let plaintext = self.key.open_in_place(nonce, aad, &mut body).ok()?.to_vec();
        self.sequence += 1;
        Some(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_one_side_seals_the_other_opens_in_sequence_and_tampering_fails() {
        for length in [16, 32] {
            let key = vec![9u8; length];
            let mut sender = Protection::new(&key, [1, 2, 3, 4]).unwrap();
            let mut receiver = Protection::new(&key, [1, 2, 3, 4]).unwrap();
            for message in [&b"first"[..], b"second record"] {
                let sealed = sender.seal(22, 0x0303, message);
                assert_eq!(sealed.len(), 8 + message.len() + 16);
                assert_eq!(receiver.open(22, 0x0303, &sealed).unwrap(), message);
            }
            let mut sealed = sender.seal(23, 0x0303, b"third");
            // Another content type is other additional data.
            let mut copy = Protection::new(&key, [1, 2, 3, 4]).unwrap();
            copy.sequence = 2;
            assert!(copy.open(22, 0x0303, &sealed).is_none());
            sealed[10] ^= 1;
            assert!(receiver.open(23, 0x0303, &sealed).is_none());
            assert!(receiver.open(23, 0x0303, &[0; 20]).is_none());
        }
        assert!(Protection::new(&[0; 24], [0; 4]).is_none());
    }
}
