//! The optional environments file (`.github/patcher.yml`): the promotion chain in one place, so
//! one workflow can serve every environment. Without it the three-workflow layout works as is.

use crate::environment::Environment;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where the environments file is looked for when none is named: relative to the workspace in
/// the action, to the current folder for the CLI's `--config`.
pub const DEFAULT_PATH: &str = ".github/patcher.yml";

/// Why the environments file, or an environment asked of it, cannot be used.
#[derive(Debug, Error)]
pub enum EnvironmentsFileError {
    /// The file cannot be read (missing, a symbolic link, not UTF-8).
    #[error("{file}: {message}")]
    Read {
        /// The environments file.
        file: PathBuf,
        /// The I/O or decoding error.
        message: String,
    },
    /// The file does not match the schema or breaks one of its rules (names, globs, ages,
    /// registry host, groups, ignore constraints).
    #[error("{file}: {message}")]
    Invalid {
        /// The environments file.
        file: PathBuf,
        /// Which entry is wrong and why.
        message: String,
    },
    /// An environment name was asked for that the file does not define.
    #[error("{file}: environment `{name}` is not defined (defined: {defined})")]
    UnknownEnvironment {
        /// The environments file.
        file: PathBuf,
        /// The name asked for.
        name: String,
        /// The names the file defines, comma-separated, in promotion order.
        defined: String,
    },
}

/// The environments file, parsed and checked: the chain, `ignore` rules, groups and the default
/// registry. Unknown keys are rejected so a typo is not silently ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentsFile {
    /// In promotion order: the first is updated from new releases, each next one from the
    /// merges of the one before.
    #[serde(default)]
    pub environments: Vec<EnvironmentConfig>,
    /// Dependencies, or versions of them, that no environment is updated to.
    #[serde(default)]
    pub ignore: Vec<IgnoreConfig>,
    /// Registry host of host-less module addresses in `.tf`/`.hcl` files (OpenTofu users:
    /// `registry.opentofu.org`); the `default_registry` input or flag wins.
    pub default_registry: Option<String>,
    /// Dependencies updated together: one pull request per group and environment.
    #[serde(default)]
    pub groups: Vec<GroupConfig>,
    /// Where the file was read from, named in errors; not a key of the file.
    #[serde(skip)]
    pub file: PathBuf,
}

/// One `ignore` entry: a dependency ID glob (`*` also matches `/`), and optionally version
/// constraints a candidate must satisfy (`"!= 5.3.0"`, `"< 6"`); without them the dependency's
/// usages are left alone altogether.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreConfig {
    /// Dependency ID glob the rule applies to.
    pub dependency: String,
    /// Constraints every candidate version must satisfy; empty: the dependency is ignored.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// One `groups` entry: a name (letters, digits, `-`, `_`) and dependency ID globs (`*` also
/// matches `/`). A dependency matched by several groups belongs to the first.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// Group name, unique in the file; the spec ID is `group-<name>`.
    pub name: String,
    /// Dependency ID globs of the members; must not be empty.
    pub dependencies: Vec<String>,
}

/// One `environments` entry: an environment of the chain and its pull request settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Environment name (letters, digits, `-`, `_`), unique in the file; it names the default
    /// label and branch prefix.
    pub name: String,
    /// Globs of the environment's folders; must not be empty.
    pub include_dirs: Vec<String>,
    /// Globs of folders left out even when included.
    #[serde(default)]
    pub exclude_dirs: Vec<String>,
    /// Labels put on this environment's pull requests; default `updates-<name>`.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Pull request branch prefix; default `patcher-<name>-updates-`.
    pub branch_prefix: Option<String>,
    /// Most open pull requests of this environment at once; default 10, 0 for no limit.
    pub max_pull_requests: Option<usize>,
    /// How long a version must have been published to be a candidate (`3d`, `12h`, `1w`).
    pub minimum_release_age: Option<String>,
}

