//! The attacked world: an infrastructure checkout with a bare `origin`, module repositories
//! with real tags behind github.com addresses, the GitHub API server, and the checks every
//! attack ends with.

use crate::world::Run;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use testkit::git::ModuleRepo;
use testkit::registry::Registry;
use testkit::runner::{workflow_commands, Step, StepRun};

pub use crate::world::{sqs_unit, REPO};
/// The token every run gets; finding it anywhere an attacker can read is a leak.
pub const TOKEN: &str = "ghs_ATTACKmarker0token0123456789abcdef";
/// The module registry's token (`TF_TOKEN_registry_terraform_io`) when a registry is up.
pub const REGISTRY_TOKEN: &str = "tfATTACKregistry0secret0123456789";
pub const SQS: &str = "acme/terraform-aws-sqs/sqs";
pub const DEV: &str = "{*dev*}/**";
/// What every injected workflow command carries, so a forged one is recognised.
pub const MARK: &str = "PWNED";

crate::world::module_world! {
    /// The shared world with the attacks' token, registry token and checks.
    pub
}

fn build(files: &[(&str, &str)], registry: Option<Registry>) -> World {
    let mut b = crate::world::World::builder(TOKEN);
    b.module(
        "terraform-aws-sqs",
        &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
    );
    b.files(files);
    if let Some(registry) = registry {
        b.registry(registry);
    }
    World(b.build())
}

/// `files` committed on origin's main; sqs has v1.0.0 … v2.0.0.
pub fn world(files: &[(&str, &str)]) -> World {
    build(files, None)
}

/// dev uses sqs at v1.0.0.
pub fn dev_world() -> World {
    world(&[("dev/sqs/terragrunt.hcl", &sqs_unit("v1.0.0"))])
}

pub const VPC: &str = "terraform-aws-modules/vpc/aws";
pub const SG: &str = "terraform-aws-modules/security-group/aws";
pub const NET: &str = "module \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.1.0\"\n}\n\nmodule \"sg\" {\n  source  = \"terraform-aws-modules/security-group/aws\"\n  version = \"1.0.0\"\n}\n";

/// dev/net/main.tf uses two modules of the registry on 127.0.0.1, vpc 5.1.0 (5.2.0 out) and
/// security-group 1.0.0 (1.5.0 out).
pub fn registry_world() -> World {
    registry_world_of(&[("dev/net/main.tf", NET)])
}

/// `files` and a registry listing vpc 5.1.0, 5.2.0 and security-group 1.0.0, 1.5.0.
pub fn registry_world_of(files: &[(&str, &str)]) -> World {
    let registry = Registry::start();
    registry.add_module("terraform-aws-modules", "vpc", "aws", &["5.1.0", "5.2.0"]);
    registry.add_module(
        "terraform-aws-modules",
        "security-group",
        "aws",
        &["1.0.0", "1.5.0"],
    );
    build(files, Some(registry))
}

/// What a run left where an attacker (or the next job) can read it.
#[derive(Debug)]
pub struct Seen {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    /// `GITHUB_OUTPUT` values (empty for the CLI).
    pub outputs: String,
    pub summary: String,
}

impl Seen {
    fn of(output: Output) -> Seen {
        let run = Run::of(output);
        Seen {
            success: run.success,
            stdout: run.stdout,
            stderr: run.stderr,
            outputs: String::new(),
            summary: String::new(),
        }
    }

    pub fn text(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}\noutputs:\n{}\nsummary:\n{}",
            self.stdout, self.stderr, self.outputs, self.summary
        )
    }

    /// What the log and the files show: the runner consumes `::add-mask::` lines (the token's
    /// mask is the first thing patcher prints) instead of logging them.
    fn logged(&self) -> String {
        let stdout: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect();
        format!(
            "{}\n{}\n{}\n{}",
            stdout.join("\n"),
            self.stderr,
            self.outputs,
            self.summary
        )
    }

    pub fn ok(self) -> Seen {
        assert!(self.success, "patcher failed\n{}", self.text());
        self
    }

    pub fn failed(self) -> Seen {
        assert!(!self.success, "patcher succeeded\n{}", self.text());
        self
    }

    pub fn says(&self, words: &str) -> bool {
        self.stdout.contains(words) || self.stderr.contains(words)
    }

    /// The runner acts on no command that patcher did not make: see [`assert_only_own_commands`].
    pub fn assert_no_forged_commands(&self) {
        assert_only_own_commands(&self.stdout);
        assert_only_own_commands(&self.stderr);
    }
}

impl From<StepRun> for Seen {
    fn from(run: StepRun) -> Seen {
        Seen {
            success: run.success,
            outputs: run
                .outputs
                .iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect(),
            stdout: run.stdout,
            stderr: run.stderr,
            summary: run.summary,
        }
    }
}

