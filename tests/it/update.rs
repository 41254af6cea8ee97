//! `patcher update` through its command line: the real binary edits a real checkout, pushes to a
//! real bare `origin` and talks to the GitHub REST API server and the module registry on
//! 127.0.0.1. Module sources are bare repositories with real tags reached from their github.com
//! addresses through `insteadOf`.

use crate::world::{self, files_under, sqs_unit, Run, REPO};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::github::Fault;
use testkit::registry::Registry;

const TOKEN: &str = "ghs_updateTestToken0123456789abcdef";
const SQS: &str = "acme/terraform-aws-sqs/sqs";
const DEV: &str = "{*dev*}/**";
const BRANCH: &str = "patcher/dev/sqs";
const PULLS: &str = "/repos/acme/infrastructure-live/pulls";
const README: &str = "README-TO-COMPLETE-UPDATE.md";

crate::world::module_world! {
    /// The shared world, with the binary run as a CLI that has the token in `GITHUB_TOKEN`.
}

/// `files` committed on origin's main; sqs has v1.0.0 … v2.0.0, vpc v0.5.0 and v0.5.1.
fn world(files: &[(&str, &str)]) -> World {
    build(files, None)
}

fn build(files: &[(&str, &str)], registry: Option<Registry>) -> World {
    let mut b = world::World::builder(TOKEN);
    b.module(
        "terraform-aws-sqs",
        &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
    );
    b.module("terraform-aws-vpc", &["v0.5.0", "v0.5.1"]);
    b.files(files);
    if let Some(registry) = registry {
        b.registry(registry);
    }
    World(b.build())
}

/// dev and stage each use sqs at v1.0.0.
fn two_envs() -> World {
    let unit = sqs_unit("v1.0.0");
    world(&[
        ("dev/sqs/terragrunt.hcl", &unit),
        ("stage/sqs/terragrunt.hcl", &unit),
    ])
}

impl World {
    /// The checkout's dev unit uses sqs at `version`, byte for byte.
    fn assert_dev_sqs_at(&self, version: &str) {
        assert_eq!(
            self.read_bytes("dev/sqs/terragrunt.hcl"),
            sqs_unit(version).as_bytes()
        );
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.0.command(args);
        cmd.env("GITHUB_TOKEN", TOKEN);
        cmd
    }

    fn patcher(&self, args: &[&str]) -> Run {
        Run::of(self.command(args).output().expect("run patcher"))
    }

    fn dir_arg(&self) -> String {
        self.dir().display().to_string()
    }

