//! `cargo bench --bench status`: what `patcher status` costs over the 10,000-file tree of
//! `scan_resolve` (the same generator, so the same repositories, registry and files) with its
//! three environments `dev`, `stage` and `prod`, against the scans it is made of.
//!
//! Timings are printed, never asserted. The listing count is checked: with resolution, every
//! unique origin is listed exactly once for all three environments together, and a run that
//! lists any origin twice (or one per environment) stops the bench.

// The fixture's own rows (its `main`) are not run here.
#[allow(dead_code)]
#[path = "scan_resolve.rs"]
mod fixture;

use fixture::{measure, Fixture, ENVS, REPORT_RUNS, RESOLVE_RUNS, SCAN_RUNS};
use patcher::environment::Environment;
use patcher::model::{Origin, ScanResult};
use patcher::plan::Strategy;
use patcher::resolve::{ResolveError, Resolver, VersionLister};
use patcher::status::{self, ChainEnvironment, Status, StatusOptions};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

const CONCURRENCY: usize = 16;

fn main() {
    let fixture = generate_checked();
    let tree = &fixture.tree;
    let globs: Vec<String> = ENVS.iter().map(|e| format!("{e}={e}/**")).collect();
    let chain = status::chain_from_globs(&globs, tree).expect("the chain");
    let origins_per_env: Vec<BTreeSet<Origin>> =
        chain.iter().map(|c| origins(&scan(&c.env))).collect();
    let all: BTreeSet<&Origin> = origins_per_env.iter().flatten().collect();
    let listed = count_listings(&fixture, &chain);
    assert_eq!(listed, all.len(), "every origin listed exactly once");
    println!(
        "fixture: {} files, chain {}; origins per environment {}, {} unique: {listed} listings \
         for the whole chain (one per environment would be {})\n",
        fixture::FILES,
        ENVS.join(" → "),
        origins_per_env
            .iter()
            .map(|o| o.len().to_string())
            .collect::<Vec<_>>()
            .join(" + "),
        all.len(),
        origins_per_env.iter().map(BTreeSet::len).sum::<usize>(),
    );

    let whole = Environment {
        working_dir: tree.clone(),
        ..Environment::default()
    };
    let config = fixture::resolve_config(&fixture.registry);
    let mut rows = vec![
        measure("scan, whole tree (one scan)", SCAN_RUNS, || {
            scan(&whole);
        }),
        measure("scan dev, stage, prod one after another", SCAN_RUNS, || {
            chain.iter().for_each(|c| {
                scan(&c.env);
            })
        }),
        measure("status::collect, offline", SCAN_RUNS, || {
            collect(&chain, None);
        }),
        measure(
            "status::collect, resolved (fresh resolver, concurrency 16)",
            RESOLVE_RUNS,
            || {
                collect(&chain, Some(&Resolver::new(config.clone())));
            },
        ),
    ];
    let binary = Path::new(env!("CARGO_BIN_EXE_patcher"));
    let chain_args: Vec<String> = globs.iter().map(|g| format!("--environment={g}")).collect();
    let chain_args: Vec<&str> = chain_args.iter().map(String::as_str).collect();
    for (label, extra) in [
        (
            "`patcher status --offline` (binary, end to end)",
            &["--offline"][..],
        ),
        ("`patcher status` resolved (binary, end to end)", &[][..]),
    ] {
        let args = [&chain_args[..], extra, &["--output", "json"]].concat();
        rows.push(measure(label, REPORT_RUNS, || {
            fixture::run_patcher(binary, "status", tree, &args, &fixture.registry)
        }));
    }
    fixture::print_results(&rows);
}

fn generate_checked() -> Fixture {
    let fixture = fixture::generate();
    let whole = Environment {
        working_dir: fixture.tree.clone(),
        ..Environment::default()
    };
    fixture::check_scan(&scan(&whole));
    fixture
}

fn scan(env: &Environment) -> ScanResult {
    patcher::scan::scan(env).expect("scan of the generated tree")
}

fn origins(scan: &ScanResult) -> BTreeSet<Origin> {
    scan.usages
        .iter()
        .map(|u| u.source.origin.clone())
        .collect()
}

fn collect(chain: &[ChainEnvironment], lister: Option<&dyn VersionLister>) -> Status {
    let status = status::collect(&StatusOptions {
        chain: chain.to_vec(),
        strategy: Strategy::NextSafe,
        concurrency: CONCURRENCY,
        lister,
        pulls: None,
        now: status::now(),
    })
    .expect("status of the generated tree");
    let failed = status
        .dependencies
        .iter()
        .filter(|d| d.listing_error.is_some())
        .count();
    assert_eq!(failed, 0, "listings failed");
    status
}

/// How many listings one resolved `status` asks for.
fn count_listings(fixture: &Fixture, chain: &[ChainEnvironment]) -> usize {
    let counting = Counting {
        inner: Resolver::new(fixture::resolve_config(&fixture.registry)),
        calls: AtomicUsize::new(0),
    };
    collect(chain, Some(&counting));
    counting.calls.load(Ordering::Relaxed)
}

/// A lister that counts the listings it is asked for.
struct Counting {
    inner: Resolver,
    calls: AtomicUsize,
}

impl VersionLister for Counting {
    fn list(&self, origin: &Origin) -> Result<Vec<String>, ResolveError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.list(origin)
    }
}
