//! Command-line arguments. What was typed lives here; `run` turns it into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalogue::Release;

#[derive(Debug, Parser)]
#[command(
    name = "kubemig",
    version,
    about = "Upgrade Kubernetes manifests off deprecated and removed API versions, keeping their formatting",
    after_help = TOP_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const TOP_HELP: &str = "\
Examples:
  kubemig check deploy/                   what needs migrating, one line per object
  kubemig diff -t 1.29 deploy/ | less     the rewrite as a patch, for clusters on 1.29
  kubemig fix deploy/                     rewrite the files in place
  kubemig check --format sarif . > kubemig.sarif
  kubemig explain networking.k8s.io/v1beta1 Ingress

Settings can also come from a .kubemig.toml (see `kubemig check --show-config`).
Exit status: 0 nothing to do (or all fixed), 1 migrations needed or findings left for a human, 2 an error occurred.";

const CHECK_HELP: &str = "\
Examples:
  kubemig check                            the current directory, recursively
  kubemig check -t 1.29 --min-version 1.27 k8s/ charts/app/crds.yaml
  kubemig check --format json . | jq '.findings[] | select(.action == \"manual\")'
  kubemig check --format github .          annotations in a GitHub Actions log
  kubemig check --exclude 'vendor/' --rules cert-manager.toml .
  kubemig check --show-config              the settings in effect, and where each came from

Suppress one document with a comment `# kubemig: ignore`, or some migrations with
`# kubemig: ignore=ID,ID` (ids from `kubemig list`).
Exit status: 0 nothing to migrate, 1 migrations needed or objects need a human, 2 an error occurred
(with every --format).";

const DIFF_HELP: &str = "\
Examples:
  kubemig diff deploy/ > upgrade.patch; git apply upgrade.patch   (diff exits 1 when it prints one)
  kubemig diff -t 1.26 deploy/hpa.yaml
  kubectl get hpa -A -o yaml | kubemig diff -

Exit status: 0 nothing to change, 1 there is a diff or objects need a human, 2 an error occurred.";

const FIX_HELP: &str = "\
Examples:
  kubemig fix deploy/                      rewrite in place; files that need no change are not touched
  kubemig fix --include-deprecated -t 1.30 .
  kubemig fix - < old.yaml > new.yaml      a filter: the stream comes out migrated

Exit status: 0 everything migrated (or nothing to do), 1 objects left for a human, 2 an error occurred.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List what needs migrating; exit 1 if anything does.
    #[command(after_help = CHECK_HELP)]
    Check(RunArgs),
    /// Print unified diffs of the rewrite; exit 1 if there are any.
    #[command(after_help = DIFF_HELP, mut_arg("format", |a| a.hide(true)))]
    Diff(RunArgs),
    /// Rewrite files in place (`fix -` writes the migrated stdin to stdout).
    #[command(after_help = FIX_HELP, mut_arg("format", |a| a.hide(true)))]
    Fix(RunArgs),
    /// Print the migration catalogue as a table.
    List(ListArgs),
    /// Explain a migration: `explain ID` or `explain APIVERSION KIND`.
    Explain(ExplainArgs),
    /// Print a shell completion script: `source <(kubemig completions bash)`.
    #[command(
        after_help = "Examples:\n  kubemig completions bash > ~/.local/share/bash-completion/completions/kubemig\n  kubemig completions zsh > \"${fpath[1]}/_kubemig\"\n  kubemig completions fish > ~/.config/fish/completions/kubemig.fish"
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Write the completion script for `shell` to `w`.
pub fn completions(shell: clap_complete::Shell, w: &mut dyn std::io::Write) {
    use clap::CommandFactory;
    clap_complete::generate(shell, &mut Cli::command(), "kubemig", w);
}

