//! Choosing the peers an announce's offers go to: distinct, never the
//! sender, uniformly at random from a seeded xorshift (the state has no
//! global random source, so tests are deterministic).

use indexmap::IndexMap;
use peercdn::tracker::Id20;

/// Up to `wanted` distinct indices of peers other than `sender`, at random.
pub fn pick_peers<P>(
    rng: &mut u64,
    peers: &IndexMap<Id20, P>,
    sender: &Id20,
    wanted: usize,
) -> Vec<usize> {
    let sender_index = peers.get_index_of(sender);
    let others = peers.len() - usize::from(sender_index.is_some());
    let wanted = wanted.min(others);
    let mut picked: Vec<usize> = Vec::with_capacity(wanted);
    if others <= 2 * wanted {
        // Small swarm: shuffle everyone else and take a prefix.
        let mut all: Vec<usize> = (0..peers.len())
            .filter(|&i| Some(i) != sender_index)
            .collect();
        for i in (1..all.len()).rev() {
            all.swap(i, (next(rng) % (i as u64 + 1)) as usize);
        }
        all.truncate(wanted);
        return all;
    }
    // Large swarm: rejection sampling; at most half the candidates are
    // taken, so each draw succeeds with probability >= 1/2.
    while picked.len() < wanted {
        let i = (next(rng) % peers.len() as u64) as usize;
        if Some(i) != sender_index && !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked
}

/// xorshift64: cheap, and unpredictable enough for choosing peers given an
/// unpredictable seed.
fn next(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}