impl EnvironmentConfig {
    /// The configured labels, else `updates-<name>`.
    pub fn labels(&self) -> Vec<String> {
        if self.labels.is_empty() {
            vec![environment_label(&self.name)]
        } else {
            self.labels.clone()
        }
    }

    /// The configured branch prefix, else `patcher-<name>-updates-`.
    pub fn branch_prefix(&self) -> String {
        self.branch_prefix
            .clone()
            .unwrap_or_else(|| default_branch_prefix(&self.name))
    }

    /// The environment's folders under `working_dir`; `default_registry` is left None for the
    /// caller to fill.
    pub fn environment(&self, working_dir: &Path) -> Environment {
        Environment {
            working_dir: working_dir.to_path_buf(),
            include_dirs: self.include_dirs.clone(),
            exclude_dirs: self.exclude_dirs.clone(),
            default_registry: None,
        }
    }
}

/// A `default_registry` that is not a host name (`registry.opentofu.org`, `host:8443`).
#[derive(Debug, thiserror::Error)]
#[error("default_registry `{0}` is not a registry host name (such as registry.opentofu.org)")]
pub struct BadRegistryHost(String);

fn check_registry_host(host: &str) -> Result<(), BadRegistryHost> {
    match crate::source::is_host(host) {
        true => Ok(()),
        false => Err(BadRegistryHost(host.to_string())),
    }
}

/// The registry of host-less addresses: the input or flag, else the environments file's.
pub fn default_registry(
    given: Option<&str>,
    config: Option<&EnvironmentsFile>,
) -> Result<Option<String>, BadRegistryHost> {
    let chosen = given
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .or_else(|| config.and_then(|c| c.default_registry.clone()));
    if let Some(host) = &chosen {
        check_registry_host(host)?;
    }
    Ok(chosen.map(|h| h.to_ascii_lowercase()))
}