#[derive(Debug, Default, Args)]
pub struct RunArgs {
    /// Files or directories to process; `-` reads one stream from stdin.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub versions: VersionArgs,
    /// Also migrate versions that are still served at the target but deprecated.
    #[arg(long)]
    pub include_deprecated: bool,
    /// Never apply nor report this migration id or finding code (repeatable; also `ignore`
    /// in .kubemig.toml).
    #[arg(long, value_name = "ID", help_heading = "Selection")]
    pub ignore: Vec<String>,
    /// Apply this deprecated-only migration as --include-deprecated would (repeatable; also
    /// `enable` in .kubemig.toml).
    #[arg(long, value_name = "ID", help_heading = "Selection")]
    pub enable: Vec<String>,
    /// Parse every file, even those that mention no old apiVersion.
    #[arg(long)]
    pub no_prefilter: bool,
    /// Threads that walk and process files [default: one per CPU, or RAYON_NUM_THREADS].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Refuse files larger than this (bytes, or with K, M, G): memory stays bounded [default: 32M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Also show informational findings (dropped status, removed annotations, …).
    #[arg(short, long)]
    pub verbose: bool,
    /// Print only objects to migrate, what needs a human, and errors: no pins or warnings, no summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print how many objects each migration id applies to, instead of one line per object.
    #[arg(long)]
    pub statistics: bool,
    /// Output format of `check` (the exit status is the same for every format).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip files and directories matching GLOB (gitignore syntax; repeatable).
    #[arg(long, value_name = "GLOB", help_heading = "Files")]
    pub exclude: Vec<String>,
    /// Walk only files matching GLOB instead of *.yaml, *.yml, *.json (gitignore syntax; repeatable).
    #[arg(long, value_name = "GLOB", help_heading = "Files")]
    pub include: Vec<String>,
    /// Read stdin as if it were the file PATH: its .kubemig.toml, ignore rules, kustomize
    /// role and name in the output (for editors and hooks that pipe a buffer).
    #[arg(long, value_name = "PATH", help_heading = "Files")]
    pub stdin_filename: Option<PathBuf>,
    /// Follow symbolic links while walking (never to a target outside the walked directory).
    #[arg(long, help_heading = "Files")]
    pub follow_symlinks: bool,
    /// Apply --exclude and .kubemigignore to files named on the command line too (for hooks).
    #[arg(long, help_heading = "Files")]
    pub force_exclude: bool,
    /// Load extra migrations (same TOML format as the catalogue) from FILE (repeatable).
    #[arg(long = "rules", value_name = "FILE", help_heading = "Configuration")]
    pub rules: Vec<PathBuf>,
    /// Read settings from FILE instead of looking for .kubemig.toml.
    #[arg(long, value_name = "FILE", help_heading = "Configuration")]
    pub config: Option<PathBuf>,
    /// Do not read any .kubemig.toml.
    #[arg(long, conflicts_with = "config", help_heading = "Configuration")]
    pub no_config: bool,
    #[command(flatten)]
    pub packs: PackArgs,
    /// Print the settings in effect (flags, .kubemig.toml, defaults) and exit.
    #[arg(long, help_heading = "Configuration")]
    pub show_config: bool,
    /// Take a fact the manifests cannot tell as given (repeatable): gce-project=ID, gce-zone=Z,
    /// azure-disk-kind=Managed, critical-pod=CLASS, gitrepo-image=IMAGE, topologykeys=drop,
    /// legacy-pod-annotations=convert, capacity=SIZE, vsphere-fcd-id=PV=ID,
    /// webhook-side-effects=None|NoneOnDryRun.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_assumption, help_heading = "Field migrations")]
    pub assume: Vec<(String, String)>,
    /// Also rewrite PersistentVolumes exported from a live cluster (uid, status, claimRef.uid,
    /// pv.kubernetes.io/* annotations), dropping what the API server set.
    #[arg(long, help_heading = "Field migrations")]
    pub allow_live_pv: bool,
    /// For each inline in-tree pod volume, print the PersistentVolume and claim to create
    /// (with --assume capacity=SIZE).
    #[arg(long, help_heading = "Field migrations")]
    pub split_inline_volumes: bool,
    /// Also scan shell scripts, Makefiles, Dockerfiles and CI files for `kubectl run` flags
    /// removed in kubectl 1.31 (`fix` deletes them).
    #[arg(long, help_heading = "Field migrations")]
    pub scan_scripts: bool,
}

