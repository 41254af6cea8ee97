//! Scan and edit over real files in a temporary working dir.

use patcher::edit::{self, Edit, RejectReason};
use patcher::environment::{Environment, EnvironmentError};
use patcher::model::{Origin, ScanResult, Usage, VersionForm};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    assert!(Path::new(rel).is_relative(), "{rel}");
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn env(root: &Path, include: &[&str], exclude: &[&str]) -> Environment {
    Environment {
        working_dir: root.to_path_buf(),
        include_dirs: include.iter().map(|s| s.to_string()).collect(),
        exclude_dirs: exclude.iter().map(|s| s.to_string()).collect(),
        default_registry: None,
    }
}

/// The working dir as users write it: absolute, relative to the current dir (`../../tmp/x`),
/// `./…`, with a trailing `/`, through a subfolder and back (`…/sub/..`), and through its
/// parent (`…/../name`).
fn spellings(root: &Path) -> Vec<PathBuf> {
    let cwd = std::env::current_dir().unwrap().canonicalize().unwrap();
    let absolute = root.canonicalize().unwrap();
    let up: PathBuf = cwd.components().skip(1).map(|_| "..").collect();
    let relative = up.join(absolute.strip_prefix("/").unwrap());
    let name = absolute.file_name().unwrap().to_str().unwrap();
    let mut out = vec![
        root.to_path_buf(),
        relative.clone(),
        Path::new(".").join(&relative),
        PathBuf::from(format!("{}/", relative.display())),
        relative.join("..").join(name),
    ];
    let sub = fs::read_dir(&absolute)
        .into_iter()
        .flatten()
        .flatten()
        .find(|e| e.file_type().is_ok_and(|t| t.is_dir()));
    if let Some(sub) = sub {
        out.push(relative.join(sub.file_name()).join(".."));
    }
    out
}

/// [`patcher::scan::scan`] from every spelling of the working dir: all must agree.
fn scan(env: &Environment) -> Result<ScanResult, EnvironmentError> {
    let first = patcher::scan::scan(env);
    if !env.working_dir.is_dir() {
        return first;
    }
    let expected = first.as_ref().map_err(|e| e.to_string());
    for working_dir in spellings(&env.working_dir) {
        let other = Environment {
            working_dir: working_dir.clone(),
            ..env.clone()
        };
        let got = patcher::scan::scan(&other);
        assert_eq!(
            got.as_ref().map_err(|e| e.to_string()),
            expected,
            "working dir spelled {}",
            working_dir.display()
        );
    }
    first
}

fn files_of(result: &ScanResult) -> BTreeSet<String> {
    let usages = result.usages.iter().map(|u| &u.file);
    let skipped = result.skipped.iter().map(|s| &s.file);
    let errors = result.errors.iter().map(|e| &e.file);
    usages
        .chain(skipped)
        .chain(errors)
        .map(|f| f.to_string_lossy().into_owned())
        .collect()
}

const MODULE: &str =
    "module \"m\" {\n  source = \"github.com/acme/mods//modules/m?ref=v1.0.0\"\n}\n";

/// One module per environment folder, plus folders that must never be scanned.
fn environments_tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    for folder in [
        "dev/app",
        "dev2/app",
        "gruntwork-dev-account1/app",
        "stage/app",
        "prod/app",
        "prod/dev-like",
        "",
    ] {
        let file = Path::new(folder).join("main.tf");
        write(root, file.to_str().unwrap(), MODULE);
    }
    for hidden in [
        "dev/app/.terraform/modules/m",
        "dev/app/.terragrunt-cache/abc/def",
        ".git/x",
    ] {
        write(root, &format!("{hidden}/main.tf"), MODULE);
    }
    dir
}

#[test]
fn dev_glob_selects_dev_folders_and_skips_caches() {
    let dir = environments_tree();
    let result = scan(&env(dir.path(), &["{*dev*}/**"], &[])).unwrap();
    let expected: BTreeSet<String> = [
        "dev/app/main.tf",
        "dev2/app/main.tf",
        "gruntwork-dev-account1/app/main.tf",
    ]
    .map(String::from)
    .into();
    assert_eq!(files_of(&result), expected);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
}

#[test]
fn exclude_wins_over_include_and_no_include_means_everything() {
    let dir = environments_tree();
    let result = scan(&env(dir.path(), &[], &["prod/**", "{*dev*}/**"])).unwrap();
    let expected: BTreeSet<String> = ["main.tf", "stage/app/main.tf"].map(String::from).into();
    assert_eq!(files_of(&result), expected);

    let result = scan(&env(
        dir.path(),
        &["prod/**", "stage/**"],
        &["prod/dev-like/**"],
    ))
    .unwrap();
    let expected: BTreeSet<String> = ["prod/app/main.tf", "stage/app/main.tf"]
        .map(String::from)
        .into();
    assert_eq!(files_of(&result), expected);
}

