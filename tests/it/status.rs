//! `patcher status` over a dev/stage/prod tree whose environments disagree in every way the
//! issue names: one environment ahead, one split across two versions, a dependency missing
//! from dev, commit and branch pins. Module versions come from bare git repositories reached
//! through `insteadOf`; pull requests and the dashboard issue live on the GitHub API server on
//! 127.0.0.1, which checks every request against GitHub's OpenAPI description.

use crate::world::{self, Run, REPO};
use patcher::publish::github::{
    GitHubClient, GitHubError, IssueEdit, IssueState, IssueTracker, LabelledIssue,
};
use patcher::status::dashboard::{self, Published};
use serde_json::Value;
use std::path::Path;
use std::sync::Barrier;
use testkit::git::terragrunt_unit;
use testkit::runner::Step;

const TOKEN: &str = "ghs_statusTestToken0123456789";
const VPC: &str = "acme/terraform-aws-vpc/vpc";
const SQS: &str = "acme/terraform-aws-sqs/sqs";
const DNS: &str = "acme/terraform-aws-dns/dns";
const IAM: &str = "acme/terraform-aws-iam/iam";
const DAY: u64 = 86_400;
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
/// A folder name written to inject Markdown, a mention and an HTML comment.
const NASTY_DIR: &str = "prod/iam-@everyone-[x](https:--evil.example)-`<!-- patcher-dashboard";
const DASHBOARD_MARKER: &str =
    "<!-- patcher-dashboard: this issue is rewritten by patcher status -->";

const CHAIN: &str = "environments:\n  - name: dev\n    include_dirs: ['dev/**']\n  - name: stage\n    include_dirs: ['stage/**']\n  - name: prod\n    include_dirs: ['prod/**']\n";

crate::world::module_world! {
    /// The shared world with a plain tree (status reads files, not git) and the GitHub server.
}

fn tree() -> Vec<(String, String)> {
    let unit = |repo: &str, module: &str, version: &str| terragrunt_unit(repo, module, version);
    vec![
        (".github/patcher.yml".into(), CHAIN.into()),
        // dev: where updates enter.
        (
            "dev/vpc/terragrunt.hcl".into(),
            unit("terraform-aws-vpc", "vpc", "v1.2.0"),
        ),
        (
            "dev/sqs/terragrunt.hcl".into(),
            unit("terraform-aws-sqs", "sqs", "v0.6.0"),
        ),
        (
            "dev/iam/terragrunt.hcl".into(),
            unit("terraform-aws-iam", "iam", "v1.0.0"),
        ),
        // stage: vpc split across two versions, sqs behind dev, iam pinned to a commit.
        (
            "stage/app1/terragrunt.hcl".into(),
            unit("terraform-aws-vpc", "vpc", "v1.1.0"),
        ),
        (
            "stage/app2/terragrunt.hcl".into(),
            unit("terraform-aws-vpc", "vpc", "v1.0.0"),
        ),
        (
            "stage/sqs/terragrunt.hcl".into(),
            unit("terraform-aws-sqs", "sqs", "v0.5.0"),
        ),
        (
            "stage/iam/terragrunt.hcl".into(),
            unit("terraform-aws-iam", "iam", COMMIT),
        ),
        // prod: vpc in sync with stage, sqs ahead of stage, dns only here, iam on a branch.
        (
            "prod/vpc/terragrunt.hcl".into(),
            unit("terraform-aws-vpc", "vpc", "v1.1.0"),
        ),
        (
            "prod/sqs/terragrunt.hcl".into(),
            unit("terraform-aws-sqs", "sqs", "v0.6.0"),
        ),
        (
            "prod/dns/terragrunt.hcl".into(),
            unit("terraform-aws-dns", "dns", "v3.0.0"),
        ),
        (
            format!("{NASTY_DIR}/terragrunt.hcl"),
            unit("terraform-aws-iam", "iam", "main"),
        ),
    ]
}

fn world() -> World {
    let mut b = world::World::builder(TOKEN);
    for (name, tags) in [
        (
            "terraform-aws-vpc",
            &["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v2.0.0"][..],
        ),
        ("terraform-aws-sqs", &["v0.5.0", "v0.6.0", "v0.6.1"][..]),
        ("terraform-aws-dns", &["v3.0.0", "v3.1.0"][..]),
        ("terraform-aws-iam", &["v1.0.0"][..]),
    ] {
        b.module(name, tags);
    }
    b.files(&tree()).plain();
    World(b.build())
}

