//! `peercdn`: the native tools of peercdn.
//!
//! - `peercdn build <site-dir>` writes the site manifest (`peercdn.torrent`
//!   and `peercdn.json`), see [`build`].
//! - `peercdn serve <site-dir>` runs the origin: static files, the WebSocket
//!   tracker and stats, see [`serve`].
//!
//! Errors print one line naming what failed and exit with status 1.

mod build;
mod content_type;
mod hidden;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "peercdn",
    version,
    about = "A peer-to-peer CDN in the browser: native tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the site manifest: peercdn.torrent and peercdn.json.
    Build(BuildArgs),
    /// Serve the site, a WebSocket tracker at /announce and stats at
    /// /_peercdn/stats.
    Serve(serve::ServeArgs),
}

#[derive(clap::Args)]
struct BuildArgs {
    /// The directory whose files visitors will share.
    site_dir: PathBuf,
    /// Where to write the manifest (default: the site directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Piece length in bytes: a power of two from 16 KiB to 4 MiB
    /// (default: at most about 512 pieces, larger while that saves more
    /// than it pads).
    #[arg(long)]
    piece_length: Option<u64>,
    /// Publish only files whose relative path matches (repeatable; dotfiles
    /// are included when a pattern names them).
    #[arg(long)]
    include: Vec<String>,
    /// Leave out files whose relative path matches (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// The site's public URL, written as a BEP 19 web seed (`url-list`).
    #[arg(long)]
    base_url: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(build::BuildOptions {
            site_dir: args.site_dir,
            out_dir: args.out,
            piece_length: args.piece_length,
            include: args.include,
            exclude: args.exclude,
            base_url: args.base_url,
        })
        .map(|summary| println!("{summary}")),
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("peercdn: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
