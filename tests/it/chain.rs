//! The promotion chain end to end, driven the way GitHub drives it: the real binary runs as an
//! action step (INPUT_*, GITHUB_OUTPUT, event payloads), module sources are bare git
//! repositories with real tags reached from their github.com addresses through `insteadOf`, the
//! infrastructure repository pushes to a real bare `origin`, and pull requests, labels and
//! dispatches go to the GitHub REST API server on 127.0.0.1.

use crate::world::{self, pr_number, Run, REPO};
use serde_json::{json, Value};
use testkit::git::terragrunt_unit;
use testkit::runner::StepRun;

const TOKEN: &str = "ghs_chainTestToken0123456789";
const SQS: &str = "acme/terraform-aws-sqs/sqs";
const VPC: &str = "acme/terraform-aws-vpc/vpc";

const CHAIN: &str = "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n  - name: stage\n    include_dirs: ['{*stage*}/**']\n  - name: prod\n    include_dirs: ['{*prod*}/**']\n";

crate::world::module_world! {
    /// The shared world with this chain's jobs.
}

/// dev, stage and prod accounts each using sqs at v1.0.0 and vpc at v0.5.0, and the
/// environments file of the single-workflow layout.
fn world() -> World {
    let mut b = world::World::builder(TOKEN);
    b.module("terraform-aws-sqs", &["v1.0.0", "v1.1.0", "v2.0.0"]);
    b.module("terraform-aws-vpc", &["v0.5.0", "v0.5.1"]);
    b.file(".github/patcher.yml", CHAIN);
    for env in ["dev-account", "stage-account", "prod-account"] {
        b.file(
            format!("{env}/us-east-1/sqs/terragrunt.hcl"),
            terragrunt_unit("terraform-aws-sqs", "sqs", "v1.0.0"),
        );
        b.file(
            format!("{env}/us-east-1/vpc/terragrunt.hcl"),
            terragrunt_unit("terraform-aws-vpc", "vpc", "v0.5.0"),
        );
    }
    World(b.build())
}

impl World {
    fn report(&self, env: &str) -> StepRun {
        let ws = self.checkout(&format!("report-{env}"));
        let run = self
            .step(&ws)
            .input("patcher_command", "report")
            .input("environment", env)
            .event(
                "workflow_dispatch",
                json!({"inputs": {}, "ref": "refs/heads/main"}),
            )
            .run();
        assert!(run.success, "report {env}: {}{}", run.stdout, run.stderr);
        run
    }

    /// `update` as the example workflows run it: on a schedule from the report's spec, or on a
    /// `repository_dispatch` with the dependency and version of the payload.
    fn update(
        &self,
        env: &str,
        dependency: &str,
        event: (&str, Value),
        spec: Option<&str>,
    ) -> StepRun {
        let ws = self.checkout(&format!("update-{env}-{}", dependency.replace('/', "_")));
        let mut step = self
            .step(&ws)
            .input("patcher_command", "update")
            .input("environment", env)
            .input("dependency", dependency)
            .event(event.0, event.1.clone());
        if let Some(spec) = spec {
            step = step.input("spec", spec);
        }
        if let Some(v) = event.1["client_payload"]["version"].as_str() {
            step = step.input("version", v);
        }
        step.run()
    }

    fn promote(&self, env: &str, number: u64) -> StepRun {
        let event = self.server.pull_request_event(REPO, number).unwrap();
        let ws = self.merge_checkout(&format!("promote-{env}-{number}"), &event);
        let run = self
            .step(&ws)
            .input("patcher_command", "promote")
            .input("environment", env)
            .event("pull_request", event)
            .run();
        assert!(run.success, "promote {env}: {}{}", run.stdout, run.stderr);
        run
    }
}

