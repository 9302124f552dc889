//! A tiny authoritative DNS server for the hostile suite, on UDP and TCP at
//! one port of 127.0.66.53: it parses the header and the question by hand
//! (RFC 1035 §4.1.1, §4.1.2) and answers with hand-built A, MX and CNAME
//! records (§3.3.1, §3.3.9, §3.4.1), or not at all, as a test's handler says.
//! Reads are bounded: a UDP datagram is at most 4 KiB, a TCP message at most
//! what its 16-bit length prefix allows (RFC 1035 §4.2.2).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The address the server listens on; the lab does not use 127.0.66.0/24.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 66, 53);

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_MX: u16 = 15;

/// RCODE 2 (RFC 1035 §4.1.1).
pub const SERVFAIL: u8 = 2;
/// RCODE 3.
pub const NXDOMAIN: u8 = 3;
/// RCODE 5.
pub const REFUSED: u8 = 5;

/// How a query arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// The parts of a query the handlers look at.
#[derive(Debug, Clone)]
pub struct Question {
    /// Lower case, without the trailing dot.
    pub name: String,
    pub qtype: u16,
    id: u16,
    recursion_desired: bool,
    /// QNAME, QTYPE and QCLASS as received, echoed in the answer.
    raw: Vec<u8>,
}

/// The data of one resource record.
#[derive(Debug, Clone)]
pub enum Data {
    A(Ipv4Addr),
    Mx(u16, String),
    Cname(String),
}

/// One resource record: owner name and data (class IN, TTL 60).
#[derive(Debug, Clone)]
pub struct Record {
    pub name: String,
    pub data: Data,
}

impl Record {
    pub fn new(name: &str, data: Data) -> Record {
        Record {
            name: name.to_string(),
            data,
        }
    }
}

/// What the server does with one query.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Nothing: the resolver times out.
    Silent,
    /// An empty answer with this RCODE (NOERROR without records, SERVFAIL, NXDOMAIN).
    Code(u8),
    /// NOERROR with these records in the answer section.
    Answer(Vec<Record>),
    /// An empty answer with the TC bit set (RFC 1035 §4.1.1; RFC 7766 §5:
    /// the resolver must retry over TCP).
    Truncated,
}

type Handler = Arc<dyn Fn(&Question, Transport) -> Reply + Send + Sync>;

/// A running server and how many queries it saw on each transport.
pub struct DnsServer {
    pub address: SocketAddr,
    udp_queries: Arc<AtomicUsize>,
    tcp_queries: Arc<AtomicUsize>,
}

impl DnsServer {
    /// `IP:PORT` for `--resolver`.
    pub fn resolver(&self) -> String {
        self.address.to_string()
    }

    pub fn udp_queries(&self) -> usize {
        self.udp_queries.load(Ordering::Relaxed)
    }

    pub fn tcp_queries(&self) -> usize {
        self.tcp_queries.load(Ordering::Relaxed)
    }
}

/// Starts a server on UDP and TCP at one ephemeral port of [`ADDRESS`];
/// `handler` decides every answer. The threads live as long as the test.
pub fn start(handler: impl Fn(&Question, Transport) -> Reply + Send + Sync + 'static) -> DnsServer {
    let handler: Handler = Arc::new(handler);
    // `--resolver` takes one port for both transports: take an ephemeral UDP
    // port, and try again when TCP cannot have the same number.
    let (udp, tcp) = (0..100)
        .find_map(|_| {
            let udp = UdpSocket::bind((ADDRESS, 0)).ok()?;
            let port = udp.local_addr().ok()?.port();
            let tcp = TcpListener::bind((ADDRESS, port)).ok()?;
            Some((udp, tcp))
        })
        .expect("a UDP and TCP port pair on 127.0.66.53");
    let address = udp.local_addr().unwrap();
    let udp_queries = Arc::new(AtomicUsize::new(0));
    let tcp_queries = Arc::new(AtomicUsize::new(0));
    {
        let handler = handler.clone();
        let counter = udp_queries.clone();
        std::thread::spawn(move || serve_udp(udp, handler, counter));
    }
    {
        let counter = tcp_queries.clone();
        std::thread::spawn(move || {
            for stream in tcp.incoming().flatten() {
                let handler = handler.clone();
                let counter = counter.clone();
                std::thread::spawn(move || serve_tcp(stream, handler, counter));
            }
        });
    }
    DnsServer {
        address,
        udp_queries,
        tcp_queries,
    }
}

