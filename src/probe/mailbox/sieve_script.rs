//! A Sieve (RFC 5228) grammar subset, enough to find every `redirect`
//! action in a script with its `:copy` tag (RFC 3894) and whether it sits
//! inside a condition. It tokenises the whole language (strings with
//! escapes, `text:` multi-line strings, string lists, numbers with
//! quantifiers, tags, both comment forms) and parses commands, tests and
//! blocks (RFC 5228 §8), so a `redirect` inside a comment or a string is
//! never mistaken for one, as a regular expression would.
//!
//! Bounded: the script size and the nesting depth are limited, and every
//! error is a value, never a panic.

pub use crate::evidence::Redirect;
use thiserror::Error;

/// Largest script parsed (ManageSieve servers limit scripts far below this).
pub const MAX_SCRIPT: usize = 1 << 20;
/// Deepest nesting of blocks, test lists and string lists.
const MAX_DEPTH: usize = 32;

/// Why a script could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SieveError {
    #[error("the script is larger than {MAX_SCRIPT} bytes")]
    TooLarge,
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Identifier(String),
    Tag(String),
    Number(u64),
    Text(String),
    Punct(char),
}

/// Finds every `redirect` action in `script`.
pub fn redirects(script: &str) -> Result<Vec<Redirect>, SieveError> {
    if script.len() > MAX_SCRIPT {
        return Err(SieveError::TooLarge);
    }
    let tokens = tokenise(script)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        found: Vec::new(),
    };
    parser.commands(0, false)?;
    if let Some((line, _)) = parser.tokens.get(parser.at) {
        return Err(SieveError::Syntax {
            line: *line,
            message: "unexpected '}'".into(),
        });
    }
    Ok(parser.found)
}

fn syntax(line: usize, message: impl Into<String>) -> SieveError {
    SieveError::Syntax {
        line,
        message: message.into(),
    }
}

