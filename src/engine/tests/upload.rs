//! Uploading: bounded request queues, choking, leech-only, the upload
//! cap, and ut_metadata served to a client that knows only the info hash.

use std::time::Duration;

use super::*;

#[test]
fn a_request_flood_stays_bounded() {
    let s = site();
    let cfg = Config {
        max_peer_requests: 8,
        ..Config::default()
    };
    let mut e = seeded(&s, cfg);
    let mut remote = Remote::new(&s, 9);
    remote.connect(&mut e, 1, Time::ZERO);
    // Requests while choked are dropped.
    send(
        &mut e,
        1,
        Time::ZERO,
        Message::Request {
            index: 0,
            begin: 0,
            length: 16384,
        },
    );
    assert_eq!(e.queued_requests(), 0);
    let out = send(&mut e, 1, Time::ZERO, Message::Interested);
    assert!(remote.read(&out, 1).iter().any(|m| m.contains("Unchoke")));
    let geometry = Geometry::new(s.manifest.piece_length, s.manifest.total_length).unwrap();
    let mut flood = Vec::new();
    for i in 0..50_000u32 {
        // Small requests, each the end of its piece (shorter ones are dropped).
        Message::Request {
            index: i % 7,
            begin: geometry.piece_size(i % 7) - 500,
            length: 500,
        }
        .encode_into(&mut flood);
    }
    let mut sent = 0usize;
    for chunk in flood.chunks(60_000) {
        e.handle(
            Time::ZERO,
            Input::PeerData {
                peer: 1,
                bytes: chunk,
            },
        );
        assert!(e.queued_requests() <= 8, "queue bounded");
        for out in answer_reads(&mut e, &s, Time::ZERO) {
            if let Output::Send { bytes, .. } = out {
                sent += bytes.len();
            }
        }
    }
    assert!(e.stats().requests_dropped > 40_000);
    assert!(sent > 0 && e.peer_count() == 1);
}

/// A magnet client connected to a seeding engine with metadata: returns
/// the engine, the id it wants ut_metadata on, and the metadata size. We
/// announce ut_metadata on our id 3.
fn metadata_session(s: &Site) -> (Engine, u8, u32) {
    let mut e = seeded(s, Config::default());
    let (out, msgs) = Remote::new(s, 5).connect(&mut e, 1, Time::ZERO);
    assert!(msgs[0].starts_with("Handshake"), "{msgs:?}");
    let sent_to_us = out.iter().filter_map(|o| match o {
        Output::Send { peer: 1, bytes } => Some(bytes.as_slice()),
        _ => None,
    });
    let stream: Vec<u8> = sent_to_us.flatten().copied().collect();
    let ext = extended_handshake(&stream).expect("extension handshake");
    let ours = ExtendedHandshake {
        extensions: [("ut_metadata".into(), 3)].into(),
        ..Default::default()
    };
    let payload = ours.to_bytes();
    send(
        &mut e,
        1,
        Time::ZERO,
        Message::Extended {
            ext_id: 0,
            payload: &payload,
        },
    );
    (
        e,
        ext.id_of("ut_metadata").unwrap(),
        ext.metadata_size.unwrap(),
    )
}

/// Metadata data pieces in the engine's replies to us (after the
/// handshake, so the stream is whole length-prefixed messages).
fn metadata_replies(out: &[Output], asm: &mut MetadataAssembler) -> usize {
    let mut stream = Vec::new();
    for o in out {
        if let Output::Send { bytes, .. } = o {
            stream.extend_from_slice(bytes);
        }
    }
    let mut n = 0;
    let mut rest = stream.as_slice();
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let (body, next) = rest[4..].split_at(len);
        rest = next;
        let Ok(Message::Extended { ext_id: 3, payload }) = Message::try_from(body) else {
            continue;
        };
        if let Ok(MetadataMessage::Data {
            piece,
            total_size,
            data,
        }) = MetadataMessage::try_from(payload)
        {
            asm.accept(piece, total_size, data).unwrap();
            n += 1;
        }
    }
    n
}

