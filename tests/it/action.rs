//! The runner contract: the built binary run as the runner runs a Docker action step, with
//! `INPUT_*` variables, fresh `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` / `GITHUB_ENV` files,
//! `GITHUB_WORKSPACE` and a real event payload; outputs are read back with the runner's
//! heredoc rules.

use crate::world::{self, sqs_unit, REPO};
use serde_json::{json, Value};
use std::path::PathBuf;
use testkit::runner::{Step, StepRun};

const TOKEN: &str = "ghs_actionContractToken42";
const SQS: &str = "acme/terraform-aws-sqs/sqs";
/// A folder name no shell should ever see unquoted: quotes, `$(…)`, backticks and a newline.
const NASTY: &str = "we'ird \"$(touch pwned)\" `id`\nline";

crate::world::module_world! {
    /// The shared world whose steps run in its checkout on a `workflow_dispatch`.
}

/// sqs at v1.0.0 in dev (twice, once under [`NASTY`]) and in stage, and `extra`.
fn world(extra: &[(&str, &str)]) -> World {
    let mut b = world::World::builder(TOKEN);
    b.module("terraform-aws-sqs", &["v1.0.0", "v1.1.0", "v2.0.0"]);
    b.file("dev/sqs/terragrunt.hcl", sqs_unit("v1.0.0"))
        .file(format!("dev/{NASTY}/terragrunt.hcl"), sqs_unit("v1.0.0"))
        .file("stage/sqs/terragrunt.hcl", sqs_unit("v1.0.0"))
        .files(extra);
    World(b.build())
}

impl World {
    fn dispatched(&self) -> Step {
        self.step(self.dir()).event(
            "workflow_dispatch",
            json!({"inputs": {}, "ref": "refs/heads/main"}),
        )
    }

    fn report(&self) -> StepRun {
        let run = self
            .dispatched()
            .input("patcher_command", "report")
            .input("working_dir", "./")
            .input("include_dirs", "{*dev*}/**")
            .input("spec_file", "patcher-spec.json")
            .run();
        assert!(run.success, "{}{}", run.stdout, run.stderr);
        run
    }

    fn workspace(&self) -> PathBuf {
        self.dir().to_path_buf()
    }
}

#[test]
fn report_sets_every_output_the_summary_and_masks_the_token() {
    let w = world(&[("dev/broken/main.tf", "module \"x\" {\n  source = \n}\n")]);
    let run = w.report();
    assert!(
        run.stdout.starts_with(&format!("::add-mask::{TOKEN}\n")),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches(TOKEN).count(),
        1,
        "token printed beyond the mask"
    );
    // The output is the compact spec: the dependency and its targets, no usages.
    let spec: Value = serde_json::from_str(run.output("spec")).unwrap();
    assert_eq!(spec["Compact"], true);
    assert_eq!(spec["Dependencies"][0]["ID"], SQS);
    assert_eq!(spec["Dependencies"][0]["TargetSafeVersion"], "v1.1.0");
    assert_eq!(spec["Dependencies"][0]["UsageCount"], 2);
    assert!(spec["Dependencies"][0].get("Usages").is_none());
    assert_eq!(run.output("dependencies"), format!("[\"{SQS}\"]"));
    assert_eq!(run.output("has_updates"), "true");
    // spec_file keeps the full spec.
    let on_disk: Value = serde_json::from_str(
        &std::fs::read_to_string(w.workspace().join("patcher-spec.json")).unwrap(),
    )
    .unwrap();
    assert!(on_disk.get("Compact").is_none());
    let usages = on_disk["Dependencies"][0]["Usages"].as_array().unwrap();
    assert!(usages
        .iter()
        .any(|u| u["File"] == format!("dev/{NASTY}/terragrunt.hcl")));
    assert!(
        run.summary
            .contains("| `acme/terraform-aws-sqs/sqs` | v1.0.0 | v1.1.0 | no | 2 |"),
        "{}",
        run.summary
    );
    let warning = run.line("::warning file=dev/broken/main.tf,line=2,");
    assert!(
        warning.contains("::patcher could not parse this file"),
        "{warning}"
    );
    assert!(run.stdout.contains("::group::") && run.stdout.contains("::endgroup::"));
}