fn metadata(dependency: &str, version: &str, env: &str) -> String {
    format!(
        "## Update\n\n_Opened by patcher._\n<!-- patcher-metadata {{\"dependency\":\"{dependency}\",\"version\":\"{version}\",\"environment\":\"{env}\",\"previous\":[]}} -->\n"
    )
}

impl World {
    /// An update pull request as `update` opens it, `days` old, merged when `merge`.
    fn pull(&self, env: &str, dependency: &str, version: &str, days: u64, merge: bool) -> u64 {
        let branch = format!("patcher-{env}-updates-{dependency}-{version}");
        let title = format!("[Patcher] [{env}] Update {dependency}");
        let body = metadata(dependency, version, env);
        let number = self.server.open_pull(REPO, &branch, "main", &title, &body);
        self.server
            .label_pull(REPO, number, &[&format!("updates-{env}")]);
        if merge {
            self.server.merge(REPO, number).expect("merged");
        }
        self.server.backdate_pull(REPO, number, days * DAY);
        number
    }

    /// Merged: vpc v1.2.0 and sqs v0.6.0 in dev. Open: vpc v1.2.0 in stage, the breaking vpc
    /// v2.0.0 in dev, and a prod pull request whose metadata is forged.
    fn pulls(&self) {
        self.pull("dev", VPC, "v1.2.0", 2, true);
        self.pull("dev", SQS, "v0.6.0", 3, true);
        self.pull("stage", VPC, "v1.2.0", 1, false);
        self.pull("dev", VPC, "v2.0.0", 0, false);
        let forged = metadata(DNS, "v9 [x](https://evil.example) @acme/admins", "prod");
        let n = self
            .server
            .open_pull(REPO, "forged", "main", "@everyone look", &forged);
        self.server.label_pull(REPO, n, &["updates-prod"]);
    }

    fn cli(&self, args: &[&str]) -> Run {
        self.cli_with(args, &[])
    }

    /// `patcher status` with no token, the API server's URL in `GITHUB_API_URL`, and `envs`.
    fn cli_with(&self, args: &[&str], envs: &[(&str, &Path)]) -> Run {
        let output = self
            .command(&[&["status"], args].concat())
            .env("GITHUB_API_URL", self.server.url())
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        Run::of(output)
    }

    fn json(&self, args: &[&str]) -> Value {
        self.json_with(args, &[])
    }

    fn json_with(&self, args: &[&str], envs: &[(&str, &Path)]) -> Value {
        let json = self
            .cli_with(&[args, &["--output", "json"]].concat(), envs)
            .ok()
            .json();
        assert_conforms(&json);
        json
    }

    fn online(&self) -> Vec<&'static str> {
        vec!["--repository", REPO, "--github-token", TOKEN]
    }

    fn status_step(&self) -> Step {
        self.step(self.dir()).input("patcher_command", "status")
    }

    fn dashboards(&self) -> Vec<testkit::github::Issue> {
        self.server
            .issues(REPO)
            .into_iter()
            .filter(|i| i.labels.iter().any(|l| l == "patcher-dashboard"))
            .collect()
    }
}

fn assert_conforms(json: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/status.schema.json")).unwrap();
    let validator = testkit::openapi::Spec::from_value(schema.clone());
    let problems = validator.validate(&schema, json);
    assert!(
        problems.is_empty(),
        "status JSON breaks its schema: {problems:#?}"
    );
}

fn dependency<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing from {json:#}"))
}

fn env<'a>(dep: &'a Value, name: &str) -> &'a Value {
    dep["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()
}

fn versions(env: &Value) -> Vec<&str> {
    env["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect()
}

fn anomalies(dep: &Value) -> Vec<(String, String)> {
    dep["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap().to_string();
            (text("kind"), text("environment"))
        })
        .collect()
}