#[test]
fn ut_metadata_serves_the_info_dictionary_to_a_magnet_client() {
    let s = site();
    let (mut e, their_id, size) = metadata_session(&s);
    let mut asm = MetadataAssembler::new(e.info_hash, size).unwrap();
    for piece in asm.missing().collect::<Vec<_>>() {
        let req = MetadataMessage::Request { piece }.to_bytes();
        let out = send(
            &mut e,
            1,
            Time::ZERO,
            Message::Extended {
                ext_id: their_id,
                payload: &req,
            },
        );
        assert_eq!(metadata_replies(&out, &mut asm), 1);
    }
    assert_eq!(asm.finish().unwrap(), Some(s.info.clone()));
    // Wrong metadata is refused outright.
    assert_eq!(
        e.set_metadata(b"d1:ai1ee"),
        Err(EngineError::MetadataMismatch)
    );
}

#[test]
fn a_metadata_request_flood_gets_a_bounded_answer() {
    let s = site();
    let (mut e, their_id, size) = metadata_session(&s);
    let mut flood = Vec::new();
    let req = MetadataMessage::Request { piece: 0 }.to_bytes();
    for _ in 0..1000 {
        Message::Extended {
            ext_id: their_id,
            payload: &req,
        }
        .encode_into(&mut flood);
    }
    e.handle(
        Time::ZERO,
        Input::PeerData {
            peer: 1,
            bytes: &flood,
        },
    );
    let mut asm = MetadataAssembler::new(e.info_hash, size).unwrap();
    let data = metadata_replies(&drain(&mut e), &mut asm);
    let pieces = size.div_ceil(16 * 1024) as usize;
    assert!(data >= 1 && data <= 2 * pieces + 5, "{data} data replies");
}

fn extended_handshake(bytes: &[u8]) -> Option<ExtendedHandshake> {
    let mut rest = bytes.get(68..)?;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        if let Ok(Message::Extended { ext_id: 0, payload }) =
            Message::try_from(rest.get(4..4 + len)?)
        {
            return ExtendedHandshake::try_from(payload).ok();
        }
        rest = &rest[4 + len..];
    }
    None
}

#[test]
fn leech_only_never_unchokes() {
    let s = site();
    let mut leech = seeded(
        &s,
        Config {
            leech_only: true,
            ..Config::default()
        },
    );
    let mut remote = Remote::new(&s, 3);
    remote.connect(&mut leech, 1, Time::ZERO);
    let out = send(&mut leech, 1, Time::ZERO, Message::Interested);
    assert!(!remote.read(&out, 1).iter().any(|m| m.contains("Unchoke")));
}

#[test]
fn the_upload_rate_is_capped() {
    let s = site();
    let rate = 32 * 1024;
    let mut e = seeded(
        &s,
        Config {
            upload_rate: Some(rate),
            ..Config::default()
        },
    );
    let mut remote = Remote::new(&s, 3);
    remote.connect(&mut e, 1, Time::ZERO);
    send(&mut e, 1, Time::ZERO, Message::Interested);
    let mut now = Time::ZERO;
    for i in 0..6 {
        let req = Message::Request {
            index: i,
            begin: 0,
            length: 16384,
        }
        .to_bytes();
        e.handle(
            now,
            Input::PeerData {
                peer: 1,
                bytes: &req,
            },
        );
        answer_reads(&mut e, &s, now);
    }
    // Serve for 2 virtual seconds, waking when the engine asks.
    while let Some(t) = e.poll_timeout().filter(|&t| t <= Time::from_millis(2000)) {
        now = t.max(now.after(Duration::from_millis(1)));
        e.handle(now, Input::Timer);
        answer_reads(&mut e, &s, now);
    }
    let up = e.stats().uploaded;
    // One second of burst plus two seconds of rate, never more.
    assert!(up <= 3 * rate && up >= rate, "uploaded {up}");
}