    /// `patcher report` of the dev folders into a spec file outside the checkout.
    fn spec(&self, globs: &[&str]) -> PathBuf {
        let path = self.root.path().join("spec.json");
        let mut args = vec!["report".to_string(), self.dir_arg()];
        for glob in globs {
            args.extend(["--include-dirs".to_string(), glob.to_string()]);
        }
        args.extend(["--output-spec".to_string(), path.display().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.patcher(&args).ok();
        path
    }

    /// `update` of sqs in dev from a fresh spec, plus `extra` arguments.
    fn update(&self, extra: &[&str]) -> Run {
        let spec = self.spec(&[DEV]);
        self.update_with(&spec, &[DEV], extra)
    }

    fn update_with(&self, spec: &Path, globs: &[&str], extra: &[&str]) -> Run {
        let spec = spec.display().to_string();
        let dir = self.dir_arg();
        let mut args = vec!["update", &dir, "--spec-file", &spec, "--dependency", SQS];
        for glob in globs {
            args.extend(["--include-dirs", glob]);
        }
        args.extend(extra);
        self.patcher(&args)
    }

    /// The flags of a published dev update.
    fn publish_args(&self) -> Vec<&str> {
        self.publish_args_titled("Update sqs in dev")
    }

    fn publish_args_titled<'a>(&'a self, title: &'a str) -> Vec<&'a str> {
        vec![
            "--publish",
            "--pr-branch",
            BRANCH,
            "--pr-title",
            title,
            "--pr-label",
            "updates-dev",
            "--pr-label",
            "dependencies",
            "--base",
            "main",
            "--environment",
            "dev",
            "--repository",
            REPO,
            "--github-api-url",
            self.server.url(),
            "--commit-author",
            "Patcher Bot <bot@example.com>",
        ]
    }

    /// The command of a published dev update of sqs from a fresh spec, not yet run.
    fn publish_command(&self) -> Command {
        let spec = self.spec(&[DEV]).display().to_string();
        let dir = self.dir_arg();
        let mut args = vec!["update", &dir, "--spec-file", &spec, "--dependency", SQS];
        args.extend(["--include-dirs", DEV]);
        args.extend(self.publish_args());
        self.command(&args)
    }

    fn publish(&self, extra: &[&str]) -> Run {
        let mut args = self.publish_args();
        args.extend(extra);
        self.update(&args)
    }

    fn origin(&self, args: &[&str]) -> String {
        testkit::git::run(&self.infra().origin, args)
    }

    /// The bytes of `path` on origin's `rev` (`git show` would go through text conversion).
    fn origin_bytes(&self, rev: &str, path: &str) -> Vec<u8> {
        let out = testkit::git::command(&self.infra().origin)
            .args(["cat-file", "blob", &format!("{rev}:{path}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{rev}:{path} not on origin");
        out.stdout
    }

    /// Tracked files unchanged and back on `main`.
    fn assert_checkout_untouched(&self) {
        assert_eq!(
            self.infra().git(&["symbolic-ref", "--short", "HEAD"]),
            "main"
        );
        assert_eq!(self.infra().git(&["status", "--porcelain"]), "");
    }

    /// Commits on origin's main from another clone, as a merged pull request would.
    fn move_main(&self, path: &str, content: &str) -> String {
        let other = self.root.path().join("other");
        if !other.exists() {
            let status = testkit::git::command(self.root.path())
                .args(["clone", "--quiet"])
                .arg(&self.infra().origin)
                .arg(&other)
                .status()
                .unwrap();
            assert!(status.success());
        }
        testkit::git::run(&other, &["pull", "--quiet", "origin", "main"]);
        std::fs::write(other.join(path), content).unwrap();
        testkit::git::run(&other, &["add", "--all"]);
        testkit::git::run(
            &other,
            &["commit", "--quiet", "-m", "Someone else's change"],
        );
        testkit::git::run(&other, &["push", "--quiet", "origin", "main"]);
        testkit::git::run(&other, &["rev-parse", "HEAD"])
    }

    fn requests_since(&self, index: usize) -> Vec<testkit::github::LoggedRequest> {
        self.server.requests().split_off(index)
    }

    fn assert_no_violations(&self) {
        assert_eq!(self.server.violations(), Vec::<String>::new());
    }
}

/// The JSON of the `<!-- patcher-metadata {...} -->` blocks of a body, read independently of the
/// product's parser.
fn metadata(body: &str) -> Vec<Value> {
    body.split("<!-- patcher-metadata ")
        .skip(1)
        .map(|rest| {
            let json = &rest[..rest.find("-->").expect("closed comment")];
            serde_json::from_str(json.trim()).expect("metadata is JSON")
        })
        .collect()
}

/// Whether a line of the body names the file and the old and new versions.
fn body_lists(body: &str, file: &str, from: &str, to: &str) -> bool {
    body.lines().any(|line| {
        line.contains(&format!("`{file}`"))
            && line.contains(&format!("`{from}`"))
            && line.contains(&format!("`{to}`"))
            && line.find(from) < line.rfind(to)
    })
}

// ---- local edits ----------------------------------------------------------------------------

#[test]
fn without_publish_the_files_are_edited_in_place_and_listed() {
    let w = two_envs();
    let spec = w.spec(&[DEV]);
    let run = w.update_with(&spec, &[DEV], &[]).ok();
    assert_eq!(
        run.stdout,
        "updated dev/sqs/terragrunt.hcl\n",
        "{}",
        run.text()
    );
    w.assert_dev_sqs_at("v1.2.0");
    assert_eq!(
        w.read_bytes("stage/sqs/terragrunt.hcl"),
        sqs_unit("v1.0.0").as_bytes()
    );
    assert!(w.server.requests().is_empty());

    // Once moved, the same update has nothing left to do.
    let again = w
        .update_with(&spec, &[DEV], &["--output", "json"])
        .ok()
        .json();
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["updated_files"], serde_json::json!([]));
}

#[test]
fn json_output_names_changed_files_and_that_nothing_was_published() {
    let w = two_envs();
    let out = w.update(&["--output", "json"]).ok().json();
    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(
        out["updated_files"],
        serde_json::json!(["dev/sqs/terragrunt.hcl"])
    );
    assert_eq!(out["readmes"], serde_json::json!([]));
    assert_eq!(out["pushed"], false);
    assert_eq!(out["branch"], Value::Null);
    assert_eq!(out["pull_request_number"], Value::Null);
    assert_eq!(out["pull_request_url"], Value::Null);
    assert_eq!(out["shared_files_not_changed"], serde_json::json!([]));
}

/// Each tricky file is a template where `{V}` marks the only bytes an update may change; every
/// other occurrence of a version (comments, a heredoc, another module) must survive.
const TRICKY: [(&str, &str); 4] = [
    (
        "dev/crlf/main.tf",
        "# sqs for dev\r\nmodule \"sqs\" {\r\n\t# pinned at ?ref=v1.0.0 on purpose\r\n\tsource\t= /* inline */ \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?ref={V}\" # was v1.0.0\r\n\t// trailing\r\n\tname   =\t\"q\"\r\n}\r\n",
    ),
    (
        "dev/several/main.tf",
        "locals {\n  doc = <<-EOT\n    module \"fake\" { source = \"github.com/acme/terraform-aws-sqs//modules/sqs?ref=v1.0.0\" }\n  EOT\n}\nmodule \"one\" { source = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?ref={V}\" }\n\nmodule \"vpc\" {\n  source = \"git::https://github.com/acme/terraform-aws-vpc.git//modules/vpc?ref=v0.5.0\"\n}\nmodule \"two\" {\n    source = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?depth=1&ref={V}\"\n}\n",
    ),
    (
        "dev/locals/terragrunt.hcl",
        "locals {\n  base_source_url = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs\"\n  note = \"v1.0.0\"\n}\n\nterraform {\n  source = \"${local.base_source_url}?ref={V}\"\n}\n\ninputs = {\n  url = \"${local.base_source_url}\"\n}\n",
    ),
    (
        "dev/bom/terragrunt.hcl",
        "\u{feff}# caf\u{e9} \u{2713}\r\nterraform {\r\n  source = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?ref={V}\"\r\n}",
    ),
];

#[test]
fn tricky_files_keep_every_byte_but_the_version_text() {
    let files: Vec<(String, String)> = TRICKY
        .iter()
        .map(|(path, tpl)| (path.to_string(), tpl.replace("{V}", "v1.0.0")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let w = world(&refs);
    let out = w.update(&["--output", "json"]).ok().json();
    let mut expected_files: Vec<&str> = TRICKY.iter().map(|(p, _)| *p).collect();
    expected_files.sort();
    assert_eq!(out["updated_files"], serde_json::json!(expected_files));
    for (path, tpl) in TRICKY {
        let expected = tpl.replace("{V}", "v1.2.0").into_bytes();
        assert_eq!(
            String::from_utf8_lossy(&w.read_bytes(path)),
            String::from_utf8_lossy(&expected),
            "{path}"
        );
        assert_eq!(w.read_bytes(path), expected, "{path}");
    }
}

/// A registry serving the vpc and security-group modules, and a world whose dev file uses them.
fn registry_world(file: &str) -> World {
    let registry = Registry::start();
    registry.add_module(
        "terraform-aws-modules",
        "vpc",
        "aws",
        &["5.1.0", "5.1.2", "5.2.0", "5.4.0", "6.0.0"],
    );
    registry.add_module(
        "terraform-aws-modules",
        "security-group",
        "aws",
        &["1.0.0", "1.5.0", "2.0.0"],
    );
    build(&[("dev/net/main.tf", file)], Some(registry))
}

const NET: &str = "module \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"{A}\" # constraint\n}\n\nmodule \"vpc_pinned\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n  version = \"{B}\"\n}\n\nmodule \"vpc_patch\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"{C}\"\n}\n\nmodule \"sg\" {\n  source  = \"terraform-aws-modules/security-group/aws\"\n  version = \">= 1.0, < 2.0\"\n}\n";

fn net(a: &str, b: &str, c: &str) -> String {
    NET.replace("{A}", a).replace("{B}", b).replace("{C}", c)
}

/// `update` of every dependency of the spec.
fn update_all(w: &World, extra: &[&str]) -> Run {
    let spec = w.spec(&[DEV]).display().to_string();
    let dir = w.dir_arg();
    let mut args = vec!["update", &dir, "--spec-file", &spec, "--include-dirs", DEV];
    args.extend(extra);
    w.patcher(&args)
}

#[test]
fn registry_constraints_keep_their_operator_and_satisfied_ranges_are_left_alone() {
    let w = registry_world(&net("~> 5.1", "5.1.0", "~> 5.1.0"));
    let run = update_all(&w, &["--output", "json"]).ok();
    assert_eq!(
        String::from_utf8(w.read_bytes("dev/net/main.tf")).unwrap(),
        net("~> 5.4", "5.4.0", "~> 5.4.0"),
        "{}",
        run.text()
    );
    assert_eq!(
        run.json()["updated_files"],
        serde_json::json!(["dev/net/main.tf"])
    );
    assert!(
        w.registry()
            .unwrap()
            .request_count(&Registry::versions_path(
                "terraform-aws-modules",
                "vpc",
                "aws"
            ))
            >= 1
    );
}

#[test]
fn a_breaking_registry_update_keeps_the_operator_and_leaves_a_range_that_excludes_it() {
    let w = registry_world(&net("~> 5.1", "5.1.0", "~> 5.1.0"));
    let run = update_all(&w, &["--update-strategy", "next-breaking"]).ok();
    assert_eq!(
        String::from_utf8(w.read_bytes("dev/net/main.tf")).unwrap(),
        net("~> 6.0", "6.0.0", "~> 6.0.0"),
        "{}",
        run.text()
    );
    let readme = String::from_utf8(w.read_bytes(&format!("dev/net/{README}"))).unwrap();
    assert!(readme.contains("terraform-aws-modules/vpc/aws"), "{readme}");
    assert!(!readme.contains("security-group"), "{readme}");
}

#[test]
fn an_exact_version_wins_over_newer_releases() {
    let w = two_envs();
    w.update(&["--version", "v1.1.0"]).ok();
    w.assert_dev_sqs_at("v1.1.0");
}

#[test]
fn a_version_the_source_does_not_have_is_an_error_and_nothing_is_written() {
    let w = two_envs();
    let run = w.update(&["--version", "v9.9.9"]).failed();
    assert!(run.stderr.contains("v9.9.9"), "{}", run.text());
    assert!(run.stderr.contains(SQS), "{}", run.text());
    assert!(!run.stdout.contains("updated"), "{}", run.text());
    w.assert_dev_sqs_at("v1.0.0");
    w.assert_checkout_untouched();
}

#[test]
fn spec_paths_outside_the_working_dir_are_rejected() {
    let w = two_envs();
    let spec = w.spec(&[DEV]);
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&spec).unwrap()).unwrap();
    for bad in ["../../etc/passwd", "/etc/passwd", "dev/../../../etc/passwd"] {
        let mut tampered = good.clone();
        tampered["Dependencies"][0]["Usages"][0]["File"] = Value::from(bad);
        let path = w.root.path().join("tampered.json");
        std::fs::write(&path, tampered.to_string()).unwrap();
        let run = w.update_with(&path, &[DEV], &[]).failed();
        assert!(run.stderr.contains(bad), "{bad}: {}", run.text());
        assert!(
            run.stderr.contains("must be relative"),
            "{bad}: {}",
            run.text()
        );
        w.assert_dev_sqs_at("v1.0.0");
        w.assert_checkout_untouched();
    }
}

// ---- dry run --------------------------------------------------------------------------------

#[test]
fn dry_run_prints_the_diff_and_the_pull_request_and_does_nothing() {
    let w = two_envs();
    let run = w.publish(&["--dry-run"]).ok();
    let diff_lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("?ref=v1."))
        .collect();
    assert!(
        diff_lines
            .iter()
            .any(|l| l.starts_with('-') && l.contains("?ref=v1.0.0")),
        "{}",
        run.text()
    );
    assert!(
        diff_lines
            .iter()
            .any(|l| l.starts_with('+') && l.contains("?ref=v1.2.0")),
        "{}",
        run.text()
    );
    assert!(
        run.stdout.contains("dev/sqs/terragrunt.hcl"),
        "{}",
        run.text()
    );
    assert!(run.stdout.contains("Update sqs in dev"), "{}", run.text());
    assert!(run.stdout.contains(BRANCH), "{}", run.text());
    assert!(
        body_lists(&run.stdout, "dev/sqs/terragrunt.hcl", "v1.0.0", "v1.2.0"),
        "{}",
        run.text()
    );
    assert_eq!(metadata(&run.stdout).len(), 1, "{}", run.text());
    w.assert_dev_sqs_at("v1.0.0");
    w.assert_checkout_untouched();
    assert_eq!(w.infra().origin_branches(), vec!["main".to_string()]);
    assert_eq!(w.infra().git(&["branch", "--list"]), "* main");
    assert!(w.server.requests().is_empty(), "{:?}", w.server.requests());
}

// ---- publish --------------------------------------------------------------------------------

#[test]
fn publish_pushes_one_commit_and_opens_a_labelled_pull_request() {
    let w = two_envs();
    let main = w.origin(&["rev-parse", "main"]);
    let out = w.publish(&["--output", "json"]).ok().json();
    assert_eq!(w.infra().origin_branches(), vec!["main", BRANCH]);
    assert_eq!(
        w.origin(&["rev-list", "--count", &format!("main..{BRANCH}")]),
        "1"
    );
    assert_eq!(w.origin(&["rev-parse", &format!("{BRANCH}^")]), main);
    assert_eq!(
        w.origin(&["diff", "--name-only", "main", BRANCH]),
        "dev/sqs/terragrunt.hcl"
    );
    assert_eq!(
        w.origin_bytes(BRANCH, "dev/sqs/terragrunt.hcl"),
        sqs_unit("v1.2.0").as_bytes()
    );
    assert_eq!(
        w.origin(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH]),
        "Patcher Bot <bot@example.com>|Patcher Bot <bot@example.com>"
    );
    let message = w.origin(&["log", "-1", "--format=%B", BRANCH]);
    assert!(message.starts_with("Update sqs in dev\n"), "{message}");
    assert!(
        message.contains(&format!("{SQS} v1.0.0 → v1.2.0")),
        "{message}"
    );
    w.assert_checkout_untouched();
    w.assert_dev_sqs_at("v1.0.0");

    let pulls = w.server.pulls(REPO);
    let [pull] = pulls.as_slice() else {
        panic!("{pulls:?}")
    };
    assert_eq!((pull.head.as_str(), pull.base.as_str()), (BRANCH, "main"));
    assert_eq!(pull.title, "Update sqs in dev");
    assert_eq!(pull.head_sha, w.origin(&["rev-parse", BRANCH]));
    let mut labels = pull.labels.clone();
    labels.sort();
    assert_eq!(labels, vec!["dependencies", "updates-dev"]);
    let body = pull.body.clone().unwrap_or_default();
    assert!(
        body_lists(&body, "dev/sqs/terragrunt.hcl", "v1.0.0", "v1.2.0"),
        "{body}"
    );
    let notes = body
        .lines()
        .find(|l| l.contains("/releases/tag/"))
        .unwrap_or_else(|| panic!("no release link: {body}"));
    assert!(
        notes.contains("https://github.com/acme/terraform-aws-sqs/releases/tag/v1.2.0"),
        "the link goes to the release installed: {body}"
    );
    let meta = metadata(&body);
    assert_eq!(meta.len(), 1, "{body}");
    assert_eq!(meta[0]["dependency"], SQS);
    assert_eq!(meta[0]["version"], "v1.2.0");
    assert_eq!(meta[0]["environment"], "dev");

    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(out["pushed"], true);
    assert_eq!(out["branch"], BRANCH);
    assert_eq!(out["pull_request_number"], pull.number);
    assert!(
        out["pull_request_url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/pull/{}", pull.number))),
        "{out}"
    );
    assert_eq!(
        out["updated_files"],
        serde_json::json!(["dev/sqs/terragrunt.hcl"])
    );
    w.assert_no_violations();
}