#[test]
fn invalid_glob_and_missing_working_dir_are_errors() {
    let dir = environments_tree();
    match scan(&env(dir.path(), &["dev/**"], &["[prod"])) {
        Err(EnvironmentError::InvalidGlob { glob, .. }) => assert_eq!(glob, "[prod"),
        other => panic!("{other:?}"),
    }
    let missing = dir.path().join("nope");
    match scan(&env(&missing, &[], &[])) {
        Err(EnvironmentError::WorkingDir { path, .. }) => assert_eq!(path, missing),
        other => panic!("{other:?}"),
    }
}

/// Every source form of DESIGN.md, with the version each must report.
fn forms_tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(
        root,
        "dev/app/main.tf",
        r#"module "https" {
  source = "git::https://github.com/gruntwork-io/terraform-aws-messaging.git//modules/sqs?ref=v0.12.1"
}
module "ssh" {
  source = "git::ssh://git@github.com/acme/infra.git//net/vpc?ref=v2.0.0"
}
module "scp" {
  source = "git::git@github.com:acme/infra.git//modules/db?depth=1&ref=v2.1.0"
}
module "shorthand" {
  source = "github.com/acme/mods//modules/lambda?ref=1.4.0"
}
module "exact" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.0"
}
module "constraint" {
  source  = "terraform-aws-modules/iam/aws"
  version = "~> 5.1"
}
module "private" {
  source  = "app.terraform.io/acme/network/aws"
  version = ">= 1.0, < 2.0"
}
module "local" {
  source = "../modules/local"
}
module "unpinned" {
  source = "terraform-aws-modules/s3-bucket/aws"
}
module "branch" {
  source = "git::https://github.com/acme/mods.git?ref=main"
}
module "nogit" {
  source = "git::https://gitlab.example.com/team/mods.git//x"
}
module "zip" {
  source = "https://example.com/modules/vpc.zip"
}
module "bucket" {
  source = "s3::https://s3-eu-west-1.amazonaws.com/bucket/vpc.zip"
}
"#,
    );
    write(
        root,
        "dev/app/registry.tofu",
        "module \"tfr\" {\n  source = \"tfr:///terraform-aws-modules/rds/aws?version=6.0.0\"\n}\n\
         module \"tofu\" {\n  source = \"tfr://registry.opentofu.org/acme/db/aws?version=0.3.0\"\n}\n",
    );
    write(
        root,
        "dev/vpc/terragrunt.hcl",
        r#"include "root" {
  path = find_in_parent_folders()
}
locals {
  base_source_url = "git::https://git.example.com/platform/modules.git//modules/vpc"
}
terraform {
  source = "${local.base_source_url}?ref=v1.2.3"
}
"#,
    );
    write(
        root,
        "_envcommon/mysql.hcl",
        r#"locals {
  base_source_url = "git::git@github.com:acme/infra.git//modules/mysql"
}
terraform {
  source = "${local.base_source_url}?ref=v0.9.0"
}
"#,
    );
    write(
        root,
        "dev/mysql/terragrunt.hcl",
        "include \"envcommon\" {\n  path = \"${dirname(find_in_parent_folders())}/_envcommon/mysql.hcl\"\n}\n\
         terraform {\n  source = \"${include.envcommon.locals.base_source_url}?ref=v0.9.1\"\n}\n",
    );
    write(
        root,
        "dev/app/account.hcl",
        "locals {\n  account_id = \"123\"\n}\n",
    );
    // Other tools' HCL, even broken, is none of our business.
    write(root, "dev/app/image.pkr.hcl", "build {\n  sources = [\n");
    write(
        root,
        "dev/app/.terraform.lock.hcl",
        "provider \"x\" {\n  version = \"1\"\n",
    );
    write(
        root,
        "dev/app/custom.hcl",
        "terraform {\n  source = \"github.com/acme/mods?ref=v3.0.0\"\n}\n",
    );
    write(
        root,
        "dev/broken/main.tf",
        "module \"ok\" {\n  source = \"github.com/acme/mods?ref=v1.0.0\"\n}\nmodule \"bad\" {\n  source = \"github.com/acme/mods?ref=v1.0.0\n}\n",
    );
    dir
}

fn summary(u: &Usage) -> (String, usize, String, String, VersionForm) {
    (
        u.file.to_string_lossy().into_owned(),
        u.line,
        u.source.id.clone(),
        u.current.clone(),
        u.form,
    )
}

