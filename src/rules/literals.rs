//! String literals compared with enum-valued evidence fields. CEL is
//! dynamically typed, so `a.rdap.value.classification == 'adequate'` is
//! simply false for every subject when the evidence writes `adequacy`:
//! the rule loads, its examples (written by the same hand) hold, and a
//! server in an adequacy country silently never needs a transfer basis
//! (issue 14, GOV-002). `mailaudit rules check` therefore compares every
//! literal in `path == 'x'`, `path != 'x'`, `'x' == path` and
//! `path in ['x', 'y']` with the values the report's JSON Schema allows.
//!
//! The schema is the rules' view of the evidence
//! (`tables::schema::rule_view`): the report's, with the classes the
//! dated tables add at evaluation time.
//!
//! The field is found by following the path's segments through the schema
//! (`rdap` → `Attempt_for_RdapNetwork`, `value` → `RdapNetwork`,
//! `classification` → `CountryClass`). A path's first segment is a
//! variable (`endpoint`, a binding or a comprehension variable) whose type
//! is not known, so every object with the next property is a candidate.
//! A literal is refused only when every candidate field is a string enum
//! and none allows it: a path that matches no field, or matches a free
//! string anywhere (`kind` is a tag in one type and free text in another),
//! is left alone rather than refused by a guess.

use super::{Rule, RuleError};
use serde_json::Value as Json;
use std::collections::{BTreeSet, HashMap};

/// The objects of a JSON Schema with their properties, for following
/// field paths.
pub struct SchemaIndex<'s> {
    root: &'s Json,
    /// Every schema object that has `properties`.
    objects: Vec<&'s serde_json::Map<String, Json>>,
    /// Object index by address, to resolve `$ref`s to indices.
    by_address: HashMap<*const Json, usize>,
    /// The objects that have a property of this name.
    with_property: HashMap<&'s str, Vec<usize>>,
}

/// What a property's schema says about its values.
enum Field {
    /// A string enum (nullable or not): the values it allows.
    Enum(BTreeSet<String>),
    /// Anything else: free text, numbers, objects.
    Other,
}

