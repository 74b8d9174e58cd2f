//! Messages a client sends to the tracker: announce (with offers), answer,
//! scrape. See the wire format in the parent module.

use super::fields::{
    id_from_str, opt_str, opt_u32, opt_u64, req_id, req_sdp, req_str, ObjectWriter,
};
use super::json::{Kind, Str, Val};
use super::{parse_object, Action, Id20, TrackerError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientToTracker {
    Announce(Announce),
    Answer(Answer),
    Scrape(Scrape),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnounceEvent {
    Started,
    Stopped,
    Completed,
    /// A periodic re-announce (`"update"`, or no event at all on the wire).
    Update,
}

impl AnnounceEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnounceEvent::Started => "started",
            AnnounceEvent::Stopped => "stopped",
            AnnounceEvent::Completed => "completed",
            AnnounceEvent::Update => "update",
        }
    }

    fn parse(text: Str<'_>) -> Result<Self, TrackerError> {
        let all = [
            AnnounceEvent::Started,
            AnnounceEvent::Stopped,
            AnnounceEvent::Completed,
            AnnounceEvent::Update,
        ];
        if let Some(event) = all.into_iter().find(|e| text.eq_str(e.as_str())) {
            return Ok(event);
        }
        // bittorrent-tracker's client may send "empty" for no event.
        if text.eq_str("empty") {
            return Ok(AnnounceEvent::Update);
        }
        Err(TrackerError::invalid("event", "unknown event"))
    }
}

/// "I am in this swarm; here are WebRTC offers for peers you pick."
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announce {
    pub info_hash: Id20,
    pub peer_id: Id20,
    /// `None` on the wire reads as [`AnnounceEvent::Update`] to a tracker;
    /// kept distinct so re-encoding gives back what was sent.
    pub event: Option<AnnounceEvent>,
    pub numwant: Option<u32>,
    pub uploaded: Option<u64>,
    pub downloaded: Option<u64>,
    /// Bytes still missing; `None` when unknown (a JS client's `Infinity`).
    pub left: Option<u64>,
    pub offers: Vec<Offer>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub offer_id: Id20,
    pub sdp: String,
}

/// The SDP answer to an offer, routed by the tracker to `to_peer_id` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub info_hash: Id20,
    pub peer_id: Id20,
    pub to_peer_id: Id20,
    pub offer_id: Id20,
    pub sdp: String,
}

/// Swarm statistics for these info hashes; empty asks for all swarms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scrape {
    pub info_hashes: Vec<Id20>,
    /// Whether `info_hash` was a lone string rather than an array (both are
    /// legal); kept so a decoded message re-encodes to the same shape.
    pub single: bool,
}

impl ClientToTracker {
    pub fn to_json(&self) -> String {
        match self {
            ClientToTracker::Announce(a) => encode_announce(a),
            ClientToTracker::Answer(a) => encode_answer(a),
            ClientToTracker::Scrape(s) => encode_scrape(s),
        }
    }

    /// The action a failure reply to this message should carry.
    pub fn action(&self) -> Action {
        match self {
            ClientToTracker::Scrape(_) => Action::Scrape,
            _ => Action::Announce,
        }
    }
}

impl TryFrom<&[u8]> for ClientToTracker {
    type Error = TrackerError;

    fn try_from(bytes: &[u8]) -> Result<Self, TrackerError> {
        let doc = parse_object(bytes)?;
        let msg = doc.root();
        match Action::from_json(req_str(msg, "action")?) {
            // An answer is an announce that carries `answer` (as the
            // WebTorrent client sends it).
            Some(Action::Announce) if msg.get("answer").is_some() => {
                decode_answer(msg).map(ClientToTracker::Answer)
            }
            Some(Action::Announce) => decode_announce(msg).map(ClientToTracker::Announce),
            Some(Action::Scrape) => decode_scrape(msg).map(ClientToTracker::Scrape),
            None => Err(TrackerError::UnknownAction),
        }
    }
}

