//! A bounded reader for IMAP response data (RFC 3501 §4, RFC 9051 §4):
//! parenthesised lists, quoted strings, literals (`{n}` CRLF and n bytes),
//! `NIL`, numbers and atoms, including section atoms such as
//! `BODY[HEADER.FIELDS (LIST-ID)]`.
//!
//! What a server sends is untrusted: the reader never panics, never
//! recurses deeper than [`MAX_DEPTH`] lists, never reads past the input and
//! stops after [`MAX_ITEMS`] items, so a hostile or broken response costs at
//! most a linear scan and ends in a [`SexpError`].

use crate::probe::connection::literal_length;
use thiserror::Error;

/// Deepest list nesting accepted. A real BODYSTRUCTURE of a message with a
/// forwarded message inside a forwarded message stays far below this.
pub const MAX_DEPTH: usize = 48;
/// Most items (strings, atoms, lists) in one value.
pub const MAX_ITEMS: usize = 20_000;

/// One item of IMAP response data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `( … )`
    List(Vec<Value>),
    /// A quoted string or a literal, as raw bytes (8-bit data is possible).
    String(Vec<u8>),
    /// An atom or number, as sent (`UID`, `4711`, `BODY[TEXT]<0>`).
    Atom(String),
    /// `NIL`
    Nil,
}

impl Value {
    /// The text of a string or atom (lossy UTF-8); `None` for NIL and lists.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::String(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
            Value::Atom(atom) => Some(atom.clone()),
            _ => None,
        }
    }

    /// The list's items; `None` for anything else.
    pub fn list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// A number (an atom of digits, or a string of digits from a lenient
    /// server).
    pub fn number(&self) -> Option<u64> {
        self.text().and_then(|t| t.trim().parse().ok())
    }
}

