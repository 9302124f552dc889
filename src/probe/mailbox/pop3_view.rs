//! The POP3 view of the mailbox (RFC 1939): STAT and UIDL after USER/PASS
//! over TLS, then QUIT. No RETR, TOP or DELE is ever sent, so nothing is
//! marked or removed; the counts show what a POP3 client would take away,
//! beside the IMAP view of the same mailbox (RET-007).

use super::scope::Server;
use super::secure::{self, Start};
use crate::credentials::Password;
use crate::evidence::{Attempt, Pop3View};
use crate::probe::connection::LineConnection;
use crate::probe::context::ProbeContext;
use tokio::io::AsyncWriteExt;
use zeroize::Zeroizing;

/// Most UIDL lines read (one per message).
const MAX_UIDL: u64 = 5_000_000;

/// STAT and UIDL for `user` on `host:port` (995 implicit TLS, else STLS).
pub async fn audit(
    server: &Server,
    user: &str,
    password: &Password,
    context: &ProbeContext,
    accept_invalid: bool,
) -> Attempt<Pop3View> {
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
) -> Result<Pop3View, String> {
    let start = if server.implicit_tls() {
        Start::Implicit
    } else {
        Start::Pop3Stls
    };
    let secured = secure::connect(server, start, context, accept_invalid).await?;
    let server = secured.description.clone();
    let step = context.step_timeout;
    let text = |e: crate::probe::connection::DialogueError| e.to_string();
    let mut line = LineConnection::new(secured.stream, step);
    if start == Start::Implicit {
        expect_ok(
            line.read_line("the POP3 greeting").await.map_err(text)?,
            "greeting",
        )?;
    }
    line.send(&format!("USER {user}")).await.map_err(text)?;
    expect_ok(
        line.read_line("the USER reply").await.map_err(text)?,
        "USER",
    )?;
    // PASS goes past the connection's transcript.
    let (mut stream, _, transcript) = line.into_parts();
    let pass = Zeroizing::new(format!("PASS {}\r\n", password.expose()));
    tokio::time::timeout(step, stream.write_all(pass.as_bytes()))
        .await
        .map_err(|_| format!("sending PASS took longer than {step:?}"))?
        .map_err(|e| e.to_string())?;
    let mut line = LineConnection::resume(stream, step, transcript);
    line.begin_step();
    expect_ok(
        line.read_line("the PASS reply").await.map_err(text)?,
        "login",
    )?;
    line.send("STAT").await.map_err(text)?;
    let stat = line.read_line("the STAT reply").await.map_err(text)?;
    let (messages, octets) = parse_stat(&stat).ok_or_else(|| format!("STAT: {stat}"))?;
    line.send("UIDL").await.map_err(text)?;
    let first = line.read_line("the UIDL reply").await.map_err(text)?;
    let mut unique_ids = 0;
    if first.starts_with("+OK") {
        loop {
            let entry = line.read_line("the UIDL listing").await.map_err(text)?;
            if entry == "." {
                break;
            }
            unique_ids += 1;
            if unique_ids > MAX_UIDL {
                return Err(format!("UIDL: more than {MAX_UIDL} lines"));
            }
        }
    }
    let _ = line.send("QUIT").await;
    Ok(Pop3View {
        server,
        messages,
        octets,
        unique_ids,
    })
}

fn expect_ok(reply: String, what: &str) -> Result<(), String> {
    if reply.starts_with("+OK") {
        Ok(())
    } else {
        Err(format!("POP3 {what} refused: {reply}"))
    }
}

/// `+OK 12 3456` → (12, 3456).
pub(crate) fn parse_stat(reply: &str) -> Option<(u64, u64)> {
    let mut words = reply.strip_prefix("+OK")?.split_whitespace();
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stat_replies_parse() {
        assert_eq!(super::parse_stat("+OK 12 3456"), Some((12, 3456)));
        assert_eq!(super::parse_stat("-ERR no"), None);
        assert_eq!(super::parse_stat("+OK x 1"), None);
    }
}
