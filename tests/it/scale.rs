//! Big trees and busy teams: a generated tree run as the runner runs the action, every output
//! read back with the runner's rules and sized as GitHub sizes it (UTF-16), and
//! `max_pull_requests` against the GitHub server holding open labelled pull requests.

use crate::world::Run;
use patcher::action::{utf16_size, STEP_OUTPUTS_LIMIT};
use serde_json::{json, Value};
use testkit::registry_tree::{module_block, module_id as id, module_name, RegistryTree};

/// Linux's limit on one environment variable (`MAX_ARG_STRLEN`): a later step gets the `spec`
/// output as `INPUT_SPEC=…`.
const ENV_VAR_LIMIT: usize = 128 * 1024;

fn tree(
    modules: usize,
    files: usize,
    per_file: usize,
    name: impl Fn(usize) -> String,
) -> RegistryTree {
    RegistryTree::generate(crate::world::bin(), modules, files, per_file, name)
}

fn ids_of(spec: &Value) -> Vec<String> {
    spec["Dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ID"].as_str().unwrap().to_string())
        .collect()
}

fn list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap()
}

#[test]
fn a_tree_of_24000_usages_gives_outputs_that_fit() {
    let t = tree(300, 2400, 10, module_name);
    let run = t.report(&[("max_pull_requests", "0")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_outputs_fit(&run);
    let spec_text = run.output("spec");
    assert!(
        "INPUT_SPEC=".len() + spec_text.len() < ENV_VAR_LIMIT,
        "spec output {} bytes",
        spec_text.len()
    );
    // What the seed's matrix reads: fromJson(spec).Dependencies and matrix.dependency.ID.
    let spec: Value = serde_json::from_str(spec_text).unwrap();
    let listed = list(run.output("dependencies"));
    assert_eq!(listed.len(), 256, "a matrix runs at most 256 jobs");
    assert_eq!(ids_of(&spec), listed);
    assert_eq!(listed[0], id(0));
    assert_eq!(spec["Dependencies"][0]["TargetVersion"], "1.1.0");
    assert_eq!(spec["Dependencies"][0]["UsageCount"], 80);
    assert_eq!(run.output("has_updates"), "true");
    // The full spec keeps every usage; the 44 dependencies past the matrix are deferred.
    let full = t.spec_file();
    let usages: usize = full["Dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Usages"].as_array().unwrap().len())
        .sum();
    assert_eq!((ids_of(&full).len(), usages), (300, 24_000));
    let deferred: Vec<String> = (256..300).map(id).collect();
    assert_eq!(full["Deferred"], json!(deferred));
    assert!(
        run.summary.contains("Deferred to the next run"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains(&format!("- `{}`\n", id(299))));

    // The default limit, with nothing open: ten.
    let run = t.report(&[]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        list(run.output("dependencies")),
        (0..10).map(id).collect::<Vec<_>>()
    );

    // update works from the compact spec: it scans again and finds the dependency's 80 usages.
    let compact = run.output("spec").to_string();
    let update = t
        .step()
        .input("patcher_command", "update")
        .input("spec", &compact)
        .input("dependency", &id(3))
        .input("dry_run", "true")
        .run();
    assert!(update.success, "{}{}", update.stdout, update.stderr);
    assert_eq!(list(update.output("updated_files")).len(), 80);
    assert!(
        update.stdout.contains("+  version = \"1.1.0\""),
        "{}",
        update.stdout
    );
    assert_eq!(t.server.violations(), Vec::<String>::new());
}

#[test]
fn a_spec_output_that_cannot_fit_is_an_error_naming_the_limit_and_the_fix() {
    let long = |i: usize| format!("{}{i:03}", "x".repeat(200));
    let t = tree(256, 256, 1, long);
    let run = t.report(&[("max_pull_requests", "0")]);
    assert!(!run.success, "{}", run.stdout);
    let error = run.line("::error::");
    for words in ["output `spec`", "128 KiB", "max_pull_requests", "spec_file"] {
        assert!(error.contains(words), "{error}");
    }
    assert!(
        run.outputs.is_empty(),
        "no output is written: {:?}",
        run.outputs.keys()
    );
    // The full spec is still written, and a lower limit fits.
    assert_eq!(ids_of(&t.spec_file()).len(), 256);
    let run = t.report(&[("max_pull_requests", "100")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(list(run.output("dependencies")).len(), 100);
}

#[test]
fn open_pull_requests_of_the_environment_use_up_max_pull_requests() {
    let t = tree(20, 20, 1, module_name);
    t.open_pull(&format!("patcher-dev-updates-{}", id(5)), "updates-dev");
    t.open_pull("patcher-dev-updates-gone/x/aws", "updates-dev");
    t.open_pull("patcher-dev-updates-other/y/aws", "updates-dev");
    t.open_pull(&format!("patcher-stage-updates-{}", id(1)), "updates-stage");
    let run = t.report(&[("max_pull_requests", "5")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    // The open one first (refreshing it opens nothing), then 5 - 3 new ones by ID.
    assert_eq!(list(run.output("dependencies")), [id(5), id(0), id(1)]);
    let deferred = t.spec_file()["Deferred"].as_array().unwrap().len();
    assert_eq!(deferred, 17);
    assert!(run
        .summary
        .contains("3 open patcher pull request(s), `max_pull_requests` 5"));
    assert_eq!(t.pull_listings(), 1);

    // The environments file's key, when the input is empty.
    std::fs::create_dir_all(t.workspace.join(".github")).unwrap();
    std::fs::write(
        t.workspace.join(".github/patcher.yml"),
        "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n    max_pull_requests: 4\n",
    )
    .unwrap();
    let run = t.report(&[]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(list(run.output("dependencies")), [id(5), id(0)]);

    // A promotion is never deferred, and counts nothing.
    let listings = t.pull_listings();
    let run = t.report(&[
        ("dependency", &id(9)),
        ("version", "1.1.0"),
        ("max_pull_requests", "1"),
    ]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(list(run.output("dependencies")), [id(9)]);
    assert_eq!(t.pull_listings(), listings);
    assert_eq!(t.server.violations(), Vec::<String>::new());
}

#[test]
fn a_bad_max_pull_requests_is_a_clear_error() {
    let t = tree(1, 1, 1, module_name);
    let run = t.report(&[("max_pull_requests", "ten")]);
    assert!(!run.success);
    assert!(
        run.line("::error::").contains("max_pull_requests `ten`"),
        "{}",
        run.stdout
    );
}

#[test]
fn update_from_the_compact_spec_gives_each_usage_its_own_target() {
    let t = tree(1, 0, 0, module_name);
    t.registry.add_module("acme", "mod000", "aws", &["2.1.0"]);
    for (dir, version) in [("dev/old", "1.0.0"), ("dev/new", "2.0.0")] {
        t.write(
            &format!("{dir}/main.tf"),
            &module_block("m", &module_name(0), version),
        );
    }
    let run = t.report(&[]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let compact = t.workspace.join("compact.json");
    std::fs::write(&compact, run.output("spec")).unwrap();
    let update = std::process::Command::new(crate::world::bin())
        .args(["update", "--include-dirs", "dev/**", "--spec-file"])
        .arg(&compact)
        .arg(&t.workspace)
        .envs([t.registry_env()])
        .output()
        .unwrap();
    Run::of(update).ok();
    let read = |dir: &str| t.read(&format!("{dir}/main.tf"));
    assert!(
        read("dev/old").contains("version = \"1.1.0\""),
        "{}",
        read("dev/old")
    );
    assert!(
        read("dev/new").contains("version = \"2.1.0\""),
        "{}",
        read("dev/new")
    );
}

/// The dry-run update of `acme/mod000/aws` as the runner runs it.
fn update_dry_run(t: &RegistryTree) -> testkit::runner::StepRun {
    t.step()
        .input("patcher_command", "update")
        .input("dependency", &id(0))
        .input("dry_run", "true")
        .run()
}

#[test]
fn updated_files_of_an_update_across_2400_files_fit() {
    let t = tree(1, 2400, 1, module_name);
    let run = update_dry_run(&t);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let files = list(run.output("updated_files"));
    assert_eq!(files.len(), 2400);
    assert_eq!(files[0], "dev/unit00000/main.tf");
    assert_outputs_fit(&run);
}

#[test]
fn updated_files_that_cannot_fit_are_an_error_with_no_output_written() {
    let t = tree(1, 0, 1, module_name);
    // 1,300 paths of about 220 characters: about 580 KB as UTF-16, over patcher's 512 KiB.
    let folder = "a".repeat(200);
    for f in 0..1300 {
        t.write(
            &format!("dev/{folder}/u{f:04}/main.tf"),
            &module_block("m", &module_name(0), "1.0.0"),
        );
    }
    let run = update_dry_run(&t);
    assert!(!run.success, "{}", run.stdout);
    let error = run.line("::error::");
    assert!(
        error.contains("UTF-16")
            && error.contains("1 MB")
            && error.contains("`updated_files` lists 1300 files")
            && error.contains("narrow include_dirs"),
        "{error}"
    );
    assert!(run.outputs.is_empty(), "{:?}", run.outputs.keys());
    assert!(
        run.summary.contains(&format!("dev/{folder}/u1299/main.tf")),
        "the summary still lists the files"
    );
}

/// Every output of `run` together, sized as the runner sizes them, stays within one step's limit.
fn assert_outputs_fit(run: &testkit::runner::StepRun) {
    let total: usize = run
        .outputs
        .iter()
        .map(|(name, value)| utf16_size(name) + utf16_size(value))
        .sum();
    assert!(
        total <= STEP_OUTPUTS_LIMIT,
        "outputs {total} bytes as UTF-16"
    );
}
