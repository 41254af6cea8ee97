//! Every version form through the real binary: monorepo tag families, moving tags, commit pins
//! with and without their `# v1.2.3` comment, tags that are no versions, registry constraints
//! (bounded ranges, constraints nothing satisfies), `.tofu` files and the default registry,
//! git hosts besides github.com and the spellings of one repository, and a report whose
//! listings all fail. Module repositories are bare repositories with real (annotated) tags,
//! reached through `insteadOf`; registries are servers on 127.0.0.1.

use crate::world::{self, Run};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use testkit::git::{file_url, ModuleRepo, WorkingRepo};
use testkit::registry::Registry;
use testkit::runner::Step;
use testkit::spec::{dependency, dependency_ids};

/// Commits of the `acme/pinned` repository.
struct Pins {
    v1_0: String,
    v1_1: String,
    v2_0: String,
    untagged: String,
}

/// The shared world with a plain tree, and two registries: terraform's and opentofu's.
struct World {
    world: world::World,
    terraform: Registry,
    opentofu: Registry,
    pins: Pins,
}

impl std::ops::Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.world
    }
}

fn families() -> String {
    let module = |name: &str, path: &str, reference: &str| {
        format!(
            "module \"{name}\" {{\n  source = \"git::https://github.com/acme/infra-modules.git//{path}?ref={reference}\"\n}}\n\n"
        )
    };
    [
        module("vpc", "vpc", "vpc-v1.2.3"),
        module("eks", "eks", "eks-v1.0.0"),
        module("slashed", "a", "modules/vpc/1.2.3"),
        module("underscore", "b", "vpc_1.2.3"),
        module("nested", "c", "vpc/v1.2.3"),
        module("latest", "d", "latest"),
        module("branch", "e", "main"),
    ]
    .concat()
}

fn pins_tf(p: &Pins) -> String {
    format!(
        "module \"commented\" {{\n  source = \"git::https://github.com/acme/pinned.git//net?ref={}\" # v1.0.0\n}}\n\n\
         module \"bare\" {{\n  source = \"git::https://github.com/acme/pinned.git//net?ref={}\"\n}}\n\n\
         module \"untagged\" {{\n  source = \"git::https://github.com/acme/pinned.git//db?ref={}\" # tag=v9.9.9\n}}\n",
        p.v1_0, p.v1_0, p.untagged
    )
}

const REGISTRY_TF: &str = "module \"ranged\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \">= 5.0, < 6.0\"\n}\n\nmodule \"nothing\" {\n  source  = \"terraform-aws-modules/iam/aws\"\n  version = \"~> 5.1.0\"\n}\n";

const TOFU: &str = "module \"db\" {\n  source  = \"acme/db/aws\"\n  version = \"1.0.0\"\n}\n";

const GHE: &str = "module \"https\" {\n  source = \"git::https://ghe.example.com/acme/infra-modules.git//vpc?ref=v5.0.0\"\n}\n\nmodule \"scp\" {\n  source = \"git::git@ghe.example.com:acme/infra-modules.git//vpc?ref=v5.0.0\"\n}\n\nmodule \"ssh\" {\n  source = \"git::ssh://git@ghe.example.com/acme/infra-modules//vpc?ref=v5.0.0\"\n}\n";

const MOVING: &str =
    "terraform {\n  source = \"git::git@github.com:acme/moving.git//modules/app?ref=v1\"\n}\n";