#[test]
fn exact_versions_travel_dev_to_stage_to_prod() {
    let w = world();
    let report = w.report("dev");
    let ids: Vec<String> = serde_json::from_str(report.output("dependencies")).unwrap();
    assert_eq!(ids, vec![SQS.to_string(), VPC.to_string()]);
    assert_eq!(report.output("has_updates"), "true");
    let spec = report.output("spec").to_string();

    let dev_sqs = w.update(
        "dev",
        SQS,
        ("schedule", json!({"schedule": "15 4 * * 1"})),
        Some(&spec),
    );
    assert!(dev_sqs.success, "{}{}", dev_sqs.stdout, dev_sqs.stderr);
    let n = pr_number(&dev_sqs);
    let pull = w.server.pull(REPO, n).unwrap();
    assert_eq!(pull.head, format!("patcher-dev-updates-{SQS}"));
    assert!(
        pull.labels.contains(&"updates-dev".to_string()),
        "{:?}",
        pull.labels
    );
    let files: Vec<String> = serde_json::from_str(dev_sqs.output("updated_files")).unwrap();
    assert_eq!(files, vec!["dev-account/us-east-1/sqs/terragrunt.hcl"]);

    // A re-run with nothing new opens nothing and pushes nothing.
    let pushed_sha = pull.head_sha.clone();
    let again = w.update("dev", SQS, ("schedule", json!({})), Some(&spec));
    assert!(again.success, "{}{}", again.stdout, again.stderr);
    assert_eq!(w.server.pulls(REPO).len(), 1);
    assert_eq!(w.server.pull(REPO, n).unwrap().head_sha, pushed_sha);

    w.server.merge(REPO, n).expect("merge dev pull request");
    assert!(w
        .file_on_main("dev-account/us-east-1/sqs/terragrunt.hcl")
        .contains("?ref=v1.1.0"));

    // A newer safe release appears after dev was tested: it must not reach stage or prod.
    w.module("terraform-aws-sqs").release("v1.2.0");

    let mut env_pr = n;
    for (env, next) in [
        ("dev", Some("stage")),
        ("stage", Some("prod")),
        ("prod", None),
    ] {
        let before = w.server.dispatches(REPO).len();
        let promote = w.promote(env, env_pr);
        let dispatches = w.server.dispatches(REPO);
        let Some(next) = next else {
            assert_eq!(
                dispatches.len(),
                before,
                "the chain stops after prod: {}",
                promote.stdout
            );
            break;
        };
        assert_eq!(dispatches.len(), before + 1, "{}", promote.stdout);
        let d = &dispatches[before];
        assert_eq!(d.event_type, format!("{env}_updates_merged"));
        assert_eq!(d.client_payload["dependency"], SQS);
        assert_eq!(d.client_payload["version"], "v1.1.0");
        assert_eq!(d.client_payload["environment"], env);
        let event = w.server.dispatch_event(REPO, before).unwrap();
        let run = w.update(next, SQS, ("repository_dispatch", event.clone()), None);
        assert!(run.success, "{}{}", run.stdout, run.stderr);
        env_pr = pr_number(&run);
        // A re-delivered dispatch refreshes nothing and opens no second pull request.
        let pulls = w.server.pulls(REPO).len();
        let again = w.update(next, SQS, ("repository_dispatch", event), None);
        assert!(again.success, "{}{}", again.stdout, again.stderr);
        assert_eq!(w.server.pulls(REPO).len(), pulls);
        w.server.merge(REPO, env_pr).expect("merge");
        let file = w.file_on_main(&format!("{next}-account/us-east-1/sqs/terragrunt.hcl"));
        assert!(file.contains("?ref=v1.1.0"), "{next} got: {file}");
    }
    // vpc was never merged in dev, so it went nowhere.
    assert!(w
        .file_on_main("prod-account/us-east-1/vpc/terragrunt.hcl")
        .contains("?ref=v0.5.0"));
    w.assert_no_violations();
}