/// Every command the runner would act on in `text` is one patcher builds: a known verb, only
/// the properties patcher sets (`file`, numeric `line` and `col`), a stop-commands token of 32
/// random hex digits, and nothing of the attacker's ([`MARK`]) in a value that is not a message
/// or a file name (a mask, a group title). A line that is no `::` command but holds `##[` is an
/// old-style command, which patcher never prints. Messages and file names may quote attacker
/// text: escaped, it stays inside its command.
pub fn assert_only_own_commands(text: &str) {
    let mut resume: Option<String> = None;
    for line in workflow_commands(text) {
        let forged = |why: &str| panic!("{why}: {line:?} in\n{text}");
        let Some(body) = line.strip_prefix("::") else {
            forged("an old-style command")
        };
        let (head, value) = body.split_once("::").unwrap_or((body, ""));
        let (verb, properties) = head.split_once(' ').unwrap_or((head, ""));
        if resume.as_deref() == Some(verb) && properties.is_empty() && value.is_empty() {
            resume = None;
            continue;
        }
        for property in properties.split(',').filter(|p| !p.is_empty()) {
            match property.split_once('=') {
                Some(("file", _)) => {}
                Some(("line" | "col", n)) if n.parse::<u64>().is_ok() => {}
                _ => forged("a property patcher never sets"),
            }
        }
        match verb {
            "error" | "warning" | "notice" | "debug" => {}
            "add-mask" | "group" | "endgroup" if !value.contains(MARK) => {}
            "stop-commands"
                if value.len() == 32 && value.chars().all(|c| c.is_ascii_hexdigit()) =>
            {
                resume = Some(value.to_string())
            }
            _ => forged("a command patcher does not make"),
        }
    }
}

/// Text that would be a leak wherever it shows up.
fn secrets() -> Vec<String> {
    vec![
        TOKEN.to_string(),
        patcher::gitcmd::basic_credentials(TOKEN),
        TOKEN["ghs_".len()..].to_string(),
        REGISTRY_TOKEN.to_string(),
    ]
}

fn assert_clean(place: &str, text: &str) {
    for secret in secrets() {
        assert!(
            !text.contains(&secret),
            "the token leaked into {place}:\n{text}"
        );
    }
}

/// All objects of a repository, decompressed, and its refs.
fn repository_text(git_dir: &Path) -> String {
    let objects = testkit::git::command(git_dir)
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .output()
        .unwrap();
    let refs = testkit::git::run(git_dir, &["for-each-ref"]);
    format!("{refs}\n{}", String::from_utf8_lossy(&objects.stdout))
}

