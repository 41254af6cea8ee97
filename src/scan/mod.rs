//! Finds every versioned module reference of an environment.
//!
//! Stages: `walk` finds the files in parallel; `parse` turns bytes into HCL (hcl-edit, which
//! keeps byte spans) or JSON (`json`, a reader that does too); `hcl` and `json` extract the
//! `source` of each module block, evaluated by `template` and, for Terragrunt's includes and
//! functions, `terragrunt`; `files` turns found versions into [`Usage`]s of the file each one
//! is written in. So each usage points at the exact bytes of its version text on disk and
//! `edit` can replace them without touching anything else. Symbolic links are not followed,
//! so a linked folder is never scanned (or edited) twice.

mod files;
mod hcl;
mod json;
mod parse;
mod template;
mod terragrunt;
mod tree;
mod walk;

use crate::model::{FileError, Fingerprint, Skipped, Usage};
use files::{Files, Found, SharedFiles};
use parse::{Loaded, Syntax};
use std::ops::Range;
use std::path::{Path, PathBuf};
use tree::{Disk, Tree};

pub use walk::scan;

/// Blocks whose `source` attribute names a module: Terraform `module`, Terragrunt `terraform`,
/// and the `unit` and `stack` blocks of Terragrunt stacks.
const SOURCE_BLOCKS: [&str; 4] = ["module", "terraform", "unit", "stack"];

/// What one file yields.
#[derive(Debug, Default)]
pub struct FileFindings {
    /// Versioned module references of the file; a version written in a file it reads is a
    /// usage of that file.
    pub usages: Vec<Usage>,
    /// Module references of the file left alone, each with its reason.
    pub skipped: Vec<Skipped>,
    /// Set when the file was read leniently (see [`crate::model::ScanResult::lenient`]).
    pub lenient: Option<FileError>,
    /// What every file of the working dir read for it held (see
    /// [`crate::model::ScanResult::scanned`]).
    pub scanned: Vec<(PathBuf, Fingerprint)>,
}

/// Usages and skipped references of one file, resolved from the file alone (its `locals`);
/// `rel_path` labels them, and a name ending in `.json` means JSON syntax.
pub fn scan_file(rel_path: &Path, bytes: &[u8]) -> Result<FileFindings, FileError> {
    let loaded = Loaded::parse(rel_path, Some(rel_path.to_path_buf()), None, bytes)?;
    scan_loaded(None, loaded, None, None, &Disk)
}

/// Like [`scan_file`] for the file `rel_path` of the working dir `root` (absolute): Terragrunt
/// `include` blocks, `read_terragrunt_config` and path functions (`find_in_parent_folders`,
/// `dirname`, `get_terragrunt_dir`, `get_repo_root`) are followed, so
/// `${include.envcommon.locals.base_source_url}?ref=v1.2.3` resolves, and a version written in
/// another file of the working dir is a usage of that file. `registry` is the configured
/// registry of host-less addresses.
pub fn scan_file_in(
    root: &Path,
    rel_path: &Path,
    bytes: &[u8],
    registry: Option<&str>,
) -> Result<FileFindings, FileError> {
    scan_file_sharing(root, rel_path, bytes, None, registry, &Disk)
}

/// [`scan_file_in`] where the files it reads may already have been read for another file, and
/// come from `tree`.
fn scan_file_sharing(
    root: &Path,
    rel_path: &Path,
    bytes: &[u8],
    shared: Option<&SharedFiles>,
    registry: Option<&str>,
    tree: &dyn Tree,
) -> Result<FileFindings, FileError> {
    let path = root.join(rel_path);
    let loaded = Loaded::parse(rel_path, Some(rel_path.to_path_buf()), Some(path), bytes)?;
    scan_loaded(Some(root), loaded, shared, registry, tree)
}

fn scan_loaded(
    root: Option<&Path>,
    loaded: Loaded,
    shared: Option<&SharedFiles>,
    registry: Option<&str>,
    tree: &dyn Tree,
) -> Result<FileFindings, FileError> {
    let lenient = loaded.lenient.clone();
    let is_json = matches!(loaded.syntax, Syntax::Json(_));
    let files = Files::new(root, loaded, shared, registry, tree);
    let mut found = Found::default();
    if is_json {
        json::extract(&files, &mut found);
    } else {
        hcl::extract(&files, &mut found);
    }
    Ok(FileFindings {
        usages: found.usages,
        skipped: found.skipped,
        lenient,
        scanned: files.fingerprints(),
    })
}