impl EnvironmentsFile {
    /// Reads `file` (a regular file, never through a symbolic link, in UTF-8) and parses it.
    pub fn load(file: &Path) -> Result<EnvironmentsFile, EnvironmentsFileError> {
        let read = |message: String| EnvironmentsFileError::Read {
            file: file.to_path_buf(),
            message,
        };
        let bytes = crate::edit::read_regular(file).map_err(|e| read(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| read(e.to_string()))?;
        EnvironmentsFile::parse(&text, file)
    }

    /// Parses and checks `text`; `file` is only named in errors. A file must define at least
    /// one environment, ignore rule, group or default registry.
    pub fn parse(text: &str, file: &Path) -> Result<EnvironmentsFile, EnvironmentsFileError> {
        let invalid = |message: String| EnvironmentsFileError::Invalid {
            file: file.to_path_buf(),
            message,
        };
        let mut config: EnvironmentsFile =
            serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
        config.file = file.to_path_buf();
        let mut seen = BTreeSet::new();
        for env in &config.environments {
            if !valid_name(&env.name) {
                return Err(invalid(format!(
                    "environment name `{}` must be letters, digits, `-` or `_`",
                    env.name
                )));
            }
            if !seen.insert(env.name.as_str()) {
                return Err(invalid(format!(
                    "environment `{}` is defined twice",
                    env.name
                )));
            }
            if let Some(age) = &env.minimum_release_age {
                crate::cooldown::parse_age(age)
                    .map_err(|e| invalid(format!("environment `{}`: {e}", env.name)))?;
            }
            if env.include_dirs.is_empty() {
                return Err(invalid(format!(
                    "environment `{}` has no include_dirs",
                    env.name
                )));
            }
        }
        if let Some(host) = &config.default_registry {
            check_registry_host(host).map_err(|e| invalid(e.to_string()))?;
        }
        check_groups(&config.groups).map_err(invalid)?;
        if config.environments.is_empty()
            && config.ignore.is_empty()
            && config.groups.is_empty()
            && config.default_registry.is_none()
        {
            return Err(invalid("no environments defined".into()));
        }
        Ok(config)
    }

    /// Every environment's globs must select at least one folder with files under `working_dir`:
    /// a typo in a glob would otherwise silently update nothing.
    pub fn check_globs(&self, working_dir: &Path) -> Result<(), EnvironmentsFileError> {
        for env in &self.environments {
            let matcher = env.environment(working_dir).matcher().map_err(|e| {
                EnvironmentsFileError::Invalid {
                    file: self.file.clone(),
                    message: format!("environment `{}`: {e}", env.name),
                }
            })?;
            if !selects_any(&matcher, working_dir) {
                return Err(EnvironmentsFileError::Invalid {
                    file: self.file.clone(),
                    message: format!(
                        "environment `{}`: include_dirs {:?} match no folder under {}",
                        env.name,
                        env.include_dirs,
                        working_dir.display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The entry of environment `name`; the error lists the defined names.
    pub fn get(&self, name: &str) -> Result<&EnvironmentConfig, EnvironmentsFileError> {
        self.environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| EnvironmentsFileError::UnknownEnvironment {
                file: self.file.clone(),
                name: name.to_string(),
                defined: self
                    .environments
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The entry of environment `name`; `None` when the file defines no environments (only
    /// rules), so the environment is described by the inputs alone.
    pub fn entry(&self, name: &str) -> Result<Option<&EnvironmentConfig>, EnvironmentsFileError> {
        if self.environments.is_empty() {
            return Ok(None);
        }
        self.get(name).map(Some)
    }

    /// Environment names in promotion order.
    pub fn chain(&self) -> Vec<String> {
        self.environments.iter().map(|e| e.name.clone()).collect()
    }

    /// The environment after `name` in the chain, `None` for the last one.
    pub fn next(&self, name: &str) -> Result<Option<&EnvironmentConfig>, EnvironmentsFileError> {
        self.get(name)?;
        let pos = self.environments.iter().position(|e| e.name == name);
        Ok(pos.and_then(|i| self.environments.get(i + 1)))
    }
}

/// The label `update` puts on an environment's pull requests; the example promote jobs filter
/// on it.
pub fn environment_label(name: &str) -> String {
    format!("updates-{name}")
}

/// The start of an environment's pull request branches; the dependency ID follows.
pub fn default_branch_prefix(name: &str) -> String {
    format!("patcher-{name}-updates-")
}

/// An environment's pull request labels: its entry's in the environments file, else
/// `updates-<name>`, else none.
pub fn labels_of(entry: Option<&EnvironmentConfig>, name: Option<&str>) -> Vec<String> {
    match (entry, name) {
        (Some(e), _) => e.labels(),
        (None, Some(name)) => vec![environment_label(name)],
        (None, None) => Vec::new(),
    }
}

/// An environment's pull request branch prefix, likewise.
pub fn branch_prefix_of(entry: Option<&EnvironmentConfig>, name: Option<&str>) -> String {
    match (entry, name) {
        (Some(e), _) => e.branch_prefix(),
        (None, Some(name)) => default_branch_prefix(name),
        (None, None) => "patcher-updates-".into(),
    }
}

/// `labels` followed by those of `extra` it does not have yet.
pub fn merge_labels(
    mut labels: Vec<String>,
    extra: impl IntoIterator<Item = String>,
) -> Vec<String> {
    for label in extra {
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

fn check_groups(groups: &[GroupConfig]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for group in groups {
        if !valid_name(&group.name) {
            return Err(format!(
                "group name `{}` must be letters, digits, `-` or `_`",
                group.name
            ));
        }
        if !seen.insert(group.name.as_str()) {
            return Err(format!("group `{}` is defined twice", group.name));
        }
        if group.dependencies.is_empty() {
            return Err(format!("group `{}` has no dependencies", group.name));
        }
    }
    Ok(())
}

/// Whether `name` may name an environment or a group: 1 to 64 ASCII letters, digits, `-` or
/// `_`, so it is safe in labels, branch names and dispatch event types.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn selects_any(matcher: &crate::environment::DirMatcher, root: &Path) -> bool {
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    walker.flatten().any(|entry| {
        entry.file_type().is_some_and(|t| t.is_file())
            && entry
                .path()
                .parent()
                .and_then(|p| p.strip_prefix(root).ok())
                .is_some_and(|rel| {
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    !rel.is_empty() && matcher.selects(&rel)
                })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<EnvironmentsFile, EnvironmentsFileError> {
        EnvironmentsFile::parse(text, Path::new(".github/patcher.yml"))
    }

    const CHAIN: &str = "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n  - name: stage\n    include_dirs: ['{*stage*}/**']\n    labels: [promote-stage]\n  - name: prod\n    include_dirs: ['{*prod*}/**']\n";

    #[test]
    fn chain_order_defaults_and_next() {
        let c = parse(CHAIN).unwrap();
        assert_eq!(c.next("dev").unwrap().unwrap().name, "stage");
        assert!(c.next("prod").unwrap().is_none());
        assert_eq!(c.get("dev").unwrap().labels(), vec!["updates-dev"]);
        assert_eq!(c.get("stage").unwrap().labels(), vec!["promote-stage"]);
        assert_eq!(
            c.get("prod").unwrap().branch_prefix(),
            "patcher-prod-updates-"
        );
        let err = c.get("qa").unwrap_err().to_string();
        assert!(
            err.contains("`qa` is not defined (defined: dev, stage, prod)"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_duplicates_and_bad_names_are_clear_errors() {
        let unknown = parse("environments:\n  - name: dev\n    include_dir: ['x/**']\n");
        let msg = unknown.unwrap_err().to_string();
        assert!(
            msg.contains(".github/patcher.yml") && msg.contains("include_dir"),
            "{msg}"
        );
        assert!(msg.contains("line 3") || msg.contains("3:"), "{msg}");
        let dup = parse("environments:\n  - name: dev\n    include_dirs: [a]\n  - name: dev\n    include_dirs: [b]\n");
        assert!(dup
            .unwrap_err()
            .to_string()
            .contains("`dev` is defined twice"));
        let bad = parse("environments:\n  - name: 'dev prod'\n    include_dirs: [a]\n");
        assert!(bad.unwrap_err().to_string().contains("must be letters"));
    }

    #[test]
    fn groups_are_checked_like_environments() {
        let ok = parse("groups:\n  - name: aws\n    dependencies: ['terraform-aws-modules/*']\n");
        assert_eq!(
            ok.unwrap().groups[0].dependencies,
            ["terraform-aws-modules/*"]
        );
        let unknown = parse("groups:\n  - name: aws\n    dependency: ['x/*']\n")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("dependency") && unknown.contains("line 3"),
            "{unknown}"
        );
        let twice = parse("groups:\n  - name: aws\n    dependencies: [a/*]\n  - name: aws\n    dependencies: [b/*]\n");
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains("group `aws` is defined twice"));
        let empty = parse("groups:\n  - name: aws\n    dependencies: []\n");
        assert!(empty
            .unwrap_err()
            .to_string()
            .contains("`aws` has no dependencies"));
        let bad = parse("groups:\n  - name: 'a/b'\n    dependencies: [x/*]\n");
        assert!(bad.unwrap_err().to_string().contains("must be letters"));
    }

    #[test]
    fn globs_that_match_nothing_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["dev-account/app", "stage/app"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
            std::fs::write(dir.path().join(d).join("main.tf"), "").unwrap();
        }
        let c = parse(CHAIN).unwrap();
        let err = c.check_globs(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("`prod`") && err.contains("match no folder"),
            "{err}"
        );
        std::fs::create_dir_all(dir.path().join("prod")).unwrap();
        std::fs::write(dir.path().join("prod/main.tf"), "").unwrap();
        c.check_globs(dir.path()).unwrap();
    }
}
