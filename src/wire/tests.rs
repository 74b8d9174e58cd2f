//! Round trips for every message, arbitrary channel boundaries, and the
//! limits that make a peer's bytes a protocol error instead of a panic.

use proptest::prelude::*;

use super::metadata::{self, MetadataAssembler, MetadataMessage};
use super::*;
use crate::manifest::sha1;

fn geometry() -> Geometry {
    // 100 pieces of 64 KiB, the last one 1000 bytes.
    Geometry::new(65536, 99 * 65536 + 1000).unwrap()
}

/// An owned stand-in for `Message` so proptest can generate it.
#[derive(Clone, Debug)]
enum Owned {
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(u32),
    Bitfield(Vec<u8>),
    Request(u32, u32, u32),
    Piece(u32, u32, Vec<u8>),
    Cancel(u32, u32, u32),
    Extended(u8, Vec<u8>),
    Port(u16),
}

impl Owned {
    fn message(&self) -> Message<'_> {
        match self {
            Owned::KeepAlive => Message::KeepAlive,
            Owned::Choke => Message::Choke,
            Owned::Unchoke => Message::Unchoke,
            Owned::Interested => Message::Interested,
            Owned::NotInterested => Message::NotInterested,
            Owned::Have(i) => Message::Have(*i),
            Owned::Bitfield(b) => Message::Bitfield(b),
            Owned::Request(index, begin, length) => Message::Request {
                index: *index,
                begin: *begin,
                length: *length,
            },
            Owned::Piece(index, begin, data) => Message::Piece {
                index: *index,
                begin: *begin,
                data,
            },
            Owned::Cancel(index, begin, length) => Message::Cancel {
                index: *index,
                begin: *begin,
                length: *length,
            },
            Owned::Port(port) => Message::Port(*port),
            Owned::Extended(ext_id, payload) => Message::Extended {
                ext_id: *ext_id,
                payload,
            },
        }
    }
}

/// Messages that are valid for [`geometry`].
fn valid_message() -> impl Strategy<Value = Owned> {
    let block = (0u32..99, 0u32..4).prop_map(|(i, b)| (i, b * BLOCK_SIZE, BLOCK_SIZE));
    let bits = prop::collection::vec(any::<u8>(), 13).prop_map(|mut b| {
        b[12] &= 0xf0; // 100 pieces: the last 4 bits are spare
        b
    });
    prop_oneof![
        Just(Owned::KeepAlive),
        Just(Owned::Choke),
        Just(Owned::Unchoke),
        Just(Owned::Interested),
        Just(Owned::NotInterested),
        (0u32..100).prop_map(Owned::Have),
        any::<u16>().prop_map(Owned::Port),
        bits.prop_map(Owned::Bitfield),
        block.clone().prop_map(|(i, b, l)| Owned::Request(i, b, l)),
        block.clone().prop_map(|(i, b, l)| Owned::Cancel(i, b, l)),
        (block, prop::collection::vec(any::<u8>(), 1..300))
            .prop_map(|((i, b, _), d)| Owned::Piece(i, b, d)),
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(e, p)| Owned::Extended(e, p)),
    ]
}

fn handshake() -> Handshake {
    Handshake::new([7; 20], *b"-PC0001-abcdefghijkl")
}

/// Decodes a stream delivered in the given chunk sizes.
fn decode_chunked(stream: &[u8], sizes: &[usize]) -> Result<Vec<String>, WireError> {
    let mut dec = Decoder::new(geometry(), Limits::default(), 1 << 20);
    let mut out = Vec::new();
    let mut rest = stream;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        dec.push(&rest[..n])?;
        rest = &rest[n..];
        while let Some(frame) = dec.next_frame()? {
            out.push(format!("{frame:?}"));
        }
    }
    Ok(out)
}

