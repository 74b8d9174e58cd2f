use super::json::{parse, Kind, Val};
use super::*;
use proptest::prelude::*;

fn id(byte: u8) -> Id20 {
    [byte; 20]
}

/// A binary string for JSON text written by hand: byte b as `\u00bb`.
fn bin_json(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\u{:04x}", b)).collect()
}

#[test]
fn decodes_a_webtorrent_announce() {
    let ih: Vec<u8> = (0..20).map(|i| i * 13).collect();
    let text = format!(
        r#"{{"numwant":5,"uploaded":0,"downloaded":0,"left":null,"event":"started",
        "action":"announce","info_hash":"{}","peer_id":"-WW0300-abcdefghijkl",
        "trackerid":"x","offers":[{{"offer":{{"type":"offer","sdp":"v=0\r\n"}},
        "offer_id":"{}"}}]}}"#,
        bin_json(&ih),
        bin_json(&[0xff; 20])
    );
    let msg = ClientToTracker::try_from(text.as_bytes()).unwrap();
    let ClientToTracker::Announce(a) = msg else {
        panic!("not an announce: {msg:?}")
    };
    assert_eq!(a.info_hash.to_vec(), ih);
    assert_eq!(&a.peer_id, b"-WW0300-abcdefghijkl");
    assert_eq!(a.event, Some(AnnounceEvent::Started));
    assert_eq!((a.numwant, a.left), (Some(5), None));
    assert_eq!(a.offers.len(), 1);
    assert_eq!(a.offers[0].offer_id, [0xff; 20]);
    assert_eq!(a.offers[0].sdp, "v=0\r\n");
}

#[test]
fn decodes_an_answer_and_a_scrape() {
    let text = format!(
        r#"{{"action":"announce","info_hash":"{0}","peer_id":"{1}","to_peer_id":"{2}",
        "answer":{{"type":"answer","sdp":"a"}},"offer_id":"{0}"}}"#,
        bin_json(&id(1)),
        bin_json(&id(2)),
        bin_json(&id(3))
    );
    let expected = ClientToTracker::Answer(Answer {
        info_hash: id(1),
        peer_id: id(2),
        to_peer_id: id(3),
        offer_id: id(1),
        sdp: "a".into(),
    });
    assert_eq!(ClientToTracker::try_from(text.as_bytes()), Ok(expected));
    let scrape = format!(
        r#"{{"action":"scrape","info_hash":["{}"]}}"#,
        bin_json(&id(9))
    );
    assert_eq!(
        ClientToTracker::try_from(scrape.as_bytes()),
        Ok(ClientToTracker::Scrape(Scrape {
            info_hashes: vec![id(9)],
            single: false
        }))
    );
}

#[test]
fn binary_strings_are_written_like_json_stringify() {
    let mut ih = id(b'a');
    ih[0] = 0;
    ih[1] = 0xe9;
    ih[2] = b'"';
    let reply = TrackerToClient::AnnounceReply(AnnounceReply {
        info_hash: ih,
        interval: 120,
        complete: 1,
        incomplete: 2,
        warning: None,
    });
    let json = reply.to_json();
    assert!(json.starts_with("{\"action\":\"announce\",\"info_hash\":\"\\u0000\u{e9}\\\"aaa"));
    assert!(json.ends_with("\"interval\":120,\"complete\":1,\"incomplete\":2}"));
}