fn world() -> World {
    let mut b = world::World::builder("ghs_versionsNeverSent");
    let github = b.github().to_path_buf();
    let monorepo = ModuleRepo::create(&github, "acme", "infra-modules");
    for tag in [
        "vpc-v1.2.3",
        "eks-v1.0.0",
        "vpc-v1.3.0",
        "eks-v1.1.0",
        "vpc-v2.0.0",
        "modules/vpc/1.2.3",
        "modules/vpc/1.4.0",
        "vpc_1.2.3",
        "vpc_1.2.4",
        "vpc/v1.2.3",
        "vpc/v1.5.0",
        "latest",
    ] {
        monorepo.release(tag);
    }
    let moving = ModuleRepo::create(&github, "acme", "moving");
    moving.release("v1.0.0");
    let v1 = moving.release("v1.4.0");
    moving.tag("v1", &v1);
    let v2 = moving.release("v2.0.0");
    moving.tag("v2", &v2);
    let pinned = ModuleRepo::create(&github, "acme", "pinned");
    let pins = Pins {
        v1_0: pinned.release("v1.0.0"),
        v1_1: pinned.release("v1.1.0"),
        v2_0: pinned.release("v2.0.0"),
        untagged: pinned.commit(&[("x.tf", "# work in progress\n")], "Unreleased"),
    };
    b.files(&[
        ("dev/families/main.tf", families()),
        ("dev/pins/main.tf", pins_tf(&pins)),
        ("dev/registry/main.tf", REGISTRY_TF.to_string()),
        ("dev/tofu/main.tofu", TOFU.to_string()),
        ("dev/otf/main.tf", TOFU.to_string()),
        ("dev/ghe/main.tf", GHE.to_string()),
        ("dev/moving/terragrunt.hcl", MOVING.to_string()),
    ])
    .plain();
    let world = b.build();
    let ghe = world.root.path().join("ghe");
    let enterprise = ModuleRepo::create(&ghe, "acme", "infra-modules");
    enterprise.release("v5.0.0");
    enterprise.release("v5.1.0");
    let gitconfig = &world.gitconfig;
    let mut text = std::fs::read_to_string(gitconfig.path()).unwrap();
    text.push_str(&format!(
        "[url \"{}/\"]\n\tinsteadOf = https://ghe.example.com/\n\tinsteadOf = git@ghe.example.com:\n\tinsteadOf = ssh://git@ghe.example.com/\n",
        file_url(&ghe).trim_end_matches('/')
    ));
    std::fs::write(gitconfig.path(), text).unwrap();
    let terraform = Registry::start();
    terraform.add_module(
        "terraform-aws-modules",
        "vpc",
        "aws",
        &["5.0.0", "5.4.0", "6.0.0", "6.1.0"],
    );
    terraform.add_module(
        "terraform-aws-modules",
        "iam",
        "aws",
        &["5.0.0", "5.0.3", "6.0.0", "6.1.0"],
    );
    let opentofu = Registry::start();
    opentofu.add_module("acme", "db", "aws", &["1.0.0", "1.1.0"]);
    World {
        world,
        terraform,
        opentofu,
        pins,
    }
}

impl World {
    fn base_urls(&self) -> String {
        format!(
            "registry.terraform.io={},registry.opentofu.org={}",
            self.terraform.url(),
            self.opentofu.url()
        )
    }

    /// `patcher <verb> <working dir> …` run in `cwd`, without a token, with both registries.
    fn patcher(&self, cwd: &Path, verb: &str, working_dir: &str, args: &[&str]) -> Run {
        let output = self
            .command_in(cwd, &[verb, working_dir])
            .args(args)
            .env("PATCHER_REGISTRY_BASE_URLS", self.base_urls())
            .output()
            .unwrap();
        Run::of(output)
    }

    /// The JSON report, the same from a relative and an absolute working dir.
    fn spec(&self, args: &[&str]) -> Value {
        let args = [args, &["--output", "json"]].concat();
        let absolute = self.dir().display().to_string();
        let from_root = self.patcher(self.root.path(), "report", &absolute, &args);
        let relative = self.patcher(&self.dir().join("dev"), "report", "..", &args);
        for out in [&from_root, &relative] {
            assert!(out.success, "{}", out.stderr);
        }
        assert_eq!(from_root.stdout, relative.stdout);
        from_root.json()
    }

    fn update(&self, args: &[&str]) -> Run {
        let dir = self.dir().display().to_string();
        self.patcher(self.root.path(), "update", &dir, args).ok()
    }
}

/// The reason `Skipped` gives for the usage in `file` at `line`.
fn skip_reason<'a>(spec: &'a Value, file: &str, line: u64) -> &'a str {
    spec["Skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["File"] == file && s["Line"] == line)
        .and_then(|s| s["Reason"].as_str())
        .unwrap_or_else(|| panic!("{file}:{line} not skipped in {:#}", spec["Skipped"]))
}

/// `terraform fmt -check` of a file, HashiCorp's parser as the reference; skipped with a notice
/// where terraform is not installed.
fn terraform_accepts(path: &Path) {
    match Command::new("terraform")
        .args(["fmt", "-check", "-list=false"])
        .arg(path)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "terraform fmt -check {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!(
            "notice: terraform not found, {} not checked",
            path.display()
        ),
    }
}

#[test]
fn only_tags_of_the_current_family_are_candidates() {
    let w = world();
    let spec = w.spec(&[]);
    for (id, target) in [
        ("acme/infra-modules/vpc", "vpc-v1.3.0"),
        ("acme/infra-modules/eks", "eks-v1.1.0"),
        ("acme/infra-modules/a", "modules/vpc/1.4.0"),
        ("acme/infra-modules/b", "vpc_1.2.4"),
        ("acme/infra-modules/c", "vpc/v1.5.0"),
    ] {
        assert_eq!(dependency(&spec, id)["TargetVersion"], target, "{id}");
    }
    let vpc = dependency(&spec, "acme/infra-modules/vpc");
    assert_eq!(vpc["TargetBreakingVersion"], "vpc-v2.0.0");
    assert_eq!(
        vpc["ReleaseNotesURL"], "https://github.com/acme/infra-modules/releases/tag/vpc-v1.3.0",
        "the target's release, not the next breaking one"
    );
    let families = "dev/families/main.tf";
    assert_eq!(
        skip_reason(&spec, families, 22),
        "tag `latest` of https://github.com/acme/infra-modules.git is not a version"
    );
    assert!(
        skip_reason(&spec, families, 26).starts_with("`main` is not a tag of"),
        "{}",
        skip_reason(&spec, families, 26)
    );
}

