//! Messages the tracker sends to a client: announce reply, relayed offer,
//! relayed answer, scrape reply, failure. See the wire format in the parent
//! module.

use super::fields::{id_from_str, opt_str, opt_u32, req_id, req_sdp, req_str, ObjectWriter};
use super::json::{write_bin, Kind, Str, Val};
use super::{parse_object, Action, Id20, TrackerError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackerToClient {
    AnnounceReply(AnnounceReply),
    Offer(RelayedOffer),
    Answer(RelayedAnswer),
    ScrapeReply(ScrapeReply),
    Failure(Failure),
}

/// The reply to an announce (not to an answer): swarm counts and when to
/// announce again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnounceReply {
    pub info_hash: Id20,
    /// Seconds until the next announce.
    pub interval: u32,
    /// Seeders.
    pub complete: u32,
    /// Leechers.
    pub incomplete: u32,
    pub warning: Option<String>,
}

/// Another peer's offer, relayed; `peer_id` is the sender's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayedOffer {
    pub info_hash: Id20,
    pub peer_id: Id20,
    pub offer_id: Id20,
    pub sdp: String,
}

/// The answer to one of our offers; `peer_id` is the answerer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayedAnswer {
    pub info_hash: Id20,
    pub peer_id: Id20,
    pub offer_id: Id20,
    pub sdp: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrapeReply {
    /// One entry per info hash, unique.
    pub files: Vec<(Id20, ScrapeFile)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScrapeFile {
    pub complete: u32,
    pub incomplete: u32,
    pub downloaded: u32,
}

/// The tracker refused a request; other requests on the socket go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub action: Option<Action>,
    pub info_hash: Option<Id20>,
}

impl TrackerToClient {
    pub fn to_json(&self) -> String {
        match self {
            TrackerToClient::AnnounceReply(r) => encode_reply(r),
            TrackerToClient::Offer(o) => {
                encode_relay(&o.info_hash, &o.peer_id, &o.offer_id, "offer", &o.sdp)
            }
            TrackerToClient::Answer(a) => {
                encode_relay(&a.info_hash, &a.peer_id, &a.offer_id, "answer", &a.sdp)
            }
            TrackerToClient::ScrapeReply(s) => encode_scrape(s),
            TrackerToClient::Failure(f) => encode_failure(f),
        }
    }
}

impl TryFrom<&[u8]> for TrackerToClient {
    type Error = TrackerError;

    fn try_from(bytes: &[u8]) -> Result<Self, TrackerError> {
        let doc = parse_object(bytes)?;
        let msg = doc.root();
        if let Some(reason) = opt_str(msg, "failure reason")? {
            return decode_failure(msg, reason).map(TrackerToClient::Failure);
        }
        match Action::from_json(req_str(msg, "action")?) {
            Some(Action::Announce) if msg.get("offer").is_some() => {
                let (info_hash, peer_id, offer_id, sdp) = decode_relay(msg, "offer")?;
                Ok(TrackerToClient::Offer(RelayedOffer {
                    info_hash,
                    peer_id,
                    offer_id,
                    sdp,
                }))
            }
            Some(Action::Announce) if msg.get("answer").is_some() => {
                let (info_hash, peer_id, offer_id, sdp) = decode_relay(msg, "answer")?;
                Ok(TrackerToClient::Answer(RelayedAnswer {
                    info_hash,
                    peer_id,
                    offer_id,
                    sdp,
                }))
            }
            Some(Action::Announce) => decode_reply(msg).map(TrackerToClient::AnnounceReply),
            Some(Action::Scrape) => decode_scrape(msg).map(TrackerToClient::ScrapeReply),
            None => Err(TrackerError::UnknownAction),
        }
    }
}

