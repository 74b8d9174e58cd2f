//! Load generator for the tracker benchmark (not a test): opens N WebSocket
//! peers on loopback that announce with SDP offers, against `peercdn serve`,
//! against bittorrent-tracker's server and, given `--aquatic`, against
//! aquatic_ws, one after the other in one run, with the same generator;
//! prints announces per second, resident memory per 1,000 peers, and the
//! ratios.
//!
//! Each server is pinned to CPU 0 and this generator to CPU 1 (taskset), so
//! neither server gets more than one core. Messages are built with
//! peercdn's own tracker module. Phases per server:
//! 1. resident memory (VmRSS) of the idle server;
//! 2. N peers connect and announce once (`started`, with offers) into
//!    swarms of `--swarm-size`; once every peer has its reply, memory again:
//!    (loaded - idle) / N * 1000 is the memory per 1,000 peers;
//! 3. every peer re-announces in a closed loop (send, wait for the reply,
//!    repeat) for `--secs`; completed announces / secs is the throughput.
//!    Relayed offers arriving meanwhile are read and counted, not answered.
//!
//! Rounds alternate between the servers, so a neighbour's load hits both
//! alike; [`report`] prints every round, per-round ratios and medians.
//!
//! Usage: tracker-load --peercdn <bin> --repo <dir> [--aquatic <bin>]
//!        [--peers 2000] [--offers 5] [--swarm-size 50] [--secs 8]
//!        [--sdp-bytes 600] [--rounds 5]

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{watch, Barrier};

mod peer;
mod report;
use peer::PeerSpec;

pub struct Options {
    peercdn: String,
    repo: String,
    /// aquatic_ws's binary, when it is measured too.
    aquatic: Option<String>,
    peers: usize,
    offers: usize,
    swarm_size: usize,
    secs: u64,
    sdp_bytes: usize,
    rounds: usize,
}

pub struct Outcome {
    name: &'static str,
    idle_kib: u64,
    loaded_kib: u64,
    announces: u64,
    offers_received: u64,
    secs: f64,
    /// CPU seconds the server used during the loop (all its threads).
    cpu_secs: f64,
    peers: usize,
}

impl Outcome {
    /// Announces per second of server CPU: its capacity per core, which
    /// other work on a shared machine does not skew.
    pub fn per_cpu_sec(&self) -> f64 {
        self.announces as f64 / self.cpu_secs.max(0.01)
    }

    pub fn per_sec(&self) -> f64 {
        self.announces as f64 / self.secs
    }

