use proptest::prelude::*;

use super::*;

fn dec(input: &[u8]) -> Result<Value<'_>, DecodeError> {
    decode(input, &Limits::default())
}

fn err_at(input: &[u8]) -> (usize, DecodeErrorKind) {
    let e = dec(input).expect_err("input must be rejected");
    (e.offset, e.kind)
}

#[test]
fn decodes_each_kind() {
    assert_eq!(dec(b"i42e").unwrap(), Value::Int(42));
    assert_eq!(dec(b"i-7e").unwrap(), Value::Int(-7));
    assert_eq!(dec(b"i0e").unwrap(), Value::Int(0));
    assert_eq!(dec(b"4:spam").unwrap(), Value::Bytes(b"spam"));
    assert_eq!(dec(b"0:").unwrap(), Value::Bytes(b""));
    assert_eq!(
        dec(b"l4:spami42ee").unwrap(),
        Value::List(vec![Value::Bytes(b"spam"), Value::Int(42)])
    );
    let d = dec(b"d3:cow3:moo4:spami1ee").unwrap();
    assert_eq!(d.get("cow"), Some(&Value::Bytes(b"moo")));
    assert_eq!(d.get("spam").and_then(Value::as_int), Some(1));
}

#[test]
fn integer_extremes() {
    assert_eq!(dec(b"i9223372036854775807e").unwrap(), Value::Int(i64::MAX));
    assert_eq!(
        dec(b"i-9223372036854775808e").unwrap(),
        Value::Int(i64::MIN)
    );
    assert_eq!(
        err_at(b"i9223372036854775808e").1,
        DecodeErrorKind::IntegerOverflow
    );
    assert_eq!(
        err_at(b"i99999999999999999999999e").1,
        DecodeErrorKind::IntegerOverflow
    );
}

#[test]
fn rejects_non_canonical_integers() {
    assert_eq!(err_at(b"i03e"), (1, DecodeErrorKind::NonCanonicalInteger));
    assert_eq!(err_at(b"i-0e"), (1, DecodeErrorKind::NonCanonicalInteger));
    assert_eq!(err_at(b"i-03e"), (1, DecodeErrorKind::NonCanonicalInteger));
    assert_eq!(err_at(b"ie"), (1, DecodeErrorKind::UnexpectedByte(b'e')));
    assert_eq!(err_at(b"i-e"), (2, DecodeErrorKind::UnexpectedByte(b'e')));
    assert_eq!(err_at(b"i+1e"), (1, DecodeErrorKind::UnexpectedByte(b'+')));
    assert_eq!(err_at(b"i12"), (3, DecodeErrorKind::UnexpectedEnd));
    assert_eq!(err_at(b"i1xe"), (2, DecodeErrorKind::UnexpectedByte(b'x')));
}

#[test]
fn rejects_bad_strings() {
    assert_eq!(err_at(b"04:spam"), (0, DecodeErrorKind::NonCanonicalLength));
    assert_eq!(err_at(b"5:spam"), (6, DecodeErrorKind::UnexpectedEnd));
    assert_eq!(err_at(b"4spam"), (1, DecodeErrorKind::UnexpectedByte(b's')));
    assert_eq!(err_at(b"4"), (1, DecodeErrorKind::UnexpectedEnd));
    assert_eq!(
        err_at(b"99999999999999999999999:x"),
        (0, DecodeErrorKind::IntegerOverflow)
    );
    let limits = Limits {
        max_string_len: 3,
        ..Limits::default()
    };
    let e = decode(b"4:spam", &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (0, DecodeErrorKind::StringTooLong));
}

#[test]
fn rejects_bad_dicts() {
    assert_eq!(
        err_at(b"d3:zzzi1e3:aaai2ee"),
        (9, DecodeErrorKind::UnsortedKeys)
    );
    assert_eq!(
        err_at(b"d1:ai1e1:ai2ee"),
        (7, DecodeErrorKind::UnsortedKeys)
    );
    assert_eq!(
        err_at(b"di1ei2ee"),
        (1, DecodeErrorKind::UnexpectedByte(b'i'))
    );
    assert_eq!(err_at(b"d1:ae"), (4, DecodeErrorKind::UnexpectedByte(b'e')));
    assert_eq!(err_at(b"d1:ai1e"), (7, DecodeErrorKind::UnexpectedEnd));
}

#[test]
fn rejects_structure_errors() {
    assert_eq!(err_at(b""), (0, DecodeErrorKind::UnexpectedEnd));
    assert_eq!(err_at(b"l"), (1, DecodeErrorKind::UnexpectedEnd));
    assert_eq!(err_at(b"x"), (0, DecodeErrorKind::UnexpectedByte(b'x')));
    assert_eq!(err_at(b"i1ei2e"), (3, DecodeErrorKind::TrailingBytes));
    assert_eq!(err_at(b"e"), (0, DecodeErrorKind::UnexpectedByte(b'e')));
}

#[test]
fn depth_and_size_limits() {
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(decode(b"llleee", &limits).is_ok());
    let e = decode(b"lllleeee", &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (3, DecodeErrorKind::TooDeep));
    // A deep input with default limits is an error, not a stack overflow.
    let deep = [vec![b'l'; 100_000], vec![b'e'; 100_000]].concat();
    assert_eq!(err_at(&deep).1, DecodeErrorKind::TooDeep);
    let small = Limits {
        max_total_len: 4,
        ..Limits::default()
    };
    assert_eq!(
        decode(b"4:spam", &small).unwrap_err().kind,
        DecodeErrorKind::InputTooLarge
    );
}

#[test]
fn decode_prefix_reports_length() {
    let (v, used) = decode_prefix(b"d1:ai1eeRAW", &Limits::default()).unwrap();
    assert_eq!(used, 8);
    assert_eq!(v.get("a").and_then(Value::as_int), Some(1));
}

/// Owned mirror of [`Value`] so proptest can generate trees.
#[derive(Clone, Debug)]
enum Tree {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Tree>),
    Dict(Vec<(Vec<u8>, Tree)>),
}

fn as_value(tree: &Tree) -> Value<'_> {
    match tree {
        Tree::Int(i) => Value::Int(*i),
        Tree::Bytes(b) => Value::Bytes(b),
        Tree::List(l) => Value::List(l.iter().map(as_value).collect()),
        Tree::Dict(d) => Value::Dict(d.iter().map(|(k, v)| (k.as_slice(), as_value(v))).collect()),
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Tree::Int),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(Tree::Bytes),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::List),
            prop::collection::vec((prop::collection::vec(any::<u8>(), 0..6), inner), 0..6)
                .prop_map(Tree::Dict),
        ]
    })
}

proptest! {
    #[test]
    fn round_trip(t in tree()) {
        let value = as_value(&t);
        let bytes = encode(&value);
        let back = dec(&bytes).unwrap();
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(encode(&back), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = dec(&bytes) {
            // Whatever is accepted is canonical.
            prop_assert_eq!(encode(&v), bytes);
        }
    }
}
