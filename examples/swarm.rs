//! Runs one simulated swarm scenario (or all) and prints one JSON object
//! per run: `cargo run --release --example swarm -- <scenario>|all [asset bytes] [seed]`.

#[path = "../tests/sim/mod.rs"]
mod sim;

use sim::scenarios::{run, FULL_ASSET, SCENARIOS};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("all", String::as_str);
    let asset = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(FULL_ASSET);
    let seed = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(42);
    let names: Vec<&str> = if which == "all" {
        SCENARIOS.to_vec()
    } else {
        vec![which]
    };
    for name in names {
        match run(name, asset, seed) {
            Some(report) => println!("{}", report.to_json()),
            None => {
                eprintln!(
                    "unknown scenario {name:?}; one of: all {}",
                    SCENARIOS.join(" ")
                );
                std::process::exit(2);
            }
        }
    }
}
