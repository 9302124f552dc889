//! ManageSieve (RFC 5804) with the mailbox's credentials: STARTTLS,
//! AUTHENTICATE "PLAIN", LISTSCRIPTS, GETSCRIPT for each script, LOGOUT.
//! Nothing is uploaded, activated or deleted. Each script is parsed with the
//! Sieve subset in [`super::sieve_script`] for its redirects (LOC-002).

use super::scope::Server;
use super::secure::{self, Start, is_sieve_end};
use super::sieve_script::{self, MAX_SCRIPT};
use crate::credentials::Password;
use crate::evidence::{Attempt, SieveEvidence, SieveScript};
use crate::probe::connection::LineConnection;
use crate::probe::context::ProbeContext;
use base64::Engine;
use tokio::io::AsyncWriteExt;
use zeroize::Zeroizing;

/// Most scripts read.
const MAX_SCRIPTS: usize = 64;

/// Reads every script of `user` on `host:port`.
pub async fn audit(
    server: &Server,
    user: &str,
    password: &Password,
    context: &ProbeContext,
    accept_invalid: bool,
) -> Attempt<SieveEvidence> {
    run(server, user, password, context, accept_invalid)
        .await
        .into()
}

async fn run(
    server: &Server,
    user: &str,
    password: &Password,
    context: &ProbeContext,
    accept_invalid: bool,
) -> Result<SieveEvidence, String> {
    let secured = secure::connect(server, Start::SieveStarttls, context, accept_invalid).await?;
    let server = secured.description.clone();
    let step = context.step_timeout;
    let mut line = LineConnection::new(secured.stream, step);
    let text = |e: crate::probe::connection::DialogueError| e.to_string();
    // RFC 5804 §2.2: the capabilities again, now under TLS.
    line.read_until("the capabilities after STARTTLS", is_sieve_end)
        .await
        .map_err(text)?;
    // The credentials are written past the connection's transcript.
    let mut plain = Zeroizing::new(Vec::new());
    plain.push(0);
    plain.extend_from_slice(user.as_bytes());
    plain.push(0);
    plain.extend_from_slice(password.expose().as_bytes());
    let command = Zeroizing::new(format!(
        "AUTHENTICATE \"PLAIN\" \"{}\"\r\n",
        base64::engine::general_purpose::STANDARD.encode(plain.as_slice())
    ));
    let (mut stream, _, transcript) = line.into_parts();
    tokio::time::timeout(step, stream.write_all(command.as_bytes()))
        .await
        .map_err(|_| format!("sending AUTHENTICATE took longer than {step:?}"))?
        .map_err(|e| e.to_string())?;
    let mut line = LineConnection::resume(stream, step, transcript);
    line.begin_step();
    let reply = line
        .read_until("the AUTHENTICATE reply", is_sieve_end)
        .await
        .map_err(text)?;
    let last = reply.last().cloned().unwrap_or_default();
    if !last.to_ascii_uppercase().starts_with("OK") {
        return Err(format!("ManageSieve login refused: {last}"));
    }
    line.send("LISTSCRIPTS").await.map_err(text)?;
    let listing = line
        .read_until("the LISTSCRIPTS reply", is_sieve_end)
        .await
        .map_err(text)?;
    let mut scripts = Vec::new();
    for entry in listing
        .iter()
        .filter(|l| l.starts_with('"'))
        .take(MAX_SCRIPTS)
    {
        let Some((name, rest)) = quoted(entry) else {
            continue;
        };
        let active = rest.trim().eq_ignore_ascii_case("ACTIVE");
        let body = get_script(&mut line, &name).await?;
        let (redirects, parse_error) = match sieve_script::redirects(&body) {
            Ok(found) => (found, None),
            Err(error) => (Vec::new(), Some(error.to_string())),
        };
        scripts.push(SieveScript {
            name,
            active,
            size: body.len(),
            redirects,
            parse_error,
        });
    }
    let _ = line.send("LOGOUT").await;
    Ok(SieveEvidence { server, scripts })
}

/// A quoted string at the start of `text` and what follows it.
pub(crate) fn quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &text[at + 1..])),
            other => out.push(other),
        }
    }
    None
}

/// GETSCRIPT: `{size}` then the script, then OK (RFC 5804 §2.9).
pub(crate) async fn get_script<S>(
    line: &mut LineConnection<S>,
    name: &str,
) -> Result<String, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let text = |e: crate::probe::connection::DialogueError| e.to_string();
    let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
    line.send(&format!("GETSCRIPT \"{escaped}\""))
        .await
        .map_err(text)?;
    let first = line.read_line("the GETSCRIPT reply").await.map_err(text)?;
    let size: usize = first
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.trim_end_matches('}').trim_end_matches('+').parse().ok())
        .ok_or_else(|| format!("GETSCRIPT {name}: {first}"))?;
    if size > MAX_SCRIPT {
        return Err(format!(
            "GETSCRIPT {name}: {size} bytes is more than the {MAX_SCRIPT} read"
        ));
    }
    let body = line.read_bytes(size, "the script").await.map_err(text)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let end = line
        .read_until("the end of GETSCRIPT", is_sieve_end)
        .await
        .map_err(text)?;
    match end.last() {
        Some(last) if last.to_ascii_uppercase().starts_with("OK") => Ok(body),
        other => Err(format!(
            "GETSCRIPT {name}: {}",
            other.cloned().unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoted_names_parse() {
        assert_eq!(quoted("\"main\" ACTIVE"), Some(("main".into(), " ACTIVE")));
        assert_eq!(quoted("\"a\\\"b\""), Some(("a\"b".into(), "")));
        assert_eq!(quoted("\"open"), None);
    }
}
