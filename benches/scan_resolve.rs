//! `cargo bench --bench scan_resolve`: how long `report` spends scanning a large
//! infrastructure tree and listing the versions of its modules.
//!
//! Everything is generated in a temporary folder: 100 module repositories as real bare git
//! repositories reached through `https://github.com/acme/…` (an `insteadOf` gitconfig), 20
//! modules on a local registry that waits 50 ms before every answer (a realistic round trip),
//! and a tree of 10,000 `.tf` / `terragrunt.hcl` files referencing them in every source form
//! (plus one `common.hcl` that a tenth of the units read with `read_terragrunt_config`).
//! Timings are printed as a Markdown table; nothing is asserted about them (DESIGN.md: speed is
//! measured, never asserted), but a fixture that does not scan or resolve cleanly aborts the
//! run, since its numbers would mean nothing.
//!
//! `benches/status.rs` includes this file as a module for the same fixture: the `pub(crate)`
//! items are what it uses.

use patcher::environment::Environment;
use patcher::model::{Origin, ScanResult};
use patcher::plan::{self, Strategy};
use patcher::resolve::{self, ResolveSettings, Resolver};
use patcher::spec;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::git::{GitConfig, ModuleRepo};
use testkit::registry::Registry;

/// Files of the generated tree, unless `PATCHER_BENCH_FILES` scales it (the memory run at
/// 100,000 files).
pub(crate) const FILES: usize = 10_000;
const FILES_VARIABLE: &str = "PATCHER_BENCH_FILES";
/// Set: only the peak memory is measured (the timing rows take minutes at 100,000 files).
const MEMORY_ONLY_VARIABLE: &str = "PATCHER_BENCH_MEMORY_ONLY";
const GIT_REPOS: usize = 100;
const REGISTRY_MODULES: usize = 20;
const LATENCY: Duration = Duration::from_millis(50);
const ORG: &str = "acme";
const REGISTRY_HOST: &str = "registry.terraform.io";
const GIT_TAGS: [&str; 5] = ["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0", "v2.1.0"];
const REGISTRY_VERSIONS: [&str; 5] = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"];
const SUBMODULES: [&str; 4] = ["app", "network", "database", "queue"];
pub(crate) const ENVS: [&str; 3] = ["dev", "stage", "prod"];
const REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
];
/// Repository creation is git-process bound; a few workers hide process start-up.
const GENERATOR_THREADS: usize = 4;

pub(crate) const SCAN_RUNS: usize = 7;
pub(crate) const RESOLVE_RUNS: usize = 5;
const SERIAL_RUNS: usize = 3;
pub(crate) const REPORT_RUNS: usize = 3;

/// The generated world; dropping it deletes the repositories and the tree.
pub(crate) struct Fixture {
    pub(crate) tree: PathBuf,
    pub(crate) registry: Registry,
    pub(crate) files: usize,
    pub(crate) bytes: usize,
    pub(crate) setup: Duration,
    _tmp: tempfile::TempDir,
}

/// Module repositories, the registry and the tree of [`file_count`] files. Call it before any
/// other thread exists: it sets the process environment.
pub(crate) fn generate() -> Fixture {
    let tmp = tempfile::tempdir().expect("temporary folder");
    // git reads GIT_CONFIG_GLOBAL from the process environment, so it is set before any thread
    // (the registry's included) exists; set_var is only sound while the process is single-threaded.
    let github_root = tmp.path().join("github");
    let gitconfig = GitConfig::github_mirror(tmp.path(), &github_root);
    for (name, value) in gitconfig.env() {
        std::env::set_var(name, value);
    }
    std::env::remove_var("GITHUB_TOKEN");
    std::env::remove_var("GITHUB_REPOSITORY");

    let started = Instant::now();
    create_module_repos(&github_root);
    let registry = start_registry();
    let tree = tmp.path().join("infrastructure-live");
    let files = file_count();
    let bytes = write_tree(&tree, files);
    Fixture {
        tree,
        registry,
        files,
        bytes,
        setup: started.elapsed(),
        _tmp: tmp,
    }
}