#[test]
fn re_runs_change_nothing_until_main_moves_then_refresh_the_same_pull_request() {
    let w = two_envs();
    w.publish(&[]).ok();
    let first_sha = w.origin(&["rev-parse", BRANCH]);
    let number = w.server.pulls(REPO)[0].number;

    let seen = w.server.requests().len();
    let again = w.publish(&["--output", "json"]).ok().json();
    assert_eq!(again["pushed"], false, "{again}");
    assert_eq!(again["pull_request_number"], number);
    assert_eq!(w.origin(&["rev-parse", BRANCH]), first_sha);
    assert_eq!(w.server.pulls(REPO).len(), 1);
    let writes: Vec<String> = w
        .requests_since(seen)
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(writes, Vec::<String>::new());
    w.assert_checkout_untouched();

    // Someone merges something else: the branch is rebuilt on the new main, same pull request.
    let new_main = w.move_main("README.md", "hello\n");
    let mut args = w.publish_args_titled("Update sqs in dev (refreshed)");
    args.extend(["--output", "json"]);
    let run = w.update(&args).ok();
    let out = run.json();
    assert_eq!(out["pushed"], true, "{}", run.text());
    let refreshed = w.origin(&["rev-parse", BRANCH]);
    assert_ne!(refreshed, first_sha);
    assert_eq!(w.origin(&["rev-parse", &format!("{BRANCH}^")]), new_main);
    assert_eq!(
        w.origin(&["rev-list", "--count", &format!("main..{BRANCH}")]),
        "1"
    );
    assert_eq!(
        w.origin(&["diff", "--name-only", "main", BRANCH]),
        "dev/sqs/terragrunt.hcl"
    );
    let pulls = w.server.pulls(REPO);
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(pulls[0].number, number);
    assert_eq!(pulls[0].head_sha, refreshed);
    assert_eq!(pulls[0].title, "Update sqs in dev (refreshed)");
    assert_eq!(out["pull_request_number"], number);
    w.assert_checkout_untouched();
    w.assert_no_violations();
}

