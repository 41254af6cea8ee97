//! `minimum_release_age` through the real binary: registry versions with publication dates
//! (the registry API's per-version `published_at`, OpenTofu's documentation API), a github.com
//! repository whose tags have dates (GitHub's GraphQL API answered from the bare repository's
//! real tags), from the action's input, the CLI flag and the environments file; promotions and
//! undated versions.

use crate::world::{self, Run};
use serde_json::Value;
use testkit::git::ModuleRepo;
use testkit::github::timestamp;
use testkit::registry_tree::{RegistryTree, TOKEN};
use testkit::spec::find_dependency;

const DAY: u64 = 86_400;
/// `acme/net/aws`: 1.0.0 in use, 1.1.0 ten days old, 1.2.0 an hour old.
const MODULE: &str = "acme/net/aws";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ago(seconds: u64) -> String {
    timestamp(now() - seconds)
}

/// One dev file using `source` at 1.0.0; the registry has 1.0.0 (old), 1.1.0 (10 days) and
/// 1.2.0 (1 hour), with dates.
fn dated_tree(source: &str) -> RegistryTree {
    let t = RegistryTree::generate(crate::world::bin(), 0, 0, 1, |_| String::new());
    let (old, ten_days, hour) = (ago(400 * DAY), ago(10 * DAY), ago(3600));
    t.registry.add_dated(
        "acme",
        "net",
        "aws",
        &[("1.0.0", &old), ("1.1.0", &ten_days), ("1.2.0", &hour)],
    );
    t.write(
        "dev/net/main.tf",
        &format!("module \"net\" {{\n  source  = \"{source}\"\n  version = \"1.0.0\"\n}}\n"),
    );
    t
}

fn target(spec: &Value, id: &str) -> Option<String> {
    find_dependency(spec, id).map(|d| d["TargetVersion"].as_str().unwrap().to_string())
}