fn main() {
    let fixture = generate();
    let (tree, registry) = (&fixture.tree, &fixture.registry);
    let env = Environment {
        working_dir: tree.clone(),
        ..Environment::default()
    };
    let scan = patcher::scan::scan(&env).expect("scan of the generated tree");
    check_scan(&scan);
    let origins: BTreeSet<Origin> = scan
        .usages
        .iter()
        .map(|u| u.source.origin.clone())
        .collect();
    let (git, registry_origins): (BTreeSet<Origin>, BTreeSet<Origin>) = origins
        .iter()
        .cloned()
        .partition(|o| matches!(o, Origin::Git { .. }));
    println!(
        "fixture: {} files ({:.1} MB), {} usages, {} origins ({} git, {} registry), \
         registry latency {} ms, generated in {:.1} s\n",
        fixture.files,
        fixture.bytes as f64 / 1e6,
        scan.usages.len(),
        origins.len(),
        git.len(),
        registry_origins.len(),
        LATENCY.as_millis(),
        fixture.setup.as_secs_f64(),
    );

    let binary = Path::new(env!("CARGO_BIN_EXE_patcher"));
    if std::env::var_os(MEMORY_ONLY_VARIABLE).is_some() {
        print_peak_memory(binary, tree, registry);
        return;
    }
    let config = resolve_config(registry);
    let mut rows = vec![
        measure("scan (parallel walk + parse)", SCAN_RUNS, || {
            patcher::scan::scan(&env).expect("scan");
        }),
        measure(
            "read the same files (`find … \\| xargs cat`)",
            SCAN_RUNS,
            || read_all(tree),
        ),
    ];
    let ratio = rows[0].median.as_secs_f64() / rows[1].median.as_secs_f64();
    for (label, set, concurrency, runs) in [
        (
            "resolve all origins, concurrency 16",
            &origins,
            16,
            RESOLVE_RUNS,
        ),
        (
            "resolve git origins only, concurrency 16",
            &git,
            16,
            RESOLVE_RUNS,
        ),
        (
            "resolve registry origins only, concurrency 16",
            &registry_origins,
            16,
            RESOLVE_RUNS,
        ),
        (
            "resolve all origins, concurrency 1",
            &origins,
            1,
            SERIAL_RUNS,
        ),
    ] {
        rows.push(measure(label, runs, || {
            resolve_fresh(&config, set, concurrency)
        }));
    }
    let listings = Resolver::new(config.clone()).resolve(&origins);
    rows.push(measure("plan + spec (every usage)", SCAN_RUNS, || {
        let by_strategy = |_: &_| Some(plan::Wanted::Strategy(Strategy::NextSafe));
        let plan = plan::plan(&scan.usages, plan::Versions::all(&listings), &by_strategy)
            .expect("a strategy plan has no exact version to miss");
        spec::from_plan(&plan, &[], &[], Strategy::NextSafe, &scan);
    }));
    rows.push(measure(
        "`patcher report` (binary, end to end)",
        REPORT_RUNS,
        || run_patcher(binary, "report", tree, &["--output", "json"], registry),
    ));
    print_results(&rows);
    println!("scan / read (medians): {ratio:.2}×");
    print_peak_memory(binary, tree, registry);
}

/// The table, then how busy the machine was: other work on it moves these numbers.
pub(crate) fn print_results(rows: &[Row]) {
    print!("{}", table(rows));
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "\nload average (1, 5, 15 min) at the end: {}",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}

/// `acme/terraform-aws-svc000.git` …: one commit, every tag of [`GIT_TAGS`] on it. Listing
/// cost does not depend on history length, so one commit keeps generation quick.
fn create_module_repos(root: &Path) {
    let indices: Vec<usize> = (0..GIT_REPOS).collect();
    std::thread::scope(|scope| {
        for chunk in indices.chunks(GIT_REPOS.div_ceil(GENERATOR_THREADS)) {
            scope.spawn(move || {
                for &i in chunk {
                    let repo = ModuleRepo::create(root, ORG, &git_repo_name(i));
                    let head = testkit::git::run(repo.path(), &["rev-parse", "HEAD"]);
                    for tag in GIT_TAGS {
                        repo.tag(tag, &head);
                    }
                }
            });
        }
    });
}

