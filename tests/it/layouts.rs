//! A live-infrastructure tree modelled on public layouts (Gruntwork's live example with
//! `root.hcl` and `_envcommon`, a `common.hcl` read with `read_terragrunt_config`, Terragrunt
//! stacks, JSON syntax), in `tests/fixtures/layouts/`. The real binary reports it from a
//! relative and an absolute working dir and updates it; module repositories are bare git
//! repositories with real tags reached through `insteadOf`, the registry is the server on
//! 127.0.0.1. HashiCorp's own parser (`terraform fmt -check`) checks every fixture and every
//! edited file where `terraform` is installed.

use crate::world;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use testkit::registry::Registry;
use testkit::spec::dependency;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/layouts");
const DEV: &str = "dev/**";
/// Written over the commit pin of the fixture: the commit tagged v0.4.0 exists only once the
/// module repository is created.
const SHA_PLACEHOLDER: &str = "SHA_V040";

/// The shared world with the fixture tree committed, and what the fixture became.
struct World {
    world: world::World,
    /// The fixture as written into the checkout (path → text).
    files: BTreeMap<String, String>,
    /// The commit of acme/terraform-aws-app's v0.4.0, pinned in OTHER_FORMS.
    pin: String,
}

impl std::ops::Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.world
    }
}

fn world() -> World {
    let mut b = world::World::builder("ghs_layoutsNeverSent");
    let repos: [(&str, &[&str]); 7] = [
        (
            "terraform-aws-data",
            &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
        ),
        ("terraform-google-gke", &["v1.2.0", "v1.3.0", "v2.0.0"]),
        ("terraform-aws-cache", &["v1.0.0", "v1.0.1"]),
        ("terraform-aws-app", &["v0.4.0", "v0.4.2", "v0.5.0"]),
        ("terraform-aws-network", &["v3.0.0", "v3.1.0"]),
        ("catalog", &["v1.0.0", "v1.1.0", "v2.0.0"]),
        ("infra-modules", &["eks-v1.0.0", "vpc-v1.2.0", "vpc-v1.3.0"]),
    ];
    let mut pin = String::new();
    for (name, tags) in repos {
        let repo = b.module(name, tags);
        if name == "terraform-aws-app" {
            pin = testkit::git::run(repo.path(), &["rev-parse", "v0.4.0^{commit}"])
                .trim()
                .to_string();
        }
    }
    let registry = Registry::start();
    let vpc_versions = ["5.0.0", "5.1.0", "6.0.0"];
    registry.add_module("terraform-aws-modules", "vpc", "aws", &vpc_versions);
    let files: BTreeMap<String, String> = fixture_files()
        .into_iter()
        .map(|(rel, text)| (rel, text.replace(SHA_PLACEHOLDER, &pin)))
        .collect();
    let list: Vec<(&String, &String)> = files.iter().collect();
    b.registry(registry).files(&list);
    World {
        world: b.build(),
        files,
        pin,
    }
}

/// Every file of the fixture tree, by `/`-separated relative path.
fn fixture_files() -> BTreeMap<String, String> {
    crate::world::files_under(Path::new(FIXTURE))
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let rel = path.strip_prefix(FIXTURE).unwrap().to_string_lossy();
            (rel.replace('\\', "/"), text)
        })
        .collect()
}

impl World {
    /// `report --output json` with `args`, identical from an absolute working dir and from
    /// relative ones (`.` inside the checkout, `..` from a folder of it).
    fn spec(&self, args: &[&str]) -> Value {
        let absolute = self.dir().display().to_string();
        let runs = [
            (self.root.path().to_path_buf(), absolute.as_str()),
            (self.dir().to_path_buf(), "."),
            (self.dir().join("dev"), ".."),
        ];
        let mut first: Option<String> = None;
        for (cwd, working_dir) in runs {
            let all = [&["report", working_dir], args, &["--output", "json"]].concat();
            let json = self.cli_in(&cwd, &all).ok().stdout;
            match &first {
                Some(expected) => assert_eq!(&json, expected, "from {cwd:?} as {working_dir}"),
                None => first = Some(json),
            }
        }
        serde_json::from_str(&first.unwrap()).unwrap()
    }