#[test]
fn every_source_form_is_understood() {
    let dir = forms_tree();
    let result = scan(&env(dir.path(), &[], &[])).unwrap();
    let got: Vec<_> = result.usages.iter().map(summary).collect();
    let git = VersionForm::GitRef;
    let reg = VersionForm::RegistryAttribute;
    let tfr = VersionForm::TfrQuery;
    let expected = [
        ("_envcommon/mysql.hcl", 5, "acme/infra/mysql", "v0.9.0", git),
        ("dev/app/custom.hcl", 2, "acme/mods", "v3.0.0", git),
        (
            "dev/app/main.tf",
            2,
            "gruntwork-io/terraform-aws-messaging/sqs",
            "v0.12.1",
            git,
        ),
        ("dev/app/main.tf", 5, "acme/infra/net/vpc", "v2.0.0", git),
        ("dev/app/main.tf", 8, "acme/infra/db", "v2.1.0", git),
        ("dev/app/main.tf", 11, "acme/mods/lambda", "1.4.0", git),
        (
            "dev/app/main.tf",
            15,
            "terraform-aws-modules/vpc/aws",
            "5.1.0",
            reg,
        ),
        (
            "dev/app/main.tf",
            19,
            "terraform-aws-modules/iam/aws",
            "~> 5.1",
            reg,
        ),
        (
            "dev/app/main.tf",
            23,
            "app.terraform.io/acme/network/aws",
            ">= 1.0, < 2.0",
            reg,
        ),
        // A ref that may be a tag reaches the listing, which tells what it is.
        ("dev/app/main.tf", 32, "acme/mods", "main", git),
        (
            "dev/app/registry.tofu",
            2,
            // A host-less address in a .tofu file is OpenTofu's registry's.
            "registry.opentofu.org/terraform-aws-modules/rds/aws",
            "6.0.0",
            tfr,
        ),
        (
            "dev/app/registry.tofu",
            5,
            "registry.opentofu.org/acme/db/aws",
            "0.3.0",
            tfr,
        ),
        (
            "dev/vpc/terragrunt.hcl",
            8,
            "git.example.com/platform/modules/vpc",
            "v1.2.3",
            git,
        ),
    ]
    .map(|(f, l, id, v, form)| (f.to_string(), l, id.to_string(), v.to_string(), form));
    assert_eq!(got, expected);

    for usage in &result.usages {
        let bytes = fs::read(dir.path().join(&usage.file)).unwrap();
        assert_eq!(
            &bytes[usage.span.clone()],
            usage.current.as_bytes(),
            "{usage:?}"
        );
        let line = String::from_utf8_lossy(&bytes)
            .lines()
            .nth(usage.line - 1)
            .unwrap()
            .to_string();
        assert_eq!(
            line.find(&usage.current).unwrap() + 1,
            usage.column,
            "{usage:?}"
        );
    }
    let origins: BTreeSet<Origin> = result
        .usages
        .iter()
        .map(|u| u.source.origin.clone())
        .collect();
    assert!(origins.contains(&Origin::Git {
        url: "https://github.com/gruntwork-io/terraform-aws-messaging.git".into()
    }));
    assert!(origins.contains(&Origin::Git {
        url: "git@github.com:acme/infra.git".into()
    }));
    assert!(origins.contains(&Origin::Git {
        url: "ssh://git@github.com/acme/infra.git".into()
    }));
    assert!(origins.contains(&Origin::Git {
        url: "https://git.example.com/platform/modules.git".into()
    }));
}

#[test]
fn unmanaged_sources_are_skipped_with_reasons() {
    let dir = forms_tree();
    let result = scan(&env(dir.path(), &[], &[])).unwrap();
    let got: Vec<(String, usize, &str)> = result
        .skipped
        .iter()
        .map(|s| {
            (
                s.file.to_string_lossy().into_owned(),
                s.line,
                s.reason.as_str(),
            )
        })
        .collect();
    let expected = [
        ("dev/app/main.tf", 26, "local path"),
        ("dev/app/main.tf", 29, "no version constraint"),
        ("dev/app/main.tf", 35, "unversioned git source (no ?ref=)"),
        ("dev/app/main.tf", 38, "archive"),
        (
            "dev/app/main.tf",
            41,
            "archive in a storage bucket (s3::/gcs::)",
        ),
        (
            "dev/mysql/terragrunt.hcl",
            5,
            "cannot resolve `include.envcommon.locals.base_source_url` from this file",
        ),
    ]
    .map(|(f, l, r)| (f.to_string(), l, r));
    assert_eq!(got, expected);
}

