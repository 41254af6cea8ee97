//! Groups end to end: `groups:` in the environments file makes one spec entry, one matrix job
//! and one pull request per group and environment, and promotion carries every member at the
//! version dev merged, whatever was released in between. Driven through the real binary as
//! the runner runs it and as a user runs the CLI; git module sources are bare repositories with
//! real tags, registry modules come from the registry server, pull requests and dispatches go
//! to the GitHub API server, both on 127.0.0.1.

use crate::world::{self, pr_number, Run, REPO};
use serde_json::{json, Value};
use std::path::Path;
use testkit::git::terragrunt_unit;
use testkit::registry::Registry;
use testkit::runner::{Step, StepRun};
use testkit::spec::dependency_ids;

const TOKEN: &str = "ghs_groupsTestToken0123456789";
const GROUP: &str = "group-network";
const SQS: &str = "acme/terraform-aws-sqs/sqs";
/// A registry module: the group mixes git and registry sources.
const VPC: &str = "terraform-aws-modules/vpc/aws";
const RDS: &str = "acme/terraform-aws-rds/rds";

const CONFIG: &str = "environments:
  - name: dev
    include_dirs: ['{*dev*}/**']
  - name: stage
    include_dirs: ['{*stage*}/**']
  - name: prod
    include_dirs: ['{*prod*}/**']
groups:
  - name: network
    dependencies: ['acme/terraform-aws-sqs/*', 'terraform-aws-modules/*']
";

crate::world::module_world! {
    /// The shared world: the infrastructure repository on the GitHub server, the two git modules
    /// (sqs in the group, rds outside it) and the registry serving the group's vpc.
}

fn world() -> World {
    let mut b = world::World::builder(TOKEN);
    b.module("terraform-aws-sqs", &["v1.0.0", "v1.1.0", "v2.0.0"]);
    b.module("terraform-aws-rds", &["v3.0.0", "v3.0.1"]);
    let registry = Registry::start();
    registry.add_module(
        "terraform-aws-modules",
        "vpc",
        "aws",
        &["5.0.0", "5.1.0", "6.0.0"],
    );
    b.registry(registry).file(".github/patcher.yml", CONFIG);
    for env in ["dev-account", "stage-account", "prod-account"] {
        for (repo, module, version) in [
            ("terraform-aws-sqs", "sqs", "v1.0.0"),
            ("terraform-aws-rds", "rds", "v3.0.0"),
        ] {
            b.file(
                format!("{env}/us-east-1/{module}/terragrunt.hcl"),
                terragrunt_unit(repo, module, version),
            );
        }
        b.file(
            format!("{env}/us-east-1/vpc/main.tf"),
            format!("module \"vpc\" {{\n  source  = \"{VPC}\"\n  version = \"5.0.0\"\n}}\n"),
        );
    }
    World(b.build())
}

impl World {
    /// A step of the example workflows: the environment, the event, and the `dependency` input
    /// the workflow fills from the matrix or the dispatch.
    fn job(&self, name: &str, command: &str, env: &str, event: (&str, Value)) -> Step {
        let ws = self.merge_checkout(name, &event.1);
        let mut step = self
            .step(&ws)
            .input("patcher_command", command)
            .input("environment", env);
        if let Some(dep) = event.1["client_payload"]["dependency"].as_str() {
            step = step.input("dependency", dep);
        }
        step.event(event.0, event.1)
    }

    fn promote(&self, env: &str, number: u64) -> StepRun {
        let event = self.server.pull_request_event(REPO, number).unwrap();
        let run = self
            .job(
                &format!("promote-{env}"),
                "promote",
                env,
                ("pull_request", event),
            )
            .run();
        assert!(run.success, "promote {env}: {}{}", run.stdout, run.stderr);
        run
    }

    fn main_file(&self, env: &str, file: &str) -> String {
        self.file_on_main(&format!("{env}-account/us-east-1/{file}"))
    }

    fn cli(&self, dir: &Path, args: &[&str]) -> Run {
        let output = self
            .command_in(dir, args)
            .env("GITHUB_TOKEN", TOKEN)
            .output()
            .unwrap();
        Run::of(output)
    }