    /// `patcher update` of every dependency of a fresh dev spec, edits in place.
    fn update_dev(&self, extra: &[&str]) -> Value {
        let spec = self.root.path().join("spec.json").display().to_string();
        let dir = self.dir().display().to_string();
        let out = self.cli_in(
            self.root.path(),
            &[
                "report",
                &dir,
                "--include-dirs",
                DEV,
                "--output-spec",
                &spec,
            ],
        );
        out.ok();
        let args = [
            &[
                "update",
                &dir,
                "--spec-file",
                &spec,
                "--include-dirs",
                DEV,
                "--output",
                "json",
            ],
            extra,
        ]
        .concat();
        self.cli_in(self.root.path(), &args).ok().json()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `(file, line, current version)` of every usage of the dependency `id`.
fn usages(spec: &Value, id: &str) -> Vec<(String, u64, String)> {
    let dep = dependency(spec, id);
    dep["Usages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let file = u["File"].as_str().unwrap().to_string();
            (
                file,
                u["Line"].as_u64().unwrap(),
                u["CurrentVersion"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// File, line and version text of a usage.
type Place<'a> = (&'a str, u64, &'a str);

fn triples(expected: &[Place]) -> Vec<(String, u64, String)> {
    expected
        .iter()
        .map(|(f, l, v)| (f.to_string(), *l, v.to_string()))
        .collect()
}

/// Runs `terraform fmt -check` over `files` (HCL texts by name); `None` when terraform is not
/// installed. Terragrunt's `.hcl` names are not accepted by terraform, so each text is checked
/// as a `.tf` copy.
fn terraform_fmt_check(files: &[(&str, &str)]) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    for (i, (_, text)) in files.iter().enumerate() {
        std::fs::write(dir.path().join(format!("f{i}.tf")), text).unwrap();
    }
    let out = match Command::new("terraform")
        .args(["fmt", "-check", "-list=true", "-no-color"])
        .current_dir(dir.path())
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            eprintln!("notice: terraform is not installed, HashiCorp's parser check is skipped");
            return None;
        }
    };
    let listed = text(&out.stdout);
    let mut failing: Vec<String> = listed
        .lines()
        .filter_map(|name| {
            let i: usize = name
                .trim()
                .strip_prefix('f')?
                .strip_suffix(".tf")?
                .parse()
                .ok()?;
            Some(files[i].0.to_string())
        })
        .collect();
    if !out.status.success() && failing.is_empty() {
        failing.push(format!("terraform fmt failed: {}", text(&out.stderr)));
    }
    Some(failing)
}

fn is_hcl(rel: &str) -> bool {
    rel.ends_with(".tf") || rel.ends_with(".hcl")
}

#[test]
fn every_fixture_file_passes_terraform_fmt() {
    let files = fixture_files();
    let hcl: Vec<(&str, &str)> = files
        .iter()
        .filter(|(rel, _)| is_hcl(rel))
        .map(|(rel, text)| (rel.as_str(), text.as_str()))
        .collect();
    assert!(hcl.len() >= 10, "{:?}", files.keys());
    if let Some(failing) = terraform_fmt_check(&hcl) {
        assert!(failing.is_empty(), "not terraform-fmt clean: {failing:?}");
    }
    for (rel, text) in files.iter().filter(|(rel, _)| rel.ends_with(".json")) {
        serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    }
}

/// Tag families, commit pins and moving tags live in this file.
const OTHER_FORMS: &str = "dev/us-east-1/forms/main.tf";

#[test]
fn report_reads_every_layout_form_where_its_version_is_written() {
    let w = world();
    let spec = w.spec(&[]);
    let expected: [(&str, &[Place]); 6] = [
        // `try(values.catalog_ref, "v1.0.0")` in a stack: the literal default.
        (
            "acme/catalog/units/api",
            &[("dev/us-east-1/services/terragrunt.stack.hcl", 3, "v1.0.0")],
        ),
        // `read_terragrunt_config(…)`: `.locals.versions.cache` in dev, `.inputs.cache_version`
        // of a call in prod; each usage is where the version is written.
        (
            "acme/terraform-aws-cache/redis",
            &[("dev/env.hcl", 4, "v1.0.0"), ("prod/env.hcl", 9, "v1.0.0")],
        ),
        // `_envcommon` with `include … expose = true`, and `terragrunt.hcl.json`.
        (
            "acme/terraform-aws-data/mysql",
            &[
                ("_envcommon/mysql.hcl", 7, "v1.0.0"),
                ("dev/us-east-1/json-unit/terragrunt.hcl.json", 3, "v1.1.0"),
                ("dev/us-east-1/mysql/terragrunt.hcl", 11, "v1.1.0"),
                ("prod/us-east-1/mysql/terragrunt.hcl", 11, "v1.0.0"),
            ],
        ),
        // `.tf.json` module blocks, as an object and as an array of objects.
        (
            "acme/terraform-aws-network/vpc",
            &[("dev/us-east-1/app/network.tf.json", 4, "v3.0.0")],
        ),
        (
            "terraform-aws-modules/vpc/aws",
            &[("dev/us-east-1/app/network.tf.json", 10, "5.0.0")],
        ),
        // One version in common.hcl, read by find_in_parent_folders (dev) and by a literal
        // relative path (prod): one place to change.
        (
            "acme/terraform-google-gke/cluster",
            &[("common.hcl", 4, "v1.2.0")],
        ),
    ];
    for (id, places) in expected {
        assert_eq!(usages(&spec, id), triples(places), "{id}");
    }
    // A file with a repeated object key, which hcl-edit alone rejects, and the commit pin of
    // the same release with its `# v0.4.0` comment.
    assert_eq!(
        usages(&spec, "acme/terraform-aws-app/service"),
        [
            (
                "dev/us-east-1/app/main.tf".to_string(),
                3,
                "v0.4.0".to_string()
            ),
            (OTHER_FORMS.to_string(), 8, w.pin.clone()),
        ]
    );
    let target = |id: &str| dependency(&spec, id)["TargetSafeVersion"].clone();
    assert_eq!(target("acme/catalog/units/api"), "v1.1.0");
    assert_eq!(target("acme/terraform-google-gke/cluster"), "v1.3.0");
    assert_eq!(target("terraform-aws-modules/vpc/aws"), "5.1.0");
    // The tag family keeps its prefix; the pin's release moves like its tag.
    assert_eq!(target("acme/infra-modules/vpc"), "vpc-v1.3.0");
    assert_eq!(target("acme/terraform-aws-app/service"), "v0.4.2");
    // Only the moving tag is skipped, with the reason that it floats by itself.
    let skipped = spec["Skipped"].as_array().unwrap();
    let [moving] = skipped.as_slice() else {
        panic!("{skipped:#?}")
    };
    assert_eq!(moving["File"], OTHER_FORMS);
    assert!(
        moving["Reason"].as_str().unwrap().contains("moving tag"),
        "{moving:#}"
    );
    assert!(
        spec["Errors"].as_array().is_none_or(Vec::is_empty),
        "{spec:#}"
    );
}

#[test]
fn lenient_read_is_reported_and_a_file_terraform_rejects_is_an_error_with_its_position() {
    let w = world();
    let broken = "module \"x\" {\n  source = \"git::https://github.com/acme/catalog.git?ref=v1.0.0\"\n  count = = 1\n}\n";
    std::fs::write(w.dir().join("dev/broken.tf"), broken).unwrap();
    let dir = w.dir().display().to_string();
    let out = w
        .cli_in(w.root.path(), &["report", &dir, "--include-dirs", DEV])
        .ok();
    let stderr = &out.stderr;
    assert!(
        stderr.contains("note: dev/us-east-1/app/main.tf:5:43: ")
            && stderr.contains("read leniently"),
        "{stderr}"
    );
    assert!(stderr.contains("warning: dev/broken.tf:3:"), "{stderr}");
    let table = &out.stdout;
    for id in [
        "acme/infra-modules/vpc",
        "acme/terraform-aws-cache/memcached",
    ] {
        assert!(table.lines().any(|l| l.starts_with(id)), "{id}: {table}");
    }
    if let Some(failing) = terraform_fmt_check(&[("dev/broken.tf", broken)]) {
        assert_eq!(
            failing.len(),
            1,
            "terraform accepts what patcher rejects: {failing:?}"
        );
    }
}

/// The fixture with `changes` (file, old text, new text; each old text once in its file)
/// applied, and every other file as it was.
fn expected_tree(w: &World, changes: &[(&str, &str, &str)]) -> BTreeMap<String, String> {
    let mut tree = w.files.clone();
    for (file, old, new) in changes {
        let text = tree.get_mut(*file).unwrap();
        assert_eq!(text.matches(old).count(), 1, "{file}: {old}");
        *text = text.replacen(old, new, 1);
    }
    tree.remove(OTHER_FORMS);
    tree
}

fn assert_tree(w: &World, expected: &BTreeMap<String, String>) {
    for (rel, text) in expected {
        assert_eq!(&w.read(rel), text, "{rel}");
    }
    let edited: Vec<(&str, &str)> = expected
        .iter()
        .filter(|(rel, _)| is_hcl(rel))
        .map(|(rel, text)| (rel.as_str(), text.as_str()))
        .collect();
    if let Some(failing) = terraform_fmt_check(&edited) {
        assert!(
            failing.is_empty(),
            "not terraform-fmt clean after update: {failing:?}"
        );
    }
}

#[test]
fn update_edits_each_version_where_it_is_written_and_leaves_shared_files() {
    let w = world();
    let out = w.update_dev(&[]);
    let changes = [
        (
            "dev/us-east-1/services/terragrunt.stack.hcl",
            "\"v1.0.0\"",
            "\"v1.1.0\"",
        ),
        ("dev/env.hcl", "cache = \"v1.0.0\"", "cache = \"v1.0.1\""),
        (
            "dev/us-east-1/mysql/terragrunt.hcl",
            "ref=v1.1.0",
            "ref=v1.2.0",
        ),
        (
            "dev/us-east-1/json-unit/terragrunt.hcl.json",
            "ref=v1.1.0",
            "ref=v1.2.0",
        ),
        (
            "dev/us-east-1/app/network.tf.json",
            "ref=v3.0.0",
            "ref=v3.1.0",
        ),
        (
            "dev/us-east-1/app/network.tf.json",
            "\"5.0.0\"",
            "\"5.1.0\"",
        ),
        ("dev/us-east-1/app/main.tf", "ref=v0.4.0", "ref=v0.4.2"),
    ];
    assert_tree(&w, &expected_tree(&w, &changes));
    // common.hcl serves dev and prod: the dev update leaves it and says so.
    assert_eq!(
        out["shared_files_not_changed"],
        serde_json::json!(["common.hcl"]),
        "{out:#}"
    );
    let updated = out["updated_files"].as_array().unwrap();
    assert!(!updated.iter().any(|f| f == "common.hcl"), "{out:#}");
    for json in [
        "dev/us-east-1/app/network.tf.json",
        "dev/us-east-1/json-unit/terragrunt.hcl.json",
    ] {
        serde_json::from_str::<Value>(&w.read(json)).unwrap();
    }
}

#[test]
fn allow_shared_files_edits_the_shared_common_hcl() {
    let w = world();
    let out = w.update_dev(&[
        "--allow-shared-files",
        "--dependency",
        "acme/terraform-google-gke/cluster",
    ]);
    assert_eq!(
        out["updated_files"],
        serde_json::json!(["common.hcl"]),
        "{out:#}"
    );
    let changes = [("common.hcl", "gke = \"v1.2.0\"", "gke = \"v1.3.0\"")];
    assert_tree(&w, &expected_tree(&w, &changes));
}