#[test]
fn a_full_channel_buffer_pauses_uploads_until_it_drains() {
    let s = site();
    let cfg = Config {
        max_send_buffer: Some(20_000),
        ..Config::default()
    };
    let mut e = seeded(&s, cfg);
    Remote::new(&s, 3).connect(&mut e, 1, Time::ZERO);
    send(&mut e, 1, Time::ZERO, Message::Interested);
    let mut reqs = Vec::new();
    for i in 0..4 {
        Message::Request {
            index: i,
            begin: 0,
            length: 16384,
        }
        .encode_into(&mut reqs);
    }
    e.handle(
        Time::ZERO,
        Input::PeerData {
            peer: 1,
            bytes: &reqs,
        },
    );
    answer_reads(&mut e, &s, Time::ZERO);
    // Two blocks fill the 20000-byte budget; the other two wait.
    assert_eq!(e.stats().uploaded, 2 * 16384);
    assert_eq!(e.queued_requests(), 2);
    e.handle(Time::ZERO, Input::PeerBuffered { peer: 1, bytes: 0 });
    answer_reads(&mut e, &s, Time::ZERO);
    assert_eq!(e.stats().uploaded, 4 * 16384);
    assert_eq!(e.queued_requests(), 0);
}

/// An unchoked peer `key` of a seeding engine built with `cfg`.
fn unchoked_peer(s: &Site, cfg: Config) -> Engine {
    let mut e = seeded(s, cfg);
    let mut remote = Remote::new(s, 9);
    remote.connect(&mut e, 1, Time::ZERO);
    let out = send(&mut e, 1, Time::ZERO, Message::Interested);
    assert!(remote.read(&out, 1).iter().any(|m| m.contains("Unchoke")));
    e
}

fn reads(out: &[Output]) -> usize {
    out.iter()
        .filter(|o| matches!(o, Output::ReadPiece { .. }))
        .count()
}

#[test]
fn tiny_requests_are_dropped_unless_they_end_their_piece() {
    let s = site();
    let mut e = unchoked_peer(&s, Config::default());
    let tiny = Message::Request {
        index: 0,
        begin: 0,
        length: 1,
    };
    let out = send(&mut e, 1, Time::ZERO, tiny);
    assert_eq!(reads(&out), 0, "no piece read for one byte");
    assert_eq!(e.stats().requests_dropped, 1);
    // The last block of a piece is as short as the piece makes it.
    let tail = Message::Request {
        index: 1,
        begin: PL as u32 - 100,
        length: 100,
    };
    let out = send(&mut e, 1, Time::ZERO, tail);
    assert_eq!(reads(&out), 1);
    assert_eq!(e.stats().requests_dropped, 1);
}

#[test]
fn under_an_upload_cap_reads_for_a_few_bytes_each_are_charged() {
    let s = site();
    let rate = 32 * 1024;
    let cfg = Config {
        upload_rate: Some(rate),
        ..Config::default()
    };
    let mut e = unchoked_peer(&s, cfg);
    // 1 KiB from the end of each of the 6 whole pieces: each read costs a piece.
    let mut now = Time::ZERO;
    let mut read = reads(&{
        let mut flood = Vec::new();
        for index in 0..6 {
            Message::Request {
                index,
                begin: PL as u32 - 1024,
                length: 1024,
            }
            .encode_into(&mut flood);
        }
        e.handle(
            now,
            Input::PeerData {
                peer: 1,
                bytes: &flood,
            },
        );
        answer_reads(&mut e, &s, now)
    });
    assert_eq!(read, 1, "one read, then the budget is in debt");
    // One second: the budget pays for 32 KiB, two reads of 15 KiB unasked
    // plus the 1 KiB sent from each (uncharged, all six within it).
    for _ in 0..10 {
        now = now.after(Duration::from_millis(100));
        e.handle(now, Input::Timer);
        read += reads(&answer_reads(&mut e, &s, now));
    }
    assert!((2..=3).contains(&read), "{read} reads in 1 s at {rate} B/s");
}
