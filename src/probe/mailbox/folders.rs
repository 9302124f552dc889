//! Folder roles: the server's special-use attributes (RFC 6154) first, then
//! the usual German and English names, as mail clients name them. Names on
//! the wire are modified UTF-7 (RFC 3501 §5.1.3), so "Entwürfe" arrives as
//! "Entw&APw-rfe"; [`decode_mutf7`] gives the readable name.

use crate::evidence::{FolderRole, RoleSource};
use base64::Engine;

/// The role of a folder from its LIST attributes and its name.
pub fn role(
    attributes: &[String],
    name: &str,
    delimiter: Option<&str>,
) -> (FolderRole, RoleSource) {
    for attribute in attributes {
        let role = match attribute.to_ascii_lowercase().as_str() {
            "\\sent" => FolderRole::Sent,
            "\\drafts" => FolderRole::Drafts,
            "\\trash" => FolderRole::Trash,
            "\\junk" => FolderRole::Junk,
            "\\archive" => FolderRole::Archive,
            _ => continue,
        };
        return (role, RoleSource::SpecialUse);
    }
    if name.eq_ignore_ascii_case("INBOX") {
        return (FolderRole::Inbox, RoleSource::Name);
    }
    let readable = decode_mutf7(name).to_lowercase();
    let last = delimiter
        .filter(|d| !d.is_empty())
        .and_then(|d| readable.rsplit(d).next())
        .unwrap_or(&readable)
        .trim();
    let role = match last {
        "sent"
        | "sent items"
        | "sent messages"
        | "sent mail"
        | "gesendet"
        | "gesendete elemente"
        | "gesendete objekte"
        | "gesendete nachrichten" => FolderRole::Sent,
        "drafts" | "draft" | "entwürfe" | "entwuerfe" | "entwurf" => FolderRole::Drafts,
        "trash"
        | "deleted"
        | "deleted items"
        | "deleted messages"
        | "bin"
        | "papierkorb"
        | "gelöscht"
        | "gelöschte elemente"
        | "gelöschte objekte" => FolderRole::Trash,
        "junk" | "spam" | "junk e-mail" | "junk-e-mail" | "junk email" | "bulk mail" => {
            FolderRole::Junk
        }
        "archive" | "archives" | "archiv" => FolderRole::Archive,
        _ => return (FolderRole::Other, RoleSource::None),
    };
    (role, RoleSource::Name)
}

/// Decodes modified UTF-7; a malformed part is kept as it was.
pub fn decode_mutf7(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('-') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let encoded = &after[..end];
        if encoded.is_empty() {
            out.push('&');
        } else {
            let standard = encoded.replace(',', "/");
            let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(standard.as_bytes())
                .ok()
                .filter(|bytes| bytes.len() % 2 == 0)
                .and_then(|bytes| {
                    let units: Vec<u16> = bytes
                        .chunks(2)
                        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                        .collect();
                    String::from_utf16(&units).ok()
                });
            match decoded {
                Some(text) => out.push_str(&text),
                None => out.push_str(&rest[start..start + 2 + end]),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_use_wins_over_the_name() {
        let (role, source) = role(
            &["\\HasNoChildren".into(), "\\Sent".into()],
            "Foo",
            Some("/"),
        );
        assert_eq!((role, source), (FolderRole::Sent, RoleSource::SpecialUse));
    }

    #[test]
    fn german_and_english_names_are_recognised() {
        for (name, expected) in [
            ("INBOX", FolderRole::Inbox),
            ("Gesendete Elemente", FolderRole::Sent),
            ("INBOX.Sent", FolderRole::Sent),
            ("Entw&APw-rfe", FolderRole::Drafts),
            ("Gel&APY-schte Elemente", FolderRole::Trash),
            ("Papierkorb", FolderRole::Trash),
            ("Spam", FolderRole::Junk),
            ("Archiv", FolderRole::Archive),
            ("Projekte", FolderRole::Other),
        ] {
            assert_eq!(role(&[], name, Some(".")).0, expected, "{name}");
        }
    }

    #[test]
    fn modified_utf7_decodes() {
        assert_eq!(decode_mutf7("Entw&APw-rfe"), "Entwürfe");
        assert_eq!(decode_mutf7("A&-B"), "A&B");
        assert_eq!(decode_mutf7("&Jjo-!"), "☺!");
        assert_eq!(decode_mutf7("broken&"), "broken&");
        assert_eq!(decode_mutf7("bad&@@@-x"), "bad&@@@-x");
    }
}
