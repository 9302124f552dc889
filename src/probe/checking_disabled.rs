//! Every DNS query leaves with the CD (checking disabled) bit set (issue 18).
//!
//! mailaudit validates DNSSEC itself, from the lab root or the public root
//! anchor. A validating resolver in between (unbound, systemd-resolved, a
//! company resolver) answers SERVFAIL for a bogus zone unless the query has
//! CD=1; then it hands over the data with its signatures, for the client to
//! judge (RFC 4035 §3.2.2 and §4.6, RFC 6840 §5.9). Without CD a bogus zone
//! looks like a zone without answers: no MX, no servers, DNS-002
//! inconclusive instead of failed.
//!
//! hickory 0.26 clears CD on the queries its validator sends and offers no
//! option for it, so this runtime provider sets the bit on the wire: in
//! every UDP datagram, and in every message of a TCP stream (RFC 1035
//! §4.2.2: two length octets, then the message). The header's flags are
//! octets 2 and 3; CD is bit 0x10 of octet 3 (RFC 2535 §6.1, RFC 4035 §3.2.2).

use hickory_resolver::net::runtime::iocompat::AsyncIoTokioAsStd;
use hickory_resolver::net::runtime::{
    DnsUdpSocket, RuntimeProvider, TokioHandle, TokioRuntimeProvider, TokioTime,
};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

/// Octet of the DNS header that holds the CD flag, and the flag's bit.
const FLAGS_OCTET: usize = 3;
const CD: u8 = 0x10;

/// Sets CD in a DNS message (a datagram, or one message of a TCP stream).
pub fn set_checking_disabled(message: &mut [u8]) {
    if let Some(flags) = message.get_mut(FLAGS_OCTET) {
        *flags |= CD;
    }
}

/// Tokio's runtime, with CD set on everything sent.
#[derive(Clone, Default)]
pub struct CheckingDisabled {
    tokio: TokioRuntimeProvider,
}

impl RuntimeProvider for CheckingDisabled {
    type Handle = TokioHandle;
    type Timer = TokioTime;
    type Udp = CdUdpSocket;
    type Tcp = AsyncIoTokioAsStd<CdTcpStream>;

    fn create_handle(&self) -> Self::Handle {
        self.tokio.create_handle()
    }

    fn connect_tcp(
        &self,
        server_addr: SocketAddr,
        bind_addr: Option<SocketAddr>,
        timeout: Option<Duration>,
    ) -> Pin<Box<dyn Send + Future<Output = Result<Self::Tcp, io::Error>>>> {
        Box::pin(async move {
            let socket = match server_addr {
                SocketAddr::V4(_) => TcpSocket::new_v4(),
                SocketAddr::V6(_) => TcpSocket::new_v6(),
            }?;
            if let Some(bind_addr) = bind_addr {
                socket.bind(bind_addr)?;
            }
            socket.set_nodelay(true)?;
            // hickory's own default when the caller gives none.
            let wait = timeout.unwrap_or(Duration::from_secs(5));
            match tokio::time::timeout(wait, socket.connect(server_addr)).await {
                Ok(Ok(stream)) => Ok(AsyncIoTokioAsStd(CdTcpStream::new(stream))),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("TCP connect to {server_addr} timed out"),
                )),
            }
        })
    }

    fn bind_udp(
        &self,
        local_addr: SocketAddr,
        _server_addr: SocketAddr,
    ) -> Pin<Box<dyn Send + Future<Output = Result<Self::Udp, io::Error>>>> {
        Box::pin(async move { UdpSocket::bind(local_addr).await.map(CdUdpSocket) })
    }
}

/// A UDP socket whose datagrams leave with CD set.
pub struct CdUdpSocket(UdpSocket);

impl DnsUdpSocket for CdUdpSocket {
    type Time = TokioTime;

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        DnsUdpSocket::poll_recv_from(&self.0, cx, buf)
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let mut message = buf.to_vec();
        set_checking_disabled(&mut message);
        DnsUdpSocket::poll_send_to(&self.0, cx, &message, target)
    }
}

