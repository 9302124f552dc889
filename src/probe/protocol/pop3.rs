//! POP3 (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS): greeting, CAPA, STLS,
//! CAPA again.

use super::mail_protocol::{
    InjectionCommands, MailProtocol, Opening, in_announced_order, starts_with,
};
use crate::evidence::AuthExposure;
use crate::probe::connection::{DialogueError, LineConnection};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// The POP3 dialogue.
pub struct Pop3;

/// Sends a command and reads its single-line status.
async fn simple<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    command: &'static str,
) -> Result<String, DialogueError> {
    connection.send(command).await?;
    let reply = connection.read_line(command).await?;
    if reply.starts_with("+OK") {
        Ok(reply)
    } else {
        Err(DialogueError::Unexpected {
            command,
            reply: reply.chars().take(200).collect(),
        })
    }
}

/// CAPA: `+OK`, then one capability per line, ended by a lone `.`. A server
/// without CAPA answers `-ERR`; that is reported as no capabilities.
async fn capa<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
) -> Result<Option<Vec<String>>, DialogueError> {
    connection.send("CAPA").await?;
    let status = connection.read_line("the CAPA reply").await?;
    if !status.starts_with("+OK") {
        return Ok(None);
    }
    let mut lines = connection.read_until("the CAPA list", |l| l == ".").await?;
    lines.pop();
    Ok(Some(lines))
}

impl MailProtocol for Pop3 {
    async fn open<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        _local: SocketAddr,
    ) -> Result<Opening, DialogueError> {
        connection.begin_step();
        let greeting = connection.read_line("the POP3 greeting").await?;
        if !greeting.starts_with("+OK") {
            return Err(DialogueError::Unexpected {
                command: "the greeting",
                reply: greeting.chars().take(200).collect(),
            });
        }
        let capabilities = match capa(connection).await? {
            Some(list) => list,
            // RFC 1939 servers without CAPA take USER/PASS; say so explicitly.
            None => vec!["USER (assumed: CAPA not supported)".to_string()],
        };
        Ok(Opening {
            greeting,
            capabilities,
        })
    }

    // RFC 2595 §4: POP3 names the upgrade STLS.
    const UPGRADE_CAPABILITY: &'static str = "STLS";

    async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<String, DialogueError> {
        simple(connection, "STLS").await
    }

    // CAPA worked before TLS (the server announced STLS through it).
    const INJECTION: InjectionCommands = InjectionCommands {
        starttls: "STLS",
        injected: "NOOP",
        own: "CAPA",
    };

    async fn read_pipelined_starttls_reply<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<Vec<String>, DialogueError> {
        Ok(vec![connection.read_line("the STARTTLS reply").await?])
    }

    fn accepts_pipelined_starttls(last: &str) -> bool {
        starts_with(last, "+OK")
    }

    async fn capabilities_after_tls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        _local: SocketAddr,
    ) -> Result<Vec<String>, DialogueError> {
        Ok(capa(connection).await?.unwrap_or_default())
    }

    fn auth_exposure(capabilities: &[String]) -> AuthExposure {
        let user = capabilities
            .iter()
            .find(|c| c.to_ascii_uppercase().starts_with("USER"))
            .cloned();
        let mechanisms = Self::sasl_mechanisms(capabilities);
        let mut indicators: Vec<String> = user.into_iter().collect();
        if !mechanisms.is_empty() {
            indicators.push(format!("SASL {}", mechanisms.join(" ")));
        }
        AuthExposure {
            plaintext_auth_offered: !indicators.is_empty(),
            indicators,
            mechanisms,
        }
    }

    fn sasl_mechanisms(capabilities: &[String]) -> Vec<String> {
        in_announced_order(
            capabilities
                .iter()
                .filter(|c| c.to_ascii_uppercase().starts_with("SASL "))
                .flat_map(|c| c[5..].split_whitespace().map(str::to_string)),
        )
    }

    async fn close<S: AsyncRead + AsyncWrite + Unpin>(connection: &mut LineConnection<S>) {
        let _ = simple(connection, "QUIT").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_sasl_before_stls_are_exposure() {
        let exposure = Pop3::auth_exposure(&[
            "TOP".into(),
            "USER".into(),
            "SASL PLAIN LOGIN".into(),
            "STLS".into(),
        ]);
        assert!(exposure.plaintext_auth_offered);
        assert_eq!(exposure.indicators, vec!["USER", "SASL PLAIN LOGIN"]);
        assert!(!Pop3::auth_exposure(&["TOP".into(), "STLS".into()]).plaintext_auth_offered);
    }
}
