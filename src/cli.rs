//! Command-line arguments. What was typed lives here; `run` turns it into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalogue::Release;

#[derive(Debug, Parser)]
#[command(
    name = "kubemig",
    version,
    about = "Upgrade Kubernetes manifests off deprecated and removed API versions, keeping their formatting",
    after_help = "Exit status: 0 nothing to do (or all fixed), 1 migrations needed or findings left for a human, 2 an error occurred."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List what needs migrating; exit 1 if anything does.
    Check(RunArgs),
    /// Print unified diffs of the rewrite; exit 1 if there are any.
    Diff(RunArgs),
    /// Rewrite files in place (`fix -` writes the migrated stdin to stdout).
    Fix(RunArgs),
    /// Print the migration catalogue as a table.
    List(ListArgs),
    /// Explain a migration: `explain ID` or `explain APIVERSION KIND`.
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Files or directories to process; `-` reads one stream from stdin.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub versions: VersionArgs,
    /// Also migrate versions that are still served at the target but deprecated.
    #[arg(long)]
    pub include_deprecated: bool,
    /// Parse every file, even those that mention no old apiVersion.
    #[arg(long)]
    pub no_prefilter: bool,
    /// Refuse files larger than this (bytes, or with K, M, G): memory stays bounded.
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Also show informational findings (dropped status, removed annotations, …).
    #[arg(short, long)]
    pub verbose: bool,
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// The Kubernetes version the manifests must work on [default: newest in the catalogue].
    #[arg(short = 't', long, value_parser = parse_release)]
    pub target_version: Option<Release>,
    /// The oldest Kubernetes version they must keep working on [default: target minus 3].
    #[arg(long, value_parser = parse_release)]
    pub min_version: Option<Release>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub versions: VersionArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A migration id (see `kubemig list`), or an apiVersion and a kind.
    #[arg(required = true, num_args = 1..=2)]
    pub query: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 32M"))?;
    let mult = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("`{s}` is not a size like 32M")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

fn parse_release(s: &str) -> Result<Release, String> {
    Release::parse(s)
}
