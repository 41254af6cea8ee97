//! Ignore rules through the real binary: the environments file's `ignore` entries (whole
//! dependencies, versions to skip) and the inline `# patcher:ignore` comment, over registry
//! modules served by the local registry.

use crate::world::Run;
use testkit::registry_tree::{module_id as id, module_name, RegistryTree};
use testkit::spec::find_dependency;

const RULES: &str = "\
ignore:
  - dependency: acme/mod001/*
  - dependency: acme/mod002/aws
    versions: ['!= 1.2.0']
  - dependency: 'acme/mod00[3]/*'
    versions: ['< 1.1']
";

/// Six modules, one file each in dev at 1.0.0; mod002 also has 1.2.0; mod004 has a second
/// usage whose version line carries the comment, mod005 one whose source line does.
fn tree() -> RegistryTree {
    let t = RegistryTree::generate(crate::world::bin(), 6, 6, 1, module_name);
    t.registry.add_module("acme", "mod002", "aws", &["1.2.0"]);
    t.write(
        "dev/pinned/main.tf",
        "module \"a\" {\n  source  = \"acme/mod004/aws\"\n  version = \"1.0.0\" # patcher:ignore\n}\n\
         module \"b\" {\n  source  = \"acme/mod005/aws\" # patcher:ignore: waiting for INC-42\n  version = \"1.0.0\"\n}\n",
    );
    t.write(".github/patcher.yml", RULES);
    t
}

#[test]
fn ignored_dependencies_and_usages_are_skipped_with_their_rule() {
    let t = tree();
    let run = t.report(&[]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let spec = t.spec_file();
    assert!(
        find_dependency(&spec, &id(1)).is_none(),
        "ignored altogether"
    );
    assert!(
        find_dependency(&spec, &id(3)).is_none(),
        "no allowed version ahead"
    );
    let skip_12 = find_dependency(&spec, &id(2)).unwrap();
    assert_eq!(skip_12["TargetVersion"], "1.1.0", "1.2.0 is skipped");
    assert_eq!(
        find_dependency(&spec, &id(0)).unwrap()["TargetVersion"],
        "1.1.0"
    );
    // mod004 and mod005 still move where no comment stands.
    for i in [4, 5] {
        let dep = find_dependency(&spec, &id(i)).unwrap();
        let files: Vec<&str> = dep["Usages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["File"].as_str().unwrap())
            .collect();
        assert_eq!(files, [format!("dev/unit0000{i}/main.tf")]);
    }
    let skipped: Vec<(String, String)> = spec["Skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                format!("{}:{}", s["File"].as_str().unwrap(), s["Line"]),
                s["Reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |at: &str| {
        skipped
            .iter()
            .find(|(a, _)| a == at)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("{at} not skipped: {skipped:?}"))
    };
    assert_eq!(
        reason("dev/unit00001/main.tf:3"),
        "ignored by the `ignore` rule `acme/mod001/*`"
    );
    assert_eq!(
        reason("dev/pinned/main.tf:3"),
        "ignored by `# patcher:ignore` on line 3"
    );
    assert_eq!(
        reason("dev/pinned/main.tf:7"),
        "ignored by `# patcher:ignore` on line 6"
    );
}

#[test]
fn update_leaves_ignored_usages_and_skipped_versions_alone() {
    let t = tree();
    let update = std::process::Command::new(crate::world::bin())
        .current_dir(&t.workspace)
        .args(["update", ".", "--include-dirs", "dev/**"])
        .envs([t.registry_env()])
        .output()
        .unwrap();
    Run::of(update).ok();
    let version = |rel: &str| {
        let text = t.read(rel);
        let at = text.find("version = \"").unwrap() + 11;
        text[at..at + 5].to_string()
    };
    assert_eq!(version("dev/unit00000/main.tf"), "1.1.0");
    assert_eq!(version("dev/unit00001/main.tf"), "1.0.0");
    assert_eq!(version("dev/unit00002/main.tf"), "1.1.0");
    assert_eq!(version("dev/unit00003/main.tf"), "1.0.0");
    assert_eq!(version("dev/unit00004/main.tf"), "1.1.0");
    assert_eq!(t.read("dev/pinned/main.tf").matches("\"1.0.0\"").count(), 2);
}

#[test]
fn a_promotion_moves_to_its_exact_version_whatever_the_version_rules() {
    let t = tree();
    let run = t.report(&[("dependency", &id(2)), ("version", "1.2.0")]);
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    let spec = t.spec_file();
    assert_eq!(
        find_dependency(&spec, &id(2)).unwrap()["TargetVersion"],
        "1.2.0"
    );
}

#[test]
fn a_bad_rule_is_a_clear_error() {
    let t = tree();
    t.write(
        ".github/patcher.yml",
        "ignore:\n  - dependency: acme/*\n    versions: ['soon']\n",
    );
    let run = t.report(&[]);
    assert!(!run.success);
    let error = run.line("::error::");
    assert!(
        error.contains(".github/patcher.yml") && error.contains("`soon`"),
        "{error}"
    );
    t.write(
        ".github/patcher.yml",
        "ignore:\n  - dependency: acme/*\n    version: ['< 2']\n",
    );
    let run = t.report(&[]);
    assert!(!run.success);
    assert!(run.line("::error::").contains("version"), "{}", run.stdout);
}
