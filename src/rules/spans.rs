//! Where things are in a rule file, from the TOML parser's spans, so that
//! every loading error names the exact line and column of the value it is
//! about. (Searching the text for the first match of a word pointed an `id`
//! error in CRT-001.toml at "valid*id*ity".)

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A line and column, both counted from 1; the column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The start of the file, for errors about the file as a whole.
    pub const START: Position = Position { line: 1, column: 1 };
}

/// One step of a path into the document: a key or an array index.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The parsed document with its spans, over the text it came from.
pub struct Spans<'i> {
    text: &'i str,
    root: Option<Spanned<DeTable<'i>>>,
}

impl<'i> Spans<'i> {
    /// Parses `text`. A document that does not parse has no spans; its
    /// error carries its own span (see [`Spans::position`]).
    pub fn parse(text: &'i str) -> Spans<'i> {
        Spans {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// The line and column of byte `offset`.
    pub fn position(&self, offset: usize) -> Position {
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }

    /// Where the value at `path` starts; where its nearest parent that
    /// exists starts when it does not (a missing key is reported at its
    /// table); the start of the file when nothing of it exists.
    pub fn at(&self, path: &[Step]) -> Position {
        (0..=path.len())
            .rev()
            .find_map(|len| self.value(&path[..len]))
            .map_or(Position::START, |span| self.position(span.start))
    }

    /// Where the key that ends `path` is written (for a name that is
    /// wrong, such as an unknown example variable).
    pub fn key_at(&self, path: &[Step]) -> Position {
        let Some((Step::Key(name), parent)) = path.split_last() else {
            return self.at(path);
        };
        self.table(parent)
            .and_then(|table| table.iter().find(|(key, _)| key.get_ref() == name))
            .map_or_else(|| self.at(path), |(key, _)| self.position(key.span().start))
    }

    /// Where the text of the string at `path` starts, after its opening
    /// quotes (and the newline a multi-line string may open with): the
    /// first character of a CEL expression.
    pub fn text_at(&self, path: &[Step]) -> Position {
        let Some(span) = self.value(path) else {
            return self.at(path);
        };
        let source = &self.text[span.clone()];
        let skip = if source.starts_with("\"\"\"") || source.starts_with("'''") {
            3 + usize::from(source[3..].starts_with('\n'))
                + 2 * usize::from(source[3..].starts_with("\r\n"))
        } else if source.starts_with('"') || source.starts_with('\'') {
            1
        } else {
            0
        };
        self.position(span.start + skip)
    }

    fn value(&self, path: &[Step]) -> Option<Range<usize>> {
        let root = self.root.as_ref()?;
        let Some((last, parent)) = path.split_last() else {
            return Some(root.span());
        };
        let found = match (last, self.parent(parent)?) {
            (Step::Key(name), Parent::Table(table)) => table
                .iter()
                .find(|(key, _)| key.get_ref() == name)
                .map(|(_, value)| value)?,
            (Step::Index(index), Parent::Array(array)) => array.get(*index)?,
            _ => return None,
        };
        Some(found.span())
    }

    fn table(&self, path: &[Step]) -> Option<&DeTable<'i>> {
        match self.parent(path)? {
            Parent::Table(table) => Some(table),
            Parent::Array(_) => None,
        }
    }

    fn parent(&self, path: &[Step]) -> Option<Parent<'_, 'i>> {
        let mut current = Parent::Table(self.root.as_ref()?.get_ref());
        for step in path {
            let value = match (step, current) {
                (Step::Key(name), Parent::Table(table)) => table
                    .iter()
                    .find(|(key, _)| key.get_ref() == name)
                    .map(|(_, value)| value.get_ref())?,
                (Step::Index(index), Parent::Array(array)) => array.get(*index)?.get_ref(),
                _ => return None,
            };
            current = match value {
                DeValue::Table(table) => Parent::Table(table),
                DeValue::Array(array) => Parent::Array(array),
                _ => return None,
            };
        }
        Some(current)
    }
}

#[derive(Clone, Copy)]
enum Parent<'a, 'i> {
    Table(&'a DeTable<'i>),
    Array(&'a [Spanned<DeValue<'i>>]),
}

/// `offset`, moved back to the start of the character it falls in.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::{Index, Key};

    #[test]
    fn values_keys_and_strings_have_their_own_line_and_column() {
        let text = "# validity\nid = \"X\"\n\n[[fail]]\nwhen = \"a\"\n[[fail]]\n  when = '''\nb'''\n[example]\nfoo = 1\n";
        let spans = Spans::parse(text);
        assert_eq!(spans.at(&[Key("id")]), Position { line: 2, column: 6 });
        assert_eq!(spans.text_at(&[Key("id")]), Position { line: 2, column: 7 });
        assert_eq!(
            spans.text_at(&[Key("fail"), Index(1), Key("when")]),
            Position { line: 8, column: 1 }
        );
        assert_eq!(
            spans.key_at(&[Key("example"), Key("foo")]),
            Position {
                line: 10,
                column: 1
            }
        );
        // A missing key is reported at the nearest table that exists.
        assert_eq!(
            spans.at(&[Key("fail"), Index(0), Key("severity")]),
            spans.at(&[Key("fail"), Index(0)])
        );
        assert_eq!(spans.at(&[Key("nothing")]), Position::START);
        assert_eq!(spans.position(text.len() + 5).line, 11);
    }
}
