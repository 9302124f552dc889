//! The tag-list syntax shared by DKIM (RFC 6376 §3.2), DMARC (RFC 7489
//! §6.4), MTA-STS TXT (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3):
//! `tag=value` pairs separated by `;`, white space around both allowed, a
//! trailing `;` allowed, tag names compared case-insensitively.

/// One `tag=value` pair, trimmed, the name in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

/// A parsed tag list and the problems found on the way.
#[derive(Debug, Default)]
pub struct TagList {
    pub tags: Vec<Tag>,
    pub errors: Vec<String>,
}

impl TagList {
    /// The value of the first tag called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.value.as_str())
    }

    /// The name of the first tag, which must be the version tag `v`.
    pub fn first_name(&self) -> Option<&str> {
        self.tags.first().map(|t| t.name.as_str())
    }
}

/// Splits `record` into tags. A part without `=` and a repeated tag are
/// errors (RFC 6376 §3.2: "Tags with duplicate names MUST NOT occur").
pub fn parse(record: &str) -> TagList {
    let mut list = TagList::default();
    for part in record.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            list.errors
                .push(format!("'{part}' is not a tag=value pair"));
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            list.errors
                .push(format!("'{part}' has an invalid tag name"));
            continue;
        }
        if list.tags.iter().any(|t| t.name == name) {
            list.errors.push(format!("tag '{name}' appears twice"));
            continue;
        }
        list.tags.push(Tag {
            name,
            value: value.trim().to_string(),
        });
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_names_lower_cased() {
        let list = parse(" v = DMARC1 ;P=reject; rua=mailto:a@b.test ;");
        assert!(list.errors.is_empty(), "{:?}", list.errors);
        assert_eq!(list.first_name(), Some("v"));
        assert_eq!(list.get("p"), Some("reject"));
        assert_eq!(list.get("rua"), Some("mailto:a@b.test"));
        assert_eq!(list.get("sp"), None);
    }

    #[test]
    fn duplicates_and_bare_words_are_errors() {
        let list = parse("v=DMARC1; p=none; p=reject; garbage; 9x=1");
        assert_eq!(list.get("p"), Some("none"));
        assert_eq!(list.errors.len(), 3, "{:?}", list.errors);
        assert!(list.errors[0].contains("'p' appears twice"));
        assert!(list.errors[1].contains("'garbage'"));
    }
}