#[test]
fn refuses_what_it_could_not_re_encode() {
    let ok_id = bin_json(&id(1));
    let cases = [
        "not json".to_string(),
        "[1,2]".to_string(),
        r#"{"action":"fly"}"#.to_string(),
        r#"{"info_hash":"x"}"#.to_string(),
        format!(r#"{{"action":"announce","info_hash":"short","peer_id":"{ok_id}"}}"#),
        // 20 chars but one above 255.
        format!(
            r#"{{"action":"announce","info_hash":"\u0100{}","peer_id":"{ok_id}"}}"#,
            bin_json(&[1; 19])
        ),
        format!(
            r#"{{"action":"announce","info_hash":"{ok_id}","peer_id":"{ok_id}","numwant":-1}}"#
        ),
        format!(r#"{{"action":"announce","info_hash":"{ok_id}","peer_id":"{ok_id}","left":1.5}}"#),
        format!(
            r#"{{"action":"announce","info_hash":"{ok_id}","peer_id":"{ok_id}","offers":[{{}}]}}"#
        ),
        format!(
            r#"{{"action":"announce","info_hash":"{ok_id}","info_hash":"{ok_id}","peer_id":"{ok_id}"}}"#
        ),
        format!(
            r#"{{"action":"announce","info_hash":"{ok_id}","peer_id":"{ok_id}","answer":{{"type":"offer","sdp":""}},"to_peer_id":"{ok_id}","offer_id":"{ok_id}"}}"#
        ),
    ];
    for case in &cases {
        assert!(
            ClientToTracker::try_from(case.as_bytes()).is_err(),
            "accepted {case}"
        );
    }
    assert_eq!(
        ClientToTracker::try_from(&b"{\"action\":\"\xff\"}"[..]),
        Err(TrackerError::NotUtf8)
    );
}

#[test]
fn json_limits_and_grammar() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(
        parse(&deep).is_err(),
        "deep nesting refused without overflow"
    );
    let ok = "[".repeat(MAX_DEPTH_FOR_TEST) + &"]".repeat(MAX_DEPTH_FOR_TEST);
    assert!(parse(&ok).is_ok());
    for bad in [
        "01",
        "1.",
        "-",
        "+1",
        ".5",
        "1e",
        "\"\\ud800\"",
        "\"\t\"",
        "{\"a\":1,}",
        "nul",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad}");
    }
    // Valid JSON, but not a count: only plain digits up to 2^53 are.
    for not_a_count in ["-0.5e1", "5.0", "1e3", "-0", "9007199254740993", "1e400"] {
        let doc = parse(not_a_count).unwrap();
        assert_eq!(doc.root().integer(), None, "{not_a_count}");
    }
    assert_eq!(
        parse("9007199254740992").unwrap().root().integer(),
        Some(1 << 53)
    );
    let doc = parse(r#""\ud83d\ude00\n\u00e9""#).unwrap();
    let text = doc.root().str().unwrap();
    assert_eq!(text.to_owned_string(), "\u{1f600}\n\u{e9}");
    assert!(text.chars().eq("\u{1f600}\n\u{e9}".chars()));
    // Keys are compared unescaped.
    assert!(parse(r#"{"a":1,"b":{"a":2},"\u0061":3}"#).is_err());
    assert!(parse(r#"{"a":1,"b":{"a":2,"c":[{"a":3}]}}"#).is_ok());
}

#[test]
fn a_fractional_count_is_a_clear_error() {
    let ok_id = bin_json(&id(1));
    let text =
        format!(r#"{{"action":"announce","info_hash":"{ok_id}","peer_id":"{ok_id}","left":1.5}}"#);
    assert_eq!(
        ClientToTracker::try_from(text.as_bytes()),
        Err(TrackerError::invalid("left", "not a non-negative integer"))
    );
}

const MAX_DEPTH_FOR_TEST: usize = json::MAX_DEPTH;

fn any_id() -> impl Strategy<Value = Id20> {
    any::<[u8; 20]>()
}

fn any_event() -> impl Strategy<Value = Option<AnnounceEvent>> {
    prop::option::of(prop_oneof![
        Just(AnnounceEvent::Started),
        Just(AnnounceEvent::Stopped),
        Just(AnnounceEvent::Completed),
        Just(AnnounceEvent::Update),
    ])
}

/// Counts round-trip up to 2^53, the integers JavaScript reads exactly.
fn any_count() -> impl Strategy<Value = Option<u64>> {
    prop::option::of(0u64..=(1 << 53))
}

fn any_announce() -> impl Strategy<Value = ClientToTracker> {
    let offers = prop::collection::vec(
        (any_id(), ".*").prop_map(|(offer_id, sdp)| Offer { offer_id, sdp }),
        0..4,
    );
    (
        (
            any_id(),
            any_id(),
            any_event(),
            prop::option::of(any::<u32>()),
        ),
        (any_count(), any_count(), any_count(), offers),
    )
        .prop_map(
            |((info_hash, peer_id, event, numwant), (up, down, left, offers))| {
                ClientToTracker::Announce(Announce {
                    info_hash,
                    peer_id,
                    event,
                    numwant,
                    uploaded: up,
                    downloaded: down,
                    left,
                    offers,
                })
            },
        )
}

fn any_client_message() -> impl Strategy<Value = ClientToTracker> {
    let answer = (any_id(), any_id(), any_id(), any_id(), ".*").prop_map(|(i, p, t, o, sdp)| {
        ClientToTracker::Answer(Answer {
            info_hash: i,
            peer_id: p,
            to_peer_id: t,
            offer_id: o,
            sdp,
        })
    });
    // `single` only means something with exactly one hash.
    let scrape = (prop::collection::vec(any_id(), 0..4), any::<bool>()).prop_map(|(hashes, s)| {
        ClientToTracker::Scrape(Scrape {
            single: s && hashes.len() == 1,
            info_hashes: hashes,
        })
    });
    prop_oneof![any_announce(), answer, scrape]
}

fn any_tracker_message() -> impl Strategy<Value = TrackerToClient> {
    let reply = (any_id(), any::<[u32; 3]>(), prop::option::of(".*")).prop_map(|(i, n, w)| {
        TrackerToClient::AnnounceReply(AnnounceReply {
            info_hash: i,
            interval: n[0],
            complete: n[1],
            incomplete: n[2],
            warning: w,
        })
    });
    let relay =
        (any_id(), any_id(), any_id(), ".*", any::<bool>()).prop_map(|(i, p, o, sdp, offer)| {
            if offer {
                TrackerToClient::Offer(RelayedOffer {
                    info_hash: i,
                    peer_id: p,
                    offer_id: o,
                    sdp,
                })
            } else {
                TrackerToClient::Answer(RelayedAnswer {
                    info_hash: i,
                    peer_id: p,
                    offer_id: o,
                    sdp,
                })
            }
        });
    let scrape = prop::collection::btree_map(any_id(), any::<[u32; 3]>(), 0..4).prop_map(|m| {
        let files = m
            .into_iter()
            .map(|(h, n)| {
                (
                    h,
                    ScrapeFile {
                        complete: n[0],
                        incomplete: n[1],
                        downloaded: n[2],
                    },
                )
            })
            .collect();
        TrackerToClient::ScrapeReply(ScrapeReply { files })
    });
    let action = prop::option::of(prop_oneof![Just(Action::Announce), Just(Action::Scrape)]);
    let failure =
        (".*", action, prop::option::of(any_id())).prop_map(|(reason, action, info_hash)| {
            TrackerToClient::Failure(Failure {
                reason,
                action,
                info_hash,
            })
        });
    prop_oneof![reply, relay, scrape, failure]
}

proptest! {
    #[test]
    fn client_messages_round_trip(msg in any_client_message()) {
        let json = msg.to_json();
        prop_assert_eq!(ClientToTracker::try_from(json.as_bytes()), Ok(msg));
    }

    #[test]
    fn tracker_messages_round_trip(msg in any_tracker_message()) {
        let json = msg.to_json();
        prop_assert_eq!(TrackerToClient::try_from(json.as_bytes()), Ok(msg));
    }

    /// What we write, a stock JSON reader (serde_json) reads to the same
    /// structure as ours does.
    #[test]
    fn output_is_standard_json(msg in any_client_message(), reply in any_tracker_message()) {
        for text in [msg.to_json(), reply.to_json()] {
            let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(to_serde(parse(&text).unwrap().root()), theirs);
        }
    }

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = ClientToTracker::try_from(bytes.as_slice());
        let _ = TrackerToClient::try_from(bytes.as_slice());
    }

    #[test]
    fn mutated_messages_never_panic(msg in any_client_message(), at in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = msg.to_json().into_bytes();
        let i = at % bytes.len();
        bytes[i] = byte;
        let _ = ClientToTracker::try_from(bytes.as_slice());
        bytes.truncate(i);
        let _ = ClientToTracker::try_from(bytes.as_slice());
    }
}

/// What our reader read, as serde_json's value (its objects are maps, so
/// key order does not matter). Every number we write is a count.
fn to_serde(value: Val<'_, '_>) -> serde_json::Value {
    use serde_json::Value as J;
    match value.kind() {
        Kind::Null => J::Null,
        Kind::Bool => J::Bool(value.bool().unwrap()),
        Kind::Number => J::from(value.integer().unwrap()),
        Kind::Str { .. } => J::String(value.str().unwrap().to_owned_string()),
        Kind::Array => J::Array(value.items().map(to_serde).collect()),
        Kind::Object => J::Object(
            value
                .entries()
                .map(|(k, v)| (k.to_owned_string(), to_serde(v)))
                .collect(),
        ),
    }
}