fn notes(spec: &Value) -> Vec<String> {
    spec["Notes"]
        .as_array()
        .map(|n| n.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Requests for the per-version documents of `acme/net/aws`.
fn version_requests(t: &RegistryTree) -> Vec<String> {
    t.registry
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/v1/modules/acme/net/aws/") && !p.ends_with("/versions"))
        .collect()
}

#[test]
fn registry_versions_younger_than_the_cooldown_are_not_candidates() {
    let t = dated_tree(MODULE);
    let run = t.report(&[]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(target(&t.spec_file(), MODULE).as_deref(), Some("1.2.0"));
    assert!(
        version_requests(&t).is_empty(),
        "no dates without a cooldown"
    );

    let run = t.report(&[("minimum_release_age", "3d")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let spec = t.spec_file();
    assert_eq!(target(&spec, MODULE).as_deref(), Some("1.1.0"));
    let note = &notes(&spec)[0];
    assert!(
        note.contains("1.2.0 published less than 3d ago") && note.contains("acme/net/aws"),
        "{note}"
    );
    assert!(!note.contains("1.1.0"), "{note}");
    assert!(run.stdout.contains("::notice::"), "{}", run.stdout);
    assert!(
        run.summary.contains("minimum_release_age"),
        "{}",
        run.summary
    );
    let compact: Value = serde_json::from_str(run.output("spec")).unwrap();
    assert_eq!(compact["Dependencies"][0]["TargetVersion"], "1.1.0");
    // Only the candidates' dates are asked for, not the version in use.
    let mut asked = version_requests(&t);
    asked.sort();
    assert_eq!(
        asked,
        [
            "/v1/modules/acme/net/aws/1.1.0",
            "/v1/modules/acme/net/aws/1.2.0"
        ]
    );

    let run = t.report(&[("minimum_release_age", "2w")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(target(&t.spec_file(), MODULE), None, "nothing old enough");
    assert_eq!(run.output("dependencies"), "[]");
}

#[test]
fn versions_without_a_date_stay_candidates_with_a_note() {
    let t = dated_tree(MODULE);
    t.registry.add_module("acme", "net", "aws", &["1.3.0"]);
    let run = t.report(&[("minimum_release_age", "3d")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let spec = t.spec_file();
    assert_eq!(target(&spec, MODULE).as_deref(), Some("1.3.0"));
    let all = notes(&spec).join("\n");
    assert!(
        all.contains("minimum_release_age 3d not applied") && all.contains("has no published_at"),
        "{all}"
    );
}

#[test]
fn the_environments_file_key_applies_and_a_bad_value_names_the_file() {
    let t = dated_tree(MODULE);
    t.write(
        ".github/patcher.yml",
        "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n    minimum_release_age: 3d\n",
    );
    let run = t.report(&[("include_dirs", "")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(target(&t.spec_file(), MODULE).as_deref(), Some("1.1.0"));
    // The input wins over the file.
    let run = t.report(&[("include_dirs", ""), ("minimum_release_age", "0")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(target(&t.spec_file(), MODULE).as_deref(), Some("1.2.0"));

    t.write(
        ".github/patcher.yml",
        "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n    minimum_release_age: soon\n",
    );
    let run = t.report(&[("include_dirs", "")]);
    assert!(!run.success);
    let error = run.line("::error::");
    assert!(
        error.contains(".github/patcher.yml") && error.contains("`soon` is not a duration"),
        "{error}"
    );
    std::fs::remove_file(t.workspace.join(".github/patcher.yml")).unwrap();
    let run = t.report(&[("minimum_release_age", "3 days")]);
    assert!(!run.success);
    assert!(run.line("::error::").contains("`3 days`"), "{}", run.stdout);
}

#[test]
fn a_promotion_moves_to_its_exact_version_whatever_its_age() {
    let t = dated_tree(MODULE);
    let run = t
        .step()
        .input("patcher_command", "update")
        .input("dependency", MODULE)
        .input("version", "1.2.0")
        .input("minimum_release_age", "1w")
        .input("dry_run", "true")
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("updated_files"), r#"["dev/net/main.tf"]"#);
    assert!(
        run.stdout.contains("+  version = \"1.2.0\""),
        "{}",
        run.stdout
    );
    let run = t.report(&[
        ("dependency", MODULE),
        ("version", "1.2.0"),
        ("minimum_release_age", "1w"),
    ]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert_eq!(target(&t.spec_file(), MODULE).as_deref(), Some("1.2.0"));
    assert!(version_requests(&t).is_empty(), "a promotion asks no dates");
}

#[test]
fn an_update_planned_afresh_keeps_the_cooldown() {
    let t = dated_tree(MODULE);
    let run = t
        .step()
        .input("patcher_command", "update")
        .input("dependency", MODULE)
        .input("minimum_release_age", "3d")
        .input("dry_run", "true")
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("+  version = \"1.1.0\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("::notice::") && run.stdout.contains("1.2.0 published less than 3d"),
        "{}",
        run.stdout
    );
}

#[test]
fn opentofu_dates_come_from_its_documentation_api() {
    let t = dated_tree("registry.opentofu.org/acme/net/aws");
    let url = t.registry.url();
    let run = t
        .step()
        .env(
            "PATCHER_REGISTRY_BASE_URLS",
            &format!("registry.opentofu.org={url},api.opentofu.org={url}"),
        )
        .input("patcher_command", "report")
        .input("spec_file", "patcher-spec.json")
        .input("minimum_release_age", "3d")
        .run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let id = "registry.opentofu.org/acme/net/aws";
    assert_eq!(target(&t.spec_file(), id).as_deref(), Some("1.1.0"));
    let paths: Vec<String> = t.registry.requests().into_iter().map(|r| r.path).collect();
    let docs = "/registry/docs/modules/acme/net/aws/index.json";
    assert_eq!(paths.iter().filter(|p| *p == docs).count(), 1, "{paths:?}");
    assert!(version_requests(&t).is_empty(), "{paths:?}");
}

/// A github.com module repository (reached through insteadOf) whose tags carry dates, attached
/// to the GitHub server so its GraphQL API lists them.
struct GitTree(world::World);

fn git_tree() -> GitTree {
    let mut b = world::World::builder(TOKEN);
    let repo = ModuleRepo::create(b.github(), "acme", "terraform-aws-sqs");
    repo.release("v1.0.0");
    repo.release_at("v1.1.0", &format!("@{} +0200", now() - 10 * DAY), true);
    repo.release_at("v1.2.0", &format!("@{} +0000", now() - 3600), false);
    let unit = |sub: &str| {
        format!(
            "module \"{sub}\" {{\n  source = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/{sub}?ref=v1.0.0\"\n}}\n"
        )
    };
    b.file("dev/sqs/main.tf", unit("sqs") + &unit("dlq"))
        .plain();
    let w = b.build();
    w.server
        .attach_origin("acme/terraform-aws-sqs", repo.path());
    w.server.set_graphql_page(1);
    GitTree(w)
}

impl GitTree {
    fn report(&self, token: Option<&str>, args: &[&str]) -> (Run, Value) {
        let w = &self.0;
        let spec = w.root.path().join("spec.json");
        let mut cmd = w.command_in(w.root.path(), &["report"]);
        cmd.arg(w.dir())
            .arg("--output-spec")
            .arg(&spec)
            .args(["--github-api-url", w.server.url()])
            .args(args);
        if let Some(token) = token {
            cmd.env("GITHUB_TOKEN", token);
        }
        let out = Run::of(cmd.output().unwrap());
        let text = std::fs::read_to_string(&spec).unwrap_or_else(|_| "null".into());
        (out, serde_json::from_str(&text).unwrap())
    }

    fn graphql_requests(&self) -> Vec<String> {
        self.0
            .server
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/graphql")
            .map(|r| r.body)
            .collect()
    }
}

#[test]
fn tag_dates_come_from_one_graphql_listing_per_repository() {
    let t = git_tree();
    let (out, spec) = t.report(Some(TOKEN), &["--minimum-release-age", "3d"]);
    let stderr = &out.stderr;
    assert!(out.success, "{stderr}");
    for id in ["acme/terraform-aws-sqs/sqs", "acme/terraform-aws-sqs/dlq"] {
        assert_eq!(target(&spec, id).as_deref(), Some("v1.1.0"), "{spec}");
    }
    assert!(
        stderr.contains("v1.2.0 published less than 3d ago"),
        "{stderr}"
    );
    // Three tags, one per page: one listing of the repository, three pages, for both modules.
    let bodies = t.graphql_requests();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    for body in &bodies {
        let request: Value = serde_json::from_str(body).unwrap();
        assert_eq!(request["variables"]["owner"], "acme");
        assert_eq!(request["variables"]["name"], "terraform-aws-sqs");
    }
    t.0.assert_no_violations();

    let (out, spec) = t.report(Some(TOKEN), &[]);
    assert!(out.success);
    assert_eq!(
        target(&spec, "acme/terraform-aws-sqs/sqs").as_deref(),
        Some("v1.2.0")
    );
    assert_eq!(t.graphql_requests().len(), 3, "no dates without a cooldown");
}

#[test]
fn without_a_token_tag_dates_cannot_be_had_and_the_cooldown_does_not_apply() {
    let t = git_tree();
    let (out, spec) = t.report(None, &["--minimum-release-age", "3d"]);
    let stderr = &out.stderr;
    assert!(out.success, "{stderr}");
    assert_eq!(
        target(&spec, "acme/terraform-aws-sqs/sqs").as_deref(),
        Some("v1.2.0")
    );
    let all = notes(&spec).join("\n");
    assert!(
        all.contains("minimum_release_age 3d not applied") && all.contains("need a GitHub token"),
        "{all}"
    );
    assert!(stderr.contains("not applied"), "{stderr}");
    assert!(t.graphql_requests().is_empty());
}