/// Regular files under `dir` (links are not followed).
fn tree_text(dir: &Path) -> String {
    let mut text = String::new();
    for file in crate::world::files_under(dir) {
        let bytes = std::fs::read(file).unwrap_or_default();
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    text
}

impl World {
    pub fn sqs(&self) -> &ModuleRepo {
        self.module("terraform-aws-sqs")
    }

    /// The registry's token, when there is a registry.
    fn registry_token(&self) -> Vec<(&'static str, &'static str)> {
        self.registry()
            .map(|_| ("TF_TOKEN_registry_terraform_io", REGISTRY_TOKEN))
            .into_iter()
            .collect()
    }

    /// The binary with the token in `GITHUB_TOKEN` and `GITHUB_ACTIONS` set, as a CLI step of a
    /// workflow runs it, in the checkout.
    pub fn cli_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(args);
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_ACTIONS", "true")
            .envs(self.registry_token());
        cmd
    }

    pub fn cli(&self, args: &[&str]) -> Seen {
        Seen::of(self.cli_command(args).output().expect("run patcher"))
    }

    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        self.cli_command(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start patcher")
    }

    pub fn finish(child: Child) -> Seen {
        Seen::of(child.wait_with_output().expect("wait for patcher"))
    }

    /// The flags of a published update: branch, title, base, the API server.
    pub fn publish_args<'a>(&'a self, branch: &'a str, base: &'a str) -> Vec<&'a str> {
        vec![
            "--publish",
            "--pr-branch",
            branch,
            "--pr-title",
            "Update in dev",
            "--base",
            base,
            "--environment",
            "dev",
            "--repository",
            REPO,
            "--github-api-url",
            self.server.url(),
        ]
    }

    /// `patcher update . --include-dirs DEV --dependency SQS` plus `extra`.
    pub fn update_sqs(&self, extra: &[&str]) -> Seen {
        let mut args = vec!["update", ".", "--include-dirs", DEV, "--dependency", SQS];
        args.extend(extra);
        self.cli(&args)
    }

    /// `patcher action` in `workspace` with the token as the `github_token` input.
    pub fn step(&self, workspace: &Path) -> Step {
        let mut step = self.0.step(workspace);
        for (name, value) in self.registry_token() {
            step = step.env(name, value);
        }
        step
    }

    /// The dev update of sqs as `update-dev.yml` runs it, in `workspace`; more inputs may
    /// follow (a later one wins).
    pub fn dev_update(&self, workspace: &Path) -> Step {
        self.step(workspace)
            .input("patcher_command", "update")
            .input("environment", "dev")
            .input("include_dirs", DEV)
            .input("dependency", SQS)
            .event("workflow_dispatch", json!({"inputs": {}}))
    }

    /// [`World::dev_update`] under `next-breaking` (a README next to the file, release notes in
    /// it), which must succeed without a command patcher did not make.
    pub fn breaking_dev_update(&self, workspace: &Path) -> Seen {
        let run: Seen = self
            .dev_update(workspace)
            .input("update_strategy", "next-breaking")
            .run()
            .into();
        let run = run.ok();
        run.assert_no_forged_commands();
        run
    }

    /// [`World::dev_update`] in a fresh checkout.
    pub fn dev_update_step(&self, name: &str) -> Seen {
        self.dev_update(&self.checkout(name)).run().into()
    }

    /// The report of dev's folders, in `workspace`.
    pub fn dev_report(&self, workspace: &Path) -> Step {
        self.step(workspace)
            .input("patcher_command", "report")
            .input("include_dirs", DEV)
            .event("workflow_dispatch", json!({"inputs": {}}))
    }

    /// `promote` of pull request `number` in dev, on its merge commit, with the event's body
    /// replaced by `body` when given.
    pub fn promote_step(&self, number: u64, body: Option<&str>) -> Seen {
        let mut event = self.server.pull_request_event(REPO, number).unwrap();
        if let Some(body) = body {
            event["pull_request"]["body"] = Value::String(body.to_string());
        }
        let ws = self.merge_checkout(&format!("promote-{number}"), &event);
        self.promote_in(&ws, event)
    }

    /// `promote` of dev on the `pull_request` event, in `workspace`.
    pub fn promote_in(&self, workspace: &Path, event: Value) -> Seen {
        self.step(workspace)
            .input("patcher_command", "promote")
            .input("environment", "dev")
            .input("include_dirs", DEV)
            .event("pull_request", event)
            .run()
            .into()
    }

    /// stage's `update` on the `repository_dispatch` that dev's promote sends, with `payload`.
    pub fn stage_update_on_dispatch(&self, workspace: &Path, payload: Value) -> Seen {
        let event = json!({"action": "dev_updates_merged", "client_payload": payload});
        self.step(workspace)
            .input("patcher_command", "update")
            .input("environment", "stage")
            .input("include_dirs", DEV)
            .event("repository_dispatch", event)
            .run()
            .into()
    }

    /// The update pull request of dev, opened and merged; its number.
    pub fn merged_dev_update(&self) -> u64 {
        let run = self.dev_update_step("update-dev").ok();
        let number: u64 = run
            .outputs
            .lines()
            .find_map(|l| l.strip_prefix("pull_request_number="))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no pull request\n{}", run.text()));
        self.server.merge(REPO, number).expect("merge");
        self.assert_no_leak(&[&run]);
        number
    }

    pub fn body_of(&self, number: u64) -> String {
        self.server
            .pull(REPO, number)
            .and_then(|p| p.body)
            .unwrap_or_default()
    }

    pub fn origin_sha(&self, branch: &str) -> String {
        testkit::git::run(&self.infra().origin, &["rev-parse", branch])
    }

    /// Files that differ between origin's `main` and `branch`.
    pub fn changed_on(&self, branch: &str) -> Vec<String> {
        testkit::git::run(
            &self.infra().origin,
            &["diff", "--name-only", "main", branch],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    pub fn dispatches(&self) -> Vec<testkit::github::Dispatch> {
        self.server.dispatches(REPO)
    }

    /// The token is nowhere an attacker can read: the runs' outputs, origin's refs and objects,
    /// the checkout's files and objects, and the API server's request log (paths, queries,
    /// bodies and headers other than `Authorization`).
    pub fn assert_no_leak(&self, runs: &[&Seen]) {
        for run in runs {
            assert_clean("the run's output", &run.logged());
        }
        assert_clean("origin", &repository_text(&self.infra().origin));
        assert_clean(
            "the checkout's objects",
            &repository_text(&self.infra().dir),
        );
        assert_clean("the checkout", &tree_text(&self.infra().dir));
        for checkout in std::fs::read_dir(self.root.path().join("checkouts"))
            .into_iter()
            .flatten()
            .flatten()
        {
            assert_clean("a job's checkout", &tree_text(&checkout.path()));
        }
        for request in self.server.requests() {
            let logged = format!(
                "{} {} {:?} {:?}\n{}",
                request.method, request.path, request.query, request.headers, request.body
            );
            assert_clean("a request to GitHub", &logged);
        }
    }
}