#[test]
fn offline_reads_every_environment_from_the_tree_alone() {
    let w = world();
    // No repository, no token, no API server answers: the server's log stays empty.
    let json = w.json(&["--offline"]);
    assert!(w.server.requests().is_empty());
    assert_eq!(
        json["environments"],
        serde_json::json!(["dev", "stage", "prod"])
    );
    assert_eq!(json["resolved"], false);
    assert_eq!(json["pull_requests"], false);

    let vpc = dependency(&json, VPC);
    assert_eq!(versions(env(vpc, "dev")), ["v1.2.0"]);
    assert_eq!(versions(env(vpc, "stage")), ["v1.0.0", "v1.1.0"]);
    assert_eq!(env(vpc, "stage")["state"], "behind");
    // Behind what: dev's highest version; offline, no merge time is known.
    assert_eq!(
        env(vpc, "stage")["waits_on"],
        serde_json::json!({"environment": "dev", "version": "v1.2.0", "merged_at": null, "age_seconds": null})
    );
    assert_eq!(env(vpc, "prod")["state"], "in_sync");
    assert!(env(vpc, "prod")["waits_on"].is_null());
    assert_eq!(
        env(vpc, "stage")["versions"][1]["files"],
        serde_json::json!(["stage/app1/terragrunt.hcl"])
    );
    assert!(anomalies(vpc).contains(&("split".into(), "stage".into())));
    assert!(vpc["latest"].is_null() && env(vpc, "dev")["target_safe"].is_null());

    let sqs = dependency(&json, SQS);
    assert_eq!(env(sqs, "prod")["state"], "ahead");
    assert_eq!(anomalies(sqs), [("ahead".to_string(), "prod".to_string())]);

    let dns = dependency(&json, DNS);
    assert_eq!(env(dns, "dev")["state"], "absent");
    assert_eq!(env(dns, "stage")["state"], "absent");
    assert_eq!(
        anomalies(dns),
        [("untested".to_string(), "prod".to_string())]
    );

    let iam = dependency(&json, IAM);
    assert_eq!(env(iam, "stage")["pins"][0]["kind"], "commit");
    assert_eq!(env(iam, "stage")["pins"][0]["ref"], COMMIT);
    assert_eq!(env(iam, "prod")["pins"][0]["kind"], "branch");
    assert_eq!(env(iam, "prod")["pins"][0]["ref"], "main");
    let pinned: Vec<_> = anomalies(iam)
        .into_iter()
        .filter(|(k, _)| k == "pinned")
        .collect();
    assert_eq!(
        pinned,
        [
            ("pinned".into(), "stage".into()),
            ("pinned".into(), "prod".into())
        ]
    );
}

#[test]
fn offline_table_names_states_and_anomalies() {
    let w = world();
    let text = w.cli(&["--offline"]).ok().stdout;
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("DEPENDENCY") && header.contains("DEV") && header.contains("PROD"));
    let sqs = text.lines().find(|l| l.starts_with(SQS)).unwrap();
    assert!(
        sqs.contains("v0.5.0 (behind, waits on dev's v0.6.0)") && sqs.contains("v0.6.0 (AHEAD)"),
        "{sqs}"
    );
    let dns = text.lines().find(|l| l.starts_with(DNS)).unwrap();
    assert!(dns.contains('—'), "{dns}");
    assert!(text.contains("ANOMALIES"));
    assert!(text.contains(&format!(
        "! {SQS} [ahead] prod runs v0.6.0, ahead of stage (v0.5.0)"
    )));
}

#[test]
fn environments_from_the_command_line_in_their_order() {
    let w = world();
    let json = w.json(&[
        "--offline",
        "--environment",
        "prod=prod/**",
        "--environment",
        "stage=stage/app1/**",
        "--environment",
        "stage=stage/app2/**",
    ]);
    assert_eq!(json["environments"], serde_json::json!(["prod", "stage"]));
    let vpc = dependency(&json, VPC);
    assert_eq!(versions(env(vpc, "stage")), ["v1.0.0", "v1.1.0"]);
    // prod first: stage's v1.1.0 is "in sync", prod is where updates enter.
    assert_eq!(env(vpc, "stage")["state"], "in_sync");
    let out = w.cli(&["--offline", "--environment", "not a name=dev/**"]);
    assert!(!out.success);
    assert!(out.stderr.contains("is not NAME=GLOB"));
}