/// Why response data could not be read. `at` is a byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SexpError {
    #[error("the data ends inside a {inside} (byte {at})")]
    UnexpectedEnd { inside: &'static str, at: usize },
    #[error("unexpected '{found}' at byte {at}")]
    Unexpected { found: char, at: usize },
    #[error("lists nested deeper than {MAX_DEPTH} (byte {at})")]
    TooDeep { at: usize },
    #[error("more than {MAX_ITEMS} items")]
    TooManyItems,
    #[error("malformed literal at byte {at}: {reason}")]
    BadLiteral { at: usize, reason: &'static str },
}

/// Reads one value (usually a list) from the start of `input`, skipping
/// leading spaces. Returns the value and the offset just past it.
pub fn read_value(input: &[u8]) -> Result<(Value, usize), SexpError> {
    let mut reader = Reader {
        input,
        pos: 0,
        items: 0,
    };
    reader.skip_spaces();
    let value = reader.value(0)?;
    Ok((value, reader.pos))
}

/// Reads every value up to the end of `input` (or a CRLF outside a
/// literal), e.g. the rest of an untagged response line.
pub fn read_all(input: &[u8]) -> Result<Vec<Value>, SexpError> {
    let mut reader = Reader {
        input,
        pos: 0,
        items: 0,
    };
    let mut values = Vec::new();
    loop {
        reader.skip_spaces();
        match reader.peek() {
            None | Some(b'\r' | b'\n') => return Ok(values),
            Some(_) => values.push(reader.value(0)?),
        }
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    items: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn count(&mut self) -> Result<(), SexpError> {
        self.items += 1;
        if self.items > MAX_ITEMS {
            return Err(SexpError::TooManyItems);
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, SexpError> {
        self.count()?;
        match self.peek() {
            None => Err(SexpError::UnexpectedEnd {
                inside: "value",
                at: self.pos,
            }),
            Some(b'(') => self.list(depth),
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            Some(b'~') if self.input.get(self.pos + 1) == Some(&b'{') => {
                // literal8 (RFC 3516 BINARY): same framing after the tilde.
                self.pos += 1;
                self.literal()
            }
            Some(c @ (b')' | b'\r' | b'\n')) => Err(SexpError::Unexpected {
                found: c as char,
                at: self.pos,
            }),
            Some(_) => self.atom(),
        }
    }

    fn list(&mut self, depth: usize) -> Result<Value, SexpError> {
        if depth >= MAX_DEPTH {
            return Err(SexpError::TooDeep { at: self.pos });
        }
        self.pos += 1; // '('
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            match self.peek() {
                None => {
                    return Err(SexpError::UnexpectedEnd {
                        inside: "list",
                        at: self.pos,
                    });
                }
                Some(b')') => {
                    self.pos += 1;
                    return Ok(Value::List(items));
                }
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    fn quoted(&mut self) -> Result<Value, SexpError> {
        let start = self.pos;
        self.pos += 1; // '"'
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r' | b'\n') => {
                    return Err(SexpError::UnexpectedEnd {
                        inside: "quoted string",
                        at: start,
                    });
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Value::String(bytes));
                }
                Some(b'\\') => {
                    let Some(&next) = self.input.get(self.pos + 1) else {
                        return Err(SexpError::UnexpectedEnd {
                            inside: "quoted string",
                            at: start,
                        });
                    };
                    bytes.push(next);
                    self.pos += 2;
                }
                Some(c) => {
                    bytes.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> Result<Value, SexpError> {
        let start = self.pos;
        // The announcement `{n}` or `{n+}`, read as everywhere else in the
        // project (`probe::connection::literal_length`).
        let close = self.input[start..]
            .iter()
            .take(13)
            .position(|&c| c == b'}')
            .map(|at| start + at);
        let length = close.and_then(|close| literal_length(&self.input[start..=close]));
        let (Some(close), Some(length)) = (close, length) else {
            return Err(SexpError::BadLiteral {
                at: start,
                reason: "expected {digits}",
            });
        };
        self.pos = close + 1;
        if self.input.get(self.pos..self.pos + 2) != Some(b"\r\n") {
            return Err(SexpError::BadLiteral {
                at: start,
                reason: "no CRLF after the length",
            });
        }
        self.pos += 2;
        let end = self
            .pos
            .checked_add(length)
            .filter(|&e| e <= self.input.len());
        let Some(end) = end else {
            return Err(SexpError::BadLiteral {
                at: start,
                reason: "shorter than announced",
            });
        };
        let bytes = self.input[self.pos..end].to_vec();
        self.pos = end;
        Ok(Value::String(bytes))
    }

    /// An atom; a `[` opens a section (`BODY[HEADER.FIELDS (A B)]`) that
    /// runs to its matching `]`, spaces and parentheses included.
    fn atom(&mut self) -> Result<Value, SexpError> {
        let start = self.pos;
        let mut brackets = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'[' => brackets += 1,
                b']' if brackets > 0 => brackets -= 1,
                b'\r' | b'\n' if brackets > 0 => {
                    return Err(SexpError::UnexpectedEnd {
                        inside: "section",
                        at: start,
                    });
                }
                b' ' | b'(' | b')' | b'"' | b'{' | b'\r' | b'\n' if brackets == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        if brackets > 0 {
            return Err(SexpError::UnexpectedEnd {
                inside: "section",
                at: start,
            });
        }
        let text = String::from_utf8_lossy(&self.input[start..self.pos]).into_owned();
        if text.eq_ignore_ascii_case("NIL") {
            Ok(Value::Nil)
        } else {
            Ok(Value::Atom(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Value {
        Value::String(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_lists_strings_nil_atoms_and_literals() {
        let (value, end) = read_value(b"(\"a\\\"b\" NIL 42 {3}\r\nx y) rest").unwrap();
        assert_eq!(
            value,
            Value::List(vec![
                string("a\"b"),
                Value::Nil,
                Value::Atom("42".into()),
                string("x y"),
            ])
        );
        assert_eq!(end, 24);
    }

    #[test]
    fn a_section_atom_keeps_its_spaces_and_parentheses() {
        let values =
            read_all(b"UID 7 BODY[HEADER.FIELDS (LIST-ID PRECEDENCE)] {2}\r\nab\r\n").unwrap();
        assert_eq!(
            values[2],
            Value::Atom("BODY[HEADER.FIELDS (LIST-ID PRECEDENCE)]".into())
        );
        assert_eq!(values[3], string("ab"));
        assert_eq!(values.len(), 4);
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        let cases: [&[u8]; 9] = [
            b"(",
            b"(\"open",
            b"({5}\r\nab)",
            b"({x}\r\n)",
            b"({99999999999}\r\n)",
            b"({2}ab)",
            b")",
            b"(BODY[TEXT )",
            b"",
        ];
        for case in cases {
            assert!(
                read_value(case).is_err(),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "(".repeat(MAX_DEPTH + 1) + &")".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            read_value(deep.as_bytes()),
            Err(SexpError::TooDeep { .. })
        ));
        let ok = "(".repeat(MAX_DEPTH) + &")".repeat(MAX_DEPTH);
        assert!(read_value(ok.as_bytes()).is_ok());
        // A million open parentheses cost a linear scan, not the stack.
        let hostile = "(".repeat(1_000_000);
        assert!(read_value(hostile.as_bytes()).is_err());
    }

    #[test]
    fn item_count_is_bounded() {
        let many = format!("({})", "NIL ".repeat(MAX_ITEMS + 1));
        assert_eq!(read_value(many.as_bytes()), Err(SexpError::TooManyItems));
    }
}
