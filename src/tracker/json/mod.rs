//! A small strict JSON reader and writer, just enough for tracker messages.
//!
//! Why not serde_json: the browser build downloads this code, and the
//! tracker protocol needs only flat objects of strings and integers, one
//! array of offers and one nested `{type, sdp}` object.
//!
//! Reading builds no tree: [`parse`] checks the whole text once and records
//! an index of its values ([`Doc`]: one flat array of spans in document
//! order, each container knowing where its subtree ends), and the message
//! decoders read fields straight from the text through [`Val`]. Strings
//! are decoded only when read, and only those that hold escapes allocate.
//!
//! Invariants:
//! - [`parse`] never panics and accepts exactly the JSON grammar; its time
//!   is linear in the input plus `n log n` per object of `n` keys;
//! - nesting deeper than [`MAX_DEPTH`] is refused (no stack exhaustion);
//! - duplicate keys in one object are refused, compared after unescaping,
//!   so a message cannot mean one thing to us and another to a JavaScript
//!   peer (`JSON.parse` keeps the last);
//! - every string in a parsed document has valid escapes and no lone
//!   surrogate, so decoding it later cannot fail;
//! - numbers are read only as integers ([`Val::integer`]): JavaScript
//!   writes an integral number as plain digits, and every number in the
//!   protocol is a count. Other numbers are valid JSON (an unknown field
//!   may hold one) but never read; there is no float parsing here, which
//!   keeps its code and tables out of the wasm.
//!
//! The writer escapes exactly what `JSON.stringify` escapes, so binary
//! strings (chars 0-255) travel as the ecosystem writes them.

mod parse;
mod text;
mod write;

pub use parse::parse;
pub use text::Str;
pub use write::{write_bin, write_key, write_str};

/// Tracker messages nest two levels (`offers[i].offer.sdp`); scrape
/// replies three. Anything deeper is not a tracker message.
pub const MAX_DEPTH: usize = 8;

/// Where and why the text is not the JSON we accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {pos}: {reason}")]
pub struct JsonError {
    pub pos: usize,
    pub reason: &'static str,
}

/// What a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    /// `escaped`: the text between the quotes holds a backslash.
    Str {
        escaped: bool,
    },
    Array,
    Object,
}

/// One value of a parsed text.
#[derive(Clone, Copy, Debug)]
struct Node {
    kind: Kind,
    /// The value's bytes; for a string, those between its quotes.
    start: u32,
    end: u32,
    /// The index of the first node after this value's subtree: the
    /// children of a container are the nodes between it and `next`
    /// (an object's alternate key, value).
    next: u32,
}

/// A parsed text: the text and the index of its values, the first being
/// the top-level value.
pub struct Doc<'a> {
    text: &'a str,
    nodes: Vec<Node>,
}

impl<'a> Doc<'a> {
    pub fn root(&self) -> Val<'_, 'a> {
        Val { doc: self, at: 0 }
    }
}

/// One value of a [`Doc`].
#[derive(Clone, Copy)]
pub struct Val<'d, 'a> {
    doc: &'d Doc<'a>,
    at: usize,
}

impl<'d, 'a> Val<'d, 'a> {
    fn node(self) -> Node {
        self.doc.nodes[self.at]
    }

    pub fn kind(self) -> Kind {
        self.node().kind
    }

    /// The value's text as written (for a string, between the quotes).
    fn raw(self) -> &'a str {
        let n = self.node();
        // Spans are char boundaries of the text: the parser cuts only at
        // ASCII bytes.
        self.doc
            .text
            .get(n.start as usize..n.end as usize)
            .unwrap_or_default()
    }

    /// Children of an array or object in order (an object's alternate
    /// key, value); nothing for other values.
    fn children(self) -> impl Iterator<Item = Val<'d, 'a>> {
        let doc = self.doc;
        let end = self.node().next as usize;
        let mut at = self.at + 1;
        let first = matches!(self.kind(), Kind::Array | Kind::Object);
        std::iter::from_fn(move || {
            if !first || at >= end {
                return None;
            }
            let child = Val { doc, at };
            at = doc.nodes[at].next as usize;
            Some(child)
        })
    }

    /// An array's items.
    pub fn items(self) -> impl Iterator<Item = Val<'d, 'a>> {
        let is_array = self.kind() == Kind::Array;
        self.children().filter(move |_| is_array)
    }

    /// An object's (key, value) pairs in document order.
    pub fn entries(self) -> impl Iterator<Item = (Str<'a>, Val<'d, 'a>)> {
        let is_object = self.kind() == Kind::Object;
        let mut children = self.children().filter(move |_| is_object);
        std::iter::from_fn(move || {
            let key = children.next()?.str()?;
            Some((key, children.next()?))
        })
    }

    /// The value of `key` when `self` is an object that has it.
    pub fn get(self, key: &str) -> Option<Val<'d, 'a>> {
        self.entries().find(|(k, _)| k.eq_str(key)).map(|(_, v)| v)
    }

    pub fn str(self) -> Option<Str<'a>> {
        match self.kind() {
            Kind::Str { escaped } => Some(Str::new(self.raw(), escaped)),
            _ => None,
        }
    }

    /// A number written as plain digits (no sign, fraction or exponent),
    /// at most 2^53 so that JavaScript reads the same value.
    pub fn integer(self) -> Option<u64> {
        if self.kind() != Kind::Number {
            return None;
        }
        let mut n: u64 = 0;
        for d in self.raw().bytes() {
            if !d.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        (n <= 1 << 53).then_some(n)
    }

    pub fn bool(self) -> Option<bool> {
        (self.kind() == Kind::Bool).then(|| self.raw() == "true")
    }
}
