//! SMTP and submission (RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH): banner,
//! EHLO, STARTTLS, EHLO again, and [`command`] for the envelope commands of
//! the relay test (MAIL, RCPT, RSET).

use super::mail_protocol::{
    InjectionCommands, MailProtocol, Opening, in_announced_order, smtp_continues,
};
use crate::evidence::AuthExposure;
use crate::probe::connection::{DialogueError, LineConnection};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// The SMTP dialogue.
pub struct Smtp;

/// Reads one possibly multi-line reply (`250-...` lines, then `250 ...`).
async fn read_reply<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    waiting_for: &'static str,
) -> Result<(u16, Vec<String>), DialogueError> {
    // Only `ddd-` continues a reply; anything else ends it, so garbage is
    // reported at once instead of being read until the deadline.
    let lines = connection
        .read_until(waiting_for, |line| !smtp_continues(line))
        .await?;
    let last = lines.last().map(String::as_str).unwrap_or_default();
    let code = last
        .get(..3)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| DialogueError::Unexpected {
            command: waiting_for,
            reply: last.chars().take(120).collect(),
        })?;
    let texts = lines
        .iter()
        .map(|l| l.get(4..).unwrap_or_default().to_string())
        .collect();
    Ok((code, texts))
}

/// Sends one command line and reads its whole reply: the code and the text
/// of each line (without the `ddd-` / `ddd ` prefix). A reply that does not
/// start with three digits is an error, never a panic.
pub(crate) async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    line: &str,
    waiting_for: &'static str,
) -> Result<(u16, Vec<String>), DialogueError> {
    connection.send(line).await?;
    read_reply(connection, waiting_for).await
}

/// EHLO with our address literal (RFC 5321 §4.1.3), returning the keywords.
async fn ehlo<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    local: SocketAddr,
) -> Result<Vec<String>, DialogueError> {
    let literal = match local.ip() {
        std::net::IpAddr::V4(ip) => format!("[{ip}]"),
        std::net::IpAddr::V6(ip) => format!("[IPv6:{ip}]"),
    };
    connection.send(&format!("EHLO {literal}")).await?;
    let (code, lines) = read_reply(connection, "the EHLO reply").await?;
    if code != 250 {
        return Err(DialogueError::Unexpected {
            command: "EHLO",
            reply: format!("{code} {}", lines.join(" / ")),
        });
    }
    // The first line is the server's name, the rest are extension keywords.
    Ok(lines.into_iter().skip(1).collect())
}

impl MailProtocol for Smtp {
    async fn open<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        local: SocketAddr,
    ) -> Result<Opening, DialogueError> {
        connection.begin_step();
        let (code, banner) = read_reply(connection, "the SMTP banner").await?;
        let greeting = format!("{code} {}", banner.join(" "));
        if code != 220 {
            return Err(DialogueError::Unexpected {
                command: "the greeting",
                reply: greeting,
            });
        }
        let capabilities = ehlo(connection, local).await?;
        Ok(Opening {
            greeting,
            capabilities,
        })
    }

    async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<String, DialogueError> {
        connection.send("STARTTLS").await?;
        let (code, lines) = read_reply(connection, "the STARTTLS reply").await?;
        let reply = format!("{code} {}", lines.join(" "));
        if code == 220 {
            Ok(reply)
        } else {
            Err(DialogueError::Unexpected {
                command: "STARTTLS",
                reply,
            })
        }
    }

    // HELP answers 211/214 (or 5xx), never 250 like NOOP (RFC 5321 §4.1.1.8).
    const INJECTION: InjectionCommands = InjectionCommands {
        starttls: "STARTTLS",
        injected: "NOOP",
        own: "HELP",
    };

    async fn read_pipelined_starttls_reply<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<Vec<String>, DialogueError> {
        connection
            .read_until("the STARTTLS reply", |l| !smtp_continues(l))
            .await
    }

    fn accepts_pipelined_starttls(last: &str) -> bool {
        last.starts_with("220")
    }

    async fn capabilities_after_tls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        local: SocketAddr,
    ) -> Result<Vec<String>, DialogueError> {
        ehlo(connection, local).await
    }

    fn auth_exposure(capabilities: &[String]) -> AuthExposure {
        let mechanisms = Self::sasl_mechanisms(capabilities);
        AuthExposure {
            plaintext_auth_offered: !mechanisms.is_empty(),
            indicators: capabilities
                .iter()
                .filter(|c| is_auth_keyword(c))
                .cloned()
                .collect(),
            mechanisms,
        }
    }

    fn sasl_mechanisms(capabilities: &[String]) -> Vec<String> {
        in_announced_order(
            capabilities
                .iter()
                .filter(|c| is_auth_keyword(c))
                .flat_map(|c| c[5..].split_whitespace().map(str::to_string)),
        )
    }

    async fn close<S: AsyncRead + AsyncWrite + Unpin>(connection: &mut LineConnection<S>) {
        if connection.send("QUIT").await.is_ok() {
            let _ = read_reply(connection, "the QUIT reply").await;
        }
    }
}