#[test]
fn two_dependencies_promoted_at_once_do_not_mix() {
    let w = world();
    let mut payload_events = Vec::new();
    for (i, (dep, version)) in [(SQS, "v1.1.0"), (VPC, "v0.5.1")].into_iter().enumerate() {
        let event = json!({"action": "dev_updates_merged", "branch": "main", "client_payload": {
            "dependency": dep, "version": version, "environment": "dev",
            "ref": "refs/heads/main", "sha": "0".repeat(40), "branch": format!("b{i}")}});
        payload_events.push((dep, version, event));
    }
    let runs: Vec<StepRun> = std::thread::scope(|s| {
        let handles: Vec<_> = payload_events
            .iter()
            .map(|(dep, _, event)| {
                let w = &w;
                s.spawn(move || {
                    w.update("stage", dep, ("repository_dispatch", event.clone()), None)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (run, (dep, version, _)) in runs.iter().zip(&payload_events) {
        assert!(run.success, "{}{}", run.stdout, run.stderr);
        let pull = w.server.pull(REPO, pr_number(run)).unwrap();
        assert_eq!(pull.head, format!("patcher-stage-updates-{dep}"));
        let files: Vec<String> = serde_json::from_str(run.output("updated_files")).unwrap();
        let module = dep.rsplit('/').next().unwrap();
        assert_eq!(
            files,
            vec![format!("stage-account/us-east-1/{module}/terragrunt.hcl")]
        );
        let body = pull.body.unwrap_or_default();
        assert!(
            body.contains(&format!("\"version\":\"{version}\"")),
            "{body}"
        );
        assert!(
            !body.contains(if *dep == SQS { VPC } else { SQS }),
            "{body}"
        );
    }
    w.assert_no_violations();
}

#[test]
fn a_version_the_source_does_not_have_is_an_error_and_an_unused_dependency_is_not() {
    let w = world();
    let event = json!({"action": "dev_updates_merged", "client_payload": {"dependency": SQS, "version": "v9.9.9"}});
    let run = w.update("stage", SQS, ("repository_dispatch", event), None);
    assert!(!run.success);
    assert!(run.stdout.contains("v9.9.9"), "{}", run.stdout);
    let unused = "acme/terraform-aws-rds/rds";
    let event = json!({"action": "dev_updates_merged", "client_payload": {"dependency": unused, "version": "v1.0.0"}});
    let run = w.update("stage", unused, ("repository_dispatch", event), None);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("has_updates"), "false");
    assert!(
        run.stdout.contains("not used in this environment"),
        "{}",
        run.stdout
    );
    assert!(w.server.pulls(REPO).is_empty());
}

#[test]
fn promote_skips_foreign_and_unmerged_pull_requests() {
    let w = world();
    w.infra().git(&["checkout", "--quiet", "-b", "feature"]);
    w.infra().write(&[("README.md", "hand-written\n")]);
    w.infra().commit_all("Hand-written change");
    w.infra().git(&["push", "--quiet", "origin", "feature"]);
    w.infra().git(&["checkout", "--quiet", "main"]);
    let n = w.server.open_pull(
        REPO,
        "feature",
        "main",
        "Hand-written change",
        "no metadata",
    );
    let run = w.promote("dev", n);
    assert!(run.stdout.contains("was not merged"), "{}", run.stdout);
    w.server.merge(REPO, n).unwrap();
    let run = w.promote("dev", n);
    assert!(
        run.stdout.contains("not opened by patcher"),
        "{}",
        run.stdout
    );
    assert!(w.server.dispatches(REPO).is_empty());
}

/// `examples/workflows/patcher-promotion.yml`: one workflow, no `environment` input; the
/// environments file says which environment comes next.
#[test]
fn single_workflow_layout_follows_the_environments_file() {
    let w = world();
    let step = |name: &str, event: (&str, Value)| {
        let ws = w.checkout(name);
        let mut step = w.step(&ws).event(event.0, event.1.clone());
        if let Some(dep) = event.1["client_payload"]["dependency"].as_str() {
            step = step.input("dependency", dep);
        }
        if let Some(v) = event.1["client_payload"]["version"].as_str() {
            step = step.input("version", v);
        }
        step
    };
    // Schedule: the first environment.
    let report = step("r1", ("schedule", json!({})))
        .input("patcher_command", "report")
        .run();
    assert!(report.success, "{}{}", report.stdout, report.stderr);
    let spec: Value = serde_json::from_str(report.output("spec")).unwrap();
    assert_eq!(spec["IncludeDirPattern"], "{*dev*}/**", "{spec}");
    let update = step("u1", ("schedule", json!({})))
        .input("patcher_command", "update")
        .input("dependency", SQS)
        .input("spec", report.output("spec"))
        .run();
    assert!(update.success, "{}{}", update.stdout, update.stderr);
    let mut number = pr_number(&update);
    w.module("terraform-aws-sqs").release("v1.2.0");
    for (merged_env, next) in [("dev", "stage"), ("stage", "prod")] {
        w.server.merge(REPO, number).unwrap();
        let event = w.server.pull_request_event(REPO, number).unwrap();
        let ws = w.merge_checkout(&format!("p-{merged_env}"), &event);
        let promote = w
            .step(&ws)
            .event("pull_request", event)
            .input("patcher_command", "promote")
            .run();
        assert!(promote.success, "{}{}", promote.stdout, promote.stderr);
        let dispatches = w.server.dispatches(REPO);
        let index = dispatches.len() - 1;
        assert_eq!(
            dispatches[index].event_type,
            format!("{merged_env}_updates_merged")
        );
        let event = w.server.dispatch_event(REPO, index).unwrap();
        // The report job of the single workflow plans exactly the dispatched version.
        let report = step(&format!("r-{next}"), ("repository_dispatch", event.clone()))
            .input("patcher_command", "report")
            .run();
        assert!(report.success, "{}{}", report.stdout, report.stderr);
        let spec: Value = serde_json::from_str(report.output("spec")).unwrap();
        assert_eq!(
            spec["Dependencies"][0]["TargetVersion"], "v1.1.0",
            "{spec:#}"
        );
        assert_eq!(spec["IncludeDirPattern"], format!("{{*{next}*}}/**"));
        let update = step(&format!("u-{next}"), ("repository_dispatch", event))
            .input("patcher_command", "update")
            .input("spec", report.output("spec"))
            .run();
        assert!(update.success, "{}{}", update.stdout, update.stderr);
        number = pr_number(&update);
        let pull = w.server.pull(REPO, number).unwrap();
        assert_eq!(pull.head, format!("patcher-{next}-updates-{SQS}"));
        assert!(pull.labels.contains(&format!("updates-{next}")));
    }
    w.server.merge(REPO, number).unwrap();
    let event = w.server.pull_request_event(REPO, number).unwrap();
    let before = w.server.dispatches(REPO).len();
    let ws = w.merge_checkout("p-prod", &event);
    let promote = w
        .step(&ws)
        .event("pull_request", event)
        .input("patcher_command", "promote")
        .run();
    assert!(
        promote.stdout.contains("prod is the last environment"),
        "{}",
        promote.stdout
    );
    assert_eq!(w.server.dispatches(REPO).len(), before);
    assert!(w
        .file_on_main("prod-account/us-east-1/sqs/terragrunt.hcl")
        .contains("?ref=v1.1.0"));
    w.assert_no_violations();
}

/// `patcher promote` from the command line, with the event file a runner would hand over.
#[test]
fn promote_from_the_command_line() {
    let w = world();
    let report = w.report("dev");
    let update = w.update(
        "dev",
        SQS,
        ("schedule", json!({})),
        Some(report.output("spec")),
    );
    let number = pr_number(&update);
    w.server.merge(REPO, number).unwrap();
    let event_file = w.root.path().join("event.json");
    let event = w.server.pull_request_event(REPO, number).unwrap();
    std::fs::write(&event_file, event.to_string()).unwrap();
    let checkout = w.merge_checkout("promote-cli", &event);
    let promote = |args: &[&str]| {
        let output = w
            .command_in(w.root.path(), &["promote"])
            .arg(&checkout)
            .args(["--environment", "dev", "--include-dirs", "{*dev*}/**"])
            .arg("--event")
            .arg(&event_file)
            .args(args)
            .env("GITHUB_TOKEN", TOKEN)
            .output()
            .unwrap();
        Run::of(output)
    };
    let dry = promote(&["--dry-run"]);
    let text = &dry.stdout;
    assert!(dry.success);
    assert!(
        text.starts_with("would dispatch `dev_updates_merged`")
            && text.contains("\"version\":\"v1.1.0\""),
        "{text}"
    );
    assert!(w.server.dispatches(REPO).is_empty());
    let sent = promote(&["--repository", REPO, "--github-api-url", w.server.url()]);
    assert!(sent.success, "{}", sent.stderr);
    let dispatches = w.server.dispatches(REPO);
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].client_payload["version"], "v1.1.0");
    let missing = promote(&[]);
    assert!(!missing.success);
    assert!(missing.stderr.contains("--repository"));
    w.assert_no_violations();
}