#[test]
fn a_file_with_a_syntax_error_is_reported_and_the_rest_scanned() {
    let dir = forms_tree();
    let result = scan(&env(dir.path(), &["dev/**"], &[])).unwrap();
    let [error] = result.errors.as_slice() else {
        panic!("{:?}", result.errors)
    };
    assert_eq!(error.file, PathBuf::from("dev/broken/main.tf"));
    assert_eq!(error.line, 5, "{error:?}");
    assert!(error.column >= 1 && !error.message.is_empty(), "{error:?}");
    assert!(result.usages.iter().all(|u| u.file != error.file));
    assert_eq!(result.usages.len(), 12);
}

#[test]
fn scan_output_is_deterministic() {
    let dir = forms_tree();
    let first = scan(&env(dir.path(), &[], &[])).unwrap();
    for _ in 0..5 {
        assert_eq!(scan(&env(dir.path(), &[], &[])).unwrap(), first);
    }
}

// ---- edit -----------------------------------------------------------------------------------

/// Byte-preservation cases, one folder each: `in/` the files before an update, `out/` the same
/// files after it, written by hand from the editing rule, and `case.json` with how many usages
/// the scan of `in/` finds and the text each current version (or pin comment tag) moves to.
/// A new case is a new folder; `.gitattributes` keeps git's hands off their bytes.
const EDIT_CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/edits");

struct Case {
    name: String,
    dir: PathBuf,
    usages: usize,
    targets: BTreeMap<String, String>,
}

impl Case {
    fn input(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        tree_files(&self.dir.join("in"))
    }

    fn output(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        tree_files(&self.dir.join("out"))
    }

    /// What `text` (a version or a pin comment's tag) of this case moves to.
    fn target(&self, file: &Path, text: &str) -> &str {
        self.targets.get(text).unwrap_or_else(|| {
            panic!(
                "case {}: {} has `{text}`, which case.json gives no target",
                self.name,
                file.display()
            )
        })
    }
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = fs::read_dir(EDIT_CASES)
        .unwrap()
        .map(|entry| {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let meta: serde_json::Value =
                serde_json::from_slice(&fs::read(dir.join("case.json")).unwrap())
                    .unwrap_or_else(|e| panic!("case {name}: case.json: {e}"));
            let usages = meta["usages"].as_u64().unwrap() as usize;
            let targets = serde_json::from_value(meta["targets"].clone())
                .unwrap_or_else(|e| panic!("case {name}: targets: {e}"));
            Case {
                name,
                dir,
                usages,
                targets,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(cases.len() >= 7, "cases missing under {EDIT_CASES}");
    cases
}

fn case(name: &str) -> Case {
    cases().into_iter().find(|c| c.name == name).unwrap()
}

/// Every regular file under `dir`, by path relative to it.
fn tree_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    crate::world::files_under(dir)
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap();
            (path.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

fn write_files(root: &Path, under: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) {
    for (rel, bytes) in files {
        write(root, under.join(rel).to_str().unwrap(), bytes);
    }
}

/// The first line where `got` and `want` differ, both shown with their line ends.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let lines = |b: &[u8]| -> Vec<String> {
        b.split_inclusive(|c| *c == b'\n')
            .map(|l| format!("{:?}", String::from_utf8_lossy(l)))
            .collect()
    };
    let (got, want) = (lines(got), lines(want));
    let n = got.iter().zip(&want).take_while(|(g, w)| g == w).count();
    let none = "(no line)".to_string();
    format!(
        "first difference at line {}:\n  got:  {}\n  want: {}",
        n + 1,
        got.get(n).unwrap_or(&none),
        want.get(n).unwrap_or(&none)
    )
}

/// One edit per version text (a usage's version, and a commit pin's comment tag), each to
/// the target its case gives it.
fn edits_to_targets<'a>(result: &ScanResult, case_of: impl Fn(&Path) -> &'a Case) -> Vec<Edit> {
    let mut edits = Vec::new();
    for usage in &result.usages {
        let case = case_of(&usage.file);
        edits.push(Edit {
            file: usage.file.clone(),
            span: usage.span.clone(),
            old: usage.current.clone(),
            new: case.target(&usage.file, &usage.current).to_string(),
        });
        if let Some(comment) = &usage.pin_comment {
            edits.push(Edit {
                file: usage.file.clone(),
                span: comment.span.clone(),
                old: comment.tag.clone(),
                new: case.target(&usage.file, &comment.tag).to_string(),
            });
        }
    }
    edits
}

/// The version texts of `file` in `result` (versions and pin comment tags) by position.
fn version_texts(result: &ScanResult, file: &Path) -> Vec<(Range<usize>, String)> {
    let mut texts: Vec<_> = result
        .usages
        .iter()
        .filter(|u| u.file == file)
        .flat_map(|u| {
            let comment = u
                .pin_comment
                .iter()
                .map(|c| (c.span.clone(), c.tag.clone()));
            std::iter::once((u.span.clone(), u.current.clone())).chain(comment)
        })
        .collect();
    texts.sort_by_key(|(span, _)| span.start);
    texts
}

/// `bytes` with the version texts cut out: what the editing rule says stays as it was.
fn all_but(bytes: &[u8], texts: &[(Range<usize>, String)]) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut from = 0;
    for (span, text) in texts {
        assert_eq!(&bytes[span.clone()], text.as_bytes());
        kept.extend_from_slice(&bytes[from..span.start]);
        from = span.end;
    }
    kept.extend_from_slice(&bytes[from..]);
    kept
}

