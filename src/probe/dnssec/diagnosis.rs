//! Why an answer is bogus (issue 18, scope 2).
//!
//! hickory's validator knows the cause (its `ProofErrorKind`: DS without a
//! matching DNSKEY, unverified RRSIGs, …) but only logs it: the lookup
//! returns `DnssecBogus` and nothing else. So, for a bogus answer, this
//! module reads the records itself with DO=1 and CD=1 (so a validating
//! upstream hands them over, RFC 4035 §3.2.2) and walks the chain from the
//! root down to the RRset's zone, as RFC 4035 §5 describes:
//!
//! 1. each zone's DS (from the parent) must match one of its DNSKEYs
//!    (RFC 4034 §5.1.4; [`BogusKind::NoMatchingDs`]);
//! 2. each DNSKEY RRset, then the RRset itself, needs an RRSIG
//!    ([`BogusKind::MissingSignature`]) of which at least one is within its
//!    validity period at the scan time (RFC 4035 §5.3.1;
//!    [`BogusKind::SignatureExpired`], [`BogusKind::SignatureNotYetValid`]);
//! 3. a negative answer needs NSEC or NSEC3 records
//!    ([`BogusKind::DenialNotProven`]).
//!
//! The first break from the top is the cause. Cryptographic verification
//! stays with hickory: when everything above is in order the cause is
//! [`BogusKind::Undetermined`], in words "the signatures do not verify".