fn start_registry() -> Registry {
    let registry = Registry::start();
    for i in 0..REGISTRY_MODULES {
        registry.add_module(ORG, &registry_module_name(i), "aws", &REGISTRY_VERSIONS);
    }
    registry.set_latency(LATENCY);
    registry
}

fn git_repo_name(i: usize) -> String {
    format!("terraform-aws-svc{i:03}")
}

fn registry_module_name(i: usize) -> String {
    format!("platform{i:02}")
}

pub(crate) fn file_count() -> usize {
    match std::env::var(FILES_VARIABLE) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{FILES_VARIABLE} `{text}` is not a number of files")),
        Err(_) => FILES,
    }
}

/// Writes `files` files, a `terragrunt.hcl` and a `main.tf` per unit folder
/// `{env}/{region}/unit-{n}`, plus the `common.hcl` that a tenth of the units read with
/// `read_terragrunt_config`; returns the total size in bytes.
fn write_tree(root: &Path, files: usize) -> usize {
    std::fs::create_dir_all(root).expect("tree folder");
    let common = common_file();
    std::fs::write(root.join("common.hcl"), &common).expect("common.hcl");
    let mut bytes = common.len();
    for unit in 0..files / 2 {
        let dir = root.join(format!(
            "{}/{}/unit-{:04}",
            ENVS[unit % ENVS.len()],
            REGIONS[(unit / ENVS.len()) % REGIONS.len()],
            unit
        ));
        std::fs::create_dir_all(&dir).expect("unit folder");
        for (name, text) in [
            ("terragrunt.hcl", terragrunt_file(unit)),
            ("main.tf", terraform_file(unit)),
        ] {
            bytes += text.len();
            std::fs::write(dir.join(name), text).expect("tree file");
        }
    }
    bytes
}

/// A deterministic pseudo-random number (splitmix64) so every run builds the same tree.
fn pick(seed: usize, salt: u64, bound: usize) -> usize {
    let mut z = (seed as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % bound as u64) as usize
}

/// Older tags are picked more often, so most usages have an update to plan.
fn current_index(seed: usize, salt: u64) -> usize {
    pick(seed, salt, GIT_TAGS.len() - 1)
}

/// The address of a module folder in repository `repo`, without version. Each repository is
/// always written in the same form, as teams do, so there is one origin per repository; the
/// forms differ between repositories.
fn git_base(repo: usize, submodule: &str) -> String {
    let name = git_repo_name(repo);
    match repo % 4 {
        0 | 1 => format!("git::https://github.com/{ORG}/{name}.git//modules/{submodule}"),
        2 => format!("github.com/{ORG}/{name}//modules/{submodule}"),
        _ => format!("git::git@github.com:{ORG}/{name}.git//modules/{submodule}"),
    }
}

fn git_source(repo: usize, submodule: &str, tag: &str) -> String {
    let extra = if repo % 4 == 1 { "&depth=1" } else { "" };
    format!("{}?ref={tag}{extra}", git_base(repo, submodule))
}

/// The key of a module folder's address in `common.hcl`.
fn source_key(repo: usize, submodule: &str) -> String {
    format!("svc{repo:03}_{submodule}")
}

/// `locals { sources = { … } }`: the address of every module folder of every repository.
fn common_file() -> String {
    let mut text = String::from("locals {\n  sources = {\n");
    for repo in 0..GIT_REPOS {
        for submodule in SUBMODULES {
            let _ = writeln!(
                text,
                "    {} = \"{}\"",
                source_key(repo, submodule),
                git_base(repo, submodule)
            );
        }
    }
    text.push_str("  }\n}\n");
    text
}