/// Every case's `in/` under `dev/<case>/` of one tree, for the tests of rejections and previews.
fn tricky_tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    for case in cases() {
        write_files(
            dir.path(),
            &Path::new("dev").join(&case.name),
            &case.input(),
        );
    }
    dir
}

/// The case a file of [`tricky_tree`] comes from.
fn case_in_tree<'a>(cases: &'a [Case], file: &Path) -> &'a Case {
    let name = file.components().nth(1).unwrap().as_os_str();
    cases.iter().find(|c| c.name.as_str() == name).unwrap()
}

/// The file `rel` of [`tricky_tree`] as the case's `in/` or `out/` has it.
fn case_file(rel: &str, side: &str) -> Vec<u8> {
    let (_, rest) = rel.split_once('/').unwrap();
    let (name, file) = rest.split_once('/').unwrap();
    fs::read(Path::new(EDIT_CASES).join(name).join(side).join(file)).unwrap()
}

#[test]
fn apply_changes_only_the_version_text() {
    let cases = cases();
    for case in &cases {
        let input = case.input();
        let output = case.output();
        let dir = TempDir::new().unwrap();
        write_files(dir.path(), Path::new(""), &input);
        let result = scan(&env(dir.path(), &[], &[])).unwrap();
        let name = &case.name;
        assert!(result.errors.is_empty(), "case {name}: {:?}", result.errors);
        assert_eq!(
            result.usages.len(),
            case.usages,
            "case {name}: {:?}",
            result.usages
        );
        let outcome = edit::apply(
            dir.path(),
            &edits_to_targets(&result, |_| case),
            &result.scanned,
        );
        assert!(
            outcome.rejected.is_empty(),
            "case {name}: {:?}",
            outcome.rejected
        );
        let mut changed = outcome.changed.clone();
        changed.sort();
        let differing: Vec<PathBuf> = input
            .iter()
            .filter(|(rel, bytes)| output.get(*rel) != Some(*bytes))
            .map(|(rel, _)| rel.clone())
            .collect();
        assert_eq!(changed, differing, "case {name}: files changed");

        let edited = tree_files(dir.path());
        let names = |files: &BTreeMap<PathBuf, Vec<u8>>| files.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&edited),
            names(&output),
            "case {name}: files after the edit vs out/"
        );
        for (rel, want) in &output {
            let got = &edited[rel];
            assert!(
                got == want,
                "case {name}, file {}: edited bytes differ from out/\n{}",
                rel.display(),
                first_difference(got, want)
            );
        }

        // Independently of the splice: out/ keeps every byte of in/ but the version texts,
        // and each of those is its target.
        let rescanned = scan(&env(dir.path(), &[], &[])).unwrap();
        assert_eq!(
            rescanned.usages.len(),
            case.usages,
            "case {name}: after the edit"
        );
        for (rel, before) in &input {
            let old = version_texts(&result, rel);
            let new = version_texts(&rescanned, rel);
            let want: Vec<&str> = old.iter().map(|(_, t)| case.target(rel, t)).collect();
            let got: Vec<&str> = new.iter().map(|(_, t)| t.as_str()).collect();
            assert_eq!(got, want, "case {name}, file {}: versions", rel.display());
            assert!(
                all_but(before, &old) == all_but(&output[rel], &new),
                "case {name}, file {}: out/ changes bytes that are no version text\n{}",
                rel.display(),
                first_difference(&all_but(&output[rel], &new), &all_but(before, &old))
            );
        }
    }

    // All cases at once, in one tree: one apply edits every file of every case.
    let dir = tricky_tree();
    let result = scan(&env(dir.path(), &[], &[])).unwrap();
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let total: usize = cases.iter().map(|c| c.usages).sum();
    assert_eq!(result.usages.len(), total, "{:?}", result.usages);
    let edits = edits_to_targets(&result, |file| case_in_tree(&cases, file));
    let outcome = edit::apply(dir.path(), &edits, &result.scanned);
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    for (rel, bytes) in tree_files(dir.path()) {
        let rel = rel.to_str().unwrap();
        assert!(bytes == case_file(rel, "out"), "{rel}");
    }
}