use crate::evidence::{BogusCause, BogusKind};
use chrono::{DateTime, Utc};
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_resolver::proto::op::{Edns, Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Largest UDP answer asked for (RFC 6891 §6.2.5); bigger ones come by TCP.
const PAYLOAD: u16 = 4096;

/// Reads DNSSEC records from one server, with DO and CD set.
pub(super) struct Diagnosis {
    server: SocketAddr,
    timeout: Duration,
    /// The scan time, seconds since the epoch (RRSIG times, RFC 4034 §3.1.5).
    now: i64,
}

/// An answer's records of interest.
struct Fetched {
    /// Records of the asked type at the asked name.
    records: Vec<Record>,
    /// RRSIGs in the answer covering the asked type.
    signatures: Vec<RRSIG>,
    /// The answer was negative, and its authority section holds NSEC/NSEC3.
    denial_records: bool,
    /// Signers named by RRSIGs anywhere in the answer (the zone).
    signer: Option<Name>,
}

impl Diagnosis {
    pub(super) fn new(server: SocketAddr, timeout: Duration, now: DateTime<Utc>) -> Diagnosis {
        Diagnosis {
            server,
            timeout,
            now: now.timestamp(),
        }
    }

    /// The cause of `record_type name` being bogus.
    pub(super) async fn cause(&self, name: &str, record_type: RecordType) -> BogusCause {
        match self.find(name, record_type).await {
            Ok(Some(cause)) => cause,
            Ok(None) => undetermined(name, record_type, "DS, DNSKEY and the signatures' validity periods are in order along the chain of trust, so the signatures themselves do not verify".to_string()),
            Err(reason) => undetermined(
                name,
                record_type,
                format!("the DNSSEC records could not be read to tell why: {reason}"),
            ),
        }
    }

    async fn find(
        &self,
        name: &str,
        record_type: RecordType,
    ) -> Result<Option<BogusCause>, String> {
        let owner = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
            .map_err(|e| format!("{name}: {e}"))?;
        let answer = self.fetch(&owner, record_type).await?;
        let zone = answer.signer.clone().unwrap_or_else(|| owner.clone());
        // The chain from the root down to the zone, one signed zone at a time.
        let mut zones = vec![zone.clone()];
        let mut parent = zone.clone();
        while !parent.is_root() {
            parent = parent.base_name();
            zones.push(parent.clone());
        }
        zones.reverse();
        for zone in &zones {
            if let Some(cause) = self.zone_cause(zone).await? {
                return Ok(Some(cause));
            }
        }
        let label = zone_label(&zone);
        if answer.records.is_empty() {
            if !answer.denial_records {
                return Ok(Some(BogusCause {
                    kind: BogusKind::DenialNotProven,
                    zone: label,
                    record_type: record_type.to_string(),
                    date: None,
                    detail: format!(
                        "the negative answer for {record_type} {name} carries no NSEC or NSEC3 record, so the denial is not proven"
                    ),
                }));
            }
            if answer.signer.is_some() {
                return Ok(Some(BogusCause {
                    kind: BogusKind::DenialNotProven,
                    zone: label,
                    record_type: record_type.to_string(),
                    date: None,
                    detail: format!(
                        "the NSEC/NSEC3 proof that {record_type} {name} does not exist does not hold"
                    ),
                }));
            }
        }
        Ok(self.signature_cause(&label, record_type, &answer.records, &answer.signatures))
    }

    /// A break at `zone`: its DS matches none of its keys, or its DNSKEY
    /// RRset is unsigned or signed only outside the validity period. A name
    /// without DNSKEY records is no zone apex and is passed over.
    async fn zone_cause(&self, zone: &Name) -> Result<Option<BogusCause>, String> {
        let keys = self.fetch(zone, RecordType::DNSKEY).await?;
        let dnskeys: Vec<&DNSKEY> = keys
            .records
            .iter()
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key),
                _ => None,
            })
            .collect();
        if dnskeys.is_empty() {
            return Ok(None);
        }
        let label = zone_label(zone);
        if !zone.is_root() {
            let ds = self.fetch(zone, RecordType::DS).await?;
            let ds: Vec<&DS> = ds
                .records
                .iter()
                .filter_map(|r| match &r.data {
                    RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds),
                    _ => None,
                })
                .collect();
            let matches = ds.iter().any(|ds| {
                dnskeys
                    .iter()
                    .any(|key| ds.covers(zone, key).unwrap_or(false))
            });
            if !ds.is_empty() && !matches {
                return Ok(Some(BogusCause {
                    kind: BogusKind::NoMatchingDs,
                    zone: label.clone(),
                    record_type: "DS".to_string(),
                    date: None,
                    detail: format!(
                        "no DS record of {label} (key tag {}) matches one of its DNSKEYs (key tag {})",
                        tags(ds.iter().map(|d| d.key_tag())),
                        tags(dnskeys.iter().filter_map(|k| k.calculate_key_tag().ok())),
                    ),
                }));
            }
        }
        Ok(self.signature_cause(&label, RecordType::DNSKEY, &keys.records, &keys.signatures))
    }

    /// A signed RRset without any signature valid at the scan time.
    fn signature_cause(
        &self,
        zone: &str,
        record_type: RecordType,
        records: &[Record],
        signatures: &[RRSIG],
    ) -> Option<BogusCause> {
        let owner = records.first().map(|r| zone_label(&r.name))?;
        let cause = |kind, date: Option<DateTime<Utc>>, detail: String| BogusCause {
            kind,
            zone: zone.to_string(),
            record_type: record_type.to_string(),
            date,
            detail,
        };
        if signatures.is_empty() {
            return Some(cause(
                BogusKind::MissingSignature,
                None,
                format!(
                    "the {record_type} RRset of {owner} has no RRSIG although {zone} is signed"
                ),
            ));
        }
        let times: Vec<(i64, i64)> = signatures
            .iter()
            .map(|s| {
                let input = s.input();
                (
                    i64::from(input.sig_inception.get()),
                    i64::from(input.sig_expiration.get()),
                )
            })
            .collect();
        if times
            .iter()
            .any(|(from, until)| (*from..=*until).contains(&self.now))
        {
            return None;
        }
        if let Some(until) = times
            .iter()
            .map(|(_, until)| *until)
            .filter(|u| *u < self.now)
            .max()
        {
            let date = DateTime::from_timestamp(until, 0);
            return Some(cause(
                BogusKind::SignatureExpired,
                date,
                format!(
                    "the signature over the {record_type} RRset of {owner} expired on {}",
                    date.map_or_else(
                        || until.to_string(),
                        |d| d.format("%Y-%m-%d %H:%M UTC").to_string()
                    )
                ),
            ));
        }
        let from = times.iter().map(|(from, _)| *from).min()?;
        let date = DateTime::from_timestamp(from, 0);
        Some(cause(
            BogusKind::SignatureNotYetValid,
            date,
            format!(
                "the signature over the {record_type} RRset of {owner} is not valid before {}",
                date.map_or_else(
                    || from.to_string(),
                    |d| d.format("%Y-%m-%d %H:%M UTC").to_string()
                )
            ),
        ))
    }

    /// One query with RD, CD and DO set; UDP first, TCP when truncated.
    async fn fetch(&self, name: &Name, record_type: RecordType) -> Result<Fetched, String> {
        let mut query = Message::query();
        query.add_query(Query::query(name.clone(), record_type));
        query.metadata.recursion_desired = true;
        query.metadata.checking_disabled = true;
        let mut edns = Edns::new();
        edns.set_dnssec_ok(true);
        edns.set_max_payload(PAYLOAD);
        query.set_edns(edns);
        let wire = query
            .to_vec()
            .map_err(|e| format!("{record_type} {name}: {e}"))?;
        let exchange = async {
            let mut answer = self.udp(&wire).await?;
            if answer.metadata.truncation {
                answer = self.tcp(&wire).await?;
            }
            Ok::<_, String>(answer)
        };
        let answer = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("{record_type} {name}: no answer within {:?}", self.timeout))?
            .map_err(|e| format!("{record_type} {name}: {e}"))?;
        if answer.metadata.id != query.metadata.id {
            return Err(format!("{record_type} {name}: answer to another query"));
        }
        // Without records an error answer would pass for "nothing wrong".
        let code = answer.metadata.response_code;
        if !matches!(code, ResponseCode::NoError | ResponseCode::NXDomain) {
            return Err(format!("{record_type} {name}: the server answered {code}"));
        }
        Ok(fetched(&answer, name, record_type))
    }

    async fn udp(&self, wire: &[u8]) -> Result<Message, String> {
        let local: SocketAddr = if self.server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(|e| e.to_string())?;
        socket
            .send_to(wire, self.server)
            .await
            .map_err(|e| e.to_string())?;
        let mut buffer = vec![0u8; usize::from(PAYLOAD)];
        loop {
            let (length, from) = socket
                .recv_from(&mut buffer)
                .await
                .map_err(|e| e.to_string())?;
            // Only the server's answer counts (RFC 5452 §4.1).
            if from == self.server {
                return Message::from_vec(&buffer[..length]).map_err(|e| e.to_string());
            }
        }
    }

    async fn tcp(&self, wire: &[u8]) -> Result<Message, String> {
        let mut stream = TcpStream::connect(self.server)
            .await
            .map_err(|e| e.to_string())?;
        let length = u16::try_from(wire.len()).map_err(|e| e.to_string())?;
        let mut framed = length.to_be_bytes().to_vec();
        framed.extend_from_slice(wire);
        stream.write_all(&framed).await.map_err(|e| e.to_string())?;
        let length = stream.read_u16().await.map_err(|e| e.to_string())?;
        let mut buffer = vec![0u8; usize::from(length)];
        stream
            .read_exact(&mut buffer)
            .await
            .map_err(|e| e.to_string())?;
        Message::from_vec(&buffer).map_err(|e| e.to_string())
    }
}