// ---- shared files ---------------------------------------------------------------------------

fn with_envcommon(dev_has_own_usage: bool) -> World {
    let shared = "locals {\n  base_source_url = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs\"\n}\n\nterraform {\n  source = \"${local.base_source_url}?ref=v1.0.0\"\n}\n";
    let dev = if dev_has_own_usage {
        sqs_unit("v1.0.0")
    } else {
        "include \"envcommon\" {\n  path = \"${dirname(find_in_parent_folders())}/_envcommon/sqs.hcl\"\n}\n".to_string()
    };
    world(&[
        ("_envcommon/sqs.hcl", shared),
        ("dev/sqs/terragrunt.hcl", &dev),
        ("stage/sqs/terragrunt.hcl", &sqs_unit("v1.0.0")),
    ])
}

#[test]
fn shared_files_are_left_alone_and_said_so_in_output_and_pull_request() {
    let w = with_envcommon(true);
    let globs = [DEV, "_envcommon/**"];
    let spec = w.spec(&globs);
    let shared_before = w.read_bytes("_envcommon/sqs.hcl");

    let local = w.update_with(&spec, &globs, &["--output", "json"]).ok();
    let out = local.json();
    assert_eq!(
        out["updated_files"],
        serde_json::json!(["dev/sqs/terragrunt.hcl"])
    );
    assert_eq!(
        out["shared_files_not_changed"],
        serde_json::json!(["_envcommon/sqs.hcl"])
    );
    assert!(
        local.stderr.contains("_envcommon/sqs.hcl") && local.stderr.contains("not changed"),
        "{}",
        local.text()
    );
    assert_eq!(w.read_bytes("_envcommon/sqs.hcl"), shared_before);
    w.infra().git(&["checkout", "--quiet", "--", "."]);

    let mut args = w.publish_args();
    args.push("--output");
    args.push("json");
    let run = w.update_with(&spec, &globs, &args).ok();
    assert_eq!(
        w.origin(&["diff", "--name-only", "main", BRANCH]),
        "dev/sqs/terragrunt.hcl",
        "{}",
        run.text()
    );
    let body = w.server.pulls(REPO)[0].body.clone().unwrap_or_default();
    let shared_line = body
        .lines()
        .find(|l| l.contains("`_envcommon/sqs.hcl`"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(shared_line.contains("v1.0.0"), "{body}");
    assert!(body.to_lowercase().contains("shared"), "{body}");
    assert!(
        !body_lists(&body, "_envcommon/sqs.hcl", "v1.0.0", "v1.2.0"),
        "{body}"
    );
    w.assert_no_violations();
}

#[test]
fn when_only_a_shared_file_holds_the_version_nothing_is_published_and_the_output_says_why() {
    let w = with_envcommon(false);
    let globs = [DEV, "_envcommon/**"];
    let spec = w.spec(&globs);
    let mut args = w.publish_args();
    args.extend(["--output", "json"]);
    let run = w.update_with(&spec, &globs, &args).ok();
    let out = run.json();
    assert_eq!(out["changed"], false, "{}", run.text());
    assert_eq!(
        out["shared_files_not_changed"],
        serde_json::json!(["_envcommon/sqs.hcl"])
    );
    assert!(
        run.stderr.contains("_envcommon/sqs.hcl") && run.stderr.contains("only in shared files"),
        "{}",
        run.text()
    );
    assert!(w.server.pulls(REPO).is_empty());
    assert_eq!(w.infra().origin_branches(), vec!["main".to_string()]);
    w.assert_checkout_untouched();
    w.assert_no_violations();

    // Asked for explicitly, the shared file moves (and with it every environment).
    let shared_before = String::from_utf8(w.read_bytes("_envcommon/sqs.hcl")).unwrap();
    let run = w.update_with(&spec, &globs, &["--allow-shared-files"]).ok();
    assert_eq!(run.stdout, "updated _envcommon/sqs.hcl\n", "{}", run.text());
    assert_eq!(
        String::from_utf8(w.read_bytes("_envcommon/sqs.hcl")).unwrap(),
        shared_before.replace("?ref=v1.0.0", "?ref=v1.2.0")
    );
}

// ---- breaking updates -----------------------------------------------------------------------

#[test]
fn a_breaking_update_leaves_instructions_next_to_the_file() {
    let w = two_envs();
    let out = w
        .update(&["--update-strategy", "next-breaking", "--output", "json"])
        .ok()
        .json();
    let readme = format!("dev/sqs/{README}");
    assert_eq!(out["readmes"], serde_json::json!([readme]));
    w.assert_dev_sqs_at("v2.0.0");
    let text = String::from_utf8(w.read_bytes(&readme)).unwrap();
    assert!(text.contains(SQS), "{text}");
    assert!(text.contains("v1.0.0 → v2.0.0"), "{text}");
    assert!(text.contains("Manual steps are required"), "{text}");
    assert!(
        text.contains("https://github.com/acme/terraform-aws-sqs/releases/tag/v2.0.0"),
        "{text}"
    );
    assert!(!w.infra().dir.join(format!("stage/sqs/{README}")).exists());
}

#[test]
fn a_published_breaking_update_carries_the_release_notes_and_warns_in_the_pull_request() {
    let w = two_envs();
    let notes = "Renamed input `queue` to `name`; move state with `terraform state mv`.";
    w.server
        .add_release("acme/terraform-aws-sqs", "v2.0.0", notes);
    w.publish(&["--update-strategy", "next-breaking"]).ok();
    let readme = format!("dev/sqs/{README}");
    let mut changed: Vec<String> = w
        .origin(&["diff", "--name-only", "main", BRANCH])
        .lines()
        .map(String::from)
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        vec![readme.clone(), "dev/sqs/terragrunt.hcl".into()]
    );
    let text = String::from_utf8(w.origin_bytes(BRANCH, &readme)).unwrap();
    assert!(text.contains(notes), "{text}");
    assert!(text.contains("v1.0.0 → v2.0.0"), "{text}");

    let body = w.server.pulls(REPO)[0].body.clone().unwrap_or_default();
    let first_heading = body.find("## ").unwrap_or(body.len());
    let warning = body.find("Breaking").unwrap_or_else(|| panic!("{body}"));
    assert!(warning < first_heading, "the warning comes first: {body}");
    assert!(body[..first_heading].contains(README), "{body}");
    assert!(body.contains(&format!("`{readme}`")), "{body}");
    assert!(
        body_lists(&body, "dev/sqs/terragrunt.hcl", "v1.0.0", "v2.0.0"),
        "{body}"
    );
    assert_eq!(metadata(&body)[0]["version"], "v2.0.0");
    w.assert_no_violations();
}

// ---- failures -------------------------------------------------------------------------------

#[test]
fn a_rejected_push_is_reported_and_leaves_the_checkout_as_it_was_then_a_rerun_succeeds() {
    let w = two_envs();
    let hook = w.infra().origin.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'branch creation is frozen' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = w.publish(&[]).failed();
    assert!(run.stderr.contains("rejected"), "{}", run.text());
    assert!(run.stderr.contains(BRANCH), "{}", run.text());
    assert!(
        run.stderr.contains("branch creation is frozen"),
        "{}",
        run.text()
    );
    w.assert_checkout_untouched();
    w.assert_dev_sqs_at("v1.0.0");
    assert_eq!(w.infra().origin_branches(), vec!["main".to_string()]);
    assert!(w.server.pulls(REPO).is_empty());

    std::fs::remove_file(&hook).unwrap();
    w.publish(&[]).ok();
    assert_eq!(w.server.pulls(REPO).len(), 1);
    assert_eq!(
        w.origin_bytes(BRANCH, "dev/sqs/terragrunt.hcl"),
        sqs_unit("v1.2.0").as_bytes()
    );
    w.assert_checkout_untouched();
    w.assert_no_violations();
}

#[test]
fn the_api_down_mid_way_fails_clearly_and_a_rerun_opens_exactly_one_pull_request() {
    let w = two_envs();
    // Four failures: every attempt the client's retry budget allows.
    w.server.inject(
        Fault::new("POST", PULLS, 500)
            .times(4)
            .message("Server Error"),
    );
    let run = w.publish(&[]).failed();
    assert!(run.stderr.contains("500"), "{}", run.text());
    assert!(run.stderr.contains("Server Error"), "{}", run.text());
    let attempts = w
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == PULLS)
        .count();
    assert_eq!(attempts, 4, "bounded retries");
    w.assert_checkout_untouched();
    let pushed = w.origin(&["rev-parse", BRANCH]);

    w.publish(&[]).ok();
    let pulls = w.server.pulls(REPO);
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(pulls[0].head_sha, pushed, "the pushed branch is reused");
    w.assert_checkout_untouched();
    w.assert_no_violations();
}

