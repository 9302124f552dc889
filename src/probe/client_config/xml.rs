//! A minimal, bounded XML reader for the few elements autoconfig and
//! autodiscover files need: start and end tags with attributes, and text.
//!
//! # Why not an XML crate
//!
//! The files are at most 64 KiB (the fetch refuses more), and we read five
//! or six leaf elements from them. quick-xml would do, but it would be the
//! only XML user in the tree; this reader is ~150 lines with tests, and it
//! refuses what a hostile server could use against a parser: DTDs (so no
//! entity expansion), nesting deeper than [`MAX_DEPTH`], more than
//! [`MAX_EVENTS`] tags. Namespace prefixes are dropped (`a:Protocol` is
//! `Protocol`), which is all autodiscover's namespaced answers need.

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// Most tags and texts accepted.
pub const MAX_EVENTS: usize = 8192;

/// One piece of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A start tag (also a self-closing one, which is followed by its `End`).
    Start {
        name: String,
        attributes: Vec<(String, String)>,
    },
    End(String),
    /// Text between tags, entities decoded, trimmed; empty text is dropped.
    Text(String),
}

/// Reads `input` into events, or says where it is not the XML we accept.
pub fn events(input: &str) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = input.trim_start_matches('\u{feff}');
    while !rest.is_empty() {
        if out.len() > MAX_EVENTS {
            return Err(format!("more than {MAX_EVENTS} tags"));
        }
        let Some(open) = rest.find('<') else {
            push_text(&mut out, rest)?;
            break;
        };
        push_text(&mut out, &rest[..open])?;
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").ok_or("unterminated CDATA section")?;
            let text = after[..end].trim();
            if !text.is_empty() {
                out.push(Event::Text(text.to_string()));
            }
            rest = &after[end + 3..];
        } else if rest.starts_with("<!") {
            return Err("document type declarations are not accepted".to_string());
        } else if let Some(after) = rest.strip_prefix("<?") {
            let end = after
                .find("?>")
                .ok_or("unterminated processing instruction")?;
            rest = &after[end + 2..];
        } else {
            let end = tag_end(rest).ok_or("unterminated tag")?;
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let name = local(name.trim());
                match stack.pop() {
                    Some(open) if open == name => out.push(Event::End(name)),
                    Some(open) => return Err(format!("</{name}> closes <{open}>")),
                    None => return Err(format!("</{name}> without a start tag")),
                }
            } else {
                let (tag, empty) = match tag.strip_suffix('/') {
                    Some(tag) => (tag, true),
                    None => (tag, false),
                };
                let (name, attributes) = start_tag(tag)?;
                out.push(Event::Start {
                    name: name.clone(),
                    attributes,
                });
                if empty {
                    out.push(Event::End(name));
                } else {
                    stack.push(name);
                    if stack.len() > MAX_DEPTH {
                        return Err(format!("nested deeper than {MAX_DEPTH}"));
                    }
                }
            }
        }
    }
    match stack.last() {
        Some(open) => Err(format!("<{open}> is never closed")),
        None => Ok(out),
    }
}

/// The `>` that ends the tag at the start of `rest`, outside quotes.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (index, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(index),
            _ => {}
        }
    }
    None
}

fn start_tag(tag: &str) -> Result<(String, Vec<(String, String)>), String> {
    let tag = tag.trim();
    let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
    let name = local(&tag[..name_end]);
    if name.is_empty() {
        return Err("a tag without a name".to_string());
    }
    let mut attributes = Vec::new();
    let mut rest = tag[name_end..].trim_start();
    while !rest.is_empty() {
        let equals = rest
            .find('=')
            .ok_or_else(|| format!("<{name}>: attribute without a value"))?;
        let key = local(rest[..equals].trim());
        let value_part = rest[equals + 1..].trim_start();
        let quote = value_part
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| format!("<{name}>: attribute {key} is not quoted"))?;
        let close = value_part[1..]
            .find(quote)
            .ok_or_else(|| format!("<{name}>: attribute {key} is not closed"))?;
        attributes.push((key, decode(&value_part[1..1 + close])?));
        rest = value_part[close + 2..].trim_start();
    }
    Ok((name, attributes))
}

/// The name without a namespace prefix.
fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

fn push_text(out: &mut Vec<Event>, text: &str) -> Result<(), String> {
    let text = text.trim();
    if !text.is_empty() {
        out.push(Event::Text(decode(text)?));
    }
    Ok(())
}

/// The five predefined entities and character references (XML 1.0 §4.6, §4.1).
fn decode(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..]
            .find(';')
            .filter(|s| *s <= 10)
            .ok_or("an '&' that starts no entity")?;
        let entity = &rest[amp + 1..amp + semi];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = entity.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &rest[amp + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_attributes_text_and_entities() {
        let events = events(
            "<?xml version=\"1.0\"?><!-- c --><a:root x='1' y=\"a&amp;b\"><b/>t &lt;1&#x3e;<![CDATA[ raw<> ]]></a:root>",
        )
        .unwrap();
        assert_eq!(
            events,
            vec![
                Event::Start {
                    name: "root".into(),
                    attributes: vec![("x".into(), "1".into()), ("y".into(), "a&b".into())]
                },
                Event::Start {
                    name: "b".into(),
                    attributes: vec![]
                },
                Event::End("b".into()),
                Event::Text("t <1>".into()),
                Event::Text("raw<>".into()),
                Event::End("root".into()),
            ]
        );
    }

    #[test]
    fn refuses_dtds_bad_nesting_and_depth() {
        assert!(
            events("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>")
                .unwrap_err()
                .contains("document type")
        );
        assert!(
            events("<a><b></a></b>")
                .unwrap_err()
                .contains("</a> closes <b>")
        );
        assert!(events("<a>").unwrap_err().contains("never closed"));
        assert!(events("<a>&bogus;</a>").unwrap_err().contains("&bogus;"));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(events(&deep).unwrap_err().contains("deeper"));
        assert!(events("<a x=1/>").unwrap_err().contains("not quoted"));
    }
}
