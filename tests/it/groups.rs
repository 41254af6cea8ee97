//! Groups end to end: `groups:` in the environments file makes one spec entry, one matrix job
//! and one pull request per group and environment, and promotion carries every member at the
//! version dev merged, whatever was released in between. Driven through the real binary as
//! the runner runs it and as a user runs the CLI; git module sources are bare repositories with
//! real tags, registry modules come from the registry server, pull requests and dispatches go
//! to the GitHub API server, both on 127.0.0.1.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;
use testkit::git::{terragrunt_unit, GitConfig, ModuleRepo, WorkingRepo};
use testkit::github::GitHubServer;
use testkit::registry::Registry;
use testkit::runner::{Step, StepRun};
use testkit::spec::dependency_ids;

const REPO: &str = "acme/infrastructure-live";
const TOKEN: &str = "ghs_groupsTestToken0123456789";
const GROUP: &str = "group-network";
const SQS: &str = "acme/terraform-aws-sqs/sqs";
/// A registry module: the group mixes git and registry sources.
const VPC: &str = "terraform-aws-modules/vpc/aws";
const RDS: &str = "acme/terraform-aws-rds/rds";
const REGISTRY_URLS: &str = "PATCHER_REGISTRY_BASE_URLS";

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

/// The infrastructure repository on the GitHub server, and the two modules of the group.
struct World {
    server: GitHubServer,
    infra: WorkingRepo,
    sqs: ModuleRepo,
    registry: Registry,
    gitconfig: GitConfig,
    root: tempfile::TempDir,
}

fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let github_root = root.path().join("github");
    let tags = |name, tags: &[&str]| ModuleRepo::with_tags(&github_root, "acme", name, tags);
    let sqs = tags("terraform-aws-sqs", &["v1.0.0", "v1.1.0", "v2.0.0"]);
    tags("terraform-aws-rds", &["v3.0.0", "v3.0.1"]);
    let registry = Registry::start();
    registry.add_module(
        "terraform-aws-modules",
        "vpc",
        "aws",
        &["5.0.0", "5.1.0", "6.0.0"],
    );
    let gitconfig = GitConfig::github_mirror(root.path(), &github_root);
    let mut files: Vec<(String, String)> = vec![(".github/patcher.yml".into(), CONFIG.into())];
    for env in ["dev-account", "stage-account", "prod-account"] {
        for (repo, module, version) in [
            ("terraform-aws-sqs", "sqs", "v1.0.0"),
            ("terraform-aws-rds", "rds", "v3.0.0"),
        ] {
            files.push((
                format!("{env}/us-east-1/{module}/terragrunt.hcl"),
                terragrunt_unit(repo, module, version),
            ));
        }
        files.push((
            format!("{env}/us-east-1/vpc/main.tf"),
            format!("module \"vpc\" {{\n  source  = \"{VPC}\"\n  version = \"5.0.0\"\n}}\n"),
        ));
    }
    let infra = WorkingRepo::create(&root.path().join("infra"), &files);
    let server = GitHubServer::start(TOKEN);
    server.attach_origin(REPO, &infra.origin);
    World {
        sqs,
        registry,
        server,
        infra,
        gitconfig,
        root,
    }
}

impl World {
    /// A fresh clone of origin, at the merge commit of `event`'s pull request when it has one
    /// (the promote job's checkout), else at main.
    fn checkout(&self, name: &str, event: Option<&Value>) -> PathBuf {
        let dir = self.root.path().join("checkouts").join(name);
        self.infra.fresh_clone(&dir, &self.gitconfig);
        let sha = event.and_then(|e| e["pull_request"]["merge_commit_sha"].as_str());
        if let Some(sha) = sha {
            testkit::git::run(&dir, &["checkout", "--quiet", "--detach", sha]);
        }
        dir
    }

    /// A step of the example workflows: the environment, the event, and the `dependency` input
    /// the workflow fills from the matrix or the dispatch.
    fn step(&self, name: &str, command: &str, env: &str, event: (&str, Value)) -> Step {
        let ws = self.checkout(name, Some(&event.1));
        let mut step = Step::new(Path::new(env!("CARGO_BIN_EXE_patcher")), &ws)
            .envs(self.gitconfig.env())
            .env(REGISTRY_URLS, &self.registry_urls())
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", self.server.url())
            .input("github_token", TOKEN)
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
            .step(
                &format!("promote-{env}"),
                "promote",
                env,
                ("pull_request", event),
            )
            .run();
        assert!(run.success, "promote {env}: {}{}", run.stdout, run.stderr);
        run
    }