#[test]
fn a_token_without_permission_gets_a_message_naming_it_and_never_leaks() {
    let w = two_envs();
    w.server.deny_writes(true);
    let run = w.publish(&[]).failed();
    assert!(run.stderr.contains("issues: write"), "{}", run.text());
    // Without labels the first write is the pull request itself.
    let dir = w.dir_arg();
    let spec = w.spec(&[DEV]).display().to_string();
    let bare = w
        .patcher(&[
            "update",
            &dir,
            "--spec-file",
            &spec,
            "--dependency",
            SQS,
            "--include-dirs",
            DEV,
            "--publish",
            "--pr-branch",
            BRANCH,
            "--pr-title",
            "Update sqs",
            "--repository",
            REPO,
            "--github-api-url",
            w.server.url(),
        ])
        .failed();
    assert!(
        bare.stderr.contains("pull-requests: write"),
        "{}",
        bare.text()
    );
    for r in [&run, &bare] {
        assert!(
            !r.stdout.contains(TOKEN) && !r.stderr.contains(TOKEN),
            "{}",
            r.text()
        );
    }
    for file in files_under(&w.infra().dir.join(".git")) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "token in {}",
            file.display()
        );
    }
    w.assert_checkout_untouched();
    assert!(w.server.pulls(REPO).is_empty());

    w.server.deny_writes(false);
    w.publish(&[]).ok();
    assert_eq!(w.server.pulls(REPO).len(), 1);
    w.assert_no_violations();
}

