//! Which updates a team wants: `ignore` rules from the environments file (whole dependencies,
//! or versions to skip) and the inline `# patcher:ignore` comment. Plain data in, plain data
//! out: the scan's usages are moved to `Skipped`, and the listings a plan sees are filtered.

use crate::environments_file::{EnvironmentsFile, EnvironmentsFileError, IgnoreConfig};
use crate::model::{Listed, Listings, ScanResult, Skipped, Usage};
use crate::plan::{self, Plan, PlanError, Versions, Wanted};
use crate::version::{parse_constraint, parse_version, Constraint};
use globset::{GlobBuilder, GlobMatcher};
use std::collections::BTreeMap;
use std::path::Path;

/// The comment that leaves a usage alone when it stands on the line of its source or version.
pub const IGNORE_COMMENT: &str = "patcher:ignore";

/// True when `line` holds `# patcher:ignore` (or `// patcher:ignore`) as a comment.
pub fn has_ignore_comment(line: &str) -> bool {
    line.match_indices(IGNORE_COMMENT).any(|(at, _)| {
        let before = line[..at].trim_end();
        before.ends_with('#') || before.ends_with("//") || before.ends_with("/*")
    })
}

/// The reason recorded in `Skipped` for a usage left alone by its comment.
pub fn ignore_comment_reason(line: usize) -> String {
    format!("ignored by `# {IGNORE_COMMENT}` on line {line}")
}

/// The `ignore` rules of the environments file, checked; the default has none and leaves the
/// scan and the listings as they are.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: Vec<IgnoreRule>,
}

#[derive(Debug, Clone)]
struct IgnoreRule {
    /// The glob as written, for messages.
    dependency: String,
    matcher: GlobMatcher,
    /// Empty: the whole dependency is ignored. Else each listed version must satisfy all.
    versions: Vec<Constraint>,
}

impl Policy {
    /// The rules of the environments file, checked: a bad glob or constraint names the file.
    pub fn from_config(config: Option<&EnvironmentsFile>) -> Result<Policy, EnvironmentsFileError> {
        let Some(config) = config else {
            return Ok(Policy::default());
        };
        let rules = config
            .ignore
            .iter()
            .map(|rule| IgnoreRule::new(rule, &config.file))
            .collect::<Result<_, _>>()?;
        Ok(Policy { rules })
    }

    /// Usages of wholly ignored dependencies move to `Skipped`, with the rule as the reason.
    pub fn skip_ignored(&self, scan: &mut ScanResult) {
        if !self.rules.iter().any(|r| r.versions.is_empty()) {
            return;
        }
        let (ignored, kept): (Vec<Usage>, Vec<Usage>) = std::mem::take(&mut scan.usages)
            .into_iter()
            .partition(|u| self.ignoring(&u.source.id).is_some());
        scan.usages = kept;
        for usage in ignored {
            let rule = self.ignoring(&usage.source.id).expect("partitioned on it");
            scan.skipped.push(Skipped {
                file: usage.file,
                line: usage.line,
                source: usage.source.id.clone(),
                reason: format!("ignored by the `ignore` rule `{}`", rule.dependency),
            });
        }
    }

    fn ignoring(&self, id: &str) -> Option<&IgnoreRule> {
        self.rules
            .iter()
            .find(|r| r.versions.is_empty() && r.matcher.is_match(id))
    }

    /// The constraints every candidate version of dependency `id` must satisfy.
    fn version_rules(&self, id: &str) -> Vec<&Constraint> {
        self.rules
            .iter()
            .filter(|r| r.matcher.is_match(id))
            .flat_map(|r| &r.versions)
            .collect()
    }