#[test]
fn resolved_status_lists_each_repository_once_and_reads_pull_requests() {
    let w = world();
    w.pulls();
    let trace = w.root.path().join("git-trace");
    let json = w.json_with(&w.online(), &[("GIT_TRACE", &trace)]);
    assert_eq!(json["resolved"], true);
    assert_eq!(json["pull_requests"], true);

    let vpc = dependency(&json, VPC);
    assert_eq!(vpc["latest"], "v2.0.0");
    assert_eq!(env(vpc, "dev")["target_safe"], "v1.3.0");
    assert_eq!(env(vpc, "dev")["target_breaking"], "v2.0.0");
    // dev: the breaking v2.0.0 waits for review.
    let dev_pull = &env(vpc, "dev")["pull_request"];
    assert_eq!(dev_pull["version"], "v2.0.0");
    assert_eq!(dev_pull["breaking"], true);
    assert_eq!(env(vpc, "dev")["state"], "in_review");
    assert_eq!(env(vpc, "dev")["last_merged"]["version"], "v1.2.0");
    // stage: v1.2.0 promoted and waiting for review, opened a day ago.
    let stage = env(vpc, "stage");
    assert_eq!(stage["state"], "in_review");
    assert_eq!(stage["pull_request"]["version"], "v1.2.0");
    assert_eq!(stage["pull_request"]["breaking"], false);
    let age = stage["pull_request"]["age_seconds"].as_u64().unwrap();
    assert!((DAY..DAY + 600).contains(&age), "{age}");

    // iam's only release is the one dev runs.
    assert_eq!(env(dependency(&json, IAM), "dev")["state"], "up_to_date");
    assert_eq!(
        env(dependency(&json, DNS), "prod")["state"],
        "update_available"
    );

    // sqs v0.6.0 merged in dev three days ago and not yet promoted to stage.
    let sqs_stage = env(dependency(&json, SQS), "stage");
    assert_eq!(sqs_stage["state"], "behind");
    let waits_on = &sqs_stage["waits_on"];
    assert_eq!(waits_on["environment"], "dev");
    assert_eq!(waits_on["version"], "v0.6.0");
    let waiting = waits_on["age_seconds"].as_u64().unwrap();
    assert!((3 * DAY..3 * DAY + 600).contains(&waiting), "{waiting}");
    assert!(waits_on["merged_at"].as_str().unwrap().ends_with('Z'));
    // vpc: stage waits on dev's v1.2.0, merged two days ago, while its own promotion is in
    // review.
    let vpc_waits = &env(dependency(&json, VPC), "stage")["waits_on"];
    assert_eq!(vpc_waits["version"], "v1.2.0");
    let waiting = vpc_waits["age_seconds"].as_u64().unwrap();
    assert!((2 * DAY..2 * DAY + 600).contains(&waiting), "{waiting}");

    // The forged metadata (a version that is no version) is not shown anywhere.
    let dns_prod = env(dependency(&json, DNS), "prod");
    assert!(dns_prod["pull_request"].is_null(), "{dns_prod}");
    assert!(!json.to_string().contains("https://evil.example"));

    // One listing per repository for all three environments together: git's own trace of
    // the commands patcher ran shows each of the four repositories listed exactly once.
    let mut listed = listed_repositories(&trace);
    assert_eq!(listed.len(), 4, "{listed:#?}");
    listed.dedup();
    assert_eq!(listed.len(), 4, "a repository was listed twice");
    assert!(
        w.server.violations().is_empty(),
        "{:#?}",
        w.server.violations()
    );
    let issue_lists = w
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/issues"))
        .count();
    assert_eq!(issue_lists, 6, "open + closed per environment");
}

/// Git ls-remote runs of patcher, one entry per repository address listed.
fn listed_repositories(trace: &Path) -> Vec<String> {
    let trace = std::fs::read_to_string(trace).unwrap();
    let mut listed: Vec<String> = trace
        .lines()
        .filter(|l| l.contains("built-in: git ls-remote"))
        .filter_map(|l| l.split_whitespace().find(|w| w.contains("github.com")))
        .map(str::to_string)
        .collect();
    listed.sort();
    listed
}