impl<'s> SchemaIndex<'s> {
    /// Indexes `schema` (a JSON Schema with `$defs`, as schemars writes it).
    pub fn new(schema: &'s Json) -> SchemaIndex<'s> {
        let mut index = SchemaIndex {
            root: schema,
            objects: Vec::new(),
            by_address: HashMap::new(),
            with_property: HashMap::new(),
        };
        index.collect(schema);
        index
    }

    fn collect(&mut self, node: &'s Json) {
        match node {
            Json::Object(map) => {
                if let Some(Json::Object(properties)) = map.get("properties") {
                    let at = self.objects.len();
                    self.objects.push(properties);
                    self.by_address.insert(node as *const Json, at);
                    for name in properties.keys() {
                        self.with_property.entry(name).or_default().push(at);
                    }
                }
                for value in map.values() {
                    self.collect(value);
                }
            }
            Json::Array(items) => items.iter().for_each(|item| self.collect(item)),
            _ => {}
        }
    }

    /// The target of a `#/$defs/Name` reference.
    fn follow(&self, node: &'s Json) -> Option<&'s Json> {
        let name = node.get("$ref")?.as_str()?.strip_prefix("#/$defs/")?;
        self.root.get("$defs")?.get(name)
    }

    /// The objects a property's value can be (through `$ref`, `anyOf`,
    /// `oneOf` and `allOf`).
    fn objects_of(&self, node: &'s Json, out: &mut BTreeSet<usize>, depth: usize) {
        if depth > 16 {
            return;
        }
        if let Some(&at) = self.by_address.get(&(node as *const Json)) {
            out.insert(at);
        }
        if let Some(target) = self.follow(node) {
            self.objects_of(target, out, depth + 1);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for child in node.get(key).and_then(Json::as_array).into_iter().flatten() {
                self.objects_of(child, out, depth + 1);
            }
        }
    }

    fn field(&self, node: &'s Json, depth: usize) -> Field {
        if depth > 16 {
            return Field::Other;
        }
        if let Some(target) = self.follow(node) {
            return self.field(target, depth + 1);
        }
        if let Some(values) = node.get("enum").and_then(Json::as_array) {
            let strings: BTreeSet<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            return if strings.is_empty() {
                Field::Other
            } else {
                Field::Enum(strings)
            };
        }
        if let Some(value) = node.get("const").and_then(Json::as_str) {
            return Field::Enum(BTreeSet::from([value.to_string()]));
        }
        let mut found = BTreeSet::new();
        let mut any = false;
        for key in ["anyOf", "oneOf"] {
            for child in node.get(key).and_then(Json::as_array).into_iter().flatten() {
                // `Option<Enum>` is `anyOf [enum, {type: null}]`.
                if child.get("type").and_then(Json::as_str) == Some("null") {
                    continue;
                }
                any = true;
                match self.field(child, depth + 1) {
                    Field::Enum(values) => found.extend(values),
                    Field::Other => return Field::Other,
                }
            }
        }
        if any && !found.is_empty() {
            Field::Enum(found)
        } else {
            Field::Other
        }
    }

    /// The values the field at `path` (variable first) allows, when every
    /// field the path can lead to is a string enum; `None` otherwise.
    pub fn allowed(&self, path: &[&str]) -> Option<BTreeSet<String>> {
        let (field, properties) = path.get(1..)?.split_last()?;
        let mut current: BTreeSet<usize> = match properties.first() {
            Some(first) => self.with_property.get(first)?.iter().copied().collect(),
            None => self.with_property.get(field)?.iter().copied().collect(),
        };
        for (step, name) in properties.iter().enumerate() {
            let next_name = properties.get(step + 1).unwrap_or(field);
            let mut next = BTreeSet::new();
            for &at in &current {
                if let Some(node) = self.objects[at].get(*name) {
                    self.objects_of(node, &mut next, 0);
                }
            }
            next.retain(|&at| self.objects[at].contains_key(*next_name));
            current = next;
        }
        let mut allowed = BTreeSet::new();
        for at in current.iter() {
            match self.field(self.objects[*at].get(*field)?, 0) {
                Field::Enum(values) => allowed.extend(values),
                Field::Other => return None,
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// Every literal in `rule`'s expressions that is compared with an enum
/// field the schema does not let hold it, as file:line errors.
pub fn literal_problems(rule: &Rule, schema: &SchemaIndex) -> Vec<RuleError> {
    let mut problems = Vec::new();
    for expression in rule.expressions() {
        for comparison in comparisons(&expression.source) {
            let path: Vec<&str> = comparison.path.split('.').collect();
            let Some(allowed) = schema.allowed(&path) else {
                continue;
            };
            if allowed.contains(&comparison.literal) {
                continue;
            }
            let before = &expression.source[..comparison.offset];
            let line = expression.line + before.matches('\n').count();
            let column = match before.rfind('\n') {
                Some(newline) => before[newline + 1..].chars().count() + 1,
                None => expression.column + before.chars().count(),
            };
            problems.push(RuleError::Invalid {
                file: rule.file.clone(),
                line,
                column,
                reason: format!(
                    "'{}' is compared with '{}', a value the evidence never holds; the report schema allows {}",
                    comparison.path,
                    comparison.literal,
                    allowed
                        .iter()
                        .map(|v| format!("'{v}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    problems
}

/// A field path compared with a string literal.
#[derive(Debug, PartialEq)]
struct Comparison {
    path: String,
    literal: String,
    /// Byte offset of the literal in the expression.
    offset: usize,
}

#[derive(Debug, PartialEq)]
enum Token {
    Name(String),
    Dot,
    Text(String),
    Compare,
    Open(char),
    Close(char),
    Comma,
    Other,
}

/// CEL tokens with their byte offsets: names, dots, string literals,
/// `==`/`!=`, brackets and commas; everything else is `Other`.
fn tokens(source: &str) -> Vec<(usize, Token)> {
    let mut out = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = c.to_string();
                while let Some(&(_, n)) = chars
                    .peek()
                    .filter(|(_, n)| n.is_ascii_alphanumeric() || *n == '_')
                {
                    name.push(n);
                    chars.next();
                }
                Token::Name(name)
            }
            '.' => Token::Dot,
            '\'' | '"' => {
                let mut text = String::new();
                while let Some((_, n)) = chars.next() {
                    match n {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                text.push(escaped);
                            }
                        }
                        n if n == c => break,
                        n => text.push(n),
                    }
                }
                Token::Text(text)
            }
            '=' | '!' if chars.peek().is_some_and(|(_, n)| *n == '=') => {
                chars.next();
                Token::Compare
            }
            '(' | '[' | '{' => Token::Open(c),
            ')' | ']' | '}' => Token::Close(c),
            ',' => Token::Comma,
            _ => Token::Other,
        };
        out.push((at, token));
    }
    out
}

/// The dotted path of names ending at token `end` (inclusive), if it has
/// at least two segments and is not a method call's receiver chain.
fn path_ending_at(tokens: &[(usize, Token)], end: usize) -> Option<String> {
    let mut segments = Vec::new();
    let mut at = end;
    loop {
        let (_, Token::Name(name)) = &tokens[at] else {
            return None;
        };
        segments.push(name.as_str());
        if at >= 2 && tokens[at - 1].1 == Token::Dot {
            at -= 2;
        } else {
            break;
        }
    }
    // `x.f(…).g == 'a'` or `m[k].g == 'a'`: the chain does not start at a
    // variable, so its type is unknown.
    if at > 0 && tokens[at - 1].1 == Token::Dot {
        return None;
    }
    segments.reverse();
    (segments.len() >= 2).then(|| segments.join("."))
}

/// The path starting at token `start`, and the index after it.
fn path_starting_at(tokens: &[(usize, Token)], start: usize) -> Option<(String, usize)> {
    let mut at = start;
    while matches!(tokens.get(at + 1), Some((_, Token::Dot)))
        && matches!(tokens.get(at + 2), Some((_, Token::Name(_))))
    {
        at += 2;
    }
    // A call or an index continues the expression: not a plain field.
    if matches!(tokens.get(at + 1), Some((_, Token::Open(_)))) {
        return None;
    }
    path_ending_at(tokens, at).map(|path| (path, at + 1))
}

fn comparisons(source: &str) -> Vec<Comparison> {
    let tokens = tokens(source);
    let mut found = Vec::new();
    for (index, (_, token)) in tokens.iter().enumerate() {
        let is_in = *token == Token::Name("in".into());
        if *token != Token::Compare && !is_in {
            continue;
        }
        // `path == 'x'`, `path in ['x', …]`
        if index > 0
            && let Some(path) = path_ending_at(&tokens, index - 1)
        {
            if is_in {
                if let Some((_, Token::Open('['))) = tokens.get(index + 1) {
                    for (offset, token) in tokens[index + 2..].iter() {
                        match token {
                            Token::Text(literal) => found.push(Comparison {
                                path: path.clone(),
                                literal: literal.clone(),
                                offset: *offset,
                            }),
                            Token::Comma => {}
                            _ => break,
                        }
                    }
                }
            } else if let Some((offset, Token::Text(literal))) = tokens.get(index + 1) {
                found.push(Comparison {
                    path,
                    literal: literal.clone(),
                    offset: *offset,
                });
            }
            continue;
        }
        // `'x' == path`
        if !is_in
            && index > 0
            && let (offset, Token::Text(literal)) = &tokens[index - 1]
            && let Some((path, _)) = path_starting_at(&tokens, index + 1)
        {
            found.push(Comparison {
                path,
                literal: literal.clone(),
                offset: *offset,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::schema;

    fn rule_with(when: &str) -> Rule {
        let text = format!(
            "id = \"GOV-002\"\narea = \"governance\"\nsubject = \"domain\"\nseverity = \"high\"\nreferences = [\"dsgvo-art-44\"]\ntitle = {{ de = \"a\", en = \"b\" }}\nremediation = {{ de = \"a\", en = \"b\" }}\npass = {{ de = \"a\", en = \"b\" }}\n\n[[fail]]\nwhen = \"{when}\"\ndetail = {{ de = \"a\", en = \"b\" }}\n"
        );
        super::super::parse("custom/GOV-002.toml", &text).expect("the rule parses")
    }

    fn problems(when: &str) -> Vec<String> {
        let schema = crate::rules::tables::schema::rule_view(schema::generate());
        let index = SchemaIndex::new(&schema);
        literal_problems(&rule_with(when), &index)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn comparing_the_country_class_with_adequate_is_refused_with_file_line_and_allowed_values() {
        // Given a rule comparing the enum field with a value it never holds
        let when =
            "domain.location.value.addresses.exists(a, a.rdap.value.classification == 'adequate')";
        let found = problems(when);
        // Then the check names file:line:column of the literal (`when = "`
        // is 8 characters), the literal and the allowed values
        assert_eq!(found.len(), 1, "{found:?}");
        let column = 9 + when.find("'adequate'").unwrap();
        assert!(
            found[0].starts_with(&format!("custom/GOV-002.toml:11:{column}: ")),
            "{}",
            found[0]
        );
        assert!(found[0].contains("'adequate'"), "{}", found[0]);
        assert!(
            found[0].contains("'adequacy', 'eea', 'third-country'"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn in_lists_inequality_and_reversed_comparisons_are_checked_too() {
        assert_eq!(
            problems("domain.location.value.addresses.exists(a, a.rdap.value.classification in ['third-country', 'adequate'])").len(),
            1
        );
        assert_eq!(
            problems("domain.location.value.addresses.exists(a, a.rdap.value.classification != 'adequate')").len(),
            1
        );
        assert_eq!(
            problems("domain.location.value.addresses.exists(a, 'adequate' == a.rdap.value.classification)").len(),
            1
        );
        assert_eq!(problems("domain.location.status == 'complete'").len(), 1);
    }

    #[test]
    fn allowed_values_free_text_fields_and_unknown_paths_pass() {
        for when in [
            "domain.location.value.addresses.exists(a, a.rdap.value.classification in ['third-country', 'adequacy'])",
            "domain.location.status == 'completed'",
            // TlsScanEvidence.classification is free text (the table's source).
            "has(endpoint.tls_scan.value) && endpoint.tls_scan.value.classification == 'x'",
            // `kind` is a tag in Source and free text in KeyExchangeResult.
            "domain.mx_hosts.exists(s, s.kind == 'anything')",
            "retention.nothing_like_this == 'x'",
            "legacy == 'x'",
        ] {
            assert_eq!(problems(when), Vec::<String>::new(), "{when}");
        }
    }

    #[test]
    fn literals_are_found_with_their_paths() {
        let found =
            comparisons("a.b.c == 'x' && f(y).z != \"w\" && 'v' == d.e && q.r in ['s', 't']");
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|c| (c.path.as_str(), c.literal.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("a.b.c", "x"), ("d.e", "v"), ("q.r", "s"), ("q.r", "t")]
        );
    }
}