#[test]
fn a_moving_major_tag_floats_under_next_safe_and_moves_under_next_breaking() {
    let w = world();
    let safe = w.spec(&[]);
    assert!(safe["Dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["ID"] != "acme/moving/app"));
    assert_eq!(
        skip_reason(&safe, "dev/moving/terragrunt.hcl", 2),
        "`v1` is a moving tag that follows the 1.x releases by itself; next-breaking moves it to `v2`"
    );
    let table = w.patcher(w.root.path(), "report", &w.dir().display().to_string(), &[]);
    let table = table.stdout;
    let row = table
        .lines()
        .find(|l| l.starts_with("acme/moving/app"))
        .unwrap();
    assert!(row.contains("skipped: `v1` is a moving tag"), "{row}");
    assert!(!row.contains("up to date"), "{row}");

    let breaking = w.spec(&["--update-strategy", "next-breaking"]);
    assert_eq!(
        dependency(&breaking, "acme/moving/app")["TargetVersion"],
        "v2"
    );
    w.update(&[
        "--dependency",
        "acme/moving/app",
        "--update-strategy",
        "next-breaking",
    ]);
    assert_eq!(
        w.read("dev/moving/terragrunt.hcl"),
        MOVING.replace("?ref=v1", "?ref=v2")
    );
}

#[test]
fn commit_pins_move_to_the_target_tags_commit_with_their_comment() {
    let w = world();
    let spec = w.spec(&[]);
    let pinned = dependency(&spec, "acme/pinned/net");
    assert_eq!(pinned["TargetVersion"], "v1.1.0");
    assert_eq!(pinned["TargetBreakingVersion"], "v2.0.0");
    assert_eq!(
        skip_reason(&spec, "dev/pins/main.tf", 10),
        format!(
            "commit {} is not tagged with a version in https://github.com/acme/pinned.git",
            &w.pins.untagged[..12]
        )
    );
    w.update(&["--dependency", "acme/pinned/net"]);
    let p = &w.pins;
    let expected = pins_tf(p)
        .replacen(
            &format!("{}\" # v1.0.0", p.v1_0),
            &format!("{}\" # v1.1.0", p.v1_1),
            1,
        )
        .replacen(
            &format!("ref={}\"\n", p.v1_0),
            &format!("ref={}\"\n", p.v1_1),
            1,
        );
    assert_eq!(w.read("dev/pins/main.tf"), expected);
    terraform_accepts(&w.dir().join("dev/pins/main.tf"));

    // Promotion: the next environment moves to exactly the tag that merged, as its commit.
    w.update(&["--dependency", "acme/pinned/net", "--version", "v2.0.0"]);
    let text = w.read("dev/pins/main.tf");
    assert_eq!(text.matches(&p.v2_0).count(), 2, "{text}");
    assert!(text.contains("# v2.0.0\n"), "{text}");
    assert!(text.contains(&p.untagged), "the untagged pin is left alone");
}

#[test]
fn registry_ranges_tofu_files_and_the_default_registry() {
    let w = world();
    let spec = w.spec(&[]);
    assert_eq!(
        skip_reason(&spec, "dev/registry/main.tf", 8),
        "no published version satisfies `~> 5.1.0` (latest is 6.1.0)"
    );
    let tofu = dependency(&spec, "registry.opentofu.org/acme/db/aws");
    assert_eq!(tofu["TargetVersion"], "1.1.0");
    assert_eq!(
        tofu["Usages"].as_array().unwrap().len(),
        1,
        "only the .tofu file"
    );
    let failed = spec["Errors"].as_array().unwrap();
    assert!(
        failed.iter().any(|e| e["DependencyID"] == "acme/db/aws"),
        "the .tf file asks registry.terraform.io: {failed:?}"
    );

    let chosen = w.spec(&["--default-registry", "registry.opentofu.org"]);
    let db = dependency(&chosen, "registry.opentofu.org/acme/db/aws");
    assert_eq!(db["Usages"].as_array().unwrap().len(), 2);
    assert!(
        chosen["Errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["DependencyID"] == "registry.opentofu.org/terraform-aws-modules/vpc/aws"),
        "{:#}",
        chosen["Errors"]
    );
    let bad = w.patcher(
        w.root.path(),
        "report",
        &w.dir().display().to_string(),
        &["--default-registry", "not a host"],
    );
    assert!(!bad.success);
    assert!(
        bad.stderr
            .contains("default_registry `not a host` is not a registry host name"),
        "{}",
        bad.stderr
    );

    let breaking = w.spec(&["--update-strategy", "next-breaking"]);
    assert_eq!(
        dependency(&breaking, "terraform-aws-modules/vpc/aws")["TargetVersion"],
        "6.0.0"
    );
    w.update(&[
        "--dependency",
        "terraform-aws-modules/vpc/aws",
        "--update-strategy",
        "next-breaking",
    ]);
    assert_eq!(
        w.read("dev/registry/main.tf"),
        REGISTRY_TF.replace(">= 5.0, < 6.0", ">= 6.0, < 7.0")
    );
    terraform_accepts(&w.dir().join("dev/registry/main.tf"));
}

#[test]
fn other_hosts_are_named_in_ids_and_spellings_share_one_dependency() {
    let w = world();
    let spec = w.spec(&[]);
    let ghe = dependency(&spec, "ghe.example.com/acme/infra-modules/vpc");
    assert_eq!(ghe["Org"], "acme");
    assert_eq!(ghe["Usages"].as_array().unwrap().len(), 3, "{ghe:#}");
    assert_eq!(ghe["TargetVersion"], "v5.1.0");
    assert_eq!(ghe["ReleaseNotesURL"], Value::Null);
    assert_eq!(
        dependency(&spec, "acme/infra-modules/vpc")["TargetVersion"],
        "vpc-v1.3.0",
        "github.com keeps its ID and its own listing"
    );
}

#[test]
fn report_fails_when_no_listing_succeeds_and_still_writes_the_spec() {
    let w = world();
    let dead = "http://127.0.0.1:9";
    let spec_file = w.root.path().join("spec.json");
    let out = w
        .command_in(w.root.path(), &["report"])
        .arg(w.dir().join("dev/registry"))
        .arg("--output-spec")
        .arg(&spec_file)
        .env(
            "PATCHER_REGISTRY_BASE_URLS",
            format!("registry.terraform.io={dead}"),
        )
        .output()
        .unwrap();
    let out = Run::of(out);
    assert!(!out.success);
    let text = &out.stderr;
    assert!(
        text.contains("no version listing succeeded (2 of 2 dependencies failed"),
        "{text}"
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&spec_file).unwrap()).unwrap();
    assert_eq!(written["Errors"].as_array().unwrap().len(), 2);

    // Some listings failing is a warning, not a failure.
    let partial = w.patcher(w.root.path(), "report", &w.dir().display().to_string(), &[]);
    assert!(partial.success, "{}", partial.stderr);
    assert!(
        partial.stderr.contains("warning: acme/db/aws"),
        "{}",
        partial.stderr
    );
}

#[test]
fn the_action_reads_the_same_forms_and_fails_when_no_listing_succeeds() {
    let w = world();
    let files: Vec<(String, String)> = ["dev/otf/main.tf", "dev/pins/main.tf"]
        .iter()
        .map(|path| (path.to_string(), w.read(path)))
        .collect();
    let repo = WorkingRepo::create(&w.root.path().join("action"), &files);
    let step = |base_urls: &str| {
        Step::new(world::bin(), &repo.dir)
            .envs(w.gitconfig.env())
            .env("PATCHER_REGISTRY_BASE_URLS", base_urls)
            .input("patcher_command", "report")
            .input("working_dir", "./")
            .input("default_registry", "registry.opentofu.org")
            .input("spec_file", "patcher-spec.json")
    };
    let run = step(&w.base_urls()).run();
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let spec: Value = serde_json::from_str(run.output("spec")).unwrap();
    let ids = dependency_ids(&spec);
    assert_eq!(
        ids,
        ["acme/pinned/net", "registry.opentofu.org/acme/db/aws"]
    );
    let full: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.dir.join("patcher-spec.json")).unwrap())
            .unwrap();
    assert!(full["Skipped"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["Reason"].as_str().unwrap().starts_with("commit ")));

    let offline = Step::new(world::bin(), &repo.dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_ALLOW_PROTOCOL", "file")
        .env(
            "PATCHER_REGISTRY_BASE_URLS",
            "registry.opentofu.org=http://127.0.0.1:9",
        )
        .input("patcher_command", "report")
        .input("working_dir", "./")
        .input("default_registry", "registry.opentofu.org")
        .input("spec_file", "offline-spec.json")
        .run();
    assert!(!offline.success, "{}", offline.stdout);
    assert!(
        offline
            .line("::error")
            .contains("no version listing succeeded"),
        "{}",
        offline.stdout
    );
    assert!(
        repo.dir.join("offline-spec.json").exists(),
        "the spec is still written"
    );
    assert!(
        offline.summary.contains("patcher report"),
        "{}",
        offline.summary
    );
}
