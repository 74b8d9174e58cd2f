//! The benchmark's printout: every round of both servers, each round's
//! ratios, and the medians over rounds.
//!
//! The machine is shared, so wall-clock throughput moves with whatever else
//! runs; each server is pinned to one CPU and its announces per CPU-second
//! (user + system time of its process) is the fair comparison. Medians,
//! not best rounds: one lucky round should not make the result.

use crate::{Options, Outcome};

/// One round: ours, bittorrent-tracker's, and aquatic_ws's when measured.
pub type Round = (Outcome, Outcome, Option<Outcome>);

pub fn print_table(opts: &Options, rounds: &[Round]) {
    println!(
        "\ntracker benchmark: {} peers, {} offers of {} B per announce, swarms of {}, {} s closed loop, {} rounds",
        opts.peers, opts.offers, opts.sdp_bytes, opts.swarm_size, opts.secs, opts.rounds
    );
    println!(
        "{:<6} {:<20} {:>12} {:>12} {:>14} {:>16} {:>14} {:>14}",
        "round",
        "server",
        "announces/s",
        "CPU-s used",
        "per CPU-s",
        "KiB/1000 peers",
        "idle RSS KiB",
        "offers recv"
    );
    for (i, (ours, reference, aquatic)) in rounds.iter().enumerate() {
        for o in [Some(ours), Some(reference), aquatic.as_ref()]
            .into_iter()
            .flatten()
        {
            println!(
                "{:<6} {:<20} {:>12.0} {:>12.2} {:>14.0} {:>16.0} {:>14} {:>14}",
                i + 1,
                o.name,
                o.per_sec(),
                o.cpu_secs,
                o.per_cpu_sec(),
                o.kib_per_1000(),
                o.idle_kib,
                o.offers_received
            );
        }
    }
}

pub fn print_ratios(rounds: &[Round]) {
    let pairs: Vec<(&Outcome, &Outcome)> = rounds.iter().map(|r| (&r.0, &r.1)).collect();
    print_against("bittorrent-tracker", &pairs, "goal >= 5x", "goal <= 0.25");
    let aquatic: Vec<(&Outcome, &Outcome)> = rounds
        .iter()
        .filter_map(|r| r.2.as_ref().map(|a| (&r.0, a)))
        .collect();
    if !aquatic.is_empty() {
        print_against("aquatic_ws", &aquatic, "no goal", "no goal");
    }
}

/// Each round's ratios of ours against `name`, then the medians.
fn print_against(name: &str, rounds: &[(&Outcome, &Outcome)], cpu_goal: &str, memory_goal: &str) {
    for (i, (ours, other)) in rounds.iter().enumerate() {
        println!(
            "round {}: throughput ratio against {name} {:.2}x per CPU-second ({:.2}x wall clock), memory ratio {:.3}",
            i + 1,
            ours.per_cpu_sec() / other.per_cpu_sec(),
            ours.per_sec() / other.per_sec(),
            ours.kib_per_1000() / other.kib_per_1000()
        );
    }
    let median_of =
        |f: &dyn Fn(&(&Outcome, &Outcome)) -> f64| median(rounds.iter().map(f).collect());
    let ours_cpu = median_of(&|r| r.0.per_cpu_sec());
    let other_cpu = median_of(&|r| r.1.per_cpu_sec());
    let ours_wall = median_of(&|r| r.0.per_sec());
    let other_wall = median_of(&|r| r.1.per_sec());
    let ours_mem = median_of(&|r| r.0.kib_per_1000());
    let other_mem = median_of(&|r| r.1.kib_per_1000());
    println!(
        "medians: ours {ours_cpu:.0} announces per CPU-s ({ours_wall:.0}/s wall), {ours_mem:.0} KiB/1000 peers; \
         {name} {other_cpu:.0} per CPU-s ({other_wall:.0}/s wall), {other_mem:.0} KiB/1000 peers"
    );
    println!(
        "median per-round ratios (ours / {name}): throughput {:.2}x per CPU-second \
         (the fair figure on a shared machine; {cpu_goal}), {:.2}x wall clock; memory per peer {:.3} ({memory_goal})",
        median_of(&|r| r.0.per_cpu_sec() / r.1.per_cpu_sec()),
        median_of(&|r| r.0.per_sec() / r.1.per_sec()),
        median_of(&|r| r.0.kib_per_1000() / r.1.kib_per_1000()),
    );
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