#[test]
fn one_listing_per_repository_and_registry_module_for_the_whole_chain() {
    let w = world();
    let registry = testkit::registry::Registry::start();
    registry.add_module("acme", "platform", "aws", &["1.0.0", "1.1.0", "1.2.0"]);
    // A second module of the vpc repository, and one registry module, in every environment
    // at a different version or constraint.
    for (env, subnet, platform) in [
        ("dev", "v1.3.0", "1.2.0"),
        ("stage", "v1.2.0", "~> 1.1.0"),
        ("prod", "v1.1.0", "1.0.0"),
    ] {
        let text = format!(
            "{}\nmodule \"platform\" {{\n  source  = \"acme/platform/aws\"\n  version = \"{platform}\"\n}}\n",
            terragrunt_unit("terraform-aws-vpc", "subnet", subnet)
                .replace("terraform {", "module \"subnet\" {")
        );
        std::fs::write(w.dir().join(format!("{env}/main.tf")), text).unwrap();
    }
    let trace = w.root.path().join("git-trace");
    let base_urls = format!("registry.terraform.io={}", registry.url());
    let json = w.json_with(
        &[],
        &[
            ("GIT_TRACE", &trace),
            ("PATCHER_REGISTRY_BASE_URLS", Path::new(&base_urls)),
        ],
    );
    assert_eq!(
        json["pull_requests"], false,
        "no repository: no pull requests"
    );

    let subnet = dependency(&json, "acme/terraform-aws-vpc/subnet");
    assert_eq!(versions(env(subnet, "prod")), ["v1.1.0"]);
    assert_eq!(env(subnet, "prod")["state"], "behind");
    let platform = dependency(&json, "acme/platform/aws");
    assert_eq!(platform["latest"], "1.2.0");
    assert_eq!(env(platform, "stage")["versions"][0]["resolved"], "1.1.0");
    assert_eq!(env(platform, "stage")["waits_on"]["version"], "1.2.0");

    // Five dependencies in three environments: four repositories, one registry module, each
    // listed once.
    let listed = listed_repositories(&trace);
    assert_eq!(listed.len(), 4, "{listed:#?}");
    let mut unique = listed.clone();
    unique.dedup();
    assert_eq!(unique, listed, "a repository was listed twice");
    let versions_path = testkit::registry::Registry::versions_path("acme", "platform", "aws");
    assert_eq!(registry.request_count(&versions_path), 1);
}

#[test]
fn action_status_writes_summary_and_output_and_keeps_one_dashboard() {
    let w = world();
    w.pulls();
    let someone_elses = w.server.open_issue(
        REPO,
        "Not ours",
        "labelled by hand, no marker",
        &["patcher-dashboard"],
    );
    let existing = w.server.open_issue(
        REPO,
        "Patcher promotion dashboard",
        &format!("{DASHBOARD_MARKER}\nold text"),
        &["patcher-dashboard"],
    );

    let run = w.status_step().input("dashboard", "true").run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let status: Value = serde_json::from_str(run.output("status")).unwrap();
    assert_conforms(&status);
    assert_eq!(env(dependency(&status, SQS), "prod")["state"], "ahead");
    assert_eq!(run.output("dashboard_issue"), existing.to_string());
    assert!(run.summary.contains("### patcher status"));
    assert!(run
        .summary
        .contains(&format!("Dashboard: #{existing} (edited)")));

    // Edited in place, not duplicated; the hand-labelled issue is left alone.
    let dashboards = w.dashboards();
    assert_eq!(dashboards.len(), 2);
    let ours = dashboards.iter().find(|i| i.number == existing).unwrap();
    let body = ours.body.clone().unwrap();
    assert!(body.starts_with(DASHBOARD_MARKER) && !body.contains("old text"));
    assert!(
        body.contains(&format!("- #{} ", 3)),
        "stage's review is listed:\n{body}"
    );
    let sqs_row = body.lines().find(|l| l.contains(SQS)).unwrap();
    assert!(
        sqs_row.contains("behind, waits on `dev`'s `v0.6.0` merged 3d ago"),
        "{sqs_row}"
    );
    let theirs = dashboards
        .iter()
        .find(|i| i.number == someone_elses)
        .unwrap();
    assert_eq!(theirs.body.as_deref(), Some("labelled by hand, no marker"));
    assert_eq!(theirs.state, "open");
    assert_markdown_is_inert(&body);
    assert_markdown_is_inert(&run.summary);

    // Untrusted text never reaches stdout where the runner would read commands.
    let stop = run.line("::stop-commands::");
    let token = stop.trim_start_matches("::stop-commands::");
    let nasty = run
        .stdout
        .find("@everyone")
        .expect("the pin's folder is in the log");
    let (start, end) = (
        run.stdout.find(stop).unwrap(),
        run.stdout.find(&format!("::{token}::")).unwrap(),
    );
    assert!(start < nasty && nasty < end, "{}", run.stdout);

    // A second run edits nothing when nothing changed and still creates nothing.
    let patches = |w: &World| {
        w.server
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count()
    };
    let before = patches(&w);
    let again = w.status_step().input("dashboard", "true").run();
    assert!(again.success, "{}{}", again.stdout, again.stderr);
    assert_eq!(again.output("dashboard_issue"), existing.to_string());
    assert!(again
        .summary
        .contains(&format!("Dashboard: #{existing} (unchanged)")));
    assert_eq!(w.dashboards().len(), 2);
    assert_eq!(patches(&w), before, "unchanged body: no edit");
    assert!(
        w.server.violations().is_empty(),
        "{:#?}",
        w.server.violations()
    );
}