#[test]
fn changed_on_disk_rejects_every_edit() {
    // A moved version text, and a comment added far from any version text: both are changes
    // made by someone else since the scan.
    let several = "dev/heredoc_and_several_modules/several.tf";
    let original = case_file(several, "in");
    let moved = String::from_utf8(original.clone())
        .unwrap()
        .replacen("\"~> 5.1\"", "\"~> 5.2\"", 1)
        .into_bytes();
    assert_ne!(moved, original);
    let cases = cases();
    for theirs in [
        moved,
        [original, b"# someone else's note\n".to_vec()].concat(),
    ] {
        let dir = tricky_tree();
        let result = scan(&env(dir.path(), &[], &[])).unwrap();
        fs::write(dir.path().join(several), &theirs).unwrap();

        let edits = edits_to_targets(&result, |file| case_in_tree(&cases, file));
        let outcome = edit::apply(dir.path(), &edits, &result.scanned);
        let rejected: Vec<_> = outcome
            .rejected
            .iter()
            .map(|r| (&r.file, &r.reason))
            .collect();
        assert_eq!(
            rejected,
            [(&PathBuf::from(several), &RejectReason::Changed)]
        );
        assert!(outcome.changed.is_empty(), "{outcome:?}");
        assert_eq!(fs::read(dir.path().join(several)).unwrap(), theirs);
        for (rel, bytes) in tree_files(dir.path()) {
            let rel = rel.to_str().unwrap();
            if rel != several {
                assert_eq!(bytes, case_file(rel, "in"), "{rel}");
            }
        }
    }
}

#[test]
fn edit_that_breaks_the_file_is_rejected_and_file_untouched() {
    let dir = tricky_tree();
    let result = scan(&env(dir.path(), &["dev/crlf_tabs_comments/**"], &[])).unwrap();
    let usage = &result.usages[0];
    let original = fs::read(dir.path().join(&usage.file)).unwrap();
    for evil in ["v2\"\n  evil = \"x", "v2\" # ", "v2${x}", ""] {
        let outcome = edit::apply(
            dir.path(),
            &[Edit {
                file: usage.file.clone(),
                span: usage.span.clone(),
                old: usage.current.clone(),
                new: evil.to_string(),
            }],
            &result.scanned,
        );
        let [rejected] = outcome.rejected.as_slice() else {
            panic!("{evil}: {outcome:?}")
        };
        assert!(
            matches!(
                rejected.reason,
                RejectReason::NoLongerParses { .. } | RejectReason::NotReadBack { .. }
            ),
            "{evil}: {rejected:?}"
        );
        assert_eq!(fs::read(dir.path().join(&usage.file)).unwrap(), original);
    }
}

#[test]
fn paths_outside_the_working_dir_are_rejected() {
    let outer = TempDir::new().unwrap();
    write(outer.path(), "outside.tf", MODULE);
    let root = outer.path().join("repo");
    write(&root, "dev/main.tf", MODULE);
    std::os::unix::fs::symlink(outer.path().join("outside.tf"), root.join("dev/link.tf")).unwrap();
    let scanned = scan(&env(&root, &[], &[])).unwrap().scanned;
    let span_of = |text: &str| {
        let at = text.find("v1.0.0").unwrap();
        at..at + 6
    };
    let edit = |file: PathBuf| Edit {
        file,
        span: span_of(MODULE),
        old: "v1.0.0".into(),
        new: "v1.1.0".into(),
    };
    for file in [
        PathBuf::from("../outside.tf"),
        PathBuf::from("dev/../../outside.tf"),
        outer.path().join("outside.tf"),
    ] {
        let outcome = edit::apply(&root, &[edit(file.clone())], &scanned);
        assert_eq!(outcome.rejected.len(), 1, "{file:?}");
        assert_eq!(
            outcome.rejected[0].reason,
            RejectReason::OutsideWorkingDir,
            "{file:?}"
        );
    }
    let link = PathBuf::from("dev/link.tf");
    let outcome = edit::apply(&root, &[edit(link.clone())], &scanned);
    assert_eq!(
        outcome.rejected[0].reason,
        RejectReason::Symlink(link),
        "a link is neither read nor written"
    );
    assert_eq!(
        fs::read_to_string(outer.path().join("outside.tf")).unwrap(),
        MODULE
    );
    let outcome = edit::apply(&root, &[edit(PathBuf::from("./dev/main.tf"))], &scanned);
    assert!(outcome.rejected.is_empty(), "{outcome:?}");
}