#[test]
fn a_bad_token_is_named_as_such() {
    let w = two_envs();
    let mut cmd = w.publish_command();
    cmd.env("GITHUB_TOKEN", "ghs_wrongToken999");
    let run = Run::of(cmd.output().unwrap()).failed();
    assert!(run.stderr.contains("token was rejected"), "{}", run.text());
    assert!(!run.stderr.contains("ghs_wrongToken999"), "{}", run.text());
    w.assert_checkout_untouched();
    w.assert_no_violations();
}

#[test]
fn a_secondary_rate_limit_is_waited_out_and_retried() {
    let w = two_envs();
    w.server.inject(
        Fault::new("GET", "/repos/acme/infrastructure-live/labels", 429)
            .retry_after(1)
            .message("API rate limit exceeded"),
    );
    w.server.inject(
        Fault::new("POST", PULLS, 403)
            .retry_after(1)
            .message("You have exceeded a secondary rate limit"),
    );
    w.publish(&[]).ok();
    let label_statuses: Vec<u16> = w
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/labels/updates-dev"))
        .map(|r| r.status)
        .collect();
    assert_eq!(label_statuses, vec![429, 404]);
    let statuses: Vec<u16> = w
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == PULLS)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![403, 201]);
    assert_eq!(w.server.pulls(REPO).len(), 1);
    w.assert_no_violations();
}

