//! Links between simulated nodes and to the origin. A data channel is
//! reliable and ordered (SCTP): a lost packet shows up as a retransmission
//! delay that holds back everything behind it, not as missing bytes.

use std::collections::HashMap;
use std::time::Duration;

use peercdn::engine::Time;

#[derive(Clone, Copy, Debug)]
pub struct LinkSpec {
    pub latency: Duration,
    /// Bytes per second.
    pub bandwidth: f64,
    /// Probability that a message needs a retransmission (one extra RTT).
    pub loss: f64,
}

#[derive(Default, Clone, Copy)]
struct LinkState {
    busy_until: Time,
    last_arrival: Time,
}

pub struct Net {
    pub peer_link: LinkSpec,
    pub origin_link: LinkSpec,
    /// Overrides for particular directed links.
    pub special: HashMap<(usize, usize), LinkSpec>,
    /// Each node's total upload to peers (bytes per second), shared by all
    /// its channels: a visitor's uplink, not just each channel, is finite.
    pub uplink: f64,
    links: HashMap<(usize, usize), LinkState>,
    uplinks: HashMap<usize, Time>,
    origin: HashMap<usize, LinkState>,
    rng: u64,
}

impl Net {
    pub fn new(peer_link: LinkSpec, origin_link: LinkSpec, seed: u64) -> Net {
        Net {
            peer_link,
            origin_link,
            special: HashMap::new(),
            uplink: peer_link.bandwidth,
            links: HashMap::new(),
            uplinks: HashMap::new(),
            origin: HashMap::new(),
            rng: seed | 1,
        }
    }

    /// Returns (departure, arrival): until departure the bytes sit in the
    /// sender's channel buffer (its `bufferedAmount`).
    pub fn transmit(&mut self, now: Time, from: usize, to: usize, len: usize) -> (Time, Time) {
        let spec = self
            .special
            .get(&(from, to))
            .copied()
            .unwrap_or(self.peer_link);
        let lossy = self.chance(spec.loss);
        // The node's uplink serialises its channels: a message leaves once
        // the uplink has sent everything queued before it.
        let up = self.uplinks.entry(from).or_default();
        let start = (*up).max(now);
        *up = start.after(Duration::from_secs_f64(len as f64 / self.uplink));
        let state = self.links.entry((from, to)).or_default();
        advance(state, start, spec, len, lossy)
    }

    /// Arrival time of the next `len` bytes of origin responses to `node`
    /// (all of that node's origin responses share its link).
    pub fn origin_transmit(&mut self, now: Time, node: usize, len: usize) -> Time {
        let spec = self.origin_link;
        let lossy = self.chance(spec.loss);
        let state = self.origin.entry(node).or_default();
        advance(state, now, spec, len, lossy).1
    }

    fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

fn advance(
    state: &mut LinkState,
    now: Time,
    spec: LinkSpec,
    len: usize,
    lossy: bool,
) -> (Time, Time) {
    let tx = Duration::from_secs_f64(len as f64 / spec.bandwidth);
    let depart = state.busy_until.max(now).after(tx);
    state.busy_until = depart;
    let mut arrive = depart.after(spec.latency);
    if lossy {
        arrive = arrive.after(spec.latency * 2);
    }
    // In order: nothing overtakes a delayed message.
    arrive = arrive.max(state.last_arrival);
    state.last_arrival = arrive;
    (depart, arrive)
}