#[test]
fn preview_shows_changed_lines_and_writes_nothing() {
    let dir = tricky_tree();
    let globs = ["dev/{crlf_tabs_comments,heredoc_and_several_modules}/**"];
    let result = scan(&env(dir.path(), &globs, &[])).unwrap();
    let cases = cases();
    let edits = edits_to_targets(&result, |file| case_in_tree(&cases, file));
    let diff = edit::preview(dir.path(), &edits, &result.scanned).unwrap();
    let crlf = "dev/crlf_tabs_comments/crlf.tf";
    let crlf_old = String::from_utf8(case_file(crlf, "in")).unwrap();
    let crlf_new = String::from_utf8(case_file(crlf, "out")).unwrap();
    let line = |text: &str, n: usize| text.split("\r\n").nth(n).unwrap().to_string();
    let expected_a = format!(
        "--- a/{crlf}\n+++ b/{crlf}\n@@ -3 +3 @@\n-{}\n+{}\n",
        line(&crlf_old, 2),
        line(&crlf_new, 2)
    );
    assert!(diff.starts_with(&expected_a), "{diff}");
    let rest = &diff[expected_a.len()..];
    let several = "dev/heredoc_and_several_modules/several.tf";
    assert!(
        rest.starts_with(&format!("--- a/{several}\n+++ b/{several}\n@@ -6 +6 @@\n")),
        "{rest}"
    );
    assert!(
        rest.contains("\n@@ -9 +9 @@\n-  version = \"~> 5.1\"\n+  version = \"~> 5.4\"\n"),
        "{rest}"
    );
    assert_eq!(rest.matches("@@ ").count(), 5, "{rest}");
    for (rel, bytes) in tree_files(dir.path()) {
        let rel = rel.to_str().unwrap();
        assert_eq!(bytes, case_file(rel, "in"), "{rel}");
    }
}

#[test]
fn write_atomic_keeps_permissions_and_leaves_no_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("main.tf");
    fs::write(&path, "old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    for round in 0..3 {
        edit::write_atomic(&path, format!("new {round}").as_bytes()).unwrap();
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), "new 2");
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["main.tf"]);

    let missing_dir = dir.path().join("gone/main.tf");
    assert!(edit::write_atomic(&missing_dir, b"x").is_err());

    // A rename that fails (a folder is in the way) must not leave the temporary file behind.
    fs::create_dir(dir.path().join("folder")).unwrap();
    fs::write(dir.path().join("folder/inner.tf"), "x").unwrap();
    assert!(edit::write_atomic(&dir.path().join("folder"), b"x").is_err());
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["folder", "main.tf"]);
}

#[test]
fn no_op_edits_change_nothing() {
    let dir = tricky_tree();
    let result = scan(&env(dir.path(), &["dev/bom_crlf_unicode/**"], &[])).unwrap();
    assert_eq!(result.usages.len(), case("bom_crlf_unicode").usages);
    let edits: Vec<Edit> = result
        .usages
        .iter()
        .map(|u| Edit {
            file: u.file.clone(),
            span: u.span.clone(),
            old: u.current.clone(),
            new: u.current.clone(),
        })
        .collect();
    let outcome = edit::apply(dir.path(), &edits, &result.scanned);
    assert!(
        outcome.changed.is_empty() && outcome.rejected.is_empty(),
        "{outcome:?}"
    );
    assert_eq!(
        edit::preview(dir.path(), &edits, &result.scanned).unwrap(),
        ""
    );
}

fn envcommon_child(include_path: &str, version: &str) -> String {
    format!(
        "include \"root\" {{\n  path = find_in_parent_folders(\"root.hcl\")\n}}\n\
         include \"envcommon\" {{\n  path   = \"{include_path}\"\n  expose = true\n}}\n\
         terraform {{\n  source = \"${{include.envcommon.locals.base_source_url}}?ref={version}\"\n}}\n"
    )
}