#[test]
fn dashboard_created_once_then_edited_and_duplicates_closed() {
    let w = world();
    let first = w.status_step().input("dashboard", "true").run();
    assert!(first.success, "{}{}", first.stdout, first.stderr);
    let created: u64 = first.output("dashboard_issue").parse().unwrap();
    assert!(first
        .summary
        .contains(&format!("Dashboard: #{created} (created)")));
    assert_eq!(w.dashboards().len(), 1);
    assert!(w
        .server
        .labels(REPO)
        .iter()
        .any(|l| l.name == "patcher-dashboard"));

    // The tree changes; a concurrent run meanwhile created a second dashboard.
    std::fs::write(
        w.dir().join("stage/sqs/terragrunt.hcl"),
        terragrunt_unit("terraform-aws-sqs", "sqs", "v0.6.0"),
    )
    .unwrap();
    let racer = w.server.open_issue(
        REPO,
        "Patcher promotion dashboard",
        &format!("{DASHBOARD_MARKER}\nfrom a concurrent run"),
        &["patcher-dashboard"],
    );
    let second = w.status_step().input("dashboard", "true").run();
    assert!(second.success, "{}{}", second.stdout, second.stderr);
    assert_eq!(second.output("dashboard_issue"), created.to_string());
    assert!(second.summary.contains(&format!(
        "Dashboard: #{created} (edited; closed duplicate #{racer})"
    )));
    let dashboards = w.dashboards();
    let open: Vec<u64> = dashboards
        .iter()
        .filter(|i| i.state == "open")
        .map(|i| i.number)
        .collect();
    assert_eq!(open, [created]);
    let closed = dashboards.iter().find(|i| i.number == racer).unwrap();
    assert_eq!(closed.state_reason.as_deref(), Some("duplicate"));
    let body = dashboards
        .iter()
        .find(|i| i.number == created)
        .unwrap()
        .body
        .clone()
        .unwrap();
    let sqs_row = body.lines().find(|l| l.contains(SQS)).unwrap();
    assert!(sqs_row.contains("in sync"), "{sqs_row}");
    assert!(
        w.server.violations().is_empty(),
        "{:#?}",
        w.server.violations()
    );
}

/// The real client, except that `create_issue` waits until every racing run reaches it: each
/// has listed and found no dashboard, so each creates one, the race the dashboard must survive.
struct CreateTogether<'a> {
    client: GitHubClient,
    barrier: &'a Barrier,
}

impl IssueTracker for CreateTogether<'_> {
    fn list_labelled(
        &self,
        label: &str,
        state: IssueState,
    ) -> Result<Vec<LabelledIssue>, GitHubError> {
        self.client.list_labelled(label, state)
    }
    fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<LabelledIssue, GitHubError> {
        self.barrier.wait();
        self.client.create_issue(title, body, labels)
    }
    fn edit_issue(&self, number: u64, edit: &IssueEdit) -> Result<LabelledIssue, GitHubError> {
        self.client.edit_issue(number, edit)
    }
    fn ensure_issue_labels(&self, labels: &[String]) -> Result<(), GitHubError> {
        self.client.ensure_issue_labels(labels)
    }
}