#[test]
fn the_spec_output_feeds_update_through_the_spec_input_without_a_shell() {
    let w = world(&[]);
    let spec = w.report().output("spec").to_string();
    let full = std::fs::read_to_string(w.workspace().join("patcher-spec.json")).unwrap();
    for spec in [&spec, &full] {
        update_through_the_spec_input(&w, spec);
    }
    assert!(full.contains("$(touch pwned)") && full.contains('`') && full.contains("\\n"));
}

/// `update` from the `spec` input; a re-run with another spec refreshes the same pull request.
fn update_through_the_spec_input(w: &World, spec: &str) {
    let run = w
        .dispatched()
        .input("patcher_command", "update")
        .input("working_dir", "./")
        .input("include_dirs", "{*dev*}/**")
        .input("spec", spec)
        .input("dependency", SQS)
        .input("environment", "dev")
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let files: Vec<String> = serde_json::from_str(run.output("updated_files")).unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.contains(&format!("dev/{NASTY}/terragrunt.hcl")));
    let number: u64 = run.output("pull_request_number").parse().unwrap();
    let pull = w.server.pull(REPO, number).unwrap();
    assert_eq!(
        run.output("pull_request_url"),
        format!("https://github.com/{REPO}/pull/{number}")
    );
    assert_eq!(pull.head, format!("patcher-dev-updates-{SQS}"));
    assert_eq!(run.output("has_updates"), "true");
    assert!(!w.workspace().join("pwned").exists());
    assert!(
        run.summary.contains(&format!("Pull request #{number}")),
        "{}",
        run.summary
    );
    assert!(w
        .infra()
        .origin_file(&pull.head, "dev/sqs/terragrunt.hcl")
        .unwrap()
        .contains("ref=v1.1.0"));
    assert!(w
        .infra()
        .origin_file(&pull.head, "stage/sqs/terragrunt.hcl")
        .unwrap()
        .contains("ref=v1.0.0"));
    assert_eq!(w.server.violations(), Vec::<String>::new());
}

#[test]
fn the_seed_guides_inputs_keep_working() {
    let w = world(&[]);
    // update-dev.yml of the seed guide: report at the root with include_dirs and a spec_file,
    // then update with working_dir = the environment folder and the same spec_file.
    w.report();
    let prefix = "patcherv2-dev-updates-";
    let run = w
        .dispatched()
        .input("patcher_command", "update")
        .input("working_dir", "dev")
        .input("dependency", SQS)
        .input("spec_file", "patcher-spec.json")
        .input(
            "pull_request_title",
            &format!("[Patcher] [dev] Update {SQS}"),
        )
        .input("pull_request_branch", &format!("{prefix}{SQS}"))
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let pull = w
        .server
        .pull(REPO, run.output("pull_request_number").parse().unwrap())
        .unwrap();
    assert_eq!(pull.title, format!("[Patcher] [dev] Update {SQS}"));
    assert_eq!(pull.head, format!("{prefix}{SQS}"));
    let files: Vec<String> = serde_json::from_str(run.output("updated_files")).unwrap();
    assert!(
        files.contains(&"sqs/terragrunt.hcl".to_string()),
        "{files:?}"
    );
    // The body names files as the diff does, from the repository root.
    let body = pull.body.clone().unwrap_or_default();
    assert!(body.contains("| `dev/sqs/terragrunt.hcl` |"), "{body}");
    // The seed's promote job derives the dependency from the branch name.
    let merge = w.server.merge(REPO, pull.number).unwrap();
    let event = w.server.pull_request_event(REPO, pull.number).unwrap();
    // The promote job checks out the merge commit and reads the version there.
    w.infra().git(&["fetch", "--quiet", "origin", "main"]);
    w.infra().git(&["checkout", "--quiet", "--detach", &merge]);
    let promote = w
        .dispatched()
        .input("patcher_command", "promote")
        .input("environment", "dev")
        .env("PR_BRANCH_PREFIX", prefix)
        .event("pull_request", event)
        .run();
    assert!(promote.success, "{}{}", promote.stdout, promote.stderr);
    let dispatches = w.server.dispatches(REPO);
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].event_type, "dev_updates_merged");
    assert_eq!(dispatches[0].client_payload["dependency"], SQS);
    assert_eq!(dispatches[0].client_payload["version"], "v1.1.0");
}