    /// [`plan::plan`] of `usages`, the strategy of each dependency picking only among the
    /// versions its rules allow (and the versions its usages are at, so they still resolve);
    /// exact versions are not held back by the rules. The usages are moved in and planned one
    /// dependency at a time, each group freed once planned, so a big tree is never held as
    /// usages and as their plans at once.
    pub fn plan<'w>(
        &self,
        usages: Vec<Usage>,
        versions: Versions,
        wanted: &dyn Fn(&Usage) -> Option<Wanted<'w>>,
    ) -> Result<Plan, PlanError> {
        let mut by_id: BTreeMap<String, Vec<Usage>> = BTreeMap::new();
        for usage in usages {
            by_id
                .entry(usage.source.id.clone())
                .or_default()
                .push(usage);
        }
        let mut dependencies = Vec::new();
        for (id, usages) in by_id {
            let rules = self.version_rules(&id);
            let planned = match rules.is_empty() {
                true => plan::plan(&usages, versions, wanted)?,
                false => {
                    let allowed = allowed_listings(versions.candidates, &usages, &rules);
                    let versions = Versions {
                        candidates: &allowed,
                        ..versions
                    };
                    plan::plan(&usages, versions, wanted)?
                }
            };
            dependencies.extend(planned.dependencies);
        }
        Ok(Plan { dependencies })
    }
}

impl IgnoreRule {
    fn new(rule: &IgnoreConfig, file: &Path) -> Result<IgnoreRule, EnvironmentsFileError> {
        let invalid = |message: String| EnvironmentsFileError::Invalid {
            file: file.to_path_buf(),
            message,
        };
        let matcher = id_glob(&rule.dependency)
            .map_err(|e| invalid(format!("ignore: dependency `{}`: {e}", rule.dependency)))?;
        let versions = rule
            .versions
            .iter()
            .map(|text| {
                parse_constraint(text).ok_or_else(|| {
                    invalid(format!(
                        "ignore: dependency `{}`: `{text}` is not a version constraint \
                         (e.g. \"!= 5.3.0\", \"< 6\")",
                        rule.dependency
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(IgnoreRule {
            dependency: rule.dependency.clone(),
            matcher,
            versions,
        })
    }
}

/// A dependency ID glob of the environments file: `*` also matches `/`.
pub(crate) fn id_glob(glob: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(glob)
        .literal_separator(false)
        .build()?
        .compile_matcher())
}

/// The listings of `usages`' origins without the versions `rules` skip; a version a usage is
/// at is kept, so the usage still knows where it stands.
fn allowed_listings(listings: &Listings, usages: &[Usage], rules: &[&Constraint]) -> Listings {
    let current: Vec<semver::Version> = usages
        .iter()
        .filter_map(|u| parse_version(&u.current))
        .map(|v| v.semver)
        .collect();
    let pinned_commit = |listed: &Listed| {
        listed.commit.as_ref().is_some_and(|commit| {
            usages
                .iter()
                .any(|u| u.current.eq_ignore_ascii_case(commit))
        })
    };
    let allowed = |listed: &Listed| {
        parse_version(&listed.name).is_none_or(|v| {
            current.contains(&v.semver)
                || pinned_commit(listed)
                || rules.iter().all(|c| c.matches(&v.semver))
        })
    };
    usages
        .iter()
        .filter_map(|u| {
            let listed = listings.get(&u.source.origin)?;
            let kept = listed
                .as_ref()
                .map(|versions| versions.iter().filter(|v| allowed(v)).cloned().collect());
            Some((u.source.origin.clone(), kept.map_err(Clone::clone)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comment_counts_only_as_a_comment() {
        assert!(has_ignore_comment(
            "  source = \"git::https://x/y.git?ref=v1\" # patcher:ignore"
        ));
        assert!(has_ignore_comment(
            "  version = \"5.1.0\" // patcher:ignore (pinned)"
        ));
        assert!(has_ignore_comment("#patcher:ignore"));
        assert!(!has_ignore_comment("  source = \"patcher:ignore\""));
        assert!(!has_ignore_comment("  version = \"5.1.0\""));
    }

    fn config(text: &str) -> Result<EnvironmentsFile, EnvironmentsFileError> {
        EnvironmentsFile::parse(text, Path::new(".github/patcher.yml"))
    }

    #[test]
    fn bad_globs_and_constraints_name_the_file() {
        let c = config("ignore:\n  - dependency: 'acme/{x'\n").unwrap();
        let err = Policy::from_config(Some(&c)).unwrap_err().to_string();
        assert!(
            err.contains(".github/patcher.yml") && err.contains("acme/{x"),
            "{err}"
        );
        let c =
            config("ignore:\n  - dependency: acme/*\n    versions: ['not a version']\n").unwrap();
        let err = Policy::from_config(Some(&c)).unwrap_err().to_string();
        assert!(
            err.contains("`not a version` is not a version constraint"),
            "{err}"
        );
    }
}