#[test]
fn racing_runs_both_create_and_agree_on_one_dashboard() {
    let w = world();
    let client = || GitHubClient::new(w.server.url(), REPO, Some(TOKEN.into()));
    let barrier = Barrier::new(3);
    let runs: Vec<Published> = std::thread::scope(|scope| {
        let racers: Vec<_> = ["run a", "run b", "run c"]
            .map(|text| {
                let tracker = CreateTogether {
                    client: client(),
                    barrier: &barrier,
                };
                scope.spawn(move || dashboard::publish(&tracker, text).unwrap())
            })
            .into_iter()
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut numbers: Vec<u64> = w.dashboards().iter().map(|i| i.number).collect();
    numbers.sort();
    assert_eq!(numbers.len(), 3, "each run created one");
    let kept = numbers[0];
    assert!(runs.iter().all(|r| r.number == kept), "{runs:#?}");
    assert_eq!(runs.iter().filter(|r| r.created).count(), 1, "{runs:#?}");
    let mut closed: Vec<u64> = runs.iter().flat_map(|r| r.closed.clone()).collect();
    closed.sort();
    closed.dedup();
    assert_eq!(closed, numbers[1..]);
    for issue in w.dashboards() {
        let (state, reason) = match issue.number == kept {
            true => ("open", None),
            false => ("closed", Some("duplicate")),
        };
        assert_eq!(
            (issue.state.as_str(), issue.state_reason.as_deref()),
            (state, reason)
        );
    }

    // The next run edits the one dashboard and creates nothing.
    let next = dashboard::publish(&client(), "run d").unwrap();
    assert_eq!(next.describe(), format!("#{kept} (edited)"));
    assert_eq!(w.dashboards().len(), 3);
    assert!(
        w.server.violations().is_empty(),
        "{:#?}",
        w.server.violations()
    );
}

#[test]
fn action_offline_needs_no_server_and_refuses_a_dashboard() {
    let w = world();
    let run = w
        .status_step()
        .input("offline", "true")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let status: Value = serde_json::from_str(run.output("status")).unwrap();
    assert_eq!(status["resolved"], false);
    assert!(run.summary.contains("Versions not listed (offline)."));
    let refused = w
        .status_step()
        .input("offline", "true")
        .input("dashboard", "true")
        .run();
    assert!(!refused.success);
    assert!(refused
        .stderr
        .contains("`dashboard: true` needs the GitHub API"));
    assert!(w.server.requests().is_empty());
}

#[test]
fn action_takes_the_chain_from_include_dirs_without_an_environments_file() {
    let w = world();
    std::fs::remove_file(w.dir().join(".github/patcher.yml")).unwrap();
    let run = w
        .status_step()
        .input("offline", "true")
        .input("include_dirs", "dev=dev/**\nprod={prod,prod2}/**")
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let status: Value = serde_json::from_str(run.output("status")).unwrap();
    assert_eq!(status["environments"], serde_json::json!(["dev", "prod"]));
    assert_eq!(env(dependency(&status, SQS), "prod")["state"], "in_sync");
}

/// Outside code spans, no link, mention, HTML comment or raw HTML from untrusted text; and the
/// only HTML comment is the marker on the first line.
fn assert_markdown_is_inert(markdown: &str) {
    for (i, line) in markdown.lines().enumerate() {
        if i == 0 && line == DASHBOARD_MARKER {
            continue;
        }
        let outside = outside_code_spans(line);
        for bad in [
            "@everyone",
            "@acme",
            "evil.example",
            "<!--",
            "-->",
            "](",
            "<a",
        ] {
            assert!(
                !outside.contains(bad),
                "{bad:?} outside code in line {line:?}"
            );
        }
        assert!(!line.contains("<!--"), "comment delimiter in {line:?}");
        if line.starts_with('|') {
            let pipes = line.replace("\\|", "").matches('|').count();
            let header_pipes = markdown
                .lines()
                .find(|l| l.starts_with('|'))
                .unwrap()
                .matches('|')
                .count();
            assert_eq!(pipes, header_pipes, "table row broken: {line:?}");
        }
    }
}

/// The line with every CommonMark code span (a backtick run up to the next run of the same
/// length) removed.
fn outside_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let run_at = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let run = run_at(i);
        if run == 0 {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i + run;
        let close = loop {
            if j >= chars.len() {
                break None;
            }
            let r = run_at(j);
            match r {
                0 => j += 1,
                r if r == run => break Some(j + r),
                r => j += r,
            }
        };
        match close {
            Some(end) => i = end,
            None => {
                out.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out
}