    pub fn kib_per_1000(&self) -> f64 {
        self.loaded_kib.saturating_sub(self.idle_kib) as f64 / self.peers as f64 * 1000.0
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let opts = parse_args();
    let mut rounds = Vec::new();
    for _ in 0..opts.rounds {
        // Alternating, so a neighbour's load hits both servers alike.
        let ours = run_one("peercdn serve", &opts, ours_command(&opts)).await;
        let reference = run_one("bittorrent-tracker", &opts, reference_command(&opts)).await;
        let aquatic = match &opts.aquatic {
            Some(bin) => Some(run_aquatic(bin, &opts).await),
            None => None,
        };
        // Each round as it ends, so an interrupted run still tells something.
        for o in [Some(&ours), Some(&reference), aquatic.as_ref()]
            .into_iter()
            .flatten()
        {
            eprintln!(
                "round {}: {}: {:.0} announces/s, {:.0} per CPU-s, {:.0} KiB/1000 peers",
                rounds.len() + 1,
                o.name,
                o.per_sec(),
                o.per_cpu_sec(),
                o.kib_per_1000()
            );
        }
        rounds.push((ours, reference, aquatic));
    }
    report::print_table(&opts, &rounds);
    report::print_ratios(&rounds);
}

fn parse_args() -> Options {
    let mut o = Options {
        peercdn: String::new(),
        repo: ".".into(),
        aquatic: None,
        peers: 2000,
        offers: 5,
        swarm_size: 50,
        secs: 8,
        sdp_bytes: 600,
        rounds: 5,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        let number = || value.parse::<usize>().unwrap_or_else(|_| usage(&pair[0]));
        match pair[0].as_str() {
            "--peercdn" => o.peercdn = value.clone(),
            "--repo" => o.repo = value.clone(),
            "--aquatic" => o.aquatic = Some(value.clone()),
            "--peers" => o.peers = number(),
            "--offers" => o.offers = number(),
            "--swarm-size" => o.swarm_size = number().max(2),
            "--secs" => o.secs = number() as u64,
            "--sdp-bytes" => o.sdp_bytes = number(),
            "--rounds" => o.rounds = number().max(1),
            other => usage(other),
        }
    }
    if o.peercdn.is_empty() {
        usage("--peercdn is required");
    }
    o
}

fn usage(what: &str) -> ! {
    eprintln!("tracker-load: bad argument {what}\nusage: tracker-load --peercdn BIN --repo DIR [--aquatic BIN] [--peers N] [--offers N] [--swarm-size N] [--secs N] [--sdp-bytes N] [--rounds N]");
    std::process::exit(2)
}

/// Our tracker with the per-connection rate limit and the per-address
/// bounds lifted (every load peer is on 127.0.0.1): the benchmark measures
/// capacity, and the reference has no such limits.
fn ours_command(o: &Options) -> Command {
    let site = std::env::temp_dir();
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0", &o.peercdn, "serve"])
        .arg(site)
        .args(["--tracker-only", "--addr", "127.0.0.1:0"])
        .args(["--rate-limit", "1000000", "--rate-burst", "1000000"])
        .args([
            "--max-peers-per-swarm",
            "100000",
            "--max-connections",
            "100000",
            "--max-connections-per-ip",
            "100000",
            "--max-peers-per-ip",
            "100000",
        ]);
    cmd
}

fn reference_command(o: &Options) -> Command {
    let script = "import Server from 'bittorrent-tracker/server';\
        const s = new Server({ udp: false, http: false, ws: true });\
        s.on('warning', () => {});\
        s.on('listening', () => console.log('ws://127.0.0.1:' + s.http.address().port + '/announce'));\
        s.listen(0, '127.0.0.1');";
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0", "node", "--input-type=module", "-e", script])
        .current_dir(&o.repo);
    cmd
}

/// aquatic_ws on a free loopback port, with its own default configuration
/// (`aquatic_ws -p`) but for the address, pinned to CPU 0 like the others.
/// It prints no URL: the port is ours to choose, and it is ready once it
/// accepts a connection.
async fn run_aquatic(bin: &str, o: &Options) -> Outcome {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let defaults = std::process::Command::new(bin)
        .arg("-p")
        .output()
        .expect("aquatic_ws -p");
    let config: String = String::from_utf8_lossy(&defaults.stdout)
        .lines()
        .map(|line| match line.trim_start().starts_with("address =") {
            true => format!("address = \"127.0.0.1:{port}\""),
            false => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = std::env::temp_dir().join(format!("peercdn-bench-aquatic-{port}.toml"));
    std::fs::write(&path, config).expect("write aquatic_ws config");
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0", bin, "-c"]).arg(&path);
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start aquatic_ws");
    let ready = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < ready,
            "aquatic_ws did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let outcome = measure(
        "aquatic_ws",
        o,
        child,
        format!("ws://127.0.0.1:{port}/announce"),
    )
    .await;
    let _ = std::fs::remove_file(&path);
    outcome
}

/// Starts a server, waits for the ws:// URL on its stdout.
async fn start(mut cmd: Command) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(at) = line.find("ws://") {
            let url = line[at..]
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            return (child, url);
        }
    }
    panic!("server printed no ws:// URL");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn run_one(name: &'static str, o: &Options, cmd: Command) -> Outcome {
    let (child, url) = start(cmd).await;
    measure(name, o, child, url).await
}

/// The phases of the module doc against the server `child` at `url`.
async fn measure(name: &'static str, o: &Options, mut child: Child, url: String) -> Outcome {
    let pid = child.id().expect("pid");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_kib = rss_kib(pid);
    let announced = Arc::new(Barrier::new(o.peers + 1));
    let (go_tx, go_rx) = watch::channel(None::<Instant>);
    let offers_received = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(o.peers);
    for i in 0..o.peers {
        let peer = PeerSpec::new(i, o);
        let (url, barrier, go, seen) = (
            url.clone(),
            announced.clone(),
            go_rx.clone(),
            offers_received.clone(),
        );
        tasks.push(tokio::spawn(peer.run(url, barrier, go, seen)));
        if i % 100 == 99 {
            // Pace connection setup so the accept queue never overflows.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    announced.wait().await;
    // Settle: let both servers finish what the burst left (GC, trimming).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let loaded_kib = rss_kib(pid);
    eprintln!(
        "{name}: {} peers announced; RSS {idle_kib} -> {loaded_kib} KiB",
        o.peers
    );
    let deadline = Instant::now() + Duration::from_secs(o.secs);
    let started = Instant::now();
    let cpu_before = cpu_secs(pid);
    let _ = go_tx.send(Some(deadline));
    let mut announces = 0;
    for t in tasks {
        announces += t.await.unwrap_or(0);
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu_secs = cpu_secs(pid) - cpu_before;
    let _ = child.kill().await;
    Outcome {
        name,
        idle_kib,
        loaded_kib,
        announces,
        offers_received: offers_received.load(Ordering::Relaxed),
        secs,
        cpu_secs,
        peers: o.peers,
    }
}

/// User + system CPU time of a process, from /proc/PID/stat (fields 14
/// and 15, in USER_HZ = 100 ticks per second on Linux).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces: count fields after its ')'.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After ')': state is field 3, so utime (14) and stime (15) are 11, 12.
    (ticks(11) + ticks(12)) as f64 / 100.0
}