fn serve_udp(socket: UdpSocket, handler: Handler, counter: Arc<AtomicUsize>) {
    let mut buffer = [0u8; 4096];
    while let Ok((length, peer)) = socket.recv_from(&mut buffer) {
        let Some(question) = parse(&buffer[..length]) else {
            continue;
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(answer) = respond(&question, handler(&question, Transport::Udp)) {
            // A classic UDP answer is at most 512 bytes without EDNS (RFC 1035
            // §4.2.1); the handlers keep UDP answers small.
            let _ = socket.send_to(&answer, peer);
        }
    }
}

fn serve_tcp(mut stream: TcpStream, handler: Handler, counter: Arc<AtomicUsize>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    loop {
        let mut prefix = [0u8; 2];
        if stream.read_exact(&mut prefix).is_err() {
            return;
        }
        let mut message = vec![0u8; u16::from_be_bytes(prefix) as usize];
        if stream.read_exact(&mut message).is_err() {
            return;
        }
        let Some(question) = parse(&message) else {
            return;
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let Some(answer) = respond(&question, handler(&question, Transport::Tcp)) else {
            continue;
        };
        let Ok(length) = u16::try_from(answer.len()) else {
            panic!(
                "a DNS message over TCP is at most 65,535 bytes, not {}",
                answer.len()
            );
        };
        let mut framed = length.to_be_bytes().to_vec();
        framed.extend(answer);
        if stream.write_all(&framed).is_err() {
            return;
        }
    }
}

/// The question of a query (RFC 1035 §4.1.1, §4.1.2): uncompressed labels
/// of at most 63 bytes, 255 in all. `None` for anything else.
fn parse(message: &[u8]) -> Option<Question> {
    let header = message.get(..12)?;
    let id = u16::from_be_bytes([header[0], header[1]]);
    let is_query = header[2] & 0x80 == 0;
    let question_count = u16::from_be_bytes([header[4], header[5]]);
    if !is_query || question_count == 0 {
        return None;
    }
    let mut labels = Vec::new();
    let mut offset = 12;
    loop {
        let length = *message.get(offset)? as usize;
        offset += 1;
        if length == 0 {
            break;
        }
        if length > 63 || offset + length > 12 + 255 {
            return None;
        }
        let label = message.get(offset..offset + length)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        offset += length;
    }
    let fixed = message.get(offset..offset + 4)?;
    Some(Question {
        name: labels.join("."),
        qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
        id,
        recursion_desired: header[2] & 0x01 != 0,
        raw: message[12..offset + 4].to_vec(),
    })
}

/// The answer message for `reply`, or `None` to stay silent.
fn respond(question: &Question, reply: Reply) -> Option<Vec<u8>> {
    let (code, truncated, records) = match reply {
        Reply::Silent => return None,
        Reply::Code(code) => (code, false, Vec::new()),
        Reply::Answer(records) => (0, false, records),
        Reply::Truncated => (0, true, Vec::new()),
    };
    // QR, AA, TC when truncated, RD echoed, RA; OPCODE 0.
    let mut flags: u16 = 0x8000 | 0x0400 | 0x0080 | u16::from(code & 0x0f);
    if truncated {
        flags |= 0x0200;
    }
    if question.recursion_desired {
        flags |= 0x0100;
    }
    let mut message = Vec::with_capacity(64 + records.len() * 24);
    message.extend(question.id.to_be_bytes());
    message.extend(flags.to_be_bytes());
    message.extend(1u16.to_be_bytes());
    message.extend((records.len() as u16).to_be_bytes());
    message.extend([0, 0, 0, 0]);
    message.extend(&question.raw);
    for record in &records {
        name(&mut message, &record.name, &question.name);
        let (record_type, data) = match &record.data {
            Data::A(address) => (TYPE_A, address.octets().to_vec()),
            Data::Mx(preference, exchange) => {
                let mut data = preference.to_be_bytes().to_vec();
                name(&mut data, exchange, &question.name);
                (TYPE_MX, data)
            }
            Data::Cname(target) => {
                let mut data = Vec::new();
                name(&mut data, target, &question.name);
                (TYPE_CNAME, data)
            }
        };
        message.extend(record_type.to_be_bytes());
        message.extend(1u16.to_be_bytes());
        message.extend(60u32.to_be_bytes());
        message.extend((data.len() as u16).to_be_bytes());
        message.extend(data);
    }
    Some(message)
}

/// Writes `host` as labels; the question's name, or a name under it, ends
/// in a pointer to offset 12 (RFC 1035 §4.1.4), which keeps a large answer
/// inside TCP's 65,535 bytes.
fn name(out: &mut Vec<u8>, host: &str, question: &str) {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let prefix = if host == question {
        Some("")
    } else {
        host.strip_suffix(question)
            .and_then(|p| p.strip_suffix('.'))
    };
    let labels = prefix.unwrap_or(&host);
    for label in labels.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend(label.as_bytes());
    }
    if prefix.is_some() {
        out.extend([0xc0, 0x0c]);
    } else {
        out.push(0);
    }
}
