//! The upgrade specification: what `report` writes and `update` reads.
//!
//! Keys are PascalCase and a superset of Patcher's published format, so existing workflows
//! (`fromJson(spec).Dependencies`, `matrix.dependency.ID`) keep working and a spec written by
//! Patcher itself is still accepted. docs/spec.schema.json describes it.

use crate::model::{Origin, ScanResult, VersionForm};
use crate::plan::{origin_label, DependencyPlan, Plan, Strategy, UsagePlan};
use crate::version::{parse_constraint, parse_tag};
use serde::{Deserialize, Serialize, Serializer};
use std::io::Write as _;
use std::path::{Path, PathBuf};

mod compact;
pub use compact::{compact, to_compact_json};

/// A whole spec: the environment's globs, the strategy, what has an update, and what was left
/// alone or failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Spec {
    /// Include globs joined with ",".
    #[serde(default)]
    pub include_dir_pattern: String,
    /// Exclude globs joined with ",".
    #[serde(default)]
    pub exclude_dir_pattern: String,
    /// The strategy the targets were picked with.
    #[serde(default)]
    pub update_strategy: Strategy,
    /// Dependencies with an update; a group's entry holds its members.
    pub dependencies: Vec<SpecDependency>,
    /// Sources the scan left alone and usages the listings could not place, each with why.
    #[serde(default)]
    pub skipped: Vec<SpecSkipped>,
    /// File parse errors and listing errors.
    #[serde(default)]
    pub errors: Vec<SpecProblem>,
    /// IDs of dependencies with an update that this run leaves to a later one
    /// (`max_pull_requests`); they are not in `Dependencies` of the compact form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<String>,
    /// What `minimum_release_age` held back, or could not apply to for want of dates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The compact form (the action's `spec` output): no usages, skipped sources or errors,
    /// which stay in the full spec (`spec_file`); `update` plans each usage afresh.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compact: bool,
}

impl Spec {
    /// The entry `update` works on: the matrix passes only the ID, of a dependency or of a
    /// group; a group's members are found inside its entry.
    pub fn dependency(&self, id: &str) -> Option<&SpecDependency> {
        self.dependencies.iter().find_map(|dep| match dep.id == id {
            true => Some(dep),
            false => dep.members.iter().find(|m| m.id == id),
        })
    }
}

/// Where a dependency's versions are listed from (`SourceKind` in the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Tags of a git repository.
    Git,
    /// A Terraform/OpenTofu module registry.
    Registry,
}

/// Only `ID` is required: Patcher's own specs lack our keys and a hand-written one may be terse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecDependency {
    /// Dependency ID, or a group ID (`group-<name>`) for a group's entry.
    #[serde(rename = "ID")]
    pub id: String,
    /// git: organisation/owner; registry: namespace. Empty in a group's entry.
    #[serde(default)]
    pub org: String,
    /// git: repository name; registry: module name. Empty in a group's entry.
    #[serde(default)]
    pub repo: String,
    /// git: path inside the repository, leading `modules/` dropped ("" for the root);
    /// registry: provider. Empty in a group's entry.
    #[serde(default)]
    pub module: String,
    /// Registry constraints as written (`~> 5.1`), "; "-joined when usages differ; null for
    /// git refs and exact pins.
    #[serde(default)]
    pub constraints: Option<String>,
    /// The highest of the usages' safe targets (newer, before their next breaking change);
    /// None when no usage has one.
    #[serde(default)]
    pub target_safe_version: Option<String>,
    /// The highest `next-breaking` target of the usages (the next breaking version, else the
    /// latest); None when no usage has one.
    #[serde(default)]
    pub target_breaking_version: Option<String>,
    /// The highest version any usage moves to.
    #[serde(default)]
    pub target_version: Option<String>,
    /// The distinct version texts the usages write, ordered by the version they stand for.
    #[serde(default)]
    pub current_versions: Vec<String>,
    /// The highest version published for the usages' tags, whether the strategy picks it or not.
    #[serde(default)]
    pub latest_version: Option<String>,
    /// Whether a usage that moves crosses a breaking change (for a group: any member's).
    #[serde(default)]
    pub breaking: bool,
    /// The lowest breaking version ahead of the usages; None when no breaking release is ahead.
    #[serde(default)]
    pub next_breaking_version: Option<String>,
    /// GitHub release page of `TargetVersion`; None when the module is not on github.com.
    #[serde(default, rename = "ReleaseNotesURL")]
    pub release_notes_url: Option<String>,
    /// Git or registry; None in specs that lack the key (Patcher's own, group entries).
    #[serde(default)]
    pub source_kind: Option<SourceKind>,
    /// The git URL the tags are listed from; None for registry modules.
    #[serde(default, rename = "RepositoryURL")]
    pub repository_url: Option<String>,
    /// `host/namespace/name/provider` of a registry module; None for git sources.
    #[serde(default)]
    pub registry_address: Option<String>,
    /// Every usage of the dependency; empty in the compact form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<SpecUsage>,
    /// How many usages the dependency has (also in the compact form, which lists none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_count: Option<usize>,
    /// A group's entry (`ID` `group-<name>`): its members with an update, each a dependency
    /// entry of its own; the group's pull request moves them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<SpecDependency>,
}