proptest! {
    #[test]
    fn every_message_round_trips(msg in valid_message()) {
        let msg = msg.message();
        let bytes = msg.to_bytes();
        prop_assert_eq!(bytes.len(), 4 + msg.body_len());
        let decoded = Message::try_from(&bytes[4..]).unwrap();
        prop_assert_eq!(&decoded, &msg);
        prop_assert!(decoded.validate(&geometry(), &Limits::default()).is_ok());
    }

    #[test]
    fn any_channel_boundaries_give_the_same_frames(
        msgs in prop::collection::vec(valid_message(), 0..20),
        sizes in prop::collection::vec(1usize..200, 1..10),
    ) {
        let mut stream = handshake().to_bytes().to_vec();
        for m in &msgs {
            m.message().encode_into(&mut stream);
        }
        let whole = decode_chunked(&stream, &[stream.len().max(1)]).unwrap();
        prop_assert_eq!(whole.len(), msgs.len() + 1);
        prop_assert_eq!(decode_chunked(&stream, &sizes).unwrap(), whole.clone());
        let split: Vec<usize> = split_for_channel(&stream, 7).map(<[u8]>::len).collect();
        prop_assert!(split.iter().all(|&n| n <= 7));
        prop_assert_eq!(decode_chunked(&stream, &split).unwrap(), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        sizes in prop::collection::vec(1usize..100, 1..5),
    ) {
        let mut stream = handshake().to_bytes().to_vec();
        stream.extend_from_slice(&bytes);
        let _ = decode_chunked(&stream, &sizes);
        let _ = decode_chunked(&bytes, &sizes);
        let _ = ExtendedHandshake::try_from(bytes.as_slice());
        let _ = MetadataMessage::try_from(bytes.as_slice());
    }

    #[test]
    fn extended_handshake_round_trips(
        exts in prop::collection::btree_map("[a-z_]{1,12}", any::<u8>(), 0..5),
        size in prop::option::of(any::<u32>()),
        reqq in prop::option::of(any::<u32>()),
        client in prop::option::of("[ -~]{0,20}"),
    ) {
        let hs = ExtendedHandshake { extensions: exts.into_iter().collect(), metadata_size: size, reqq, client };
        prop_assert_eq!(ExtendedHandshake::try_from(hs.to_bytes().as_slice()).unwrap(), hs);
    }

    #[test]
    fn metadata_messages_round_trip(
        piece in any::<u32>(), total in any::<u32>(), kind in 0u8..3,
        data in prop::collection::vec(any::<u8>(), 0..metadata::METADATA_PIECE_LEN),
    ) {
        let msg = match kind {
            0 => MetadataMessage::Request { piece },
            1 => MetadataMessage::Data { piece, total_size: total, data: &data },
            _ => MetadataMessage::Reject { piece },
        };
        let bytes = msg.to_bytes();
        prop_assert_eq!(MetadataMessage::try_from(bytes.as_slice()).unwrap(), msg);
    }

    #[test]
    fn bitfield_round_trips(len in 0u32..200, set in prop::collection::vec(any::<u32>(), 0..50)) {
        let mut bf = Bitfield::new(len);
        for i in &set { bf.set(i % len.max(1)); }
        let back = Bitfield::from_bytes(bf.as_bytes(), len).unwrap();
        prop_assert_eq!(back.count(), bf.iter().count() as u32);
        prop_assert_eq!(back, bf);
    }
}

#[test]
fn handshake_round_trips_and_advertises_extensions() {
    let hs = handshake();
    assert!(hs.supports_extensions());
    assert_eq!(Handshake::try_from(hs.to_bytes().as_slice()).unwrap(), hs);
    let mut bad = hs.to_bytes();
    bad[3] = b'x';
    assert!(Handshake::try_from(bad.as_slice()).is_err());
    assert!(Handshake::try_from(&bad[..67]).is_err());
}

fn first_error(msg: &[u8]) -> WireError {
    let mut stream = handshake().to_bytes().to_vec();
    stream.extend_from_slice(msg);
    decode_chunked(&stream, &[stream.len()]).unwrap_err()
}

#[test]
fn limits_are_protocol_errors() {
    let g = geometry();
    let big = Message::Request {
        index: 1,
        begin: 0,
        length: 200_000,
    }
    .to_bytes();
    assert!(matches!(
        first_error(&big),
        WireError::BlockOutOfRange { .. }
    ));
    let past = Message::Request {
        index: 99,
        begin: 0,
        length: 1001,
    }
    .to_bytes();
    assert!(matches!(
        first_error(&past),
        WireError::BlockOutOfRange { .. }
    ));
    let overflow = Message::Request {
        index: 1,
        begin: u32::MAX,
        length: 2,
    }
    .to_bytes();
    assert!(matches!(
        first_error(&overflow),
        WireError::BlockOutOfRange { .. }
    ));
    let index = Message::Have(100).to_bytes();
    assert_eq!(first_error(&index), WireError::PieceOutOfRange(100));
    let short = Message::Bitfield(&[0; 12]).to_bytes();
    assert!(matches!(
        first_error(&short),
        WireError::BitfieldLength { .. }
    ));
    let spare = Message::Bitfield(&[0xff; 13]).to_bytes();
    assert_eq!(first_error(&spare), WireError::BitfieldSpareBits);
    assert_eq!(
        first_error(&[0xff, 0xff, 0xff, 0xff]),
        WireError::TooLong(u32::MAX)
    );
    assert_eq!(first_error(&[0, 0, 0, 1, 42]), WireError::UnknownId(42));
    assert!(matches!(
        first_error(&[0, 0, 0, 2, 0, 0]),
        WireError::BadLength { id: 0, .. }
    ));
    assert!(matches!(
        first_error(&[0, 0, 0, 1, 20]),
        WireError::BadLength { id: 20, .. }
    ));
    assert_eq!(g.piece_size(99), 1000);
    assert_eq!(g.piece_size(100), 0);
}

#[test]
fn decoder_stays_failed_and_bounds_its_buffer() {
    let mut dec = Decoder::new(geometry(), Limits::default(), 1000);
    dec.push(&handshake().to_bytes()).unwrap();
    assert!(matches!(dec.next_frame(), Ok(Some(Frame::Handshake(_)))));
    // A message just under the cap arrives in pieces: the buffer holds it
    // and nothing more than it (plus one chunk).
    let len = Limits::default().max_message_len;
    let mut msg = len.to_be_bytes().to_vec();
    msg.push(7);
    msg.extend_from_slice(&[0; 8]);
    msg.resize(4 + len as usize, 0);
    for chunk in msg.chunks(1000) {
        dec.push(chunk).unwrap();
        assert!(dec.buffered() <= 4 + len as usize);
    }
    // It decodes as a piece message that is out of range for 64 KiB pieces.
    assert!(matches!(
        dec.next_frame(),
        Err(WireError::BlockOutOfRange { .. })
    ));
    assert!(dec.buffered() == 0 && dec.push(&[0]).is_err() && dec.next_frame().is_err());
    let mut fresh = Decoder::new(geometry(), Limits::default(), 1000);
    let flood = vec![0u8; 4 + len as usize + 1001];
    assert_eq!(fresh.push(&flood), Err(WireError::BufferFull));
}

#[test]
fn metadata_assembler_verifies_against_the_info_hash() {
    let info: Vec<u8> = (0..40_000u32).map(|i| (i * 7) as u8).collect();
    let hash = sha1(&info);
    let size = info.len() as u32;
    let mut asm = MetadataAssembler::new(hash, size).unwrap();
    assert_eq!(asm.missing().count(), 3);
    for p in 0..3 {
        assert_eq!(asm.finish().unwrap(), None);
        asm.accept(p, size, metadata::piece_of(&info, p).unwrap())
            .unwrap();
    }
    assert_eq!(asm.finish().unwrap(), Some(info.clone()));

    let mut liar = MetadataAssembler::new(hash, size).unwrap();
    assert!(liar.accept(0, size, &[0; 10]).is_err(), "wrong length");
    assert!(liar.accept(3, size, &[0; 10]).is_err(), "no such piece");
    assert!(liar
        .accept(0, size + 1, metadata::piece_of(&info, 0).unwrap())
        .is_err());
    for p in 0..3 {
        let mut piece = metadata::piece_of(&info, p).unwrap().to_vec();
        piece[0] ^= u8::from(p == 1);
        liar.accept(p, size, &piece).unwrap();
    }
    assert!(liar.finish().is_err());
    assert_eq!(
        liar.missing().count(),
        3,
        "a forged dictionary is forgotten"
    );
    assert!(MetadataAssembler::new(hash, metadata::MAX_METADATA_SIZE + 1).is_err());
}
