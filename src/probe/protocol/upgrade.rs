//! The one plaintext part of a STARTTLS upgrade, for every probe: the
//! greeting and capabilities, the check that the upgrade is announced, the
//! upgrade command and the server's agreement. After it the next bytes on
//! the wire are the client's TLS hello (RFC 3207 §4, RFC 9051 §6.2.1,
//! RFC 2595 §4, RFC 5804 §2.2); the caller takes the stream with
//! `LineConnection::into_parts` and starts TLS its own way (rustls with the
//! recording verifier in `probe::tls`, or the raw hellos of the TLS scan).

use super::mail_protocol::{MailProtocol, Opening};
use crate::probe::connection::{DialogueError, LineConnection};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// Why the plaintext part did not reach the point where TLS starts.
#[derive(Debug)]
pub(crate) enum UpgradeFailure {
    /// The greeting or the capabilities failed.
    Opening(DialogueError),
    /// The capabilities do not announce the upgrade.
    NotOffered(Opening),
    /// The upgrade command could not be written.
    Unsent(Opening, DialogueError),
    /// The server did not agree (or its reply could not be read).
    Refused(Opening, DialogueError),
}

/// Greeting and capabilities, and whether the upgrade is announced.
async fn opening<P: MailProtocol, S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    local: SocketAddr,
) -> Result<Opening, UpgradeFailure> {
    let opening = P::open(connection, local)
        .await
        .map_err(UpgradeFailure::Opening)?;
    if P::offers_starttls(&opening.capabilities) {
        Ok(opening)
    } else {
        Err(UpgradeFailure::NotOffered(opening))
    }
}

/// The plaintext part of STARTTLS: on success, what the server said before
/// and its positive reply to the upgrade command.
pub(crate) async fn starttls<P: MailProtocol, S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    local: SocketAddr,
) -> Result<(Opening, String), UpgradeFailure> {
    let opening = opening::<P, S>(connection, local).await?;
    match P::starttls(connection).await {
        Ok(reply) => Ok((opening, reply)),
        Err(error) => Err(UpgradeFailure::Refused(opening, error)),
    }
}

/// The reply to a STARTTLS written in one segment with another command.
pub(crate) struct PipelinedReply {
    /// Every line of the reply, the deciding one last.
    pub lines: Vec<String>,
    /// Whether the server agreed to start TLS.
    pub accepted: bool,
}

/// The plaintext part of STARTTLS with `injected` written in the same
/// segment (the injection test, TLS-011). A refusal is evidence, not a
/// failure, so it comes back as a reply that was not accepted.
pub(crate) async fn pipelined_starttls<P: MailProtocol, S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    local: SocketAddr,
    injected: &str,
) -> Result<(Opening, PipelinedReply), UpgradeFailure> {
    let opening = opening::<P, S>(connection, local).await?;
    if let Err(error) = connection
        .send_pipelined(&[P::INJECTION.starttls, injected])
        .await
    {
        return Err(UpgradeFailure::Unsent(opening, error));
    }
    match P::read_pipelined_starttls_reply(connection).await {
        Ok(lines) => {
            let accepted =
                P::accepts_pipelined_starttls(lines.last().map(String::as_str).unwrap_or_default());
            Ok((opening, PipelinedReply { lines, accepted }))
        }
        Err(error) => Err(UpgradeFailure::Refused(opening, error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::protocol::{imap::Imap, pop3::Pop3};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LOCAL: &str = "127.0.0.1:1";

    #[tokio::test]
    async fn an_unannounced_upgrade_is_never_sent() {
        // Given a POP3 server whose CAPA lacks STLS
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            server.write_all(b"+OK ready\r\n").await.unwrap();
            let mut buf = [0u8; 64];
            let _ = server.read(&mut buf).await;
            server.write_all(b"+OK\r\nUSER\r\n.\r\n").await.unwrap();
            // Then nothing more is written by the client
            let count = server.read(&mut buf).await.unwrap_or(0);
            assert_eq!(count, 0, "{:?}", &buf[..count]);
        });
        let mut connection = LineConnection::new(client, Duration::from_secs(2));
        let failure = starttls::<Pop3, _>(&mut connection, LOCAL.parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(failure, UpgradeFailure::NotOffered(_)),
            "{failure:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_upgrade_keeps_the_opening_and_the_reply() {
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            server.write_all(b"* OK hi\r\n").await.unwrap();
            let mut buf = [0u8; 64];
            let _ = server.read(&mut buf).await;
            server
                .write_all(b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n")
                .await
                .unwrap();
            let _ = server.read(&mut buf).await;
            server.write_all(b"a2 NO not now\r\n").await.unwrap();
        });
        let mut connection = LineConnection::new(client, Duration::from_secs(2));
        match starttls::<Imap, _>(&mut connection, LOCAL.parse().unwrap()).await {
            Err(UpgradeFailure::Refused(opening, error)) => {
                assert_eq!(opening.capabilities, vec!["IMAP4rev1", "STARTTLS"]);
                assert!(error.to_string().contains("a2 NO not now"), "{error}");
            }
            other => panic!("expected a refusal, got {:?}", other.map(|(_, r)| r)),
        }
    }

    #[tokio::test]
    async fn a_pipelined_refusal_is_a_reply_not_a_failure() {
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            server.write_all(b"+OK ready\r\n").await.unwrap();
            let mut buf = [0u8; 64];
            let _ = server.read(&mut buf).await;
            server.write_all(b"+OK\r\nSTLS\r\n.\r\n").await.unwrap();
            let count = server.read(&mut buf).await.unwrap();
            // Given both commands in one segment
            assert_eq!(&buf[..count], b"STLS\r\nNOOP\r\n");
            server.write_all(b"-ERR not now\r\n").await.unwrap();
        });
        let mut connection = LineConnection::new(client, Duration::from_secs(2));
        let (_, reply) =
            pipelined_starttls::<Pop3, _>(&mut connection, LOCAL.parse().unwrap(), "NOOP")
                .await
                .unwrap();
        assert!(!reply.accepted);
        assert_eq!(reply.lines, vec!["-ERR not now"]);
    }
}