/// Third-party API packs and the add-on versions they follow.
#[derive(Debug, Default, Clone, Args)]
pub struct PackArgs {
    /// Also migrate the custom resources of add-on NAME (repeatable; `kubemig list --packs`).
    #[arg(
        long = "pack",
        id = "pack",
        value_name = "NAME",
        help_heading = "Packs"
    )]
    pub packs: Vec<String>,
    /// The add-on version the manifests must work with [default: the newest the pack knows].
    #[arg(long = "component", value_name = "NAME=VERSION", value_parser = parse_component, help_heading = "Packs")]
    pub components: Vec<(String, String)>,
}

fn parse_component(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VERSION, like cert-manager=1.14"))?;
    crate::catalogue::ComponentVersion::parse(v)?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// What `--assume` accepts: the facts field migrations know how to use.
pub const ASSUMPTIONS: &[&str] = &[
    "azure-disk-kind",
    "capacity",
    "critical-pod",
    "gce-project",
    "gce-zone",
    "gitrepo-image",
    "legacy-pod-annotations",
    "topologykeys",
    "vsphere-fcd-id",
    "webhook-side-effects",
];

pub fn parse_assumption(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    let (k, v) = (k.trim(), v.trim());
    if !ASSUMPTIONS.contains(&k) {
        return Err(format!(
            "unknown key `{k}`; known: {}",
            ASSUMPTIONS.join(", ")
        ));
    }
    if v.is_empty() {
        return Err(format!("`{k}` needs a value"));
    }
    if k == "webhook-side-effects" && !matches!(v, "None" | "NoneOnDryRun") {
        return Err("webhook-side-effects is what admissionregistration.k8s.io/v1 accepts: None or NoneOnDryRun".into());
    }
    if k == "vsphere-fcd-id" && !v.contains('=') {
        return Err("vsphere-fcd-id names the PersistentVolume: vsphere-fcd-id=PV=FCD-ID".into());
    }
    Ok((k.to_string(), v.to_string()))
}

/// How `check` writes what it found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `PATH:LINE:COL: …` lines for people.
    #[default]
    Text,
    /// One JSON document (schema in docs/output-formats.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

#[derive(Debug, Default, Args)]
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
    #[command(flatten)]
    pub config: CatalogueArgs,
    /// List the deprecated fields inside served APIs (in-tree volumes, annotations) instead.
    #[arg(long)]
    pub fields: bool,
    /// List the third-party API packs instead (enable one with --pack NAME).
    #[arg(long = "packs", id = "list_packs", conflicts_with = "fields")]
    pub list_packs: bool,
    /// List the finding codes instead: kubemig's own, then those of the migrations' rules.
    #[arg(long, conflicts_with_all = ["fields", "list_packs"])]
    pub codes: bool,
    /// Show what a run with --include-deprecated would do.
    #[arg(long)]
    pub include_deprecated: bool,
    /// As `check --ignore ID`: show this migration as ignored (repeatable).
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// As `check --enable ID`: show this migration as applied (repeatable).
    #[arg(long, value_name = "ID")]
    pub enable: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A migration id (see `kubemig list`), or an apiVersion and a kind.
    #[arg(required = true, num_args = 1..=2)]
    pub query: Vec<String>,
    #[command(flatten)]
    pub config: CatalogueArgs,
}

/// Where `list` and `explain` find migrations beyond the embedded catalogue: the same
/// `--rules` and `.kubemig.toml` as `check`, so they describe what a run would do.
#[derive(Debug, Clone, Args)]
pub struct CatalogueArgs {
    /// Also load the migrations in FILE (same TOML format as the catalogue; repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Read settings from FILE instead of looking for .kubemig.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read any .kubemig.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    #[command(flatten)]
    pub pack_args: PackArgs,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

pub fn parse_size(s: &str) -> Result<u64, String> {
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