/// One usage of a dependency in the full spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecUsage {
    /// Path relative to the working dir; a spec read back must keep it so (no `..`, not
    /// absolute).
    #[serde(serialize_with = "path_text")]
    pub file: PathBuf,
    /// 1-based line of the version text.
    pub line: usize,
    /// The version text exactly as written (`v1.2.3`, `~> 5.1`).
    pub current_version: String,
    /// The version the strategy moves this usage to; None when it stays.
    #[serde(default)]
    pub target_version: Option<String>,
    /// The highest newer version before the next breaking change; None when there is none
    /// (the next release already breaks).
    #[serde(default)]
    pub target_safe_version: Option<String>,
    /// The next breaking version, else the latest; None when nothing newer is published.
    #[serde(default)]
    pub target_breaking_version: Option<String>,
    /// Whether moving to `TargetVersion` crosses a breaking change.
    #[serde(default)]
    pub breaking: bool,
    /// Why the usage does not move although the dependency does (e.g. a range constraint).
    #[serde(default)]
    pub note: Option<String>,
}

/// A module reference left alone: unversioned or local, or a version the listing cannot place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecSkipped {
    /// Path relative to the working dir.
    #[serde(serialize_with = "path_text")]
    pub file: PathBuf,
    /// 1-based line of the reference.
    pub line: usize,
    /// The source address as written (credentials redacted), or `<dependency ID>@<version>`
    /// for a usage the listing cannot place.
    pub source: String,
    /// Why it is left alone.
    pub reason: String,
}

/// A file that did not parse (File/Line/Column) or a dependency whose versions could not be
/// listed (DependencyID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecProblem {
    /// The file (or folder) that could not be parsed or read, relative to the working dir; None
    /// for a listing error.
    #[serde(default, serialize_with = "optional_path_text")]
    pub file: Option<PathBuf>,
    /// 1-based line of the error, 0 when the file could not be read; None for a listing error.
    #[serde(default)]
    pub line: Option<usize>,
    /// 1-based column of the error, 0 when the file could not be read; None for a listing
    /// error.
    #[serde(default)]
    pub column: Option<usize>,
    /// The dependency whose versions could not be listed; None for a parse error.
    #[serde(default, rename = "DependencyID")]
    pub dependency_id: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Why a spec cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec file cannot be read (missing, a symbolic link, not UTF-8).
    #[error("reading {}: {message}", path.display())]
    Read {
        /// The spec file.
        path: PathBuf,
        /// The I/O or decoding error.
        message: String,
    },
    /// The text is not JSON of a spec.
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        /// Where the text came from: the file's path or the input's name.
        origin: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's message without its own position.
        message: String,
    },
    /// A usage path would lead outside the working dir.
    #[error("{origin}: dependency {id}: usage path `{}` must be relative and must not contain `..`", path.display())]
    UnsafePath {
        /// Where the text came from.
        origin: String,
        /// Dependency ID of the entry with the path.
        id: String,
        /// The path as the spec gives it.
        path: PathBuf,
    },
}