/// RFC 5228 §8.1: the lexical tokens, each with its line number.
fn tokenise(script: &str) -> Result<Vec<(usize, Token)>, SieveError> {
    let chars: Vec<char> = script.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let start = line;
                i += 2;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(start, "unterminated /* comment")),
                        Some('*') if chars.get(i + 1) == Some(&'/') => {
                            i += 2;
                            break;
                        }
                        Some('\n') => line += 1,
                        Some(_) => {}
                    }
                    i += 1;
                }
            }
            '"' => {
                let start = line;
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(start, "unterminated string")),
                        Some('"') => break,
                        // §2.4.2: a backslash quotes the next character.
                        Some('\\') => {
                            if let Some(&next) = chars.get(i + 1) {
                                text.push(next);
                                i += 1;
                            }
                        }
                        Some(&other) => {
                            if other == '\n' {
                                line += 1;
                            }
                            text.push(other);
                        }
                    }
                    i += 1;
                }
                i += 1;
                tokens.push((start, Token::Text(text)));
            }
            ':' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                if end == start {
                    return Err(syntax(line, "':' without a tag name"));
                }
                tokens.push((line, Token::Tag(chars[start..end].iter().collect())));
                i = end;
            }
            c if c.is_ascii_digit() => {
                let mut value: u64 = 0;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    value = value
                        .saturating_mul(10)
                        .saturating_add(u64::from(chars[i] as u8 - b'0'));
                    i += 1;
                }
                // §2.4.1: K, M and G multiply.
                let factor = match chars.get(i).map(|c| c.to_ascii_uppercase()) {
                    Some('K') => 1 << 10,
                    Some('M') => 1 << 20,
                    Some('G') => 1 << 30,
                    _ => 1,
                };
                if factor > 1 {
                    i += 1;
                }
                tokens.push((line, Token::Number(value.saturating_mul(factor))));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word.eq_ignore_ascii_case("text") && chars.get(i) == Some(&':') {
                    // §2.4.2: "text:" up to a line holding only ".";
                    // a leading ".." stands for ".".
                    let start_line = line;
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    i += 1;
                    line += 1;
                    let mut text = String::new();
                    loop {
                        if i >= chars.len() {
                            return Err(syntax(start_line, "unterminated text: block"));
                        }
                        let end = chars[i..]
                            .iter()
                            .position(|&c| c == '\n')
                            .map_or(chars.len(), |p| i + p);
                        let raw: String = chars[i..end].iter().collect();
                        let content = raw.trim_end_matches('\r');
                        i = end + 1;
                        line += 1;
                        if content == "." {
                            break;
                        }
                        text.push_str(content.strip_prefix('.').unwrap_or(content));
                        text.push('\n');
                    }
                    tokens.push((start_line, Token::Text(text)));
                } else {
                    tokens.push((line, Token::Identifier(word.to_ascii_lowercase())));
                }
            }
            '[' | ']' | '(' | ')' | '{' | '}' | ';' | ',' => {
                tokens.push((line, Token::Punct(c)));
                i += 1;
            }
            other => return Err(syntax(line, format!("unexpected character '{other}'"))),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    found: Vec<Redirect>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn line(&self) -> usize {
        self.tokens
            .get(self.at)
            .or(self.tokens.last())
            .map_or(1, |(l, _)| *l)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        token
    }

    fn expect(&mut self, punct: char) -> Result<(), SieveError> {
        match self.next() {
            Some(Token::Punct(p)) if p == punct => Ok(()),
            _ => Err(syntax(self.line(), format!("expected '{punct}'"))),
        }
    }

    /// §8.2 `commands = *command`, up to a closing '}' or the end.
    fn commands(&mut self, depth: usize, conditional: bool) -> Result<(), SieveError> {
        if depth > MAX_DEPTH {
            return Err(SieveError::TooDeep);
        }
        while let Some(token) = self.peek() {
            if *token == Token::Punct('}') {
                return Ok(());
            }
            self.command(depth, conditional)?;
        }
        Ok(())
    }

    /// `command = identifier arguments (";" / block)`.
    fn command(&mut self, depth: usize, conditional: bool) -> Result<(), SieveError> {
        let line = self.line();
        let Some(Token::Identifier(name)) = self.next() else {
            return Err(syntax(line, "expected a command"));
        };
        let control = matches!(name.as_str(), "if" | "elsif" | "else");
        let (tags, strings) = self.arguments(depth)?;
        if name == "redirect" {
            let address = strings
                .into_iter()
                .next()
                .ok_or_else(|| syntax(line, "redirect without an address"))?;
            let domain = address
                .rsplit_once('@')
                .map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
                .unwrap_or_default();
            self.found.push(Redirect {
                address,
                domain,
                copy: tags.iter().any(|t| t.eq_ignore_ascii_case("copy")),
                conditional,
            });
        }
        match self.next() {
            Some(Token::Punct(';')) => Ok(()),
            Some(Token::Punct('{')) => {
                self.commands(depth + 1, conditional || control)?;
                self.expect('}')
            }
            _ => Err(syntax(
                line,
                format!("'{name}' is not followed by ';' or a block"),
            )),
        }
    }

    /// `arguments = *argument [test / test-list]`; returns the tags and the
    /// strings of the command's own arguments (not of its tests).
    fn arguments(&mut self, depth: usize) -> Result<(Vec<String>, Vec<String>), SieveError> {
        let mut tags = Vec::new();
        let mut strings = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Tag(_)) => {
                    if let Some(Token::Tag(tag)) = self.next() {
                        tags.push(tag);
                    }
                }
                Some(Token::Number(_)) => {
                    self.next();
                }
                Some(Token::Text(_)) => {
                    if let Some(Token::Text(text)) = self.next() {
                        strings.push(text);
                    }
                }
                Some(Token::Punct('[')) => strings.extend(self.string_list()?),
                Some(Token::Punct('(')) => {
                    self.test_list(depth + 1)?;
                    return Ok((tags, strings));
                }
                Some(Token::Identifier(_)) => {
                    self.test(depth + 1)?;
                    return Ok((tags, strings));
                }
                _ => return Ok((tags, strings)),
            }
        }
    }

    fn string_list(&mut self) -> Result<Vec<String>, SieveError> {
        self.expect('[')?;
        let mut strings = Vec::new();
        loop {
            let line = self.line();
            match self.next() {
                Some(Token::Text(text)) => strings.push(text),
                _ => return Err(syntax(line, "expected a string in a string list")),
            }
            match self.next() {
                Some(Token::Punct(',')) => {}
                Some(Token::Punct(']')) => return Ok(strings),
                _ => return Err(syntax(line, "expected ',' or ']' in a string list")),
            }
        }
    }

    /// `test = identifier arguments`.
    fn test(&mut self, depth: usize) -> Result<(), SieveError> {
        if depth > MAX_DEPTH {
            return Err(SieveError::TooDeep);
        }
        let line = self.line();
        match self.next() {
            Some(Token::Identifier(_)) => self.arguments(depth).map(|_| ()),
            _ => Err(syntax(line, "expected a test")),
        }
    }

    /// `test-list = "(" test *("," test) ")"`.
    fn test_list(&mut self, depth: usize) -> Result<(), SieveError> {
        if depth > MAX_DEPTH {
            return Err(SieveError::TooDeep);
        }
        self.expect('(')?;
        loop {
            self.test(depth + 1)?;
            let line = self.line();
            match self.next() {
                Some(Token::Punct(',')) => {}
                Some(Token::Punct(')')) => return Ok(()),
                _ => return Err(syntax(line, "expected ',' or ')' in a test list")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unconditional_and_conditional_redirects() {
        let script = r#"require ["copy", "fileinto"];
# redirect "commented@out.example";
/* redirect "block@comment.example"; */
if header :contains "subject" "Rechnung" {
    redirect :copy "buchhaltung@extern.example";
} elsif anyof (header :is "x-a" "b", not exists "x-c") {
    fileinto "INBOX/Other";
}
redirect "Bob@Private-Mail.example";
"#;
        let found = redirects(script).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].address, "buchhaltung@extern.example");
        assert!(found[0].copy && found[0].conditional);
        assert_eq!(found[1].domain, "private-mail.example");
        assert!(!found[1].copy && !found[1].conditional);
    }

    #[test]
    fn strings_and_text_blocks_do_not_count() {
        let script = "require \"vacation\";\nvacation :days 7 text:\nredirect \"x@y.example\";\n..\n.\n;\nkeep;\n";
        assert!(redirects(script).unwrap().is_empty());
        assert!(redirects("if true { keep; }\nstop;\n").unwrap().is_empty());
    }

    #[test]
    fn escapes_and_quantities_parse() {
        let script = "if size :over 1M { redirect \"a\\\"b@c.example\"; }";
        let found = redirects(script).unwrap();
        assert_eq!(found[0].address, "a\"b@c.example");
    }

    #[test]
    fn broken_scripts_are_errors_with_a_line() {
        assert_eq!(
            redirects("keep;\nredirect \"a@b.example\"\n"),
            Err(syntax(2, "'redirect' is not followed by ';' or a block"))
        );
        assert!(matches!(
            redirects("if true { keep;"),
            Err(SieveError::Syntax { .. })
        ));
        assert!(matches!(
            redirects("\"open"),
            Err(SieveError::Syntax { .. })
        ));
        assert!(matches!(
            redirects("keep; }"),
            Err(SieveError::Syntax { .. })
        ));
        let deep = "if true {".repeat(100) + &"}".repeat(100);
        assert_eq!(redirects(&deep), Err(SieveError::TooDeep));
        let nested_tests = format!("if {}true{} {{ keep; }}", "not ".repeat(200), "");
        assert_eq!(redirects(&nested_tests), Err(SieveError::TooDeep));
    }
}