/// Whether `span` of an HCL or JSON file lies inside one string literal written without
/// escapes, and reads `text`: how `edit` checks a version written in a file that holds no
/// module block itself (a `common.hcl` read by `read_terragrunt_config`).
pub fn is_plain_literal_at(rel_path: &Path, bytes: &[u8], span: &Range<usize>, text: &str) -> bool {
    let Ok(loaded) = Loaded::parse(rel_path, None, None, bytes) else {
        return false;
    };
    let (Some(start), Some(end)) = (
        span.start.checked_sub(loaded.shift),
        span.end.checked_sub(loaded.shift),
    ) else {
        return false;
    };
    if text.is_empty() || loaded.text.get(start..end) != Some(text) {
        return false;
    }
    let literals = match &loaded.syntax {
        Syntax::Hcl(body) => hcl::plain_literals(body, &loaded.text),
        Syntax::Json(value) => json::plain_literals(value),
    };
    literals
        .iter()
        .any(|literal| literal.start <= start && end <= literal.end)
}

/// Whether a file can hold module references: Terraform/OpenTofu files (HCL or JSON) and
/// Terragrunt files (other `.hcl` files only when they mention a `terraform` block). A file
/// that says neither `source` nor the name of a block that holds one (`module`, `terraform`,
/// …) cannot reference a module, so it is not parsed at all (in JSON a key could be spelled
/// with `\u` escapes, so those files always are).
fn is_module_file(rel: &str, bytes: &[u8]) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let json = [
        ".tf.json",
        ".tofu.json",
        "terragrunt.hcl.json",
        "terragrunt.stack.hcl.json",
    ];
    let may_reference = contains(bytes, b"source")
        || SOURCE_BLOCKS
            .iter()
            .any(|block| contains(bytes, block.as_bytes()));
    if json.iter().any(|end| name.ends_with(end)) {
        return may_reference || contains(bytes, b"\\u");
    }
    if !may_reference {
        return false;
    }
    if name.ends_with(".tf") || name.ends_with(".tofu") {
        return true;
    }
    if !name.ends_with(".hcl") || name == ".terraform.lock.hcl" {
        return false;
    }
    name == "terragrunt.hcl"
        || name == "terragrunt.stack.hcl"
        || rel.split('/').any(|dir| dir == "_envcommon")
        || contains(bytes, b"terraform") && contains(bytes, b"source")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, VersionForm};

    fn scan_text(text: &str) -> (Vec<Usage>, Vec<Skipped>) {
        let found = scan_file(Path::new("dev/app/main.tf"), text.as_bytes()).unwrap();
        (found.usages, found.skipped)
    }

    fn at(text: &str, usage: &Usage) -> String {
        text[usage.span.clone()].to_string()
    }

    #[test]
    fn commit_pins_carry_their_tag_comment() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        for (comment, tag) in [
            ("# v1.2.3", Some("v1.2.3")),
            ("  #tag=vpc-v1.2.3 keep", Some("vpc-v1.2.3")),
            ("// tag: 1.2.3", Some("1.2.3")),
            ("# pinned by hand", None),
            ("", None),
        ] {
            let text = format!(
                "module \"a\" {{\n  source = \"github.com/acme/mods?ref={sha}\" {comment}\n}}\n"
            );
            let (usages, _) = scan_text(&text);
            let usage = &usages[0];
            assert_eq!(usage.form, VersionForm::CommitPin);
            assert_eq!(at(&text, usage), sha);
            let found = usage.pin_comment.as_ref().map(|c| {
                assert_eq!(&text[c.span.clone()], c.tag, "{comment}");
                c.tag.as_str()
            });
            assert_eq!(found, tag, "{comment}");
        }
    }

    #[test]
    fn git_ref_span_points_at_the_version_text() {
        let text = "module \"sqs\" {\n  source = \"git::https://github.com/acme/mods.git//modules/sqs?ref=v0.12.1\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(skipped.is_empty());
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!(at(text, usage), "v0.12.1");
        assert_eq!(usage.current, "v0.12.1");
        let line2 = text.lines().nth(1).unwrap();
        assert_eq!(
            (usage.line, usage.column),
            (2, line2.find("v0.12.1").unwrap() + 1)
        );
        assert_eq!(usage.source.id, "acme/mods/sqs");
        assert_eq!(usage.form, VersionForm::GitRef);
    }

    #[test]
    fn registry_version_attribute_is_the_span() {
        let text = "module \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"~> 5.1\"\n}\nmodule \"nov\" {\n  source = \"terraform-aws-modules/iam/aws\"\n}\n";
        let (usages, skipped) = scan_text(text);
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!(
            (at(text, usage).as_str(), usage.line, usage.column),
            ("~> 5.1", 3, 14)
        );
        assert_eq!(usage.form, VersionForm::RegistryAttribute);
        assert_eq!(skipped[0].reason, "no version constraint");
        assert_eq!(skipped[0].line, 6);
    }

    #[test]
    fn template_literal_ref_is_rewritable_and_origin_comes_from_locals() {
        let text = "locals {\n  base_source_url = \"git::git@github.com:acme/mods.git//modules/vpc\"\n}\nterraform {\n  source = \"${local.base_source_url}?ref=v1.2.3\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(skipped.is_empty(), "{skipped:?}");
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!(at(text, usage), "v1.2.3");
        assert_eq!(usage.line, 5);
        assert_eq!(usage.source.id, "acme/mods/vpc");
        assert_eq!(
            usage.source.origin,
            Origin::Git {
                url: "git@github.com:acme/mods.git".into()
            }
        );
    }

    #[test]
    fn version_held_in_a_local_points_into_the_locals_block() {
        let text = "locals {\n  ver = \"v2.0.0\"\n}\nmodule \"a\" {\n  source = \"github.com/acme/mods//x?ref=${local.ver}\"\n}\n";
        let (usages, _) = scan_text(text);
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!((at(text, usage).as_str(), usage.line), ("v2.0.0", 2));
    }

    #[test]
    fn unknown_interpolations_are_skipped_with_a_reason() {
        let text = "terraform {\n  source = \"${include.envcommon.locals.base}?ref=v1.0.0\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(usages.is_empty());
        assert_eq!(
            skipped[0].reason,
            "cannot resolve `include.envcommon.locals.base` from this file"
        );
        assert_eq!(
            skipped[0].source,
            "\"${include.envcommon.locals.base}?ref=v1.0.0\""
        );
    }

    #[test]
    fn locals_cycle_is_skipped_not_looping() {
        let text = "locals {\n  a = \"${local.b}\"\n  b = \"${local.a}\"\n}\nmodule \"m\" {\n  source = \"${local.a}?ref=v1.0.0\"\n}\n";
        let (_, skipped) = scan_text(text);
        assert!(skipped[0].reason.contains("cycle"), "{skipped:?}");
    }

    #[test]
    fn version_written_with_an_escape_is_read_but_not_rewritten() {
        let text = "module \"m\" {\n  source = \"github.com/acme/mods?ref=v1.0.\\u0030\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(usages.is_empty(), "{usages:?}");
        assert_eq!(skipped[0].source, "github.com/acme/mods?ref=v1.0.0");
        assert!(skipped[0].reason.contains("cannot be rewritten"));
    }

    #[test]
    fn terragrunt_stack_units_are_usages() {
        let text = "unit \"vpc\" {\n  source = \"git::git@github.com:acme/units.git//vpc?ref=v1.0.0\"\n  path   = \"vpc\"\n}\n";
        let (usages, _) = scan_text(text);
        assert_eq!(usages.len(), 1);
        assert_eq!(
            (usages[0].source.id.as_str(), at(text, &usages[0]).as_str()),
            ("acme/units/vpc", "v1.0.0")
        );
    }

    #[test]
    fn escapes_elsewhere_in_the_string_keep_the_version_rewritable() {
        let text = "module \"m\" {\n  source = \"git::https://github.com/acme/mods.git//modules/a\\u002fb?ref=v1.0.0&x=\\\"q\\\"\"\n}\n";
        let (usages, skipped) = scan_text(text);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(usages[0].source.id, "acme/mods/a/b");
        assert_eq!(at(text, &usages[0]), "v1.0.0");
    }

    #[test]
    fn bom_shifts_spans_by_its_length() {
        let text = "\u{feff}module \"m\" {\n  source = \"github.com/acme/mods?ref=v1.0.0\"\n}\n";
        let (usages, _) = scan_text(text);
        assert_eq!(at(text, &usages[0]), "v1.0.0");
        assert_eq!(usages[0].line, 2);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let text = "module \"m\" {\n  source = \"github.com/a/b?ref=v1\"\n  version = = 3\n}\n";
        let err = scan_file(Path::new("x.tf"), text.as_bytes()).unwrap_err();
        assert_eq!((err.file.as_path(), err.line), (Path::new("x.tf"), 3));
        assert!(err.column > 1, "{err:?}");
        assert!(!err.message.is_empty());
    }

    #[test]
    fn hcl_files_are_picked_by_name_or_terraform_block() {
        let source = b"terraform {\n source = \"x\"\n}";
        assert!(is_module_file("a/terragrunt.hcl", source));
        assert!(is_module_file(
            "a/terragrunt.stack.hcl",
            b"unit \"a\" { source = 1 }"
        ));
        assert!(is_module_file(
            "_envcommon/vpc.hcl",
            b"locals { source = 1 }"
        ));
        assert!(is_module_file("a/x.hcl", source));
        assert!(!is_module_file("a/account.hcl", b"locals { id = 1 }"));
        assert!(!is_module_file("a/.terraform.lock.hcl", source));
        assert!(is_module_file("a/main.tofu", source));
        assert!(!is_module_file("a/vars.tfvars", source));
        assert!(is_module_file(
            "a/main.tf.json",
            br#"{"module": {"a": {"source": "x"}}}"#
        ));
        assert!(is_module_file(
            "a/main.tf.json",
            br#"{"module": {"a": {"\u0073ource": "x"}}}"#
        ));
        assert!(is_module_file(
            "a/terragrunt.hcl.json",
            br#"{"terraform": {"source": "x"}}"#
        ));
        // Nothing that could reference a module: not even parsed.
        assert!(!is_module_file("a/variables.tf", b"variable \"x\" {\n"));
        assert!(!is_module_file("a/terragrunt.hcl", b"inputs = {}"));
        assert!(!is_module_file("a/main.tf.json", br#"{"variable": {}}"#));
        // A broken module block is parsed, so its error is reported.
        assert!(is_module_file("a/broken.tf", b"module \"x\" {\n"));
    }

    /// Writes `files` under a new folder and scans `scanned` there as the walk would.
    fn scan_tree(files: &[(&str, &str)], scanned: &str) -> FileFindings {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("live");
        for (rel, text) in files {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let root = root.canonicalize().unwrap();
        let bytes = std::fs::read(root.join(scanned)).unwrap();
        scan_file_in(&root, Path::new(scanned), &bytes, None).unwrap()
    }

    const GKE_UNIT: &str = "locals {\n  common = read_terragrunt_config(find_in_parent_folders(\"common.hcl\"))\n}\nterraform {\n  source = \"github.com/acme/gke?ref=${local.common.locals.versions.gke}\"\n}\n";

    /// Files in memory, by absolute path: what extraction reads when no disk is involved.
    struct Memory(std::collections::HashMap<PathBuf, &'static str>);

    impl Tree for Memory {
        fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
            let text = self.0.get(path).ok_or(std::io::ErrorKind::NotFound)?;
            Ok(text.as_bytes().to_vec())
        }

        fn is_file(&self, path: &Path) -> bool {
            self.0.contains_key(path)
        }

        fn exists(&self, path: &Path) -> bool {
            self.0.keys().any(|known| known.starts_with(path))
        }
    }

    /// Scans `scanned` of the working dir `/live` whose files are `files`, all in memory.
    fn scan_memory(files: &[(&str, &'static str)], scanned: &str) -> FileFindings {
        let root = Path::new("/live");
        let tree = Memory(files.iter().map(|(p, t)| (root.join(p), *t)).collect());
        let bytes = tree.read(&root.join(scanned)).unwrap();
        scan_file_sharing(root, Path::new(scanned), &bytes, None, None, &tree).unwrap()
    }

    const ENVCOMMON_UNIT: &str = "include \"envcommon\" {\n  path   = \"${dirname(find_in_parent_folders(\"root.hcl\"))}/_envcommon/sqs.hcl\"\n  expose = true\n}\nterraform {\n  source = \"${include.envcommon.locals.base}?ref=v1.4.0\"\n}\n";

    #[test]
    fn includes_and_path_functions_resolve_over_the_tree_in_memory() {
        let envcommon = "locals {\n  base = \"git::https://github.com/acme/terraform-aws-sqs.git//modules/sqs\"\n}\n";
        let found = scan_memory(
            &[
                ("root.hcl", "# root\n"),
                ("_envcommon/sqs.hcl", envcommon),
                ("dev/sqs/terragrunt.hcl", ENVCOMMON_UNIT),
            ],
            "dev/sqs/terragrunt.hcl",
        );
        let [usage] = found.usages.as_slice() else {
            panic!("{found:?}")
        };
        assert_eq!(usage.source.id, "acme/terraform-aws-sqs/sqs");
        assert_eq!(usage.current, "v1.4.0");
        assert_eq!(usage.file, Path::new("dev/sqs/terragrunt.hcl"));
        let read: Vec<&Path> = found.scanned.iter().map(|(p, _)| p.as_path()).collect();
        assert!(read.contains(&Path::new("_envcommon/sqs.hcl")), "{read:?}");
    }

    #[test]
    fn a_missing_included_file_skips_the_reference_that_needs_it() {
        let found = scan_memory(
            &[("root.hcl", ""), ("dev/sqs/terragrunt.hcl", ENVCOMMON_UNIT)],
            "dev/sqs/terragrunt.hcl",
        );
        assert!(found.usages.is_empty(), "{found:?}");
        assert!(
            found.skipped[0]
                .reason
                .contains("cannot read _envcommon/sqs.hcl"),
            "{found:?}"
        );
    }

    #[test]
    fn a_value_read_from_a_file_in_memory_is_a_usage_of_that_file() {
        let common = "locals {\n  versions = { gke = \"v1.2.0\" }\n}\n";
        let found = scan_memory(
            &[("common.hcl", common), ("dev/gke/terragrunt.hcl", GKE_UNIT)],
            "dev/gke/terragrunt.hcl",
        );
        let [usage] = found.usages.as_slice() else {
            panic!("{found:?}")
        };
        assert_eq!(usage.file, Path::new("common.hcl"));
        assert_eq!(&common[usage.span.clone()], "v1.2.0");
    }

    #[test]
    fn files_that_read_each_other_stop_with_a_reason() {
        let a = "locals {\n  b = read_terragrunt_config(\"b.hcl\")\n  v = local.b.locals.v\n}\n";
        let b = "locals {\n  a = read_terragrunt_config(\"a.hcl\")\n  v = local.a.locals.v\n}\n";
        let unit = "locals {\n  a = read_terragrunt_config(\"../a.hcl\")\n}\nterraform {\n  source = \"github.com/acme/m?ref=${local.a.locals.v}\"\n}\n";
        let found = scan_memory(
            &[("a.hcl", a), ("b.hcl", b), ("dev/terragrunt.hcl", unit)],
            "dev/terragrunt.hcl",
        );
        assert!(found.usages.is_empty(), "{found:?}");
        assert!(
            found.skipped[0]
                .reason
                .contains("read_terragrunt_config(\"b.hcl\")"),
            "{found:?}"
        );
        assert_eq!(found.scanned.len(), 3, "each file is read once: {found:?}");
    }

    #[test]
    fn a_version_read_from_another_file_is_a_usage_of_that_file() {
        let common = "locals {\n  versions = {\n    gke = \"v1.2.0\"\n  }\n}\n";
        let found = scan_tree(
            &[("common.hcl", common), ("dev/gke/terragrunt.hcl", GKE_UNIT)],
            "dev/gke/terragrunt.hcl",
        );
        let [usage] = found.usages.as_slice() else {
            panic!("{found:?}")
        };
        assert_eq!(
            (usage.file.as_path(), usage.line, usage.column),
            (Path::new("common.hcl"), 3, 12)
        );
        assert_eq!(&common[usage.span.clone()], "v1.2.0");
    }

    #[test]
    fn a_version_outside_the_working_dir_is_skipped_with_where_it_is() {
        let common = "locals {\n  versions = { gke = \"v1.2.0\" }\n}\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("common.hcl"), common).unwrap();
        let root = dir.path().join("live").join("dev");
        std::fs::create_dir_all(root.join("gke")).unwrap();
        let root = root.canonicalize().unwrap();
        let found = scan_file_in(
            &root,
            Path::new("gke/terragrunt.hcl"),
            GKE_UNIT.as_bytes(),
            None,
        )
        .unwrap();
        assert!(found.usages.is_empty(), "{found:?}");
        assert!(
            found.skipped[0].reason.contains("outside the working dir"),
            "{found:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_file_is_not_read_for_its_values() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(
            root.join("real.hcl"),
            "locals {\n  versions = { gke = \"v1\" }\n}\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(root.join("real.hcl"), root.join("common.hcl")).unwrap();
        std::fs::create_dir_all(root.join("dev/gke")).unwrap();
        let found = scan_file_in(
            &root,
            Path::new("dev/gke/terragrunt.hcl"),
            GKE_UNIT.as_bytes(),
            None,
        )
        .unwrap();
        assert!(found.usages.is_empty(), "{found:?}");
        assert!(
            found.skipped[0].reason.contains("cannot read common.hcl"),
            "{found:?}"
        );
    }

    #[test]
    fn try_takes_the_first_argument_that_resolves_and_objects_are_followed() {
        let text = "locals {\n  v = { vpc = try(values.vpc_ref, \"v1.13.0\") }\n  none = try(values.a, values.b)\n}\nunit \"a\" {\n  source = \"github.com/acme/u//vpc?ref=${local.v.vpc}\"\n  path   = \"a\"\n}\nunit \"b\" {\n  source = \"github.com/acme/u//b?ref=${local.none}\"\n  path   = \"b\"\n}\n";
        let (usages, skipped) = scan_text(text);
        let [usage] = usages.as_slice() else {
            panic!("{usages:?}")
        };
        assert_eq!((at(text, usage).as_str(), usage.line), ("v1.13.0", 2));
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(
            skipped[0].reason.contains("try(values.a, values.b)"),
            "{skipped:?}"
        );
    }

    fn scan_json(text: &str) -> FileFindings {
        scan_file(Path::new("dev/main.tf.json"), text.as_bytes()).unwrap()
    }

    #[test]
    fn json_module_blocks_keep_spans_and_templates_are_skipped() {
        let text = r#"{"module": [{"a": {"source": "github.com/acme/a?ref=v1.0.0"}},
  {"b": [{"source": "terraform-aws-modules/vpc/aws", "version": "~> 5.1"}]},
  {"c": {"source": "${var.x}?ref=v1"}}, {"d": {"source": "acme/x/aws"}}],
  "terraform": {"required_version": ">= 1.5"}}"#;
        let found = scan_json(text);
        let got: Vec<_> = found
            .usages
            .iter()
            .map(|u| (u.source.id.as_str(), u.line, at(text, u)))
            .collect();
        assert_eq!(
            got,
            [
                ("acme/a", 1, "v1.0.0".to_string()),
                ("terraform-aws-modules/vpc/aws", 2, "~> 5.1".to_string())
            ]
        );
        let reasons: Vec<_> = found.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "templates inside JSON strings are not evaluated",
                "no version constraint"
            ]
        );
    }

    #[test]
    fn json_escapes_keep_the_version_rewritable_only_when_written_plainly() {
        let text = r#"{"module": {"a": {"source": "github.com/acme/a\u002fb?ref=v1.0.0"}, "b": {"source": "github.com/acme/b?ref=v1.0.\u0030"}}}"#;
        let found = scan_json(text);
        assert_eq!(found.usages.len(), 1, "{found:?}");
        assert_eq!(at(text, &found.usages[0]), "v1.0.0");
        assert!(found.skipped[0].reason.contains("cannot be rewritten"));
    }

    #[test]
    fn json_syntax_errors_have_line_and_column() {
        let err = scan_file(
            Path::new("x.tf.json"),
            b"{\n  \"module\": {\n    \"a\" 1\n}",
        )
        .expect_err("an error");
        assert_eq!((err.line, err.column), (3, 9), "{err:?}");
    }

    #[test]
    fn a_plain_literal_is_found_and_a_split_one_is_not() {
        let text = "locals {\n  a = \"v1.2.0\"\n  b = \"x${y}v2\"\n  c = \"v\\u0033\"\n}\n";
        let span = |needle: &str| {
            let start = text.find(needle).unwrap();
            start..start + needle.len()
        };
        let file = Path::new("common.hcl");
        assert!(is_plain_literal_at(
            file,
            text.as_bytes(),
            &span("v1.2.0"),
            "v1.2.0"
        ));
        assert!(!is_plain_literal_at(
            file,
            text.as_bytes(),
            &span("x${y}v2"),
            "x${y}v2"
        ));
        assert!(!is_plain_literal_at(
            file,
            text.as_bytes(),
            &span("v1.2.0"),
            "v1.2.1"
        ));
        assert!(!is_plain_literal_at(file, text.as_bytes(), &(2..2), ""));
    }
}