fn decode_announce(msg: Val<'_, '_>) -> Result<Announce, TrackerError> {
    let event = opt_str(msg, "event")?
        .map(AnnounceEvent::parse)
        .transpose()?;
    let offers = match msg.get("offers").map(|v| (v.kind(), v)) {
        None | Some((Kind::Null, _)) => Vec::new(),
        Some((Kind::Array, items)) => items.items().map(decode_offer).collect::<Result<_, _>>()?,
        Some(_) => return Err(TrackerError::invalid("offers", "not an array")),
    };
    Ok(Announce {
        info_hash: req_id(msg, "info_hash")?,
        peer_id: req_id(msg, "peer_id")?,
        event,
        numwant: opt_u32(msg, "numwant")?,
        uploaded: opt_u64(msg, "uploaded")?,
        downloaded: opt_u64(msg, "downloaded")?,
        left: opt_u64(msg, "left")?,
        offers,
    })
}

fn decode_offer(item: Val<'_, '_>) -> Result<Offer, TrackerError> {
    if item.kind() != Kind::Object {
        return Err(TrackerError::invalid("offers", "an offer is not an object"));
    }
    Ok(Offer {
        offer_id: req_id(item, "offer_id")?,
        sdp: req_sdp(item, "offer", "offer")?,
    })
}

fn decode_answer(msg: Val<'_, '_>) -> Result<Answer, TrackerError> {
    Ok(Answer {
        info_hash: req_id(msg, "info_hash")?,
        peer_id: req_id(msg, "peer_id")?,
        to_peer_id: req_id(msg, "to_peer_id")?,
        offer_id: req_id(msg, "offer_id")?,
        sdp: req_sdp(msg, "answer", "answer")?,
    })
}

fn decode_scrape(msg: Val<'_, '_>) -> Result<Scrape, TrackerError> {
    let Some(value) = msg.get("info_hash") else {
        return Ok(Scrape {
            info_hashes: Vec::new(),
            single: false,
        });
    };
    match value.kind() {
        Kind::Null => Ok(Scrape {
            info_hashes: Vec::new(),
            single: false,
        }),
        Kind::Str { .. } => Ok(Scrape {
            info_hashes: vec![req_id(msg, "info_hash")?],
            single: true,
        }),
        Kind::Array => {
            let info_hashes = value
                .items()
                .map(|item| match item.str() {
                    Some(s) => id_from_str(s, "info_hash"),
                    None => Err(TrackerError::invalid("info_hash", "not a string")),
                })
                .collect::<Result<_, _>>()?;
            Ok(Scrape {
                info_hashes,
                single: false,
            })
        }
        _ => Err(TrackerError::invalid("info_hash", "not a string or array")),
    }
}

fn encode_announce(a: &Announce) -> String {
    let mut w = ObjectWriter::new();
    w.str("action", "announce")
        .bin("info_hash", &a.info_hash)
        .bin("peer_id", &a.peer_id);
    if let Some(event) = a.event {
        w.str("event", event.as_str());
    }
    let numbers = [
        ("numwant", a.numwant.map(u64::from)),
        ("uploaded", a.uploaded),
        ("downloaded", a.downloaded),
        ("left", a.left),
    ];
    for (key, value) in numbers {
        if let Some(n) = value {
            w.num(key, n);
        }
    }
    if !a.offers.is_empty() {
        w.array("offers", &a.offers, |out, o| {
            let mut ow = ObjectWriter::new();
            ow.bin("offer_id", &o.offer_id)
                .sdp("offer", "offer", &o.sdp);
            out.push_str(&ow.finish());
        });
    }
    w.finish()
}

fn encode_answer(a: &Answer) -> String {
    let mut w = ObjectWriter::new();
    w.str("action", "announce")
        .bin("info_hash", &a.info_hash)
        .bin("peer_id", &a.peer_id)
        .bin("to_peer_id", &a.to_peer_id)
        .bin("offer_id", &a.offer_id)
        .sdp("answer", "answer", &a.sdp);
    w.finish()
}

fn encode_scrape(s: &Scrape) -> String {
    let mut w = ObjectWriter::new();
    w.str("action", "scrape");
    match s.info_hashes.as_slice() {
        [one] if s.single => {
            w.bin("info_hash", one);
        }
        [] => {}
        many => {
            w.array("info_hash", many, |out, h| super::json::write_bin(out, h));
        }
    }
    w.finish()
}