fn terragrunt_file(unit: usize) -> String {
    let repo = pick(unit, 1, GIT_REPOS);
    let submodule = SUBMODULES[pick(unit, 2, SUBMODULES.len())];
    let tag = GIT_TAGS[current_index(unit, 3)];
    let (locals, source) = match pick(unit, 4, 10) {
        0..=5 => (String::new(), git_source(repo, submodule, tag)),
        6 => {
            let base = git_base(repo, submodule);
            (
                format!("locals {{\n  base_source_url = \"{base}\"\n}}\n\n"),
                format!("${{local.base_source_url}}?ref={tag}"),
            )
        }
        7 => (
            "locals {\n  common = read_terragrunt_config(find_in_parent_folders(\"common.hcl\"))\n}\n\n"
                .to_string(),
            format!(
                "${{local.common.locals.sources.{}}}?ref={tag}",
                source_key(repo, submodule)
            ),
        ),
        _ => {
            let module = registry_module_name(pick(unit, 5, REGISTRY_MODULES));
            let version = REGISTRY_VERSIONS[current_index(unit, 6)];
            (
                String::new(),
                format!("tfr:///{ORG}/{module}/aws?version={version}"),
            )
        }
    };
    let env = ENVS[unit % ENVS.len()];
    format!(
        "{locals}terraform {{\n  source = \"{source}\"\n}}\n\n\
         inputs = {{\n\
         \x20 name        = \"{env}-unit-{unit:04}\"\n\
         \x20 environment = \"{env}\"\n\
         \x20 instance_count = {count}\n\
         \x20 tags = {{\n    Team = \"platform\"\n    CostCenter = \"cc-{cc}\"\n  }}\n\
         }}\n",
        count = 1 + unit % 3,
        cc = unit % 17,
    )
}

fn terraform_file(unit: usize) -> String {
    let mut text = String::from(
        "variable \"name\" {\n  type = string\n}\n\nlocals {\n  tags = { Name = var.name }\n}\n",
    );
    for block in 0..1 + pick(unit, 7, 3) {
        let seed = unit * 4 + block;
        text.push('\n');
        text.push_str(&module_block(seed, block));
    }
    text.push_str("\noutput \"name\" {\n  value = var.name\n}\n");
    text
}

/// A `module` block: a git source with `?ref=` or a registry source with a `version`
/// attribute (exact pin or constraint).
fn module_block(seed: usize, block: usize) -> String {
    let (source, version) = if pick(seed, 8, 3) == 0 {
        let module = registry_module_name(pick(seed, 9, REGISTRY_MODULES));
        let current = REGISTRY_VERSIONS[current_index(seed, 10)];
        let minor = &current[..current.rfind('.').unwrap_or(current.len())];
        let version = match pick(seed, 11, 3) {
            0 => current.to_string(),
            1 => format!("~> {minor}"),
            _ => format!(">= {current}, < 3.0.0"),
        };
        (
            format!("{ORG}/{module}/aws"),
            format!("  version = \"{version}\"\n"),
        )
    } else {
        let repo = pick(seed, 12, GIT_REPOS);
        let submodule = SUBMODULES[pick(seed, 13, SUBMODULES.len())];
        let tag = GIT_TAGS[current_index(seed, 14)];
        (git_source(repo, submodule, tag), String::new())
    };
    format!(
        "module \"component_{block}\" {{\n  source = \"{source}\"\n{version}\n  \
         name = \"${{var.name}}-{block}\"\n  tags = local.tags\n}}\n"
    )
}

/// A generator mistake would make every number meaningless: stop instead of printing them.
pub(crate) fn check_scan(scan: &ScanResult) {
    assert!(
        scan.errors.is_empty(),
        "generated files failed to parse: {:?}",
        &scan.errors[..scan.errors.len().min(3)]
    );
    assert!(
        scan.skipped.is_empty(),
        "generated sources were skipped: {:?}",
        &scan.skipped[..scan.skipped.len().min(3)]
    );
    assert!(
        scan.usages.len() >= file_count(),
        "too few usages: {}",
        scan.usages.len()
    );
}

pub(crate) fn resolve_config(registry: &Registry) -> ResolveSettings {
    ResolveSettings {
        registry_base_urls: BTreeMap::from([(REGISTRY_HOST.to_string(), registry.url())]),
        ..ResolveSettings::default()
    }
}

