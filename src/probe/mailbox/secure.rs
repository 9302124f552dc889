//! The encrypted connection a password may travel over: TCP under the
//! connect timeout, STARTTLS where the port needs it (bounded lines, timed
//! steps), then TLS 1.2+ with the scan's trust store. The password is never
//! sent in clear, and only over a verified certificate unless the user
//! passed `--accept-invalid-certs` (recorded in the evidence).

use super::scope::Server;
use crate::probe::ProbeContext;
use crate::probe::connection::LineConnection;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How TLS starts on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// TLS from the first byte (993, 995).
    Implicit,
    /// IMAP `STARTTLS` (RFC 9051 §6.2.1).
    ImapStarttls,
    /// POP3 `STLS` (RFC 2595 §4).
    Pop3Stls,
    /// ManageSieve `STARTTLS` after the capability greeting (RFC 5804 §2.2).
    SieveStarttls,
}

/// An encrypted, possibly verified connection.
pub struct Secured {
    pub stream: TlsStream<TcpStream>,
    /// The certificate verified against the trust store for the host name.
    pub verified: bool,
    /// Capability lines a ManageSieve server sends again after STARTTLS are
    /// left for the caller to read.
    pub description: String,
}

/// Connects to `server` and starts TLS. Errors are reasons for evidence.
pub async fn connect(
    server: &Server,
    start: Start,
    context: &ProbeContext,
    accept_invalid: bool,
) -> Result<Secured, String> {
    let host = server.host();
    let port = server.address().port();
    let tcp = tokio::time::timeout(
        context.connect_timeout,
        TcpStream::connect(server.address()),
    )
    .await
    .map_err(|_| {
        format!(
            "{host}:{port}: no TCP connection within {:?}",
            context.connect_timeout
        )
    })?
    .map_err(|error| format!("{host}:{port} ({}): {error}", server.address().ip()))?;
    let tcp = match start {
        Start::Implicit => tcp,
        _ => starttls(tcp, start, context).await?,
    };
    let server_name = ServerName::try_from(host.to_string())
        .map_err(|error| format!("{host} is not a valid TLS server name: {error}"))?;
    let verifier = Arc::new(LoginVerifier {
        inner: context.trust.verifier.clone(),
        accept_invalid,
        verified: AtomicBool::new(false),
        error: std::sync::Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(context.trust.provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|error| format!("TLS configuration: {error}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let handshake = TlsConnector::from(Arc::new(config)).connect(server_name, tcp);
    let stream = match tokio::time::timeout(context.step_timeout, handshake).await {
        Err(_) => {
            return Err(format!(
                "{host}:{port}: TLS handshake did not finish within {:?}",
                context.step_timeout
            ));
        }
        Ok(Err(error)) => {
            let why = verifier
                .error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .map(|e| {
                    format!(
                        "the certificate did not verify ({e}); no password is sent over unverified TLS unless --accept-invalid-certs is given"
                    )
                })
                .unwrap_or_else(|| format!("TLS handshake failed: {error}"));
            return Err(format!("{host}:{port}: {why}"));
        }
        Ok(Ok(stream)) => stream,
    };
    let scheme = match start {
        Start::Implicit if port == 995 => "pop3s",
        Start::Implicit => "imaps",
        Start::ImapStarttls => "imap",
        Start::Pop3Stls => "pop3",
        Start::SieveStarttls => "sieve",
    };
    Ok(Secured {
        stream,
        verified: verifier.verified.load(Ordering::SeqCst),
        description: format!("{scheme}://{host}:{port}"),
    })
}

/// The plaintext part: greeting, the STARTTLS command, its OK. Nothing the
/// server sent after the OK is kept (RFC 9051 §6.2.1: it must be discarded).
async fn starttls(
    tcp: TcpStream,
    start: Start,
    context: &ProbeContext,
) -> Result<TcpStream, String> {
    let mut line = LineConnection::new(tcp, context.step_timeout);
    let fail = |e: crate::probe::connection::DialogueError| format!("before STARTTLS: {e}");
    match start {
        Start::ImapStarttls => {
            line.read_line("the IMAP greeting").await.map_err(fail)?;
            line.send("s1 STARTTLS").await.map_err(fail)?;
            let reply = line
                .read_until("the STARTTLS reply", |l| l.starts_with("s1 "))
                .await
                .map_err(fail)?;
            ok_or(reply.last(), "s1 OK")?;
        }
        Start::Pop3Stls => {
            line.read_line("the POP3 greeting").await.map_err(fail)?;
            line.send("STLS").await.map_err(fail)?;
            let reply = line.read_line("the STLS reply").await.map_err(fail)?;
            ok_or(Some(&reply), "+OK")?;
        }
        Start::SieveStarttls => {
            line.read_until("the ManageSieve greeting", is_sieve_end)
                .await
                .map_err(fail)?;
            line.send("STARTTLS").await.map_err(fail)?;
            let reply = line
                .read_until("the STARTTLS reply", is_sieve_end)
                .await
                .map_err(fail)?;
            ok_or(reply.last(), "OK")?;
        }
        Start::Implicit => {}
    }
    let (tcp, unread, _) = line.into_parts();
    if unread > 0 {
        return Err(format!(
            "the server sent {unread} bytes after its STARTTLS reply, before TLS (injection risk); the audit stops here"
        ));
    }
    Ok(tcp)
}

/// A ManageSieve response ends with an OK, NO or BYE line.
pub fn is_sieve_end(line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    upper.starts_with("OK") || upper.starts_with("NO") || upper.starts_with("BYE")
}

fn ok_or(reply: Option<&String>, expected: &str) -> Result<(), String> {
    match reply {
        Some(reply)
            if reply
                .to_ascii_uppercase()
                .starts_with(&expected.to_ascii_uppercase()) =>
        {
            Ok(())
        }
        Some(reply) => Err(format!("STARTTLS refused: {reply}")),
        None => Err("no STARTTLS reply".into()),
    }
}

/// Verifies with the trust store, and remembers whether that worked.
#[derive(Debug)]
struct LoginVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    accept_invalid: bool,
    verified: AtomicBool,
    error: std::sync::Mutex<Option<String>>,
}

impl ServerCertVerifier for LoginVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => {
                self.verified.store(true, Ordering::SeqCst);
                Ok(verified)
            }
            Err(error) => {
                if let Ok(mut slot) = self.error.lock() {
                    *slot = Some(error.to_string());
                }
                if self.accept_invalid {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(error)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match self.inner.verify_tls12_signature(message, cert, dss) {
            Err(_) if self.accept_invalid && !self.verified.load(Ordering::SeqCst) => {
                Ok(HandshakeSignatureValid::assertion())
            }
            other => other,
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match self.inner.verify_tls13_signature(message, cert, dss) {
            Err(_) if self.accept_invalid && !self.verified.load(Ordering::SeqCst) => {
                Ok(HandshakeSignatureValid::assertion())
            }
            other => other,
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