/// Picks the asked RRset, its signatures and the signer out of an answer.
fn fetched(answer: &Message, name: &Name, record_type: RecordType) -> Fetched {
    let signature = |r: &Record| match &r.data {
        RData::DNSSEC(DNSSECRData::RRSIG(sig)) => Some(sig.clone()),
        _ => None,
    };
    let records: Vec<Record> = answer
        .answers
        .iter()
        .filter(|r| r.record_type() == record_type && r.name.eq_case(name))
        .cloned()
        .collect();
    let signatures: Vec<RRSIG> = answer
        .answers
        .iter()
        .filter(|r| r.name.eq_case(name))
        .filter_map(signature)
        .filter(|s| s.input().type_covered == record_type)
        .collect();
    let signer = answer
        .answers
        .iter()
        .chain(&answer.authorities)
        .filter_map(signature)
        .map(|s| s.input().signer_name.clone())
        .next();
    let denial_records = answer
        .authorities
        .iter()
        .any(|r| matches!(r.record_type(), RecordType::NSEC | RecordType::NSEC3));
    Fetched {
        records,
        signatures,
        denial_records,
        signer,
    }
}

fn undetermined(name: &str, record_type: RecordType, detail: String) -> BogusCause {
    BogusCause {
        kind: BogusKind::Undetermined,
        zone: name.trim_end_matches('.').to_string(),
        record_type: record_type.to_string(),
        date: None,
        detail,
    }
}

