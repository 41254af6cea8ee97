//! `patcher report` from the command line, over a tree with every source form: module sources
//! keep their real addresses and reach bare git repositories through `insteadOf`, and registry
//! modules reach the registry server on 127.0.0.1 through `PATCHER_REGISTRY_BASE_URLS`.

use crate::world::{self, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use testkit::registry::Registry;
use testkit::spec::dependency;

crate::world::module_world! {
    /// The shared world: `files` as a plain folder, two module repositories and the registry.
}

const DEV: &[(&str, &str)] = &[
    (
        "dev/app/terragrunt.hcl",
        "locals {\n  base_source_url = \"git::git@github.com:acme/terraform-aws-messaging.git//modules/sqs\"\n}\nterraform {\n  source = \"${local.base_source_url}?ref=v0.61.0\"\n}\n",
    ),
    (
        "dev/net/main.tf",
        "module \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"~> 5.1\"\n}\n\nmodule \"sg\" {\n  source = \"github.com/acme/terraform-aws-security//modules/sg?ref=v1.0.0&depth=1\"\n}\n\nmodule \"dns\" {\n  source = \"tfr:///acme/dns/aws?version=2.0.0\"\n}\n\nmodule \"local\" {\n  source = \"./modules/local\"\n}\n",
    ),
    (
        "gruntwork-dev-account1/sqs/terragrunt.hcl",
        "terraform {\n  source = \"git::https://github.com/acme/terraform-aws-messaging.git//modules/sqs?ref=v0.65.6\"\n}\n",
    ),
    (
        "dev2/ssh/terragrunt.hcl",
        "terraform {\n  source = \"git::ssh://git@github.com/acme/terraform-aws-security.git//modules/sg?ref=v1.0.0\"\n}\n",
    ),
    (
        "stage/app/terragrunt.hcl",
        "terraform {\n  source = \"git::https://github.com/acme/terraform-aws-messaging.git//modules/sqs?ref=v0.50.0\"\n}\n",
    ),
];

fn world(files: &[(&str, &str)]) -> World {
    let mut b = world::World::builder("ghs_reportNeverSent");
    b.module(
        "terraform-aws-messaging",
        &[
            "v0.61.0", "v0.61.1", "v0.62.0", "v0.65.6", "v0.65.9", "latest", "v0.66.0",
        ],
    );
    b.module("terraform-aws-security", &["v1.0.0", "v1.3.0", "v2.0.0"]);
    let registry = Registry::start();
    registry.add_module(
        "terraform-aws-modules",
        "vpc",
        "aws",
        &["5.1.0", "5.4.0", "6.0.0"],
    );
    registry.add_module("acme", "dns", "aws", &["2.0.0", "2.1.0"]);
    b.registry(registry).files(files).plain();
    World(b.build())
}

impl World {
    fn report(&self, args: &[&str]) -> Run {
        self.report_from(self.root.path(), self.dir(), args)
    }

    /// `patcher report WORKING_DIR …` run in the folder `cwd`.
    fn report_from(&self, cwd: &Path, working_dir: &Path, args: &[&str]) -> Run {
        let output = self
            .command_in(cwd, &["report"])
            .arg(working_dir)
            .args(args)
            .output()
            .unwrap();
        Run::of(output)
    }

    /// The JSON report, identical from every spelling of the working dir.
    fn spec(&self, args: &[&str]) -> (Value, String) {
        let args = [args, &["--output", "json"]].concat();
        let mut first: Option<String> = None;
        for (cwd, working_dir) in self.spellings() {
            let out = self.report_from(&cwd, Path::new(&working_dir), &args);
            let text = out.ok().stdout;
            match &first {
                Some(expected) => assert_eq!(&text, expected, "from {cwd:?} as {working_dir}"),
                None => first = Some(text),
            }
        }
        let text = first.unwrap();
        (serde_json::from_str(&text).unwrap(), text)
    }

    /// (current dir, working dir argument): absolute, `.`, `./`, `sub/..` and `../name`.
    fn spellings(&self) -> Vec<(PathBuf, String)> {
        let infra = self.dir().to_path_buf();
        let sub = std::fs::read_dir(&infra)
            .unwrap()
            .flatten()
            .find(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .unwrap();
        [
            (self.root.path().to_path_buf(), infra.display().to_string()),
            (infra.clone(), ".".into()),
            (infra.clone(), "./".into()),
            (infra.clone(), format!("{sub}/..")),
            (infra.join(&sub), "../../infra".into()),
        ]
        .into()
    }
}

#[test]
fn dev_glob_selects_dev_folders_and_plans_per_usage() {
    let w = world(DEV);
    let (spec, _) = w.spec(&["--include-dirs", "{*dev*}/**"]);
    assert_eq!(spec["IncludeDirPattern"], "{*dev*}/**");
    let sqs = dependency(&spec, "acme/terraform-aws-messaging/sqs");
    assert_eq!(sqs["Org"], "acme");
    assert_eq!(sqs["Repo"], "terraform-aws-messaging");
    assert_eq!(sqs["Module"], "sqs");
    let usages = sqs["Usages"].as_array().unwrap();
    // stage/ is not part of dev; dev/, dev2/ and gruntwork-dev-account1/ are.
    assert_eq!(usages.len(), 2, "{sqs:#}");
    let target =
        |file: &str| usages.iter().find(|u| u["File"] == file).unwrap()["TargetVersion"].clone();
    // 0.62.0 breaks 0.61.x: next-safe stops at 0.61.1. 0.65.6 moves within 0.65.
    assert_eq!(target("dev/app/terragrunt.hcl"), "v0.61.1");
    assert_eq!(
        target("gruntwork-dev-account1/sqs/terragrunt.hcl"),
        "v0.65.9"
    );
    let vpc = dependency(&spec, "terraform-aws-modules/vpc/aws");
    assert_eq!(vpc["Constraints"], "~> 5.1");
    assert_eq!(vpc["TargetSafeVersion"], "5.4.0");
    assert_eq!(vpc["Usages"][0]["TargetVersion"], "5.4.0");
    let sg = dependency(&spec, "acme/terraform-aws-security/sg");
    assert_eq!(
        sg["Usages"].as_array().unwrap().len(),
        2,
        "https and ssh usages group"
    );
    assert_eq!(sg["TargetSafeVersion"], "v1.3.0");
    assert_eq!(sg["TargetBreakingVersion"], "v2.0.0");
    dependency(&spec, "acme/dns/aws");
    let skipped = spec["Skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["Source"] == "./modules/local"),
        "{skipped:?}"
    );
}

#[test]
fn next_breaking_targets_the_break_and_the_spec_is_deterministic() {
    let w = world(DEV);
    let (spec, first) = w.spec(&[
        "--include-dirs",
        "{*dev*}/**",
        "--update-strategy",
        "next-breaking",
    ]);
    let sqs = dependency(&spec, "acme/terraform-aws-messaging/sqs");
    let app = sqs["Usages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["File"] == "dev/app/terragrunt.hcl")
        .unwrap();
    assert_eq!(app["TargetVersion"], "v0.62.0");
    assert_eq!(app["Breaking"], true);
    assert!(sqs["ReleaseNotesURL"]
        .as_str()
        .unwrap()
        .starts_with("https://github.com/acme/terraform-aws-messaging/releases/tag/"));
    let (_, second) = w.spec(&[
        "--include-dirs",
        "{*dev*}/**",
        "--update-strategy",
        "next-breaking",
    ]);
    assert_eq!(first, second);
}

#[test]
fn output_spec_file_and_table() {
    let w = world(DEV);
    let spec_file = w.root.path().join("spec.json");
    let out = w.report(&[
        "--include-dirs",
        "{*dev*}/**",
        "--output-spec",
        spec_file.to_str().unwrap(),
    ]);
    let table = out.ok().stdout;
    let row = table
        .lines()
        .find(|l| l.starts_with("acme/terraform-aws-security/sg"))
        .unwrap();
    assert!(row.contains("v1.0.0") && row.contains("v1.3.0"), "{table}");
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(&spec_file).unwrap()).unwrap();
    assert!(spec["Dependencies"].as_array().unwrap().len() >= 4);
}

#[test]
fn registry_500_then_200_is_retried() {
    let w = world(DEV);
    w.registry().unwrap().fail_next(
        &Registry::versions_path("terraform-aws-modules", "vpc", "aws"),
        2,
        500,
        None,
    );
    let (spec, _) = w.spec(&["--include-dirs", "{*dev*}/**"]);
    assert_eq!(
        dependency(&spec, "terraform-aws-modules/vpc/aws")["TargetSafeVersion"],
        "5.4.0"
    );
}

#[test]
fn a_missing_repository_fails_only_its_dependency() {
    let mut files = DEV.to_vec();
    files.push((
        "dev/gone/terragrunt.hcl",
        "terraform {\n  source = \"git::https://github.com/acme/does-not-exist.git//x?ref=v1.0.0\"\n}\n",
    ));
    let w = world(&files);
    let out = w
        .report(&["--include-dirs", "{*dev*}/**", "--output", "json"])
        .ok();
    let err = &out.stderr;
    assert!(err.contains("acme/does-not-exist/x"), "{err}");
    let spec: Value = out.json();
    dependency(&spec, "acme/terraform-aws-messaging/sqs");
    let errors = spec["Errors"].to_string();
    assert!(errors.contains("acme/does-not-exist/x"), "{errors}");
}

#[test]
fn a_syntax_error_is_reported_with_line_and_column_and_the_rest_is_scanned() {
    let mut files = DEV.to_vec();
    files.push((
        "dev/broken/main.tf",
        "module \"x\" {\n  source = \"a\"\n  version = \n}\n",
    ));
    let w = world(&files);
    let out = w
        .report(&["--include-dirs", "{*dev*}/**", "--output", "json"])
        .ok();
    let err = &out.stderr;
    let line = err
        .lines()
        .find(|l| l.contains("dev/broken/main.tf"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains("dev/broken/main.tf:3:") || line.contains("dev/broken/main.tf:4:"),
        "{line}"
    );
    let spec: Value = out.json();
    dependency(&spec, "acme/terraform-aws-messaging/sqs");
}

#[test]
fn bad_arguments_fail_with_a_clear_message() {
    let w = world(DEV);
    let out = w.report(&["--include-dirs", "{dev"]);
    assert!(!out.success);
    assert!(out.stderr.contains("{dev"), "{}", out.stderr);
    let out = w.report(&["--update-strategy", "fastest"]);
    assert!(!out.success);
    assert!(out.stderr.contains("fastest"));
}

#[test]
fn dependency_filter_and_exclude() {
    let w = world(DEV);
    let (spec, _) = w.spec(&[
        "--include-dirs",
        "{*dev*}/**",
        "--exclude-dirs",
        "gruntwork-*/**",
        "--dependency",
        "acme/terraform-aws-messaging/sqs",
    ]);
    let deps = spec["Dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0]["Usages"].as_array().unwrap().len(), 1);
    assert!(w.dir().exists());
}
