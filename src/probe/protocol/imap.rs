//! IMAP (RFC 9051, RFC 3501 §6.2.1 STARTTLS and LOGINDISABLED): greeting,
//! CAPABILITY, STARTTLS, CAPABILITY again. Only these commands and LOGOUT are
//! ever sent here.

use super::mail_protocol::{
    InjectionCommands, MailProtocol, Opening, in_announced_order, starts_with,
};
use crate::evidence::AuthExposure;
use crate::probe::connection::{DialogueError, LineConnection};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// The IMAP dialogue.
pub struct Imap;

/// Sends a tagged command and reads up to its tagged completion. Returns the
/// untagged lines and the completion line.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    tag: &'static str,
    command: &'static str,
) -> Result<(Vec<String>, String), DialogueError> {
    connection.send(&format!("{tag} {command}")).await?;
    let prefix = format!("{tag} ");
    let mut lines = connection
        .read_until(command, |line| line.starts_with(&prefix))
        .await?;
    let completion = lines.pop().unwrap_or_default();
    let status = completion[prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default();
    if status.eq_ignore_ascii_case("OK") {
        Ok((lines, completion))
    } else {
        Err(DialogueError::Unexpected {
            command,
            reply: completion.chars().take(200).collect(),
        })
    }
}

/// The atoms of `* CAPABILITY ...` lines or a `[CAPABILITY ...]` response code.
fn parse_capabilities(lines: &[String]) -> Vec<String> {
    let mut capabilities = Vec::new();
    for line in lines {
        let upper = line.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("* CAPABILITY ") {
            capabilities.extend(
                line[line.len() - rest.len()..]
                    .split_whitespace()
                    .map(String::from),
            );
        } else if let Some(start) = upper.find("[CAPABILITY ") {
            let inner = &line[start + 12..];
            let inner = inner.split(']').next().unwrap_or_default();
            capabilities.extend(inner.split_whitespace().map(String::from));
        }
    }
    capabilities
}

async fn capability<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    tag: &'static str,
) -> Result<Vec<String>, DialogueError> {
    let (lines, _) = command(connection, tag, "CAPABILITY").await?;
    Ok(parse_capabilities(&lines))
}

impl MailProtocol for Imap {
    async fn open<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        _local: SocketAddr,
    ) -> Result<Opening, DialogueError> {
        connection.begin_step();
        let greeting = connection.read_line("the IMAP greeting").await?;
        let upper = greeting.to_ascii_uppercase();
        if !(upper.starts_with("* OK") || upper.starts_with("* PREAUTH")) {
            return Err(DialogueError::Unexpected {
                command: "the greeting",
                reply: greeting.chars().take(200).collect(),
            });
        }
        // Always ask: a CAPABILITY code in the greeting may be abbreviated.
        let capabilities = capability(connection, "a1").await?;
        Ok(Opening {
            greeting,
            capabilities,
        })
    }

    async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<String, DialogueError> {
        command(connection, "a2", "STARTTLS")
            .await
            .map(|(_, completion)| completion)
    }

    // Distinct tags tell the answers apart (RFC 9051 §2.2.1).
    const INJECTION: InjectionCommands = InjectionCommands {
        starttls: "a STARTTLS",
        injected: "b NOOP",
        own: "c NOOP",
    };

    async fn read_pipelined_starttls_reply<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<Vec<String>, DialogueError> {
        connection
            .read_until("the STARTTLS completion", |l| starts_with(l, "a "))
            .await
    }

    fn accepts_pipelined_starttls(last: &str) -> bool {
        starts_with(last, "a OK")
    }

    async fn capabilities_after_tls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        _local: SocketAddr,
    ) -> Result<Vec<String>, DialogueError> {
        capability(connection, "a3").await
    }

    fn auth_exposure(capabilities: &[String]) -> AuthExposure {
        // RFC 9051 §6.2.3: without LOGINDISABLED the LOGIN command takes a
        // password in the clear.
        let login_disabled = capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("LOGINDISABLED"));
        let mechanisms = Self::sasl_mechanisms(capabilities);
        let mut indicators = Vec::new();
        if !login_disabled {
            indicators.push("no LOGINDISABLED".to_string());
        }
        indicators.extend(mechanisms.iter().map(|m| format!("AUTH={m}")));
        AuthExposure {
            plaintext_auth_offered: !login_disabled || !mechanisms.is_empty(),
            indicators,
            mechanisms,
        }
    }

    fn sasl_mechanisms(capabilities: &[String]) -> Vec<String> {
        // The greeting's CAPABILITY code and a CAPABILITY response may both
        // be read, so a mechanism can appear twice.
        in_announced_order(capabilities.iter().filter_map(|c| {
            let upper = c.to_ascii_uppercase();
            upper.strip_prefix("AUTH=").map(str::to_string)
        }))
    }

    async fn close<S: AsyncRead + AsyncWrite + Unpin>(connection: &mut LineConnection<S>) {
        let _ = command(connection, "a9", "LOGOUT").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_come_from_untagged_lines_and_codes() {
        let lines = vec![
            "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready".to_string(),
            "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN".to_string(),
        ];
        let capabilities = parse_capabilities(&lines);
        assert!(capabilities.contains(&"LOGINDISABLED".to_string()));
        assert!(capabilities.contains(&"AUTH=PLAIN".to_string()));
    }

    #[test]
    fn mechanisms_keep_the_server_order_once_each() {
        let capabilities: Vec<String> = [
            "IMAP4rev1",
            "AUTH=SCRAM-SHA-1",
            "AUTH=PLAIN",
            "auth=scram-sha-1",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        assert_eq!(
            Imap::sasl_mechanisms(&capabilities),
            vec!["SCRAM-SHA-1", "PLAIN"]
        );
    }

    #[test]
    fn logindisabled_without_mechanisms_protects_passwords() {
        let safe = Imap::auth_exposure(&[
            "IMAP4rev1".into(),
            "STARTTLS".into(),
            "LOGINDISABLED".into(),
        ]);
        assert!(!safe.plaintext_auth_offered);
        let open =
            Imap::auth_exposure(&["IMAP4rev1".into(), "STARTTLS".into(), "AUTH=PLAIN".into()]);
        assert!(open.plaintext_auth_offered);
        assert_eq!(open.indicators, vec!["no LOGINDISABLED", "AUTH=PLAIN"]);
    }

    #[tokio::test]
    async fn a_huge_literal_is_never_read_into_memory() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            server.write_all(b"* OK hi\r\n").await.unwrap();
            let mut buf = [0u8; 64];
            let _ = server.read(&mut buf).await;
            server
                .write_all(b"* CAPABILITY {4294967295}\r\na1 OK done\r\n")
                .await
                .unwrap();
        });
        let mut connection = LineConnection::new(client, std::time::Duration::from_secs(2));
        let opening = Imap::open(&mut connection, "127.0.0.1:1".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(opening.capabilities, vec!["{4294967295}".to_string()]);
    }
}