    fn vpc_registry(&self) -> &Registry {
        self.registry().unwrap()
    }
}

fn ok(run: &StepRun) -> &StepRun {
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    run
}

fn members(spec_entry: &Value) -> Vec<(String, String)> {
    let list = spec_entry["Members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.iter()
        .map(|m| {
            let target = m["TargetVersion"].as_str().unwrap_or_default().to_string();
            (m["ID"].as_str().unwrap_or_default().to_string(), target)
        })
        .collect()
}

fn payload_members(payload: &Value) -> Vec<(String, String)> {
    let list = payload["members"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|m| (m["dependency"].to_string(), m["version"].to_string()))
        .collect()
}

fn dev_versions() -> Vec<(String, String)> {
    vec![
        (SQS.to_string(), "v1.1.0".to_string()),
        (VPC.to_string(), "5.1.0".to_string()),
    ]
}

fn quoted(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(a, b)| (format!("{a:?}"), format!("{b:?}")))
        .collect()
}

#[test]
fn a_group_is_one_pull_request_and_reaches_stage_at_the_versions_dev_merged() {
    let w = world();
    let schedule = || ("schedule", json!({"schedule": "15 4 * * 1"}));
    let report = w.job("report-dev", "report", "dev", schedule()).run();
    let ids: Vec<String> = serde_json::from_str(ok(&report).output("dependencies")).unwrap();
    assert_eq!(ids, [RDS, GROUP], "{}", report.output("spec"));
    let spec: Value = serde_json::from_str(report.output("spec")).unwrap();
    let entry = &spec["Dependencies"][1];
    assert_eq!(entry["ID"], GROUP);
    assert_eq!(entry["UsageCount"], 2);
    assert_eq!(members(entry), dev_versions(), "{entry:#}");

    // max_pull_requests counts the group as one pull request, deferred as a whole.
    let limited = w
        .job("report-dev-limited", "report", "dev", schedule())
        .input("max_pull_requests", "1")
        .run();
    let ids: Vec<String> = serde_json::from_str(ok(&limited).output("dependencies")).unwrap();
    assert_eq!(ids, [RDS]);
    assert!(
        limited.summary.contains(&format!("- `{GROUP}`")),
        "{}",
        limited.summary
    );

    let update = w
        .job("update-dev", "update", "dev", schedule())
        .input("dependency", GROUP)
        .input("spec", report.output("spec"))
        .run();
    let n = pr_number(ok(&update));
    let files: Vec<String> = serde_json::from_str(update.output("updated_files")).unwrap();
    assert_eq!(
        files,
        [
            "dev-account/us-east-1/sqs/terragrunt.hcl",
            "dev-account/us-east-1/vpc/main.tf"
        ]
    );
    let pull = w.server.pull(REPO, n).unwrap();
    assert_eq!(pull.head, format!("patcher-dev-updates-{GROUP}"));
    let body = pull.body.clone().unwrap_or_default();
    assert!(body.contains(&format!("Group `{GROUP}`")), "{body}");
    assert!(
        body.contains(&format!("## Update `{SQS}` in `dev`")),
        "{body}"
    );
    assert!(
        body.contains(&format!("## Update `{VPC}` in `dev`")),
        "{body}"
    );
    let trailer: Vec<&str> = body
        .lines()
        .skip_while(|l| *l != "_Opened by patcher._")
        .skip(1)
        .collect();
    assert_eq!(trailer.len(), 2, "{body}");
    for (line, (id, version)) in trailer.iter().zip(dev_versions()) {
        assert!(
            line.contains(&format!(
                "\"dependency\":\"{id}\",\"version\":\"{version}\""
            )) && line.contains(&format!("\"group\":\"{GROUP}\"")),
            "{line}"
        );
    }
    assert_eq!(
        w.server.pulls(REPO).len(),
        1,
        "one pull request for the group"
    );
    // `patcher status` shows the group's pull request under each member.
    let api = w.server.url().to_string();
    let checkout = w.checkout("status");
    let args = [
        "status",
        "--output",
        "json",
        "--repository",
        REPO,
        "--github-api-url",
        &api,
    ];
    let status = w.cli(&checkout, &args).ok().json();
    for (id, version) in dev_versions() {
        let dep = status["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id);
        let dev = &dep.unwrap()["environments"][0];
        assert_eq!(dev["pull_request"]["version"], version, "{dev:#}");
    }
    w.server.merge(REPO, n).unwrap();

    // Newer releases of both members appear after dev was tested: stage must not get them.
    w.module("terraform-aws-sqs").release("v1.2.0");
    w.vpc_registry()
        .add_module("terraform-aws-modules", "vpc", "aws", &["5.2.0"]);

    let mut number = n;
    for (env, next) in [("dev", "stage"), ("stage", "prod")] {
        let before = w.server.dispatches(REPO).len();
        w.promote(env, number);
        let dispatches = w.server.dispatches(REPO);
        assert_eq!(dispatches.len(), before + 1);
        let payload = &dispatches[before].client_payload;
        assert_eq!(payload["dependency"], GROUP);
        assert!(payload.get("version").is_none(), "{payload}");
        assert_eq!(payload_members(payload), quoted(dev_versions()));
        let event = w.server.dispatch_event(REPO, before).unwrap();
        let dispatch = || ("repository_dispatch", event.clone());
        let report = w
            .job(&format!("report-{next}"), "report", next, dispatch())
            .run();
        let spec: Value = serde_json::from_str(ok(&report).output("spec")).unwrap();
        assert_eq!(report.output("dependencies"), format!("[\"{GROUP}\"]"));
        assert_eq!(
            members(&spec["Dependencies"][0]),
            dev_versions(),
            "{spec:#}"
        );
        let update = || {
            w.job(&format!("update-{next}"), "update", next, dispatch())
                .input("spec", report.output("spec"))
                .run()
        };
        number = pr_number(ok(&update()));
        // A re-delivered dispatch opens no second pull request.
        let pulls = w.server.pulls(REPO).len();
        ok(&update());
        assert_eq!(w.server.pulls(REPO).len(), pulls);
        let pull = w.server.pull(REPO, number).unwrap();
        assert_eq!(pull.head, format!("patcher-{next}-updates-{GROUP}"));
        w.server.merge(REPO, number).unwrap();
        assert!(w
            .main_file(next, "sqs/terragrunt.hcl")
            .contains("?ref=v1.1.0"));
        assert!(w
            .main_file(next, "vpc/main.tf")
            .contains("version = \"5.1.0\""));
        assert!(w
            .main_file(next, "rds/terragrunt.hcl")
            .contains("?ref=v3.0.0"));
    }
    assert_eq!(w.server.violations(), Vec::<String>::new());
}

#[test]
fn group_dispatches_are_checked_before_anything_happens() {
    let w = world();
    let member =
        |dependency: &str, version: &str| json!({"dependency": dependency, "version": version});
    for (payload, says) in [
        (
            json!({"dependency": GROUP, "members": [member(SQS, "v1.1.0$(id)")]}),
            "not a version",
        ),
        (
            json!({"dependency": GROUP, "members": [member("../x/y", "v1.1.0")]}),
            "not a dependency ID",
        ),
        (
            json!({"dependency": GROUP, "version": "v1.1.0", "members": [member(SQS, "v1.1.0")]}),
            "no version",
        ),
        (
            json!({"dependency": GROUP, "members": [member(SQS, "v9.9.9")]}),
            "v9.9.9",
        ),
        (
            json!({"dependency": GROUP, "members": [member(RDS, "v3.0.1")]}),
            "is not a member of `group-network`",
        ),
    ] {
        let event = json!({"action": "dev_updates_merged", "client_payload": payload});
        let run = w
            .job(
                "update-stage",
                "update",
                "stage",
                ("repository_dispatch", event),
            )
            .run();
        assert!(!run.success, "accepted {payload}: {}", run.stdout);
        assert!(
            run.stdout.contains("::error") && run.stdout.contains(says),
            "{}",
            run.stdout
        );
    }
    assert!(w.server.pulls(REPO).is_empty());
    assert_eq!(w.infra().origin_branches(), vec!["main".to_string()]);
}

/// The same chain from the command line: report, a published group update, promote, and the
/// next environment's update at the members' exact versions.
#[test]
fn groups_from_the_command_line() {
    let w = world();
    let dev = w.checkout("cli-dev");
    let text = |run: Run| run.ok().stdout;
    let spec: Value = serde_json::from_str(&text(w.cli(
        &dev,
        &["report", "--environment", "dev", "--output", "json"],
    )))
    .unwrap();
    let ids = dependency_ids(&spec);
    assert_eq!(ids, [RDS, GROUP]);
    assert_eq!(members(&spec["Dependencies"][1]), dev_versions());
    let usages = &spec["Dependencies"][1]["Members"][0]["Usages"];
    assert_eq!(
        usages[0]["File"],
        "dev-account/us-east-1/sqs/terragrunt.hcl"
    );

    let api = w.server.url().to_string();
    let branch = format!("patcher-dev-updates-{GROUP}");
    text(w.cli(
        &dev,
        &[
            "update",
            "--environment",
            "dev",
            "--dependency",
            GROUP,
            "--publish",
            "--pr-branch",
            &branch,
            "--pr-title",
            "Update the network group",
            "--repository",
            REPO,
            "--github-api-url",
            &api,
        ],
    ));
    let pulls = w.server.pulls(REPO);
    assert_eq!(pulls.len(), 1);
    w.server.merge(REPO, pulls[0].number).unwrap();
    w.module("terraform-aws-sqs").release("v1.2.0");
    w.vpc_registry()
        .add_module("terraform-aws-modules", "vpc", "aws", &["5.2.0"]);

    let event = w.server.pull_request_event(REPO, pulls[0].number).unwrap();
    let event_file = w.root.path().join("event.json");
    std::fs::write(&event_file, event.to_string()).unwrap();
    let merged = w.merge_checkout("cli-promote", &event);
    let event_arg = event_file.to_str().unwrap();
    let dry = text(w.cli(
        &merged,
        &[
            "promote",
            "--environment",
            "dev",
            "--event",
            event_arg,
            "--dry-run",
        ],
    ));
    assert!(
        dry.starts_with("would dispatch `dev_updates_merged`"),
        "{dry}"
    );
    let payload: Value = serde_json::from_str(dry.split_once(" with ").unwrap().1).unwrap();
    assert_eq!(payload_members(&payload), quoted(dev_versions()));

    let stage = w.checkout("cli-stage");
    let mut args = vec!["update", "--environment", "stage", "--dependency", GROUP];
    let pins: Vec<String> = dev_versions()
        .iter()
        .map(|(id, v)| format!("{id}={v}"))
        .collect();
    for pin in &pins {
        args.extend(["--member", pin.as_str()]);
    }
    let updated = text(w.cli(&stage, &args));
    assert_eq!(updated.matches("updated ").count(), 2, "{updated}");
    let sqs = std::fs::read_to_string(stage.join("stage-account/us-east-1/sqs/terragrunt.hcl"));
    assert!(sqs.unwrap().contains("?ref=v1.1.0"), "not the newer v1.2.0");
    let vpc = std::fs::read_to_string(stage.join("stage-account/us-east-1/vpc/main.tf"));
    assert!(
        vpc.unwrap().contains("version = \"5.1.0\""),
        "not the newer 5.2.0"
    );

    let bad = w.cli(
        &stage,
        &["update", "--dependency", GROUP, "--version", "v1.1.0"],
    );
    assert!(!bad.success);
    assert!(bad.stderr.contains("--member"));
    let typo = w.cli(
        &stage,
        &[
            "report",
            "--environment",
            "stage",
            "--dependency",
            "group-netwrk",
        ],
    );
    assert!(!typo.success);
    let said = &typo.stderr;
    assert!(
        said.contains("`group-netwrk` is not a group") && said.contains(GROUP),
        "{said}"
    );
    assert_eq!(w.server.violations(), Vec::<String>::new());
}