/// Lossy so that a non-UTF-8 file name cannot make the whole report fail.
fn path_text<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

fn optional_path_text<S: Serializer>(
    path: &Option<PathBuf>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => path_text(path, serializer),
        None => serializer.serialize_none(),
    }
}

/// Only dependencies with an update are listed; skipped sources and errors are all kept.
pub fn from_plan(
    plan: &Plan,
    include: &[String],
    exclude: &[String],
    strategy: Strategy,
    scan: &ScanResult,
) -> Spec {
    Spec {
        include_dir_pattern: include.join(","),
        exclude_dir_pattern: exclude.join(","),
        update_strategy: strategy,
        dependencies: plan
            .dependencies
            .iter()
            .filter(|dep| dep.has_update())
            .map(spec_dependency)
            .collect(),
        skipped: skipped(plan, scan),
        errors: problems(plan, scan),
        deferred: Vec::new(),
        notes: Vec::new(),
        compact: false,
    }
}

fn spec_dependency(dep: &DependencyPlan) -> SpecDependency {
    let source = &dep.source;
    let (source_kind, repository_url, registry_address) = match &source.origin {
        Origin::Git { url } => (SourceKind::Git, Some(url.clone()), None),
        registry @ Origin::Registry { .. } => {
            (SourceKind::Registry, None, Some(origin_label(registry)))
        }
    };
    SpecDependency {
        id: source.id.clone(),
        org: source.org.clone(),
        repo: source.repo.clone(),
        module: source.module.clone(),
        constraints: constraints(&dep.usages),
        target_safe_version: highest(dep.usages.iter().map(|u| u.target_safe.as_deref())),
        target_breaking_version: highest(dep.usages.iter().map(|u| u.target_breaking.as_deref())),
        target_version: dep.target().map(str::to_string),
        current_versions: dep.current_versions.clone(),
        latest_version: dep.latest.clone(),
        breaking: dep.is_breaking(),
        next_breaking_version: dep.next_breaking.clone(),
        release_notes_url: dep.release_notes_url.clone(),
        source_kind: Some(source_kind),
        repository_url,
        registry_address,
        usages: dep.usages.iter().map(spec_usage).collect(),
        usage_count: Some(dep.usages.len()),
        members: Vec::new(),
    }
}

fn spec_usage(plan: &UsagePlan) -> SpecUsage {
    SpecUsage {
        file: plan.usage.file.clone(),
        line: plan.usage.line,
        current_version: plan.usage.current.clone(),
        target_version: plan.target.clone(),
        target_safe_version: plan.target_safe.clone(),
        target_breaking_version: plan.target_breaking.clone(),
        breaking: plan.breaking,
        note: plan.note.clone(),
    }
}

fn highest<'a>(texts: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    texts.flatten().filter_map(parse_tag).max().map(|v| v.text)
}