    /// Where the binary finds the registry (registry.terraform.io served on 127.0.0.1).
    fn registry_urls(&self) -> String {
        format!("registry.terraform.io={}", self.registry.url())
    }

    fn main_file(&self, env: &str, file: &str) -> String {
        let path = format!("{env}-account/us-east-1/{file}");
        self.infra.origin_file("main", &path).unwrap()
    }

    fn cli(&self, dir: &Path, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_patcher"))
            .current_dir(dir)
            .args(args)
            .envs(self.gitconfig.env())
            .env(REGISTRY_URLS, self.registry_urls())
            .env("GITHUB_TOKEN", TOKEN)
            .env_remove("GITHUB_REPOSITORY")
            .env_remove("GITHUB_API_URL")
            .output()
            .unwrap()
    }
}

fn ok(run: &StepRun) -> &StepRun {
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    run
}

fn pr_number(run: &StepRun) -> u64 {
    run.output("pull_request_number")
        .parse()
        .unwrap_or_else(|_| panic!("no pull request: {}{}", run.stdout, run.stderr))
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
    let report = w.step("report-dev", "report", "dev", schedule()).run();
    let ids: Vec<String> = serde_json::from_str(ok(&report).output("dependencies")).unwrap();
    assert_eq!(ids, [RDS, GROUP], "{}", report.output("spec"));
    let spec: Value = serde_json::from_str(report.output("spec")).unwrap();
    let entry = &spec["Dependencies"][1];
    assert_eq!(entry["ID"], GROUP);
    assert_eq!(entry["UsageCount"], 2);
    assert_eq!(members(entry), dev_versions(), "{entry:#}");

    // max_pull_requests counts the group as one pull request, deferred as a whole.
    let limited = w
        .step("report-dev-limited", "report", "dev", schedule())
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
        .step("update-dev", "update", "dev", schedule())
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
    let checkout = w.checkout("status", None);
    let args = [
        "status",
        "--output",
        "json",
        "--repository",
        REPO,
        "--github-api-url",
        &api,
    ];
    let out = w.cli(&checkout, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
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
    w.sqs.release("v1.2.0");
    w.registry
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
            .step(&format!("report-{next}"), "report", next, dispatch())
            .run();
        let spec: Value = serde_json::from_str(ok(&report).output("spec")).unwrap();
        assert_eq!(report.output("dependencies"), format!("[\"{GROUP}\"]"));
        assert_eq!(
            members(&spec["Dependencies"][0]),
            dev_versions(),
            "{spec:#}"
        );
        let update = || {
            w.step(&format!("update-{next}"), "update", next, dispatch())
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
            .step(
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
    assert_eq!(w.infra.origin_branches(), vec!["main".to_string()]);
}

/// The same chain from the command line: report, a published group update, promote, and the
/// next environment's update at the members' exact versions.
#[test]
fn groups_from_the_command_line() {
    let w = world();
    let dev = w.checkout("cli-dev", None);
    let text = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let spec: Value = serde_json::from_str(&text(&w.cli(
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
    text(&w.cli(
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
    w.sqs.release("v1.2.0");
    w.registry
        .add_module("terraform-aws-modules", "vpc", "aws", &["5.2.0"]);

    let event = w.server.pull_request_event(REPO, pulls[0].number).unwrap();
    let event_file = w.root.path().join("event.json");
    std::fs::write(&event_file, event.to_string()).unwrap();
    let merged = w.checkout("cli-promote", Some(&event));
    let event_arg = event_file.to_str().unwrap();
    let dry = text(&w.cli(
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

    let stage = w.checkout("cli-stage", None);
    let mut args = vec!["update", "--environment", "stage", "--dependency", GROUP];
    let pins: Vec<String> = dev_versions()
        .iter()
        .map(|(id, v)| format!("{id}={v}"))
        .collect();
    for pin in &pins {
        args.extend(["--member", pin.as_str()]);
    }
    let updated = text(&w.cli(&stage, &args));
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
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--member"));
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
    assert!(!typo.status.success());
    let said = String::from_utf8_lossy(&typo.stderr);
    assert!(
        said.contains("`group-netwrk` is not a group") && said.contains(GROUP),
        "{said}"
    );
    assert_eq!(w.server.violations(), Vec::<String>::new());
}