/// A TCP stream whose DNS messages leave with CD set. It follows the
/// framing (two length octets, then the message) across however the
/// writer splits its buffers.
pub struct CdTcpStream {
    stream: TcpStream,
    framing: Framing,
}

impl CdTcpStream {
    fn new(stream: TcpStream) -> CdTcpStream {
        CdTcpStream {
            stream,
            framing: Framing::default(),
        }
    }
}

/// Where the writer is in the stream of length-prefixed messages.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Framing {
    /// Octets of the current frame (length prefix included) written so far.
    written: usize,
    /// The first length octet, once seen.
    high: Option<u8>,
    /// The current message's length, once both octets were seen.
    length: Option<usize>,
}

impl Framing {
    /// Sets CD in `chunk`, the next octets of the stream, where it holds
    /// octet 3 of a message; returns the chunk to send.
    pub fn mark(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = chunk.to_vec();
        for byte in out.iter_mut() {
            match (self.written, self.high, self.length) {
                (0, _, _) => self.high = Some(*byte),
                (1, Some(high), _) => {
                    self.length = Some(usize::from(u16::from_be_bytes([high, *byte])))
                }
                // Octet 3 of the message is octet 5 of the frame.
                (5, _, _) => *byte |= CD,
                _ => {}
            }
            self.written += 1;
            if self.length.is_some_and(|length| self.written == length + 2) {
                *self = Framing::default();
            }
        }
        out
    }
}

impl AsyncRead for CdTcpStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CdTcpStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Mark a copy under a trial framing state, and advance the real one
        // only by what the socket accepted.
        let mut trial = self.framing.clone();
        let marked = trial.mark(buf);
        match Pin::new(&mut self.stream).poll_write(cx, &marked) {
            Poll::Ready(Ok(written)) => {
                let framing = &mut self.framing;
                framing.mark(&buf[..written]);
                Poll::Ready(Ok(written))
            }
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for example.org. A with RD set and CD clear.
    fn query(id: u16) -> Vec<u8> {
        let mut message = id.to_be_bytes().to_vec();
        message.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        message.extend_from_slice(b"\x07example\x03org\x00\x00\x01\x00\x01");
        message
    }

    #[test]
    fn a_datagram_gets_cd_and_keeps_every_other_bit() {
        let mut message = query(7);
        message[3] = 0x20; // AD
        set_checking_disabled(&mut message);
        assert_eq!(message[3], 0x30);
        assert_eq!(&message[..3], &[0, 7, 0x01]);
        let mut short = vec![0, 1];
        set_checking_disabled(&mut short);
        assert_eq!(short, vec![0, 1], "too short to be a header: untouched");
    }

    #[test]
    fn every_message_of_a_tcp_stream_gets_cd_however_it_is_split() {
        // Two framed messages back to back
        let mut stream = Vec::new();
        for id in [1u16, 2] {
            let message = query(id);
            stream.extend_from_slice(&(message.len() as u16).to_be_bytes());
            stream.extend_from_slice(&message);
        }
        let first_frame = query(1).len() + 2;
        for split in [1, 2, 3, 5, 6, 7, first_frame, stream.len()] {
            let mut framing = Framing::default();
            let mut sent = Vec::new();
            for chunk in stream.chunks(split) {
                sent.extend(framing.mark(chunk));
            }
            assert_eq!(sent.len(), stream.len());
            assert_eq!(sent[5] & CD, CD, "first message, chunks of {split}");
            assert_eq!(sent[first_frame + 5] & CD, CD, "second, chunks of {split}");
            // Nothing else changed
            let mut expected = stream.clone();
            expected[5] |= CD;
            expected[first_frame + 5] |= CD;
            assert_eq!(sent, expected, "chunks of {split}");
        }
    }
}