#[test]
fn a_pull_request_opened_meanwhile_is_taken_over_not_duplicated() {
    let w = two_envs();
    // The first create waits out a rate limit; someone opens a pull request for the branch
    // in that window, so the retried create gets GitHub's 422 "already exists".
    w.server.inject(
        Fault::new("POST", PULLS, 403)
            .retry_after(2)
            .message("You have exceeded a secondary rate limit"),
    );
    let child = w
        .publish_command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !w
        .server
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path == PULLS && r.status == 403)
    {
        assert!(std::time::Instant::now() < deadline, "no create attempt");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let theirs = w
        .server
        .open_pull(REPO, BRANCH, "main", "WIP sqs", "opened by hand");
    let run = Run::of(child.wait_with_output().unwrap()).ok();
    let statuses: Vec<u16> = w
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == PULLS)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![403, 422], "{}", run.text());
    let pulls = w.server.pulls(REPO);
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(pulls[0].number, theirs);
    assert_eq!(pulls[0].title, "Update sqs in dev");
    let body = pulls[0].body.clone().unwrap_or_default();
    assert_eq!(metadata(&body).len(), 1, "{body}");
    assert!(pulls[0].labels.contains(&"updates-dev".to_string()));
    assert!(run.stdout.contains(&format!("#{theirs}")), "{}", run.text());
    w.assert_no_violations();
}

#[test]
fn a_failed_commit_leaves_no_edited_or_new_files_behind() {
    let w = two_envs();
    let hook = w.infra().dir.join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho 'lint failed' >&2\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = w.publish(&["--update-strategy", "next-breaking"]).failed();
    assert!(run.stderr.contains("lint failed"), "{}", run.text());
    w.assert_checkout_untouched();
    w.assert_dev_sqs_at("v1.0.0");
    assert!(!w.infra().dir.join(format!("dev/sqs/{README}")).exists());
    assert_eq!(w.infra().origin_branches(), vec!["main".to_string()]);
    assert!(w.server.pulls(REPO).is_empty());

    std::fs::remove_file(&hook).unwrap();
    w.publish(&["--update-strategy", "next-breaking"]).ok();
    assert_eq!(w.server.pulls(REPO).len(), 1);
    w.assert_no_violations();
}

#[test]
fn an_update_from_a_subfolder_with_a_spec_of_the_whole_repository_publishes_repository_paths() {
    let w = two_envs();
    let spec = w.spec(&[DEV]).display().to_string();
    let dev = w.infra().dir.join("dev").display().to_string();
    let mut args = vec!["update", &dev, "--spec-file", &spec, "--dependency", SQS];
    args.extend(["--include-dirs", "**"]);
    args.extend(w.publish_args());
    args.extend(["--output", "json"]);
    let run = w.patcher(&args).ok();
    assert_eq!(
        run.json()["updated_files"],
        serde_json::json!(["sqs/terragrunt.hcl"]),
        "{}",
        run.text()
    );
    assert_eq!(
        w.origin(&["diff", "--name-only", "main", BRANCH]),
        "dev/sqs/terragrunt.hcl"
    );
    let body = w.server.pulls(REPO)[0].body.clone().unwrap_or_default();
    assert!(
        body.lines().any(|l| l.contains("sqs/terragrunt.hcl`")
            && l.contains("`v1.0.0`")
            && l.contains("`v1.2.0`")),
        "{body}"
    );
    w.assert_checkout_untouched();
    w.assert_no_violations();
}

