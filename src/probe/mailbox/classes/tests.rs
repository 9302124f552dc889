use super::*;
use crate::probe::mailbox::fetch_stream::BatchError;

const PLAIN: &str = r#"("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)"#;

fn response(uid: u32, year: i32, bodystructure: &str, headers: &str) -> String {
    format!(
        "* {uid} FETCH (UID {uid} INTERNALDATE \"03-Feb-{year} 10:00:00 +0100\" RFC822.SIZE 42 BODYSTRUCTURE {bodystructure} BODY[HEADER.FIELDS (LIST-ID)] {{{}}}\r\n{headers})\r\n",
        headers.len()
    )
}

/// Reads one batch from `answer` into a tally, as the probe does.
async fn tally_of(answer: &str, wanted: &[u32]) -> (Result<String, BatchError>, Tally) {
    let classes = ClassFile::defaults().unwrap();
    let mut tally = Tally::default();
    let mut wanted: HashSet<u32> = wanted.iter().copied().collect();
    let mut stream = answer.as_bytes();
    let status = read_batch(&mut stream, "a7", MAX_RESPONSE, |r| {
        tally.add(r, &classes, &mut wanted, false)
    })
    .await;
    for _ in &wanted {
        tally.undated("not_returned");
    }
    (status, tally)
}

#[test]
fn runs_of_uids_become_ranges() {
    assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
    assert_eq!(uid_set(&[9]), "9");
    assert_eq!(uid_set(&[]), "");
}

#[tokio::test]
async fn every_message_is_counted_by_year_and_class_with_its_reason() {
    // Given a newsletter, a plain message, a malformed structure and a
    // response that cannot be read at all (with its UID).
    let answer = [
        response(1, 2024, PLAIN, "List-Id: <news.example>\r\n\r\n"),
        "* 2 EXISTS\r\n".to_string(),
        response(2, 2025, PLAIN, "\r\n"),
        response(3, 2025, r#"("text" "plain")"#, "\r\n"),
        "* 4 FETCH (UID 4 BODYSTRUCTURE ((\"text\")\r\n".to_string(),
        "a7 OK Fetch completed.\r\n".to_string(),
    ]
    .concat();
    // When the batch of UIDs 1..5 is read.
    let (status, tally) = tally_of(&answer, &[1, 2, 3, 4, 5]).await;
    // Then every UID is counted once, with why.
    assert_eq!(status.unwrap(), "OK");
    assert_eq!(tally.by_year[&2024]["bulk"], 1);
    assert_eq!(tally.by_year[&2025]["unclassified"], 2);
    assert_eq!(tally.undated, 2);
    let reasons: Vec<(&str, u32)> = tally
        .reasons
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        reasons,
        [
            ("malformed_bodystructure", 1),
            ("matched", 1),
            ("no_match", 1),
            ("not_returned", 1),
            ("unreadable_fetch_response", 1),
        ]
    );
}

#[tokio::test]
async fn a_fetch_of_a_uid_not_asked_for_is_not_counted() {
    let answer = [
        response(1, 2024, PLAIN, "\r\n"),
        response(1, 2024, PLAIN, "\r\n"),
        response(9, 2024, PLAIN, "\r\n"),
        "a7 OK done\r\n".to_string(),
    ]
    .concat();
    let (_, tally) = tally_of(&answer, &[1]).await;
    assert_eq!(tally.by_year[&2024]["unclassified"], 1);
}

#[tokio::test]
async fn a_refusal_leaves_the_messages_counted_as_not_returned() {
    let (status, tally) = tally_of("a7 NO [SERVERBUG] oops\r\n", &[1, 2]).await;
    assert_eq!(status.unwrap(), "NO");
    assert_eq!(tally.undated, 2);
    assert_eq!(tally.reasons["not_returned"], 2);
}

#[tokio::test]
async fn a_connection_closed_mid_fetch_is_an_error() {
    let cut = response(1, 2024, PLAIN, "List-Id: <news.example>\r\n\r\n");
    let (status, _) = tally_of(&cut[..cut.len() - 12], &[1]).await;
    assert!(matches!(status, Err(BatchError::Closed)), "{status:?}");
    let (status, _) = tally_of(&response(1, 2024, PLAIN, "\r\n"), &[1]).await;
    assert!(matches!(status, Err(BatchError::Closed)), "{status:?}");
}

#[tokio::test]
async fn data_after_the_completion_is_an_error() {
    let (status, _) = tally_of("a7 OK done\r\n* 3 EXISTS\r\n", &[]).await;
    assert!(matches!(status, Err(BatchError::Trailing)), "{status:?}");
}

#[tokio::test]
async fn a_response_beyond_the_bound_is_an_error() {
    let huge = format!("* 1 FETCH (UID 1 X {{{}}}\r\n", MAX_RESPONSE);
    let answer = format!("{huge}{})\r\na7 OK\r\n", "x".repeat(MAX_RESPONSE));
    let (status, _) = tally_of(&answer, &[1]).await;
    assert!(matches!(status, Err(BatchError::TooLong)), "{status:?}");
}
