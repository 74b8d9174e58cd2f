//! The frame decoder on whole, split, batched, fragmented and bad input.

use super::*;

/// A client frame: masked with `mask`.
fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut f = encode(first & 0x0f, payload);
    f[0] = first;
    let at = f.len() - payload.len();
    f[1] |= 0x80;
    f.splice(at..at, mask);
    for (i, b) in f[at + 4..].iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    f
}

/// A message, owned, to compare in tests.
#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Text(Vec<u8>),
    Binary,
    Ping(Vec<u8>),
    Pong,
    Close,
}

/// Feeds `bytes`; returns every message decoded.
fn feed(d: &mut Decoder, bytes: &[u8]) -> Result<Vec<Owned>, FrameError> {
    let mut got = Vec::new();
    let mut input = bytes.to_vec();
    let flow = d.feed(&mut input, |m| {
        got.push(match m {
            Incoming::Text(t) => Owned::Text(t.to_vec()),
            Incoming::Binary => Owned::Binary,
            Incoming::Ping(p) => Owned::Ping(p.to_vec()),
            Incoming::Pong => Owned::Pong,
            Incoming::Close => Owned::Close,
        });
        ControlFlow::<()>::Continue(())
    })?;
    assert!(flow.is_continue());
    Ok(got)
}

#[test]
fn decodes_masked_text_split_anywhere() {
    let text = "x".repeat(301);
    let bytes = client_frame(0x81, text.as_bytes(), [1, 2, 3, 4]);
    for split in 0..bytes.len() {
        let mut d = Decoder::new(1000);
        assert_eq!(
            feed(&mut d, &bytes[..split]),
            Ok(vec![]),
            "split at {split}"
        );
        assert_eq!(
            feed(&mut d, &bytes[split..]),
            Ok(vec![Owned::Text(text.clone().into_bytes())])
        );
        assert!(!d.holds_bytes(), "buffer freed once idle");
    }
}

#[test]
fn many_frames_in_one_read_and_a_tail() {
    let mut bytes = client_frame(0x81, b"one", [1, 2, 3, 4]);
    bytes.extend(client_frame(0x81, b"two", [5, 6, 7, 8]));
    let third = client_frame(0x81, b"three", [9, 9, 9, 9]);
    bytes.extend(&third[..4]);
    let mut d = Decoder::new(1000);
    let expected = vec![Owned::Text(b"one".to_vec()), Owned::Text(b"two".to_vec())];
    assert_eq!(feed(&mut d, &bytes), Ok(expected));
    assert!(d.holds_bytes());
    assert_eq!(
        feed(&mut d, &third[4..]),
        Ok(vec![Owned::Text(b"three".to_vec())])
    );
    assert!(!d.holds_bytes());
}

#[test]
fn stops_when_the_handler_breaks() {
    let mut bytes = client_frame(0x88, b"", [1, 2, 3, 4]);
    bytes.extend(client_frame(0x81, b"after", [1, 2, 3, 4]));
    let mut d = Decoder::new(1000);
    let mut seen = 0;
    let flow = d.feed(&mut bytes, |m| {
        seen += 1;
        if m == Incoming::Close {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!((flow, seen), (Ok(ControlFlow::Break(())), 1));
}

#[test]
fn fragments_and_interleaved_control_frames() {
    let mut d = Decoder::new(1000);
    let mut bytes = client_frame(0x01, b"hel", [9; 4]);
    bytes.extend(client_frame(0x89, b"p", [7; 4]));
    bytes.extend(client_frame(0x80, b"lo", [5; 4]));
    assert_eq!(
        feed(&mut d, &bytes),
        Ok(vec![
            Owned::Ping(b"p".to_vec()),
            Owned::Text(b"hello".to_vec())
        ])
    );
    let mut binary = client_frame(0x02, b"a", [1; 4]);
    binary.extend(client_frame(0x00, b"b", [2; 4]));
    binary.extend(client_frame(0x80, b"c", [3; 4]));
    binary.extend(client_frame(0x8a, b"", [3; 4]));
    assert_eq!(feed(&mut d, &binary), Ok(vec![Owned::Binary, Owned::Pong]));
}

#[test]
fn refuses_bad_frames() {
    let cases: [(Vec<u8>, FrameError); 6] = [
        (
            encode(OP_TEXT, b"unmasked"),
            FrameError::Protocol("unmasked client frame"),
        ),
        (
            client_frame(0xc1, b"x", [0; 4]),
            FrameError::Protocol("extension bits set"),
        ),
        (
            client_frame(0x83, b"x", [0; 4]),
            FrameError::Protocol("unknown opcode"),
        ),
        (
            client_frame(0x09, b"x", [0; 4]),
            FrameError::Protocol("fragmented or long control frame"),
        ),
        (
            client_frame(0x80, b"x", [0; 4]),
            FrameError::Protocol("continuation without a message"),
        ),
        (
            [
                client_frame(0x01, b"x", [0; 4]),
                client_frame(0x81, b"y", [0; 4]),
            ]
            .concat(),
            FrameError::Protocol("new message inside a fragmented one"),
        ),
    ];
    for (bytes, error) in cases {
        let mut d = Decoder::new(1000);
        assert_eq!(feed(&mut d, &bytes), Err(error));
    }
    // Too large is known from the header alone.
    let mut d = Decoder::new(100);
    assert_eq!(
        feed(&mut d, &client_frame(0x81, &[b'a'; 200], [0; 4])[..4]),
        Err(FrameError::TooLarge)
    );
    let mut d = Decoder::new(100);
    let huge = [0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(feed(&mut d, &huge), Err(FrameError::TooLarge));
}

#[test]
fn encodes_lengths_and_close() {
    assert_eq!(encode(OP_TEXT, b"hi"), vec![0x81, 2, b'h', b'i']);
    assert_eq!(&encode(OP_TEXT, &[0; 200])[..4], &[0x81, 126, 0, 200]);
    assert_eq!(&encode(OP_BINARY, &[0; 70_000])[..3], &[0x82, 127, 0]);
    assert_eq!(close(1008, "no"), vec![0x88, 4, 0x03, 0xf0, b'n', b'o']);
}
