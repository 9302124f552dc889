//! TCP reachability: open, closed (refused) or filtered (no answer in time).

use crate::evidence::{Attempt, PortState, TcpEvidence};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Connects to `address`, returning the evidence and, when open, the stream.
pub async fn connect(
    address: SocketAddr,
    timeout: Duration,
) -> (Attempt<TcpEvidence>, Option<TcpStream>) {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, TcpStream::connect(address)).await;
    let elapsed = started.elapsed().as_millis() as u64;
    let evidence = |state| TcpEvidence {
        address,
        state,
        connect_ms: elapsed,
    };
    match result {
        Ok(Ok(stream)) => {
            // Small protocol lines: do not wait for Nagle.
            let _ = stream.set_nodelay(true);
            (
                Attempt::completed(evidence(PortState::Open)).timed(started),
                Some(stream),
            )
        }
        Ok(Err(error)) if error.kind() == ErrorKind::ConnectionRefused => (
            Attempt::completed(evidence(PortState::Closed)).timed(started),
            None,
        ),
        Ok(Err(error)) => (
            Attempt::failed(format!("connect to {address} failed: {error}")).timed(started),
            None,
        ),
        Err(_) => (
            Attempt::completed(evidence(PortState::Filtered)).timed(started),
            None,
        ),
    }
}

/// Why a port that is not open gives no dialogue, in words for the evidence.
pub fn not_open_reason(evidence: &Attempt<TcpEvidence>, timeout: Duration) -> String {
    match evidence.value() {
        Some(TcpEvidence {
            state: PortState::Closed,
            address,
            ..
        }) => {
            format!("port closed: {address} refused the connection")
        }
        Some(TcpEvidence {
            state: PortState::Filtered,
            address,
            ..
        }) => {
            format!("port filtered: {address} did not answer within {timeout:?}")
        }
        _ => format!(
            "no TCP connection: {}",
            evidence.reason.as_deref().unwrap_or("unknown reason")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn distinguishes_open_from_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        let (attempt, stream) = connect(open, Duration::from_secs(2)).await;
        assert_eq!(attempt.value().unwrap().state, PortState::Open);
        assert!(stream.is_some());

        drop(listener);
        let (attempt, stream) = connect(open, Duration::from_secs(2)).await;
        assert_eq!(attempt.value().unwrap().state, PortState::Closed);
        assert!(stream.is_none());
        assert!(not_open_reason(&attempt, Duration::from_secs(2)).contains("refused"));
    }
}