/// Exact pins are versions, not constraints, as far as Patcher's `Constraints` key goes.
fn constraints(usages: &[UsagePlan]) -> Option<String> {
    let mut texts: Vec<&str> = usages
        .iter()
        .filter(|u| u.usage.form == VersionForm::RegistryAttribute)
        .map(|u| u.usage.current.as_str())
        .filter(|text| parse_constraint(text).is_some_and(|c| c.exact().is_none()))
        .collect();
    texts.sort_unstable();
    texts.dedup();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// What the scan left alone, and the usages the listings could not place (a ref that is no
/// version tag, an untagged commit, a constraint nothing satisfies, a moving tag).
fn skipped(plan: &Plan, scan: &ScanResult) -> Vec<SpecSkipped> {
    let by_scan = scan.skipped.iter().map(|s| SpecSkipped {
        file: s.file.clone(),
        line: s.line,
        source: s.source.clone(),
        reason: s.reason.clone(),
    });
    let by_plan = plan.dependencies.iter().flat_map(|dep| {
        dep.usages.iter().filter_map(|u| {
            u.skipped.as_ref().map(|reason| SpecSkipped {
                file: u.usage.file.clone(),
                line: u.usage.line,
                source: format!("{}@{}", dep.source.id, u.usage.current),
                reason: reason.clone(),
            })
        })
    });
    let mut skipped: Vec<SpecSkipped> = by_scan.chain(by_plan).collect();
    skipped.sort_by(|a, b| (&a.file, a.line, &a.source).cmp(&(&b.file, b.line, &b.source)));
    skipped
}

fn problems(plan: &Plan, scan: &ScanResult) -> Vec<SpecProblem> {
    let mut file_errors: Vec<SpecProblem> = scan
        .errors
        .iter()
        .map(|e| SpecProblem {
            file: Some(e.file.clone()),
            line: Some(e.line),
            column: Some(e.column),
            dependency_id: None,
            message: e.message.clone(),
        })
        .collect();
    file_errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    let listing_errors = plan.dependencies.iter().filter_map(|dep| {
        dep.error.as_ref().map(|message| SpecProblem {
            file: None,
            line: None,
            column: None,
            dependency_id: Some(dep.source.id.clone()),
            message: message.clone(),
        })
    });
    file_errors.extend(listing_errors);
    file_errors
}

/// Pretty, with a trailing newline; the same spec always gives the same bytes. `'` is written
/// as `\u0027` because workflows paste the spec into a single-quoted shell string.
pub fn to_json(spec: &Spec) -> String {
    let mut bytes = Vec::new();
    write_json(spec, &mut bytes).expect("writing to memory does not fail");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

/// [`to_json`] streamed into `out`: a spec of 100,000 usages is tens of megabytes, which is
/// never held as a string.
pub fn write_json(spec: &Spec, out: impl std::io::Write) -> std::io::Result<()> {
    let mut out = QuoteEscaper(std::io::BufWriter::new(out));
    serde_json::to_writer_pretty(&mut out, spec)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `'` as `\u0027`. Outside strings JSON has no `'`, so this only touches string
/// contents; `'` is ASCII, so a UTF-8 sequence is never split.
struct QuoteEscaper<W: std::io::Write>(W);

impl<W: std::io::Write> std::io::Write for QuoteEscaper<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for (i, part) in bytes.split(|b| *b == b'\'').enumerate() {
            if i > 0 {
                self.0.write_all(b"\\u0027")?;
            }
            self.0.write_all(part)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A spec file, as `report --output-spec` or a workflow step wrote it.
pub fn read_file(path: &std::path::Path) -> Result<Spec, SpecError> {
    let read = |message: String| SpecError::Read {
        path: path.to_path_buf(),
        message,
    };
    let bytes = crate::edit::read_regular(path).map_err(|e| read(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| read(e.to_string()))?;
    from_json(&text, &path.display().to_string())
}

/// Parses a spec's JSON (a leading BOM is ignored); `origin` names the text in errors. Usage
/// paths must be relative without `..`, since a spec may come from a workflow input.
pub fn from_json(text: &str, origin: &str) -> Result<Spec, SpecError> {
    // Editors on Windows add a BOM; it carries no meaning and would fail at 1:1.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let spec: Spec = serde_json::from_str(text).map_err(|error| SpecError::Parse {
        origin: origin.to_string(),
        line: error.line(),
        column: error.column(),
        message: bare_message(&error),
    })?;
    for dep in &spec.dependencies {
        if let Some(usage) = dep.usages.iter().find(|u| !is_safe_path(&u.file)) {
            return Err(SpecError::UnsafePath {
                origin: origin.to_string(),
                id: dep.id.clone(),
                path: usage.file.clone(),
            });
        }
    }
    Ok(spec)
}

/// serde_json appends " at line L column C", which our `origin:line:column:` prefix already says.
fn bare_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// A spec can come from an untrusted workflow input: its paths must stay in the working dir,
/// whichever separator or drive syntax they use.
fn is_safe_path(path: &Path) -> bool {
    let text = path.to_string_lossy();
    let has_drive = matches!(text.as_bytes(), [letter, b':', ..] if letter.is_ascii_alphabetic());
    !(text.is_empty()
        || path.is_absolute()
        || text.starts_with(['/', '\\'])
        || has_drive
        || text.split(['/', '\\']).any(|part| part == ".."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileError, Listed, Listings, Skipped, Source, Usage};
    use crate::plan::{plan, Versions, Wanted};
    use serde_json::Value;

    fn usage(file: &str, line: usize, source: &Source, current: &str, form: VersionForm) -> Usage {
        Usage {
            file: file.into(),
            line,
            column: 12,
            span: 10..10 + current.len(),
            source: source.clone().into(),
            current: current.into(),
            form,
            pin_comment: None,
        }
    }

    fn git_source(repo: &str) -> Source {
        Source {
            id: format!("acme/{repo}/sqs"),
            org: "acme".into(),
            repo: repo.into(),
            module: "sqs".into(),
            origin: Origin::Git {
                url: format!("https://github.com/acme/{repo}.git"),
            },
            github_repo: Some(format!("acme/{repo}")),
        }
    }

    fn registry_source() -> Source {
        Source {
            id: "terraform-aws-modules/vpc/aws".into(),
            org: "terraform-aws-modules".into(),
            repo: "vpc".into(),
            module: "aws".into(),
            origin: Origin::Registry {
                host: "registry.terraform.io".into(),
                namespace: "terraform-aws-modules".into(),
                name: "vpc".into(),
                provider: "aws".into(),
            },
            github_repo: None,
        }
    }

    /// A scan with a git dependency to update, a registry one moving across a major, one
    /// already current, one whose listing failed, plus skipped sources and a broken file.
    fn fixture() -> (ScanResult, Listings) {
        let messaging = git_source("messaging");
        let current = git_source("current");
        let broken = git_source("private");
        let vpc = registry_source();
        let scan = ScanResult {
            usages: vec![
                usage(
                    "dev/b/main.tf",
                    7,
                    &messaging,
                    "v0.8.0",
                    VersionForm::GitRef,
                ),
                usage(
                    "dev/a/main.tf",
                    3,
                    &messaging,
                    "v0.7.1",
                    VersionForm::GitRef,
                ),
                usage(
                    "dev/o'brien/main.tf",
                    1,
                    &current,
                    "v1.0.0",
                    VersionForm::GitRef,
                ),
                usage(
                    "dev/a/vpc.tf",
                    4,
                    &vpc,
                    "~> 5.1",
                    VersionForm::RegistryAttribute,
                ),
                usage(
                    "dev/b/vpc.tf",
                    4,
                    &vpc,
                    ">= 5.0, < 6.0",
                    VersionForm::RegistryAttribute,
                ),
                usage("dev/c/main.tf", 2, &broken, "v1.0.0", VersionForm::GitRef),
            ],
            skipped: vec![
                Skipped {
                    file: "dev/z.tf".into(),
                    line: 9,
                    source: "../modules/local".into(),
                    reason: "local path".into(),
                },
                Skipped {
                    file: "dev/a.tf".into(),
                    line: 1,
                    source: "git::https://github.com/acme/x.git".into(),
                    reason: "no ref".into(),
                },
            ],
            errors: vec![FileError {
                file: "dev/bad.tf".into(),
                line: 4,
                column: 2,
                message: "expected `}`".into(),
            }],
            ..ScanResult::default()
        };
        let mut listings = Listings::new();
        let list = |versions: &[&str]| Ok(versions.iter().map(|v| Listed::name(*v)).collect());
        listings.insert(
            messaging.origin.clone(),
            list(&["v0.7.1", "v0.8.0", "v0.8.3", "v0.9.0", "v0.9.2"]),
        );
        listings.insert(current.origin.clone(), list(&["v1.0.0"]));
        listings.insert(
            vpc.origin.clone(),
            list(&["5.1.0", "5.4.0", "6.0.0", "6.1.0"]),
        );
        listings.insert(broken.origin.clone(), Err("repository not found".into()));
        (scan, listings)
    }

    fn spec_for(scan: &ScanResult, listings: &Listings, strategy: Strategy) -> Spec {
        let plan = plan(&scan.usages, Versions::all(listings), &|_| {
            Some(Wanted::Strategy(strategy))
        })
        .unwrap();
        from_plan(
            &plan,
            &["dev/**".into(), "{*dev*}/**".into()],
            &["dev/skip/**".into()],
            strategy,
            scan,
        )
    }

    #[test]
    fn lists_only_dependencies_with_an_update() {
        let (scan, listings) = fixture();
        let spec = spec_for(&scan, &listings, Strategy::NextBreaking);
        let ids: Vec<_> = spec.dependencies.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["acme/messaging/sqs", "terraform-aws-modules/vpc/aws"]);
        assert_eq!(spec.include_dir_pattern, "dev/**,{*dev*}/**");
        assert_eq!(spec.exclude_dir_pattern, "dev/skip/**");
        assert_eq!(spec.update_strategy, Strategy::NextBreaking);
    }

    #[test]
    fn git_dependency_fields() {
        let (scan, listings) = fixture();
        let spec = spec_for(&scan, &listings, Strategy::NextSafe);
        let dep = &spec.dependencies[0];
        assert_eq!(
            (dep.org.as_str(), dep.repo.as_str(), dep.module.as_str()),
            ("acme", "messaging", "sqs")
        );
        assert_eq!(dep.constraints, None);
        assert_eq!(dep.current_versions, ["v0.7.1", "v0.8.0"]);
        assert_eq!(dep.target_version.as_deref(), Some("v0.8.3"));
        assert_eq!(dep.target_safe_version.as_deref(), Some("v0.8.3"));
        assert_eq!(dep.target_breaking_version.as_deref(), Some("v0.9.0"));
        assert_eq!(dep.latest_version.as_deref(), Some("v0.9.2"));
        assert_eq!(dep.next_breaking_version.as_deref(), Some("v0.8.0"));
        assert!(!dep.breaking);
        assert_eq!(
            dep.release_notes_url.as_deref(),
            Some("https://github.com/acme/messaging/releases/tag/v0.8.3")
        );
        assert_eq!(dep.source_kind, Some(SourceKind::Git));
        assert_eq!(
            dep.repository_url.as_deref(),
            Some("https://github.com/acme/messaging.git")
        );
        assert_eq!(dep.registry_address, None);
        let usages: Vec<_> = dep
            .usages
            .iter()
            .map(|u| {
                (
                    u.file.to_str().unwrap(),
                    u.current_version.as_str(),
                    u.target_version.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            usages,
            [
                ("dev/a/main.tf", "v0.7.1", None),
                ("dev/b/main.tf", "v0.8.0", Some("v0.8.3"))
            ]
        );
    }

    #[test]
    fn registry_dependency_fields() {
        let (scan, listings) = fixture();
        let spec = spec_for(&scan, &listings, Strategy::NextBreaking);
        let dep = &spec.dependencies[1];
        assert_eq!(dep.constraints.as_deref(), Some(">= 5.0, < 6.0; ~> 5.1"));
        assert_eq!(dep.source_kind, Some(SourceKind::Registry));
        assert_eq!(
            dep.registry_address.as_deref(),
            Some("registry.terraform.io/terraform-aws-modules/vpc/aws")
        );
        assert_eq!(dep.repository_url, None);
        assert_eq!(dep.release_notes_url, None);
        assert!(dep.breaking);
        assert_eq!(dep.target_version.as_deref(), Some("6.0.0"));
        let ranged = &dep.usages[1];
        assert_eq!(ranged.target_version.as_deref(), Some("6.0.0"));
        assert_eq!(ranged.note, None);
    }

    #[test]
    fn keeps_skipped_sources_and_errors_in_order() {
        let (scan, listings) = fixture();
        let spec = spec_for(&scan, &listings, Strategy::NextSafe);
        let skipped: Vec<_> = spec
            .skipped
            .iter()
            .map(|s| s.file.to_str().unwrap())
            .collect();
        assert_eq!(skipped, ["dev/a.tf", "dev/z.tf"]);
        assert_eq!(spec.errors.len(), 2);
        assert_eq!(
            spec.errors[0].file.as_deref(),
            Some(Path::new("dev/bad.tf"))
        );
        assert_eq!(
            (spec.errors[0].line, spec.errors[0].column),
            (Some(4), Some(2))
        );
        assert_eq!(
            spec.errors[1].dependency_id.as_deref(),
            Some("acme/private/sqs")
        );
        assert_eq!(spec.errors[1].message, "repository not found");
    }

    #[test]
    fn json_is_deterministic_whatever_the_scan_order() {
        let (mut scan, listings) = fixture();
        let first = to_json(&spec_for(&scan, &listings, Strategy::NextSafe));
        scan.usages.reverse();
        scan.skipped.reverse();
        let second = to_json(&spec_for(&scan, &listings, Strategy::NextSafe));
        assert_eq!(first, second);
        assert!(first.ends_with("}\n"));
        assert!(first.starts_with("{\n  \"IncludeDirPattern\": \"dev/**,{*dev*}/**\",\n"));
    }

    #[test]
    fn json_round_trips() {
        let (scan, listings) = fixture();
        for strategy in [Strategy::NextSafe, Strategy::NextBreaking] {
            let spec = spec_for(&scan, &listings, strategy);
            let json = to_json(&spec);
            let back = from_json(&json, "spec.json").unwrap();
            assert_eq!(back, spec);
            assert_eq!(to_json(&back), json);
        }
    }

    #[test]
    fn single_quotes_never_reach_the_shell() {
        let (mut scan, listings) = fixture();
        scan.errors[0].message = "can't parse".into();
        let json = to_json(&spec_for(&scan, &listings, Strategy::NextSafe));
        assert!(!json.contains('\''));
        assert!(json.contains("can\\u0027t parse"));
        let back = from_json(&json, "spec.json").unwrap();
        assert_eq!(back.errors[0].message, "can't parse");
    }

    #[test]
    fn uses_patcher_key_names() {
        let (scan, listings) = fixture();
        let value: Value =
            serde_json::from_str(&to_json(&spec_for(&scan, &listings, Strategy::NextSafe)))
                .unwrap();
        let dep = &value["Dependencies"][0];
        for key in [
            "ID",
            "Org",
            "Repo",
            "Module",
            "Constraints",
            "TargetSafeVersion",
            "TargetBreakingVersion",
        ] {
            assert!(dep.get(key).is_some(), "missing {key}");
        }
        assert_eq!(dep["Constraints"], Value::Null);
        assert_eq!(dep["SourceKind"], "git");
        assert_eq!(value["UpdateStrategy"], "next-safe");
        assert_eq!(dep["Usages"][0]["File"], "dev/a/main.tf");
    }

    #[test]
    fn accepts_a_patcher_only_spec() {
        let text = r#"{
          "IncludeDirPattern": "{*dev*}/**",
          "ExcludeDirPattern": "",
          "Dependencies": [
            {"ID": "gruntwork-io/terraform-aws-messaging/sqs", "Org": "gruntwork-io",
             "Repo": "terraform-aws-messaging", "Module": "sqs", "Constraints": null,
             "TargetSafeVersion": "v0.8.1", "TargetBreakingVersion": "v1.0.0"}
          ]
        }"#;
        let spec = from_json(text, "patcher-spec.json").unwrap();
        assert_eq!(spec.update_strategy, Strategy::NextSafe);
        assert!(spec.skipped.is_empty() && spec.errors.is_empty());
        let dep = &spec.dependencies[0];
        assert_eq!(dep.id, "gruntwork-io/terraform-aws-messaging/sqs");
        assert_eq!(dep.target_safe_version.as_deref(), Some("v0.8.1"));
        assert_eq!(dep.target_breaking_version.as_deref(), Some("v1.0.0"));
        assert_eq!((dep.target_version.as_ref(), dep.source_kind), (None, None));
        assert!(dep.usages.is_empty() && !dep.breaking);
        let minimal = from_json(r#"{"Dependencies":[{"ID":"a/b/c"}]}"#, "m.json").unwrap();
        assert_eq!(
            minimal.dependency("a/b/c").map(|d| d.org.as_str()),
            Some("")
        );
        assert!(minimal.dependency("a/b").is_none());
    }

    #[test]
    fn accepts_a_byte_order_mark() {
        let spec = from_json("\u{feff}{\"Dependencies\": []}", "bom.json").unwrap();
        assert!(spec.dependencies.is_empty());
    }

    #[test]
    fn parse_errors_name_origin_line_and_column() {
        let error = from_json(
            "{\n  \"Dependencies\": [\n    {\"ID\": 5}\n  ]\n}",
            "spec.json",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "spec.json:3:12: invalid type: integer `5`, expected a string"
        );
        let error = from_json("{\n  \"Dependencies\": [\n", "out.json").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("out.json:3:0: EOF while parsing"),
            "{error}"
        );
        let error = from_json("{}", "x.json").unwrap_err();
        assert_eq!(
            error.to_string(),
            "x.json:1:2: missing field `Dependencies`"
        );
    }

    fn with_usage_file(file: &str) -> String {
        let file = serde_json::to_string(file).unwrap();
        format!(
            r#"{{"Dependencies":[{{"ID":"a/b/c","Usages":[{{"File":{file},"Line":1,"CurrentVersion":"v1.0.0"}}]}}]}}"#
        )
    }

    #[test]
    fn rejects_usage_paths_outside_the_working_dir() {
        for file in [
            "/etc/passwd",
            "../main.tf",
            "dev/../../main.tf",
            "dev/..",
            "..\\main.tf",
            "\\srv\\x.tf",
            "C:\\x.tf",
            "c:/x.tf",
            "",
        ] {
            match from_json(&with_usage_file(file), "spec.json") {
                Err(SpecError::UnsafePath { origin, id, path }) => {
                    assert_eq!(
                        (origin.as_str(), id.as_str(), path.to_str().unwrap()),
                        ("spec.json", "a/b/c", file)
                    );
                }
                other => panic!("{file:?} must be rejected, got {other:?}"),
            }
        }
        for file in [
            "dev/main.tf",
            "dev/..hidden/main.tf",
            "./dev/main.tf",
            "a..b.tf",
        ] {
            assert!(
                from_json(&with_usage_file(file), "spec.json").is_ok(),
                "{file:?} is safe"
            );
        }
    }

    /// Follows `$ref`, `properties` and `items` of docs/spec.schema.json alongside a generated
    /// spec, so a key added to the structs but not documented fails here.
    fn undocumented_keys(
        value: &Value,
        schema: &Value,
        root: &Value,
        at: &str,
        out: &mut Vec<String>,
    ) {
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => root
                .pointer(reference.trim_start_matches('#'))
                .expect("dangling $ref"),
            None => schema,
        };
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match schema.pointer(&format!("/properties/{key}")) {
                        Some(child_schema) => undocumented_keys(
                            child,
                            child_schema,
                            root,
                            &format!("{at}.{key}"),
                            out,
                        ),
                        None => out.push(format!("{at}.{key}")),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    match schema.get("items") {
                        Some(item_schema) => {
                            undocumented_keys(item, item_schema, root, &format!("{at}[]"), out)
                        }
                        None => out.push(format!("{at}[] (no items schema)")),
                    }
                }
            }
            _ => {}
        }
    }

    #[test]
    fn schema_documents_every_generated_key() {
        let schema: Value = serde_json::from_str(include_str!("../docs/spec.schema.json")).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let (scan, listings) = fixture();
        let mut missing = Vec::new();
        let groups = crate::group::Groups::default();
        let grouped = crate::group::Ask {
            dependency: Some("group-all"),
            version: None,
            members: &[],
            groups: &groups,
        };
        for strategy in [Strategy::NextSafe, Strategy::NextBreaking] {
            let mut spec = spec_for(&scan, &listings, strategy);
            let value: Value = serde_json::from_str(&to_json(&spec)).unwrap();
            grouped.bundle(&mut spec);
            let group: Value = serde_json::from_str(&to_json(&spec)).unwrap();
            assert!(!group["Dependencies"][0]["Members"][0]["Usages"]
                .as_array()
                .unwrap()
                .is_empty());
            undocumented_keys(&group, &schema, &schema, "$", &mut missing);
            assert!(!value["Dependencies"][0]["Usages"]
                .as_array()
                .unwrap()
                .is_empty());
            undocumented_keys(&value, &schema, &schema, "$", &mut missing);
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "not in docs/spec.schema.json: {missing:?}"
        );
    }
}