#[test]
fn a_file_that_does_not_parse_is_left_untouched_and_reported() {
    let broken = "module \"x\" {\n  source = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs?ref=v1.0.0\"\n  oops =\n}\n";
    let w = world(&[
        ("dev/sqs/terragrunt.hcl", &sqs_unit("v1.0.0")),
        ("dev/broken/main.tf", broken),
    ]);
    let run = w.publish(&[]).ok();
    assert!(
        run.stderr.contains("dev/broken/main.tf:3") && run.stderr.contains("not updated"),
        "{}",
        run.text()
    );
    assert_eq!(
        w.origin(&["diff", "--name-only", "main", BRANCH]),
        "dev/sqs/terragrunt.hcl"
    );
    assert_eq!(
        w.origin_bytes(BRANCH, "dev/broken/main.tf"),
        broken.as_bytes()
    );
    let body = w.server.pulls(REPO)[0].body.clone().unwrap_or_default();
    let listed = body
        .lines()
        .find(|l| l.contains("`dev/broken/main.tf`"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(listed.contains("line 3"), "{body}");
    w.assert_no_violations();
}

#[test]
fn uncommitted_work_is_never_touched() {
    let w = two_envs();
    let mine = "# my local experiment\n";
    std::fs::write(w.infra().dir.join("stage/sqs/terragrunt.hcl"), mine).unwrap();
    let run = w.publish(&[]).failed();
    assert!(run.stderr.contains("uncommitted changes"), "{}", run.text());
    assert_eq!(w.read_bytes("stage/sqs/terragrunt.hcl"), mine.as_bytes());
    assert_eq!(w.infra().git(&["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(w.infra().origin_branches(), vec!["main".to_string()]);
    assert!(w.server.requests().is_empty());
}

#[test]
fn a_detached_checkout_is_returned_to_the_same_commit() {
    let w = two_envs();
    let head = w.infra().git(&["rev-parse", "HEAD"]);
    w.infra().git(&["checkout", "--quiet", "--detach"]);
    w.publish(&[]).ok();
    assert_eq!(w.infra().git(&["rev-parse", "HEAD"]), head);
    let symbolic = testkit::git::command(&w.infra().dir)
        .args(["symbolic-ref", "--quiet", "HEAD"])
        .status()
        .unwrap();
    assert!(!symbolic.success(), "HEAD stays detached");
    assert_eq!(w.infra().git(&["status", "--porcelain"]), "");
    assert_eq!(w.server.pulls(REPO).len(), 1);
    w.assert_no_violations();
}

#[test]
fn a_breaking_dry_run_names_the_readme_it_would_write_and_writes_none() {
    let w = two_envs();
    let run = w
        .publish(&["--dry-run", "--update-strategy", "next-breaking"])
        .ok();
    let readme = format!("dev/sqs/{README}");
    assert!(run.stdout.contains("Breaking update"), "{}", run.text());
    assert!(
        run.stdout.contains(&format!("`{readme}`")),
        "{}",
        run.text()
    );
    assert!(!w.infra().dir.join(&readme).exists());
    w.assert_dev_sqs_at("v1.0.0");
    assert!(w.server.requests().is_empty());
}

#[test]
fn a_spec_naming_other_environments_changes_only_the_selected_one() {
    let w = two_envs();
    let spec = w.spec(&[DEV, "{*stage*}/**"]);
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(text.contains("stage/sqs/terragrunt.hcl"), "{text}");
    let run = w.update_with(&spec, &[DEV], &[]).ok();
    assert_eq!(
        run.stdout,
        "updated dev/sqs/terragrunt.hcl\n",
        "{}",
        run.text()
    );
    assert_eq!(
        w.read_bytes("stage/sqs/terragrunt.hcl"),
        sqs_unit("v1.0.0").as_bytes()
    );
}

#[test]
fn a_dependency_used_in_hundreds_of_files_still_gets_a_pull_request_github_accepts() {
    let unit = sqs_unit("v1.0.0");
    let paths: Vec<String> = (0..650)
        .map(|i| format!("dev/us-east-1/services/queue-processing-unit-{i:03}/terragrunt.hcl"))
        .collect();
    let files: Vec<(&str, &str)> = paths.iter().map(|p| (p.as_str(), unit.as_str())).collect();
    let w = world(&files);
    let out = w.publish(&["--output", "json"]).ok().json();
    assert_eq!(out["updated_files"].as_array().map(Vec::len), Some(650));
    let changed = w.origin(&["diff", "--name-only", "main", BRANCH]);
    assert_eq!(changed.lines().count(), 650);
    let body = w.server.pulls(REPO)[0].body.clone().unwrap_or_default();
    // GitHub's limit on a pull request body.
    assert!(body.chars().count() <= 65_536, "{} characters", body.len());
    assert!(body.contains("and 450 more"), "{body}");
    assert!(body_lists(&body, &paths[0], "v1.0.0", "v1.2.0"), "{body}");
    assert_eq!(metadata(&body)[0]["version"], "v1.2.0");
    w.assert_no_violations();
}

#[test]
fn a_promoted_registry_version_is_written_into_each_constraint() {
    let w = registry_world(&net("~> 5.1", "5.1.0", "~> 5.1.0"));
    let dir = w.dir_arg();
    let run = w
        .patcher(&[
            "update",
            &dir,
            "--include-dirs",
            DEV,
            "--dependency",
            "terraform-aws-modules/vpc/aws",
            "--version",
            "5.2.0",
        ])
        .ok();
    assert_eq!(
        String::from_utf8(w.read_bytes("dev/net/main.tf")).unwrap(),
        net("~> 5.2", "5.2.0", "~> 5.2.0"),
        "{}",
        run.text()
    );
    let missing = w
        .patcher(&[
            "update",
            &dir,
            "--include-dirs",
            DEV,
            "--dependency",
            "terraform-aws-modules/vpc/aws",
            "--version",
            "5.3.0",
        ])
        .failed();
    assert!(missing.stderr.contains("5.3.0"), "{}", missing.text());
}

/// As in a container job, where the workspace belongs to the runner's uid, not ours. Changing a
/// checkout's owner needs root; elsewhere this test has nothing to check.
#[test]
fn a_workspace_owned_by_another_user_is_published() {
    let w = two_envs();
    let chown = Command::new("chown")
        .args(["-R", "4242:4242"])
        .arg(&w.infra().dir)
        .output()
        .unwrap();
    if !chown.status.success() {
        eprintln!("not root: cannot hand the checkout to another uid");
        return;
    }
    let plain_git = testkit::git::command(&w.infra().dir)
        .args(["status"])
        .output()
        .unwrap();
    assert!(
        !plain_git.status.success(),
        "git itself refuses the checkout"
    );
    w.publish(&[]).ok();
    assert_eq!(
        w.origin_bytes(BRANCH, "dev/sqs/terragrunt.hcl"),
        sqs_unit("v1.2.0").as_bytes()
    );
    assert_eq!(w.server.pulls(REPO).len(), 1);
    w.assert_dev_sqs_at("v1.0.0");
    w.assert_no_violations();
}

#[test]
fn a_promoted_breaking_version_brings_its_readme_too() {
    let w = two_envs();
    w.server
        .add_release("acme/terraform-aws-sqs", "v2.0.0", "Inputs renamed.");
    w.publish(&["--version", "v2.0.0"]).ok();
    let readme = format!("dev/sqs/{README}");
    let text = String::from_utf8(w.origin_bytes(BRANCH, &readme)).unwrap();
    assert!(text.contains("Inputs renamed."), "{text}");
    let body = w.server.pulls(REPO)[0].body.clone().unwrap_or_default();
    assert!(body.contains("Breaking update"), "{body}");
    assert_eq!(metadata(&body)[0]["version"], "v2.0.0");
    w.assert_no_violations();
}