/// Gruntwork's infrastructure-live layout: the address lives in `_envcommon`, each environment
/// pins its own version.
fn envcommon_tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(root, "root.hcl", "remote_state {\n  backend = \"s3\"\n}\n");
    write(
        root,
        "_envcommon/vpc.hcl",
        "locals {\n  base_source_url = \"git::git@github.com:acme/infra.git//modules/networking/vpc\"\n}\n\
         terraform {\n  source = \"${local.base_source_url}?ref=v0.9.0\"\n}\n",
    );
    let children = [
        (
            "dev/us-east-1/vpc/terragrunt.hcl",
            "${dirname(find_in_parent_folders(\"root.hcl\"))}/_envcommon/vpc.hcl",
            "v0.10.0",
        ),
        (
            "stage/us-east-1/vpc/terragrunt.hcl",
            "${get_terragrunt_dir()}/../../../_envcommon/vpc.hcl",
            "v0.9.1",
        ),
        (
            "prod/us-east-1/vpc/terragrunt.hcl",
            "${dirname(find_in_parent_folders(\"missing.hcl\"))}/_envcommon/vpc.hcl",
            "v0.9.0",
        ),
    ];
    for (rel, include_path, version) in children {
        write(root, rel, envcommon_child(include_path, version));
    }
    dir
}

#[test]
fn envcommon_includes_give_the_address_and_the_child_keeps_its_version() {
    let dir = envcommon_tree();
    let result = scan(&env(dir.path(), &[], &[])).unwrap();
    let got: Vec<_> = result.usages.iter().map(summary).collect();
    let expected = [
        ("_envcommon/vpc.hcl", 5, "v0.9.0"),
        ("dev/us-east-1/vpc/terragrunt.hcl", 9, "v0.10.0"),
        ("stage/us-east-1/vpc/terragrunt.hcl", 9, "v0.9.1"),
    ]
    .map(|(f, l, v)| {
        let id = "acme/infra/networking/vpc".to_string();
        (f.to_string(), l, id, v.to_string(), VersionForm::GitRef)
    });
    assert_eq!(got, expected);
    assert!(result.usages.iter().all(|u| u.source.origin
        == Origin::Git {
            url: "git@github.com:acme/infra.git".into()
        }));
    let [skipped] = result.skipped.as_slice() else {
        panic!("{:?}", result.skipped)
    };
    assert_eq!(
        skipped.file,
        PathBuf::from("prod/us-east-1/vpc/terragrunt.hcl")
    );
    assert!(skipped
        .reason
        .contains("include.envcommon.locals.base_source_url"));

    let dev = &result.usages[1];
    let outcome = edit::apply(
        dir.path(),
        &[Edit {
            file: dev.file.clone(),
            span: dev.span.clone(),
            old: dev.current.clone(),
            new: "v0.11.0".into(),
        }],
        &result.scanned,
    );
    assert!(outcome.rejected.is_empty(), "{outcome:?}");
    let expected = envcommon_child(
        "${dirname(find_in_parent_folders(\"root.hcl\"))}/_envcommon/vpc.hcl",
        "v0.11.0",
    );
    assert_eq!(
        fs::read_to_string(dir.path().join(&dev.file)).unwrap(),
        expected
    );
}

#[test]
fn a_version_written_in_a_read_file_is_edited_there_and_checked_like_any_other() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    let common = "locals {\n  versions = {\n    gke = \"v1.2.0\" # pinned\n  }\n}\n";
    write(root, "common.hcl", common);
    for env in ["dev", "prod"] {
        write(
            root,
            &format!("{env}/gke/terragrunt.hcl"),
            "locals {\n  common = read_terragrunt_config(find_in_parent_folders(\"common.hcl\"))\n}\nterraform {\n  source = \"github.com/acme/gke//cluster?ref=${local.common.locals.versions.gke}\"\n}\n",
        );
    }
    let result = scan(&env(root, &[], &[])).unwrap();
    // Two units read it; it is written once.
    let [usage] = result.usages.as_slice() else {
        panic!("{:?}", result.usages)
    };
    assert_eq!(
        (usage.file.as_path(), usage.line),
        (Path::new("common.hcl"), 3)
    );
    let edit_to = |new: &str| {
        edit::apply(
            root,
            &[Edit {
                file: usage.file.clone(),
                span: usage.span.clone(),
                old: usage.current.clone(),
                new: new.to_string(),
            }],
            &result.scanned,
        )
    };
    for evil in ["v2\"\n  evil = \"x", "v2\" # ", "v2${x}", "v2%{ if true }"] {
        let outcome = edit_to(evil);
        assert_eq!(outcome.rejected.len(), 1, "{evil}: {outcome:?}");
        assert_eq!(fs::read_to_string(root.join("common.hcl")).unwrap(), common);
    }
    let outcome = edit_to("v1.3.0");
    assert_eq!(outcome.changed, [PathBuf::from("common.hcl")]);
    assert_eq!(
        fs::read_to_string(root.join("common.hcl")).unwrap(),
        common.replace("v1.2.0", "v1.3.0")
    );
}
