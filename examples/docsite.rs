//! Scratch: runs the doc-site prefetch scenario.
#[path = "../tests/sim/mod.rs"]
mod sim;
use peercdn::engine::Config;
use std::time::Duration;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seeds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let buffer = args.get(2).map(|a| a == "buf").unwrap_or(false);
    for seed in 1..=seeds {
        let l = sim::docsite::lengths(files, 3_600_000, seed);
        let cfg = Config { max_send_buffer: if buffer { Some(1 << 20) } else { None }, ..Config::default() };
        let delay: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(0);
        let o = sim::docsite::run(&l, cfg, Duration::from_millis(delay), args.get(4).and_then(|a| a.parse().ok()).unwrap_or(0), seed, Duration::from_secs(120));
        println!("seed {seed}: {:?} bytes {}", o, l.iter().sum::<u64>());
    }
}