/// `AUTH PLAIN LOGIN` or the pre-standard `AUTH=PLAIN LOGIN`.
fn is_auth_keyword(capability: &str) -> bool {
    let upper = capability.to_ascii_uppercase();
    upper.len() > 5 && (upper.starts_with("AUTH ") || upper.starts_with("AUTH="))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn auth_is_found_in_both_spellings() {
        let exposure = Smtp::auth_exposure(&caps(&[
            "PIPELINING",
            "AUTH PLAIN LOGIN",
            "AUTH=LOGIN",
            "STARTTLS",
        ]));
        assert!(exposure.plaintext_auth_offered);
        // The server's order, each mechanism once (RFC 4954 §3 lists them
        // space-separated; the order is the server's preference).
        assert_eq!(exposure.mechanisms, vec!["PLAIN", "LOGIN"]);
        assert!(!Smtp::auth_exposure(&caps(&["STARTTLS", "8BITMIME"])).plaintext_auth_offered);
        assert!(Smtp::offers_starttls(&caps(&["starttls"])));
    }

    #[test]
    fn mechanisms_keep_the_server_order() {
        // Given Exim's order, repeated in the pre-standard AUTH= line
        let mechanisms = Smtp::sasl_mechanisms(&caps(&[
            "AUTH SCRAM-SHA-256 PLAIN LOGIN CRAM-MD5",
            "AUTH=PLAIN LOGIN",
        ]));
        // Then the order is kept and duplicates are dropped
        assert_eq!(
            mechanisms,
            vec!["SCRAM-SHA-256", "PLAIN", "LOGIN", "CRAM-MD5"]
        );
    }

    #[tokio::test]
    async fn a_full_opening_is_parsed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            server
                .write_all(b"220-mx.test ESMTP\r\n220 ready\r\n")
                .await
                .unwrap();
            let mut buf = [0u8; 256];
            let _ = server.read(&mut buf).await;
            server
                .write_all(b"250-mx.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")
                .await
                .unwrap();
        });
        let mut connection = LineConnection::new(client, std::time::Duration::from_secs(2));
        let local: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let opening = Smtp::open(&mut connection, local).await.unwrap();
        assert_eq!(opening.greeting, "220 mx.test ESMTP ready");
        assert_eq!(opening.capabilities, caps(&["STARTTLS", "AUTH PLAIN"]));
    }

    #[tokio::test]
    async fn a_non_numeric_reply_is_an_error_not_a_panic() {
        use tokio::io::AsyncWriteExt;
        let (client, mut server) = tokio::io::duplex(4096);
        server.write_all(b"\xff\xfe garbage\r\n").await.unwrap();
        let mut connection = LineConnection::new(client, std::time::Duration::from_secs(1));
        let local: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let error = Smtp::open(&mut connection, local).await.unwrap_err();
        assert!(matches!(error, DialogueError::Unexpected { .. }), "{error}");
    }
}