/// A zone's name without the trailing dot; `.` for the root.
fn zone_label(zone: &Name) -> String {
    if zone.is_root() {
        ".".to_string()
    } else {
        zone.to_ascii().trim_end_matches('.').to_string()
    }
}

/// Key tags, sorted and comma-separated.
fn tags(tags: impl Iterator<Item = u16>) -> String {
    let mut tags: Vec<u16> = tags.collect();
    tags.sort_unstable();
    tags.dedup();
    tags.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::dnssec::Algorithm;
    use hickory_resolver::proto::dnssec::rdata::SigInput;
    use hickory_resolver::proto::rr::SerialNumber;
    use hickory_resolver::proto::rr::rdata::A;

    const NOW: i64 = 1_796_500_000; // 2026-12-05

    fn diagnosis() -> Diagnosis {
        let now = DateTime::from_timestamp(NOW, 0).unwrap();
        Diagnosis::new(([127, 0, 0, 1], 53).into(), Duration::from_secs(1), now)
    }

    fn rrsig(inception: i64, expiration: i64) -> RRSIG {
        RRSIG::from_sig(
            SigInput {
                type_covered: RecordType::A,
                algorithm: Algorithm::ECDSAP256SHA256,
                num_labels: 2,
                original_ttl: 3600,
                sig_expiration: SerialNumber::new(expiration as u32),
                sig_inception: SerialNumber::new(inception as u32),
                key_tag: 1,
                signer_name: Name::from_ascii("example.org.").unwrap(),
            },
            vec![0; 64],
        )
    }

    fn records() -> Vec<Record> {
        let name = Name::from_ascii("mx.example.org.").unwrap();
        vec![Record::from_rdata(
            name,
            3600,
            RData::A(A::new(192, 0, 2, 1)),
        )]
    }

    #[test]
    fn the_validity_period_names_expired_and_future_signatures_with_the_date() {
        let d = diagnosis();
        let day = 86_400;
        let expired = d
            .signature_cause(
                "example.org",
                RecordType::A,
                &records(),
                &[rrsig(NOW - 30 * day, NOW - day)],
            )
            .unwrap();
        assert_eq!(expired.kind, BogusKind::SignatureExpired);
        assert_eq!(expired.date, DateTime::from_timestamp(NOW - day, 0));
        assert!(
            expired.detail.contains("expired on 2026-12-04"),
            "{}",
            expired.detail
        );
        let future = d
            .signature_cause(
                "example.org",
                RecordType::A,
                &records(),
                &[rrsig(NOW + day, NOW + 30 * day)],
            )
            .unwrap();
        assert_eq!(future.kind, BogusKind::SignatureNotYetValid);
        assert!(
            future.detail.contains("not valid before 2026-12-06"),
            "{}",
            future.detail
        );
        // One signature in its period is enough (RFC 4035 §5.3.3).
        assert!(
            d.signature_cause(
                "example.org",
                RecordType::A,
                &records(),
                &[
                    rrsig(NOW - 30 * day, NOW - day),
                    rrsig(NOW - day, NOW + day)
                ]
            )
            .is_none()
        );
        let missing = d
            .signature_cause("example.org", RecordType::A, &records(), &[])
            .unwrap();
        assert_eq!(missing.kind, BogusKind::MissingSignature);
    }
}
