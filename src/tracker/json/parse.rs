//! The one pass over the text: checks the grammar and records the index
//! of values ([`Node`]s) that [`Doc`] reads from.
//!
//! Spans start and end only at ASCII bytes (quotes, brackets, commas,
//! whitespace), so every span is whole UTF-8 of the input.

use super::text::{self, Str};
use super::{Doc, JsonError, Kind, Node, MAX_DEPTH};

pub fn parse(text: &str) -> Result<Doc<'_>, JsonError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        // Tracker messages have a few dozen values.
        nodes: Vec::with_capacity(32),
        keys: Vec::new(),
    };
    if u32::try_from(text.len()).is_err() {
        return Err(p.err("text too long"));
    }
    p.value(0)?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(Doc {
        text,
        nodes: p.nodes,
    })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
    /// Keys of the objects being parsed, innermost last: each object sorts
    /// its own keys at its end to find duplicates, then drops them.
    keys: Vec<Str<'a>>,
}

impl<'a> Parser<'a> {
    fn err(&self, reason: &'static str) -> JsonError {
        JsonError {
            pos: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Records a node for the value starting here; its end and subtree
    /// end are filled in by [`Parser::close`].
    fn open(&mut self, kind: Kind) -> usize {
        self.nodes.push(Node {
            kind,
            start: self.pos as u32,
            end: self.pos as u32,
            next: 0,
        });
        self.nodes.len() - 1
    }

    fn close(&mut self, index: usize, end: usize) {
        let next = self.nodes.len() as u32;
        if let Some(node) = self.nodes.get_mut(index) {
            node.end = end as u32;
            node.next = next;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), JsonError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.literal(b"null", Kind::Null),
            Some(b't') => self.literal(b"true", Kind::Bool),
            Some(b'f') => self.literal(b"false", Kind::Bool),
            Some(b'"') => self.string().map(drop),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn literal(&mut self, literal: &[u8], kind: Kind) -> Result<(), JsonError> {
        if !self.bytes[self.pos..].starts_with(literal) {
            return Err(self.err("invalid literal"));
        }
        let node = self.open(kind);
        self.pos += literal.len();
        self.close(node, self.pos);
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let node = self.open(Kind::Array);
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.close(node, self.pos);
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.close(node, self.pos);
                    return Ok(());
                }
                _ => return Err(self.err("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let node = self.open(Kind::Object);
        let first_key = self.keys.len();
        self.pos += 1; // '{'
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.close(node, self.pos);
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a key"));
            }
            let key = self.string()?;
            self.keys.push(key);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected `:`"));
            }
            self.pos += 1;
            self.value(depth)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
        self.check_unique_keys(first_key)?;
        self.pos += 1;
        self.close(node, self.pos);
        Ok(())
    }

    /// Refuses the object whose keys are `keys[first..]` if two are equal,
    /// by sorting them: `n log n`, where comparing each pair would let a
    /// message of a few thousand keys cost millions of comparisons.
    fn check_unique_keys(&mut self, first: usize) -> Result<(), JsonError> {
        let keys = &mut self.keys[first..];
        crate::sorted::heap_sort(keys);
        let duplicate = keys.windows(2).any(|w| w[0] == w[1]);
        self.keys.truncate(first);
        if duplicate {
            return Err(self.err("duplicate key"));
        }
        Ok(())
    }

    /// The JSON number grammar exactly (no leading zeros, no `+`, no bare
    /// `.`). The value is not converted here: see [`super::Val::integer`].
    fn number(&mut self) -> Result<(), JsonError> {
        let node = self.open(Kind::Number);
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.require_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.require_digits()?;
        }
        self.close(node, self.pos);
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn require_digits(&mut self) -> Result<(), JsonError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.err("invalid number"));
        }
        self.digits();
        Ok(())
    }

    /// A string: records its node and returns its text between quotes,
    /// after checking every escape.
    fn string(&mut self) -> Result<Str<'a>, JsonError> {
        self.pos += 1; // '"'
        let start = self.pos;
        let node = self.open(Kind::Str { escaped: false });
        let mut escaped = false;
        loop {
            self.pos += text::plain_run(&self.bytes[self.pos..]);
            match self.peek() {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 1;
                    self.pos += text::check_escape(&self.bytes[self.pos..])
                        .map_err(|reason| self.err(reason))?;
                }
                Some(_) => return Err(self.err("control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
        let end = self.pos;
        self.pos += 1; // '"'
        if let Some(n) = self.nodes.get_mut(node) {
            n.kind = Kind::Str { escaped };
        }
        self.close(node, end);
        let raw = self.text.get(start..end).unwrap_or_default();
        Ok(Str::new(raw, escaped))
    }
}