fn decode_failure(msg: Val<'_, '_>, reason: Str<'_>) -> Result<Failure, TrackerError> {
    let action = match opt_str(msg, "action")? {
        Some(a) => Some(Action::from_json(a).ok_or(TrackerError::UnknownAction)?),
        None => None,
    };
    let info_hash = opt_str(msg, "info_hash")?
        .map(|s| id_from_str(s, "info_hash"))
        .transpose()?;
    Ok(Failure {
        reason: reason.to_owned_string(),
        action,
        info_hash,
    })
}

fn decode_relay(
    msg: Val<'_, '_>,
    kind: &'static str,
) -> Result<(Id20, Id20, Id20, String), TrackerError> {
    Ok((
        req_id(msg, "info_hash")?,
        req_id(msg, "peer_id")?,
        req_id(msg, "offer_id")?,
        req_sdp(msg, kind, kind)?,
    ))
}

/// Counts default to zero: some trackers leave them out of a reply to a
/// `stopped` announce.
fn decode_reply(msg: Val<'_, '_>) -> Result<AnnounceReply, TrackerError> {
    Ok(AnnounceReply {
        info_hash: req_id(msg, "info_hash")?,
        interval: opt_u32(msg, "interval")?.ok_or(TrackerError::Missing("interval"))?,
        complete: opt_u32(msg, "complete")?.unwrap_or(0),
        incomplete: opt_u32(msg, "incomplete")?.unwrap_or(0),
        warning: opt_str(msg, "warning message")?.map(Str::to_owned_string),
    })
}

fn decode_scrape(msg: Val<'_, '_>) -> Result<ScrapeReply, TrackerError> {
    let files = msg
        .get("files")
        .filter(|f| f.kind() == Kind::Object)
        .ok_or(TrackerError::invalid("files", "not an object"))?;
    let files = files
        .entries()
        .map(|(key, stats)| {
            let file = ScrapeFile {
                complete: opt_u32(stats, "complete")?.unwrap_or(0),
                incomplete: opt_u32(stats, "incomplete")?.unwrap_or(0),
                downloaded: opt_u32(stats, "downloaded")?.unwrap_or(0),
            };
            Ok((id_from_str(key, "files")?, file))
        })
        .collect::<Result<_, TrackerError>>()?;
    Ok(ScrapeReply { files })
}

fn encode_reply(r: &AnnounceReply) -> String {
    let mut w = ObjectWriter::new();
    w.str("action", "announce")
        .bin("info_hash", &r.info_hash)
        .num("interval", u64::from(r.interval))
        .num("complete", u64::from(r.complete))
        .num("incomplete", u64::from(r.incomplete));
    if let Some(warning) = &r.warning {
        w.str("warning message", warning);
    }
    w.finish()
}

fn encode_relay(
    info_hash: &Id20,
    peer_id: &Id20,
    offer_id: &Id20,
    kind: &str,
    sdp: &str,
) -> String {
    let mut w = ObjectWriter::new();
    w.str("action", "announce")
        .bin("info_hash", info_hash)
        .bin("peer_id", peer_id)
        .bin("offer_id", offer_id)
        .sdp(kind, kind, sdp);
    w.finish()
}

fn encode_scrape(s: &ScrapeReply) -> String {
    let mut files = String::from("{");
    for (i, (info_hash, file)) in s.files.iter().enumerate() {
        if i > 0 {
            files.push(',');
        }
        write_bin(&mut files, info_hash);
        files.push(':');
        let mut w = ObjectWriter::new();
        w.num("complete", u64::from(file.complete))
            .num("incomplete", u64::from(file.incomplete))
            .num("downloaded", u64::from(file.downloaded));
        files.push_str(&w.finish());
    }
    files.push('}');
    let mut w = ObjectWriter::new();
    w.str("action", "scrape").raw("files", &files);
    w.finish()
}

fn encode_failure(f: &Failure) -> String {
    let mut w = ObjectWriter::new();
    w.str("failure reason", &f.reason);
    if let Some(action) = f.action {
        w.str("action", action.as_str());
    }
    if let Some(info_hash) = &f.info_hash {
        w.bin("info_hash", info_hash);
    }
    w.finish()
}