/// A new resolver each time: its per-run cache would otherwise answer every later run.
fn resolve_fresh(config: &ResolveSettings, origins: &BTreeSet<Origin>, concurrency: usize) {
    let resolver = Resolver::new(config.clone());
    let listings = resolve::resolve_all(origins, &resolver, concurrency);
    let failed: Vec<_> = listings.iter().filter(|(_, l)| l.is_err()).collect();
    assert!(failed.is_empty(), "listings failed: {failed:?}");
    assert_eq!(listings.len(), origins.len());
}

/// What reading every file of the tree costs with standard tools, the floor for a scan.
fn read_all(tree: &Path) {
    let status = Command::new("sh")
        .arg("-c")
        .arg("find \"$1\" -type f -print0 | xargs -0 cat > /dev/null")
        .arg("sh")
        .arg(tree)
        .status()
        .expect("run find | xargs cat");
    assert!(status.success(), "find | xargs cat failed");
}

/// The release binary as a user runs it: `patcher <command> <tree> <args>`, registry mapped.
pub(crate) fn run_patcher(
    binary: &Path,
    command: &str,
    tree: &Path,
    args: &[&str],
    registry: &Registry,
) {
    let output = Command::new(binary)
        .arg(command)
        .arg(tree)
        .args(args)
        .env(
            "PATCHER_REGISTRY_BASE_URLS",
            format!("{REGISTRY_HOST}={}", registry.url()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run patcher");
    assert!(
        output.status.success(),
        "patcher {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Peak memory of `patcher report` writing the full spec, and of the action's report step, as
/// `/usr/bin/time -v` measures it (maximum resident set size). Skipped without GNU time.
fn print_peak_memory(binary: &Path, tree: &Path, registry: &Registry) {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        println!("\npeak memory: not measured (/usr/bin/time is missing; apt-get install time)");
        return;
    }
    let spec = tree.with_file_name("spec.json");
    let outputs = tree.with_file_name("github-output");
    let registry_urls = format!("{REGISTRY_HOST}={}", registry.url());
    let mut cli = Command::new(time);
    cli.arg("-v")
        .arg(binary)
        .arg("report")
        .arg(tree)
        .args(["--output", "json", "--output-spec"])
        .arg(&spec)
        .env("PATCHER_REGISTRY_BASE_URLS", &registry_urls);
    let cli_peak = peak_kilobytes(cli);
    let spec_bytes = std::fs::metadata(&spec).map_or(0, |m| m.len());
    println!(
        "\npeak memory (maximum resident set size, /usr/bin/time -v): `patcher report --output \
         json --output-spec` {:.0} MB for a {:.1} MB spec",
        cli_peak as f64 / 1024.0,
        spec_bytes as f64 / 1e6,
    );
    let mut action = Command::new(time);
    action
        .arg("-v")
        .arg(binary)
        .arg("action")
        .env("GITHUB_WORKSPACE", tree)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", tree.with_file_name("summary.md"))
        .env("INPUT_PATCHER_COMMAND", "report")
        .env("INPUT_SPEC_FILE", "patcher-spec.json")
        .env("PATCHER_REGISTRY_BASE_URLS", &registry_urls);
    println!(
        "peak memory: `patcher action` (report, spec_file, default max_pull_requests) {:.0} MB",
        peak_kilobytes(action) as f64 / 1024.0,
    );
}

/// Runs `command` (GNU time wrapping patcher) and reads its "Maximum resident set size".
fn peak_kilobytes(mut command: Command) -> u64 {
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run /usr/bin/time");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "patcher failed: {stderr}");
    stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maximum resident set size in: {stderr}"))
}

pub(crate) struct Row {
    label: String,
    runs: usize,
    best: Duration,
    median: Duration,
}

pub(crate) fn measure(label: &str, runs: usize, mut work: impl FnMut()) -> Row {
    // One unrecorded run first, so every measurement starts with a warm page cache.
    work();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    let row = Row {
        label: label.to_string(),
        runs,
        best: times[0],
        median: times[runs / 2],
    };
    eprintln!("measured {label}");
    row
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from("| measurement | runs | best | median |\n|---|---:|---:|---:|\n");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.label,
            row.runs,
            millis(row.best),
            millis(row.median)
        );
    }
    out
}

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