#[test]
fn dry_run_reports_what_would_change_and_touches_nothing() {
    let w = world(&[]);
    let run = w
        .dispatched()
        .input("patcher_command", "update")
        .input("include_dirs", "{*dev*}/**")
        .input("dependency", SQS)
        .input("dry_run", "true")
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("has_updates"), "true");
    assert!(run.stdout.contains("+  source = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?ref=v1.1.0\""), "{}", run.stdout);
    assert_eq!(run.output("pull_request_number"), "");
    assert!(w.server.requests().is_empty());
    assert_eq!(w.infra().git(&["status", "--porcelain"]), "");
}

#[test]
fn bad_input_fails_the_step_with_an_error_annotation() {
    let w = world(&[]);
    for (name, value, expected) in [
        ("patcher_command", "deploy", "deploy"),
        ("update_strategy", "fastest", "fastest"),
        ("include_dirs", "{dev", "{dev"),
    ] {
        let run = w
            .dispatched()
            .input("patcher_command", "report")
            .input(name, value)
            .run();
        assert!(!run.success, "{name}={value} accepted");
        let error = run.line("::error::");
        assert!(error.contains(expected), "{error}");
        assert_eq!(
            run.stdout.matches(TOKEN).count(),
            1,
            "token beyond ::add-mask::"
        );
        assert!(!run.stderr.contains(TOKEN));
    }
}

#[test]
fn an_environments_file_with_a_glob_matching_nothing_is_a_clear_error() {
    let config = "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n  - name: qa\n    include_dirs: ['{*qa*}/**']\n";
    let w = world(&[(".github/patcher.yml", config)]);
    let run = w
        .dispatched()
        .input("patcher_command", "report")
        .input("environment", "dev")
        .run();
    assert!(!run.success);
    let error = run.line("::error::");
    assert!(
        error.contains("`qa`") && error.contains("match no folder"),
        "{error}"
    );
    let typo = "environments:\n  - name: dev\n    include_dir: ['{*dev*}/**']\n";
    let w = world(&[(".github/patcher.yml", typo)]);
    let run = w
        .dispatched()
        .input("patcher_command", "report")
        .input("environment", "dev")
        .run();
    assert!(!run.success);
    assert!(
        run.stdout.contains(".github/patcher.yml") && run.stdout.contains("include_dir"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_dependency_the_spec_leaves_out_has_nothing_to_update() {
    let w = world(&[]);
    let run = w
        .dispatched()
        .input("patcher_command", "update")
        .input("include_dirs", "{*dev*}/**")
        .input(
            "spec",
            r#"{"IncludeDirPattern": "{*dev*}/**", "Dependencies": []}"#,
        )
        .input("dependency", SQS)
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("has_updates"), "false");
    assert!(
        run.stdout.contains("has no update in the spec"),
        "{}",
        run.stdout
    );
    assert!(w.server.pulls(REPO).is_empty());
    assert_eq!(w.infra().git(&["status", "--porcelain"]), "");
}

#[test]
fn a_leniently_read_file_is_a_notice_and_its_usages_count() {
    let lenient = "module \"sqs\" {\n  source = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?ref=v1.0.0\"\n  tags   = { a = 1, b = 2, a = 3 }\n}\n";
    let w = world(&[("dev/lenient/main.tf", lenient)]);
    let run = w.report();
    let notice = run.line("::notice file=dev/lenient/main.tf,line=3,");
    assert!(notice.contains("read leniently"), "{notice}");
    let spec: Value = serde_json::from_str(run.output("spec")).unwrap();
    assert_eq!(spec["Dependencies"][0]["UsageCount"], 3, "{spec:#}");
}
