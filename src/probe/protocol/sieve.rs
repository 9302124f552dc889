//! ManageSieve (RFC 5804): the capability greeting, STARTTLS, and the
//! capabilities the server must repeat once TLS is up (§2.2).

use super::mail_protocol::{
    InjectionCommands, MailProtocol, Opening, in_announced_order, starts_with,
};
use crate::evidence::AuthExposure;
use crate::probe::connection::{DialogueError, LineConnection};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// The ManageSieve dialogue.
pub struct Sieve;

fn is_completion(line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    upper == "OK" || upper.starts_with("OK ") || upper.starts_with("NO") || upper.starts_with("BYE")
}

/// Reads capability lines (`"NAME" "value"`) up to the completion.
async fn read_capabilities<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    waiting_for: &'static str,
) -> Result<(Vec<String>, String), DialogueError> {
    let mut lines = connection.read_until(waiting_for, is_completion).await?;
    let completion = lines.pop().unwrap_or_default();
    if !completion.to_ascii_uppercase().starts_with("OK") {
        return Err(DialogueError::Unexpected {
            command: waiting_for,
            reply: completion.chars().take(200).collect(),
        });
    }
    Ok((lines.iter().map(|l| unquote(l)).collect(), completion))
}

/// `"SASL" "PLAIN LOGIN"` becomes `SASL PLAIN LOGIN`.
fn unquote(line: &str) -> String {
    line.split('"')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl MailProtocol for Sieve {
    async fn open<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        _local: SocketAddr,
    ) -> Result<Opening, DialogueError> {
        connection.begin_step();
        let (capabilities, completion) =
            read_capabilities(connection, "the ManageSieve greeting").await?;
        let implementation = capabilities
            .iter()
            .find(|c| c.to_ascii_uppercase().starts_with("IMPLEMENTATION"))
            .cloned()
            .unwrap_or_default();
        Ok(Opening {
            greeting: format!("{completion} {implementation}").trim().to_string(),
            capabilities,
        })
    }

    async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<String, DialogueError> {
        connection.send("STARTTLS").await?;
        let reply = connection.read_line("the STARTTLS reply").await?;
        if reply.to_ascii_uppercase().starts_with("OK") {
            Ok(reply)
        } else {
            Err(DialogueError::Unexpected {
                command: "STARTTLS",
                reply: reply.chars().take(200).collect(),
            })
        }
    }

    // NOOP's tag comes back in the response code (RFC 5804 §2.13).
    const INJECTION: InjectionCommands = InjectionCommands {
        starttls: "STARTTLS",
        injected: "NOOP",
        own: "NOOP \"mailaudit\"",
    };

    async fn read_pipelined_starttls_reply<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<Vec<String>, DialogueError> {
        Ok(vec![connection.read_line("the STARTTLS reply").await?])
    }

    fn accepts_pipelined_starttls(last: &str) -> bool {
        starts_with(last, "OK")
    }

    async fn capabilities_after_tls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        _local: SocketAddr,
    ) -> Result<Vec<String>, DialogueError> {
        connection.begin_step();
        Ok(read_capabilities(connection, "the capabilities after TLS")
            .await?
            .0)
    }

    fn auth_exposure(capabilities: &[String]) -> AuthExposure {
        let mechanisms = Self::sasl_mechanisms(capabilities);
        AuthExposure {
            plaintext_auth_offered: !mechanisms.is_empty(),
            indicators: if mechanisms.is_empty() {
                Vec::new()
            } else {
                vec![format!("SASL {}", mechanisms.join(" "))]
            },
            mechanisms,
        }
    }

    fn sasl_mechanisms(capabilities: &[String]) -> Vec<String> {
        in_announced_order(
            capabilities
                .iter()
                .filter(|c| c.to_ascii_uppercase().starts_with("SASL"))
                .flat_map(|c| c[4..].split_whitespace().map(str::to_string)),
        )
    }

    async fn close<S: AsyncRead + AsyncWrite + Unpin>(connection: &mut LineConnection<S>) {
        if connection.send("LOGOUT").await.is_ok() {
            let _ = connection.read_line("the LOGOUT reply").await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_capabilities_are_flattened() {
        assert_eq!(unquote("\"SASL\" \"PLAIN LOGIN\""), "SASL PLAIN LOGIN");
        assert_eq!(unquote("\"STARTTLS\""), "STARTTLS");
        let caps = vec![
            "IMPLEMENTATION Dovecot".to_string(),
            "SASL".to_string(),
            "STARTTLS".to_string(),
        ];
        assert!(!Sieve::auth_exposure(&caps).plaintext_auth_offered);
        let caps = vec!["SASL PLAIN".to_string()];
        assert!(Sieve::auth_exposure(&caps).plaintext_auth_offered);
    }
}
