//! Picks the version every usage moves to, from the scan and the version listings.
//!
//! Targets are chosen per usage, not per dependency: two folders on different versions of one
//! module each get the step that is safe for them.

pub use crate::model::Listings;
use crate::model::{Origin, ScanResult, Source, Usage, VersionForm};
use crate::version::{is_breaking, parse_constraint, parse_version, rewrite, Version};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Highest version before the next breaking change, else the latest.
    #[default]
    NextSafe,
    /// The next breaking version itself, else the latest.
    NextBreaking,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsagePlan {
    pub usage: Usage,
    /// Listed version the text stands for. For a constraint, the lowest listed version it
    /// allows: the floor the file promises, which an update raises (`~> 5.1` → `~> 5.4`).
    pub resolved_current: Option<String>,
    pub target_safe: Option<String>,
    pub target_breaking: Option<String>,
    /// By strategy; None if no update.
    pub target: Option<String>,
    pub breaking: bool,
    /// Replacement for `usage.span`; None = no change.
    pub new_text: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyPlan {
    pub source: Source,
    pub current_versions: Vec<String>,
    pub latest: Option<String>,
    pub next_breaking: Option<String>,
    /// `https://github.com/{github_repo}/releases/tag/{tag}` of the breaking (else target)
    /// version when the module lives on GitHub.
    pub release_notes_url: Option<String>,
    pub usages: Vec<UsagePlan>,
    /// Why the versions could not be listed.
    pub error: Option<String>,
}

impl DependencyPlan {
    pub fn has_update(&self) -> bool {
        self.usages.iter().any(|u| u.new_text.is_some())
    }

    pub fn is_breaking(&self) -> bool {
        self.usages
            .iter()
            .any(|u| u.new_text.is_some() && u.breaking)
    }

    /// The highest version any usage moves to.
    pub fn target(&self) -> Option<&str> {
        highest(self.usages.iter().map(|u| u.target.as_deref()))
    }
}

/// Sorted by dependency id; usages by (file, line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub dependencies: Vec<DependencyPlan>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{id}: version {version} is not listed")]
    VersionNotFound { id: String, version: String },
    #[error("{id}: cannot list versions: {message}")]
    Listing { id: String, message: String },
    #[error("{id}: {file}:{line}: {message}")]
    Rewrite {
        id: String,
        file: String,
        line: usize,
        message: String,
    },
}

pub fn plan(scan: &ScanResult, listings: &Listings, strategy: Strategy) -> Plan {
    let mut catalog = Catalog::new(listings);
    let dependencies = group_by_id(scan.usages.iter())
        .into_values()
        .map(|usages| plan_dependency(&usages, &mut catalog, strategy))
        .collect();
    Plan { dependencies }
}

/// Every usage of `dep` moves to exactly `version` (promotion): error if the listing lacks it.
/// Usages already there: no change.
pub fn retarget(
    dep: &DependencyPlan,
    version: &str,
    listings: &Listings,
) -> Result<DependencyPlan, PlanError> {
    let mut catalog = Catalog::new(listings);
    let planned = dep
        .usages
        .iter()
        .map(|u| retarget_usage(&u.usage, version, &mut catalog))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(assemble(dep.source.clone(), planned, None))
}

fn retarget_usage<'a>(
    usage: &'a Usage,
    version: &str,
    catalog: &mut Catalog<'a>,
) -> Result<Planned, PlanError> {
    let id = &usage.source.id;
    let listing_error = |message| PlanError::Listing {
        id: id.clone(),
        message,
    };
    let resolved = resolve(usage, catalog).map_err(|unresolved| match unresolved {
        Unresolved::Listing(message) => listing_error(message),
        Unresolved::Note(message) => rewrite_error(usage, message),
    })?;
    let listed = catalog
        .versions(&usage.source.origin, &style_of(usage), true)
        .map_err(listing_error)?;
    let target = parse_version(version)
        .and_then(|wanted| listed.iter().find(|v| v.semver == wanted.semver))
        .ok_or_else(|| PlanError::VersionNotFound {
            id: id.clone(),
            version: version.to_string(),
        })?;
    let mut planned = planned_usage(usage, &resolved, Some(target));
    match planned.rewrite_error.take() {
        Some(message) => Err(rewrite_error(usage, message)),
        None => Ok(planned),
    }
}

fn rewrite_error(usage: &Usage, message: String) -> PlanError {
    PlanError::Rewrite {
        id: usage.source.id.clone(),
        file: usage.file.to_string_lossy().into_owned(),
        line: usage.line,
        message,
    }
}

fn group_by_id<'a>(usages: impl Iterator<Item = &'a Usage>) -> BTreeMap<&'a str, Vec<&'a Usage>> {
    let mut groups: BTreeMap<&str, Vec<&Usage>> = BTreeMap::new();
    for usage in usages {
        groups.entry(&usage.source.id).or_default().push(usage);
    }
    for usages in groups.values_mut() {
        usages.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }
    groups
}

fn plan_dependency<'a>(
    usages: &[&'a Usage],
    catalog: &mut Catalog<'a>,
    strategy: Strategy,
) -> DependencyPlan {
    let mut error = None;
    let planned = usages
        .iter()
        .map(|usage| match resolve(usage, catalog) {
            Err(Unresolved::Listing(message)) => {
                error.get_or_insert_with(|| message.clone());
                unresolved(usage, message)
            }
            // A usage whose text we cannot read is not a listing failure: it only gets a note.
            Err(Unresolved::Note(note)) => unresolved(usage, note),
            Ok(resolved) => {
                let target = match strategy {
                    Strategy::NextSafe => resolved.steps.safe.as_ref(),
                    Strategy::NextBreaking => resolved.steps.breaking.as_ref(),
                };
                planned_usage(usage, &resolved, target)
            }
        })
        .collect();
    assemble(Source::clone(&usages[0].source), planned, error)
}

/// A usage's plan plus what the dependency-level summary needs.
struct Planned {
    plan: UsagePlan,
    latest: Option<Version>,
    next_breaking: Option<Version>,
    /// Set when the target cannot be written into the usage's constraint.
    rewrite_error: Option<String>,
}

fn unresolved(usage: &Usage, note: String) -> Planned {
    Planned {
        plan: UsagePlan {
            usage: usage.clone(),
            resolved_current: None,
            target_safe: None,
            target_breaking: None,
            target: None,
            breaking: false,
            new_text: None,
            note: Some(note),
        },
        latest: None,
        next_breaking: None,
        rewrite_error: None,
    }
}

/// What a usage currently stands for, and the versions it could move to.
struct Resolved {
    current: semver::Version,
    resolved_current: Option<String>,
    latest: Option<Version>,
    steps: Steps,
}

struct Steps {
    safe: Option<Version>,
    breaking: Option<Version>,
    next_breaking: Option<Version>,
}

enum Unresolved {
    /// The origin's versions could not be listed.
    Listing(String),
    /// The usage's own text cannot be read as a version or constraint.
    Note(String),
}

/// Parsed listings per (origin, tag style, pre-releases wanted): a module used in thousands of
/// files has its tags parsed once, not once per usage.
struct Catalog<'a> {
    listings: &'a Listings,
    parsed: HashMap<(&'a Origin, String, bool), Rc<[Version]>>,
}

impl<'a> Catalog<'a> {
    fn new(listings: &'a Listings) -> Self {
        Catalog {
            listings,
            parsed: HashMap::new(),
        }
    }

    fn versions(
        &mut self,
        origin: &'a Origin,
        style: &str,
        prereleases: bool,
    ) -> Result<Rc<[Version]>, String> {
        let listed = match self.listings.get(origin) {
            Some(Ok(listed)) => listed,
            Some(Err(message)) => return Err(message.clone()),
            None => return Err(format!("no version listing for {}", origin_label(origin))),
        };
        let key = (origin, style.to_string(), prereleases);
        let versions = self
            .parsed
            .entry(key)
            .or_insert_with(|| candidates(listed, prereleases, style).into());
        Ok(Rc::clone(versions))
    }
}

/// Human-readable address of an origin: the git URL or `host/namespace/name/provider`.
pub fn origin_label(origin: &Origin) -> String {
    match origin {
        Origin::Git { url } => url.clone(),
        Origin::Registry {
            host,
            namespace,
            name,
            provider,
        } => format!("{host}/{namespace}/{name}/{provider}"),
    }
}

/// The tag prefix the usage writes (`v` or ""), so a listing with both `v1.2.3` and `1.2.3`
/// keeps the usage's style.
fn style_of(usage: &Usage) -> String {
    match usage.form {
        VersionForm::RegistryAttribute => String::new(),
        VersionForm::GitRef | VersionForm::TfrQuery => parse_version(&usage.current)
            .map(|v| v.prefix().to_string())
            .unwrap_or_default(),
    }
}

fn resolve<'a>(usage: &'a Usage, catalog: &mut Catalog<'a>) -> Result<Resolved, Unresolved> {
    let origin = &usage.source.origin;
    let style = style_of(usage);
    let all = catalog
        .versions(origin, &style, true)
        .map_err(Unresolved::Listing)?;
    let (current, resolved_current) = current_of(usage, &all).map_err(Unresolved::Note)?;
    let candidates = catalog
        .versions(origin, &style, !current.pre.is_empty())
        .map_err(Unresolved::Listing)?;
    Ok(Resolved {
        steps: steps(&current, &candidates),
        latest: candidates.last().cloned(),
        current,
        resolved_current,
    })
}

fn current_of(
    usage: &Usage,
    listed: &[Version],
) -> Result<(semver::Version, Option<String>), String> {
    let find = |semver: &semver::Version| {
        listed
            .iter()
            .find(|v| v.semver == *semver)
            .map(|v| v.text.clone())
    };
    match usage.form {
        VersionForm::GitRef | VersionForm::TfrQuery => {
            let current = parse_version(&usage.current)
                .ok_or_else(|| format!("`{}` is not a version", usage.current))?;
            let resolved = find(&current.semver);
            Ok((current.semver, resolved))
        }
        VersionForm::RegistryAttribute => {
            let constraint = parse_constraint(&usage.current)
                .ok_or_else(|| format!("`{}` is not a version constraint", usage.current))?;
            let floor = listed.iter().find(|v| constraint.matches(&v.semver));
            match (floor, constraint.exact()) {
                (Some(v), _) => Ok((v.semver.clone(), Some(v.text.clone()))),
                (None, Some(pinned)) => Ok((pinned.clone(), None)),
                (None, None) => Err(format!("no listed version matches `{}`", usage.current)),
            }
        }
    }
}

/// Listed versions, sorted, one per semver (the one in `style` when the listing has both).
fn candidates(listed: &[String], prereleases: bool, style: &str) -> Vec<Version> {
    let mut versions: Vec<Version> = listed
        .iter()
        .filter_map(|text| parse_version(text))
        .filter(|v| prereleases || v.semver.pre.is_empty())
        .collect();
    versions.sort();
    let mut unique: Vec<Version> = Vec::with_capacity(versions.len());
    for version in versions {
        match unique.last_mut() {
            Some(last) if last.semver == version.semver => {
                if last.prefix() != style && version.prefix() == style {
                    *last = version;
                }
            }
            _ => unique.push(version),
        }
    }
    unique
}

/// Comparing against the current version directly equals walking the chain of predecessors:
/// versions are sorted, so a major (0.x: minor) change anywhere on the way shows up here.
fn steps(current: &semver::Version, candidates: &[Version]) -> Steps {
    let ahead: Vec<&Version> = candidates.iter().filter(|v| v.semver > *current).collect();
    let next_breaking = ahead
        .iter()
        .find(|v| is_breaking(current, &v.semver))
        .map(|v| (*v).clone());
    let safe = ahead
        .iter()
        .take_while(|v| !is_breaking(current, &v.semver))
        .last()
        .map(|v| (*v).clone());
    let breaking = next_breaking
        .clone()
        .or_else(|| ahead.last().map(|v| (*v).clone()));
    Steps {
        safe,
        breaking,
        next_breaking,
    }
}

fn planned_usage(usage: &Usage, resolved: &Resolved, target: Option<&Version>) -> Planned {
    let mut plan = UsagePlan {
        usage: usage.clone(),
        resolved_current: resolved.resolved_current.clone(),
        target_safe: resolved.steps.safe.as_ref().map(|v| v.text.clone()),
        target_breaking: resolved.steps.breaking.as_ref().map(|v| v.text.clone()),
        target: None,
        breaking: false,
        new_text: None,
        note: None,
    };
    let mut rewrite_error = None;
    if let Some(target) = target.filter(|t| t.semver != resolved.current) {
        match rewrite(&usage.current, usage.form, target) {
            Ok(Some(text)) if text != usage.current => {
                plan.breaking = is_breaking(&resolved.current, &target.semver);
                plan.target = Some(target.text.clone());
                plan.new_text = Some(text);
                if target.semver < resolved.current {
                    plan.note = Some(format!("moves back from {}", resolved.current));
                }
            }
            Ok(_) => {}
            Err(error) => {
                plan.note = Some(error.to_string());
                rewrite_error = Some(error.to_string());
            }
        }
    }
    Planned {
        plan,
        latest: resolved.latest.clone(),
        next_breaking: resolved.steps.next_breaking.clone(),
        rewrite_error,
    }
}

fn assemble(source: Source, planned: Vec<Planned>, error: Option<String>) -> DependencyPlan {
    let latest = planned.iter().filter_map(|p| p.latest.clone()).max();
    let next_breaking = planned.iter().filter_map(|p| p.next_breaking.clone()).min();
    let usages: Vec<UsagePlan> = planned.into_iter().map(|p| p.plan).collect();
    let notes_tag = next_breaking
        .as_ref()
        .map(|v| v.text.clone())
        .or_else(|| highest(usages.iter().map(|u| u.target.as_deref())).map(str::to_string));
    let release_notes_url = source
        .github_repo
        .as_ref()
        .zip(notes_tag)
        .map(|(repo, tag)| format!("https://github.com/{repo}/releases/tag/{tag}"));
    DependencyPlan {
        current_versions: current_versions(&usages),
        latest: latest.map(|v| v.text),
        next_breaking: next_breaking.map(|v| v.text),
        release_notes_url,
        usages,
        error,
        source,
    }
}

/// The highest of the texts that parse as versions.
pub fn highest<'a>(texts: impl Iterator<Item = Option<&'a str>>) -> Option<&'a str> {
    texts
        .flatten()
        .filter_map(|text| parse_version(text).map(|v| (v, text)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, text)| text)
}

/// Distinct texts as written, ordered by the version they stand for.
fn current_versions(usages: &[UsagePlan]) -> Vec<String> {
    let mut keyed: Vec<(Option<semver::Version>, &str)> = usages
        .iter()
        .map(|u| {
            let meaning = u.resolved_current.as_deref().unwrap_or(&u.usage.current);
            (
                parse_version(meaning).map(|v| v.semver),
                u.usage.current.as_str(),
            )
        })
        .collect();
    keyed.sort();
    let mut seen = std::collections::BTreeSet::new();
    keyed
        .into_iter()
        .filter(|(_, text)| seen.insert(*text))
        .map(|(_, text)| text.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn git_origin(repo: &str) -> Origin {
        Origin::Git {
            url: format!("https://github.com/acme/{repo}.git"),
        }
    }

    fn git_usage(repo: &str, file: &str, line: usize, current: &str) -> Usage {
        Usage {
            file: PathBuf::from(file),
            line,
            column: 20,
            span: 100..100 + current.len(),
            source: std::sync::Arc::new(Source {
                id: format!("acme/{repo}/vpc"),
                org: "acme".into(),
                repo: repo.into(),
                module: "vpc".into(),
                origin: git_origin(repo),
                github_repo: Some(format!("acme/{repo}")),
            }),
            current: current.into(),
            form: VersionForm::GitRef,
        }
    }

    fn registry_origin() -> Origin {
        Origin::Registry {
            host: "registry.terraform.io".into(),
            namespace: "terraform-aws-modules".into(),
            name: "vpc".into(),
            provider: "aws".into(),
        }
    }

    fn registry_usage(file: &str, current: &str) -> Usage {
        Usage {
            file: PathBuf::from(file),
            line: 3,
            column: 13,
            span: 50..50 + current.len(),
            source: std::sync::Arc::new(Source {
                id: "terraform-aws-modules/vpc/aws".into(),
                org: "terraform-aws-modules".into(),
                repo: "vpc".into(),
                module: "aws".into(),
                origin: registry_origin(),
                github_repo: None,
            }),
            current: current.into(),
            form: VersionForm::RegistryAttribute,
        }
    }

    fn listing(origin: Origin, versions: &[&str]) -> Listings {
        let mut listings = Listings::new();
        listings.insert(origin, Ok(versions.iter().map(|v| v.to_string()).collect()));
        listings
    }

    fn scan_of(usages: Vec<Usage>) -> ScanResult {
        ScanResult {
            usages,
            ..ScanResult::default()
        }
    }

    fn plan_one(usages: Vec<Usage>, listings: &Listings, strategy: Strategy) -> DependencyPlan {
        let mut plan = plan(&scan_of(usages), listings, strategy);
        assert_eq!(plan.dependencies.len(), 1);
        plan.dependencies.remove(0)
    }

    #[test]
    fn zero_x_minor_bump_is_the_next_breaking_change() {
        let listings = listing(git_origin("mods"), &["0.61.0", "0.61.1", "0.62.0"]);
        let usage = git_usage("mods", "dev/main.tf", 1, "0.61.0");
        let safe = plan_one(vec![usage.clone()], &listings, Strategy::NextSafe);
        let u = &safe.usages[0];
        assert_eq!(u.target_safe.as_deref(), Some("0.61.1"));
        assert_eq!(u.target_breaking.as_deref(), Some("0.62.0"));
        assert_eq!(u.target.as_deref(), Some("0.61.1"));
        assert_eq!(u.new_text.as_deref(), Some("0.61.1"));
        assert!(!u.breaking && safe.has_update() && !safe.is_breaking());
        assert_eq!(safe.next_breaking.as_deref(), Some("0.62.0"));

        let breaking = plan_one(vec![usage], &listings, Strategy::NextBreaking);
        let u = &breaking.usages[0];
        assert_eq!(u.target.as_deref(), Some("0.62.0"));
        assert!(u.breaking && breaking.is_breaking());
        assert_eq!(
            breaking.release_notes_url.as_deref(),
            Some("https://github.com/acme/mods/releases/tag/0.62.0")
        );
    }

    #[test]
    fn next_safe_stops_before_the_major_and_next_breaking_takes_it() {
        let listings = listing(
            git_origin("mods"),
            &["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"],
        );
        let usage = git_usage("mods", "dev/main.tf", 1, "1.0.0");
        let safe = plan_one(vec![usage.clone()], &listings, Strategy::NextSafe);
        assert_eq!(safe.usages[0].target.as_deref(), Some("1.2.0"));
        assert_eq!(safe.usages[0].target_breaking.as_deref(), Some("2.0.0"));
        assert_eq!(safe.latest.as_deref(), Some("2.1.0"));
        let breaking = plan_one(vec![usage], &listings, Strategy::NextBreaking);
        assert_eq!(breaking.usages[0].target.as_deref(), Some("2.0.0"));
        assert!(breaking.usages[0].breaking);
    }

    #[test]
    fn without_a_break_ahead_both_targets_are_the_latest() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v1.3.0", "v1.1.0"]);
        for strategy in [Strategy::NextSafe, Strategy::NextBreaking] {
            let dep = plan_one(
                vec![git_usage("mods", "a.tf", 1, "v1.0.0")],
                &listings,
                strategy,
            );
            let u = &dep.usages[0];
            assert_eq!(u.target_safe.as_deref(), Some("v1.3.0"));
            assert_eq!(u.target_breaking.as_deref(), Some("v1.3.0"));
            assert_eq!(u.target.as_deref(), Some("v1.3.0"));
            assert!(!u.breaking);
            assert_eq!(dep.next_breaking, None);
            assert_eq!(
                dep.release_notes_url.as_deref(),
                Some("https://github.com/acme/mods/releases/tag/v1.3.0")
            );
        }
    }

    #[test]
    fn breaking_right_ahead_leaves_nothing_safe() {
        let listings = listing(git_origin("mods"), &["v1.4.0", "v2.0.0"]);
        let dep = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.4.0")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(dep.usages[0].target_safe, None);
        assert_eq!(dep.usages[0].target_breaking.as_deref(), Some("v2.0.0"));
        assert!(!dep.has_update());
        assert_eq!(dep.next_breaking.as_deref(), Some("v2.0.0"));
    }

    #[test]
    fn ignores_non_version_tags_and_prefers_the_usage_prefix_style() {
        let listings = listing(
            git_origin("mods"),
            &[
                "main",
                "v1",
                "latest",
                "1.0.0",
                "v1.0.0",
                "1.1.0",
                "v1.1.0",
                "1.2.0-rc1",
            ],
        );
        let plain = plan_one(
            vec![git_usage("mods", "a.tf", 1, "1.0.0")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(plain.usages[0].target.as_deref(), Some("1.1.0"));
        assert_eq!(plain.usages[0].resolved_current.as_deref(), Some("1.0.0"));
        let prefixed = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.0.0")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(prefixed.usages[0].target.as_deref(), Some("v1.1.0"));
        assert_eq!(prefixed.usages[0].new_text.as_deref(), Some("v1.1.0"));
        assert_eq!(
            prefixed.usages[0].resolved_current.as_deref(),
            Some("v1.0.0")
        );
    }

    #[test]
    fn prereleases_count_only_for_a_prerelease_usage() {
        let listings = listing(
            git_origin("mods"),
            &["v1.0.0", "v2.0.0-alpha", "v2.0.0-beta", "v2.0.0"],
        );
        let stable = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.0.0")],
            &listings,
            Strategy::NextBreaking,
        );
        assert_eq!(stable.usages[0].target.as_deref(), Some("v2.0.0"));
        assert_eq!(stable.latest.as_deref(), Some("v2.0.0"));
        let stable_at_top = listing(git_origin("mods"), &["v1.0.0", "v1.1.0-rc1"]);
        let none = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.0.0")],
            &stable_at_top,
            Strategy::NextSafe,
        );
        assert!(!none.has_update());
        assert_eq!(none.latest.as_deref(), Some("v1.0.0"));
        let pre = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v2.0.0-alpha")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(pre.usages[0].target_safe.as_deref(), Some("v2.0.0"));
        let pre_only = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.1.0-rc1")],
            &stable_at_top,
            Strategy::NextSafe,
        );
        assert!(!pre_only.has_update());
    }

    #[test]
    fn each_usage_gets_its_own_target() {
        let listings = listing(
            git_origin("mods"),
            &["v1.0.0", "v1.1.0", "v2.0.0", "v2.3.0", "v3.0.0"],
        );
        let dep = plan_one(
            vec![
                git_usage("mods", "stage/b.tf", 9, "v2.0.0"),
                git_usage("mods", "dev/a.tf", 4, "v1.0.0"),
                git_usage("mods", "dev/a.tf", 2, "v1.0.0"),
            ],
            &listings,
            Strategy::NextSafe,
        );
        let summary: Vec<_> = dep
            .usages
            .iter()
            .map(|u| {
                (
                    u.usage.file.to_str().unwrap(),
                    u.usage.line,
                    u.target.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("dev/a.tf", 2, Some("v1.1.0")),
                ("dev/a.tf", 4, Some("v1.1.0")),
                ("stage/b.tf", 9, Some("v2.3.0"))
            ]
        );
        assert_eq!(dep.current_versions, ["v1.0.0", "v2.0.0"]);
        assert_eq!(dep.latest.as_deref(), Some("v3.0.0"));
        assert_eq!(dep.next_breaking.as_deref(), Some("v2.0.0"));
        assert_eq!(dep.target(), Some("v2.3.0"));
    }

    #[test]
    fn current_versions_sort_by_version_not_text() {
        let listings = listing(git_origin("mods"), &["v1.9.0", "v1.10.0", "v1.2.0"]);
        let dep = plan_one(
            vec![
                git_usage("mods", "a.tf", 1, "v1.10.0"),
                git_usage("mods", "b.tf", 1, "v1.9.0"),
                git_usage("mods", "c.tf", 1, "v1.2.0"),
                git_usage("mods", "d.tf", 1, "v1.9.0"),
            ],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(dep.current_versions, ["v1.2.0", "v1.9.0", "v1.10.0"]);
    }

    #[test]
    fn usage_at_target_is_not_an_update() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v1.1.0"]);
        let dep = plan_one(
            vec![
                git_usage("mods", "a.tf", 1, "v1.1.0"),
                git_usage("mods", "b.tf", 1, "v1.0.0"),
            ],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(dep.usages[0].target, None);
        assert_eq!(dep.usages[0].new_text, None);
        assert_eq!(dep.usages[1].new_text.as_deref(), Some("v1.1.0"));
        let settled = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.1.0")],
            &listings,
            Strategy::NextBreaking,
        );
        assert!(!settled.has_update());
        assert_eq!(settled.release_notes_url, None);
    }

    #[test]
    fn listing_failure_is_recorded_without_targets() {
        let mut listings = Listings::new();
        listings.insert(git_origin("mods"), Err("authentication failed".into()));
        let dep = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.0.0")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(dep.error.as_deref(), Some("authentication failed"));
        assert_eq!(dep.usages[0].target_safe, None);
        assert_eq!(dep.latest, None);
        assert!(!dep.has_update());

        let missing = plan_one(
            vec![git_usage("other", "a.tf", 1, "v1.0.0")],
            &Listings::new(),
            Strategy::NextSafe,
        );
        assert_eq!(
            missing.error.as_deref(),
            Some("no version listing for https://github.com/acme/other.git")
        );
    }

    #[test]
    fn unreadable_ref_gets_a_note_not_an_error() {
        let listings = listing(git_origin("mods"), &["v1.0.0"]);
        let dep = plan_one(
            vec![git_usage("mods", "a.tf", 1, "main")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(dep.error, None);
        assert_eq!(
            dep.usages[0].note.as_deref(),
            Some("`main` is not a version")
        );
        assert!(!dep.has_update());
    }

    #[test]
    fn plan_sorts_dependencies_by_id() {
        let mut listings = listing(git_origin("zeta"), &["v1.0.0", "v1.0.1"]);
        listings.extend(listing(git_origin("alpha"), &["v1.0.0", "v1.0.1"]));
        let plan = plan(
            &scan_of(vec![
                git_usage("zeta", "a.tf", 1, "v1.0.0"),
                git_usage("alpha", "a.tf", 5, "v1.0.0"),
            ]),
            &listings,
            Strategy::NextSafe,
        );
        let ids: Vec<_> = plan
            .dependencies
            .iter()
            .map(|d| d.source.id.as_str())
            .collect();
        assert_eq!(ids, ["acme/alpha/vpc", "acme/zeta/vpc"]);
    }

    #[test]
    fn registry_constraint_floor_is_raised_and_keeps_its_operator() {
        let listings = listing(registry_origin(), &["5.1.0", "5.4.0", "5.0.0", "6.0.0"]);
        let usage = registry_usage("dev/main.tf", "~> 5.1");
        let safe = plan_one(vec![usage.clone()], &listings, Strategy::NextSafe);
        assert_eq!(safe.usages[0].resolved_current.as_deref(), Some("5.1.0"));
        assert_eq!(safe.usages[0].new_text.as_deref(), Some("~> 5.4"));
        let breaking = plan_one(vec![usage], &listings, Strategy::NextBreaking);
        let u = &breaking.usages[0];
        assert_eq!(u.target.as_deref(), Some("6.0.0"));
        assert_eq!(u.new_text.as_deref(), Some("~> 6.0"));
        assert!(u.breaking);
        assert_eq!(breaking.release_notes_url, None, "not on GitHub");
    }

    #[test]
    fn registry_exact_pin_moves_to_the_safe_version() {
        let listings = listing(registry_origin(), &["5.1.0", "5.4.0", "6.0.0"]);
        let dep = plan_one(
            vec![registry_usage("dev/main.tf", "5.1.0")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(dep.usages[0].new_text.as_deref(), Some("5.4.0"));
        assert_eq!(dep.current_versions, ["5.1.0"]);
    }

    #[test]
    fn registry_range_that_excludes_the_target_is_left_with_a_note() {
        let listings = listing(registry_origin(), &["1.0.0", "1.5.0", "2.0.0"]);
        let usage = registry_usage("dev/main.tf", ">= 1.0, < 2.0");
        let safe = plan_one(vec![usage.clone()], &listings, Strategy::NextSafe);
        assert_eq!(safe.usages[0].resolved_current.as_deref(), Some("1.0.0"));
        assert!(!safe.has_update(), "the range already allows 1.5.0");
        let breaking = plan_one(vec![usage], &listings, Strategy::NextBreaking);
        let u = &breaking.usages[0];
        assert_eq!((u.target.as_ref(), u.new_text.as_ref()), (None, None));
        assert!(u.note.as_deref().unwrap().contains("does not allow 2.0.0"));
    }

    #[test]
    fn registry_constraint_matching_nothing_gets_a_note() {
        let listings = listing(registry_origin(), &["1.0.0"]);
        let dep = plan_one(
            vec![registry_usage("a.tf", "~> 3.0")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(
            dep.usages[0].note.as_deref(),
            Some("no listed version matches `~> 3.0`")
        );
    }

    fn planned(usages: Vec<Usage>, listings: &Listings) -> DependencyPlan {
        plan_one(usages, listings, Strategy::NextSafe)
    }

    #[test]
    fn retarget_moves_to_exactly_the_promoted_version() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v1.1.0", "v1.2.0"]);
        let dep = planned(
            vec![
                git_usage("mods", "prod/a.tf", 1, "v1.0.0"),
                git_usage("mods", "prod/b.tf", 1, "v1.1.0"),
            ],
            &listings,
        );
        for wanted in ["v1.1.0", "1.1.0"] {
            let moved = retarget(&dep, wanted, &listings).unwrap();
            assert_eq!(moved.usages[0].target.as_deref(), Some("v1.1.0"));
            assert_eq!(moved.usages[0].new_text.as_deref(), Some("v1.1.0"));
            assert_eq!(moved.usages[1].new_text, None, "already there");
            assert!(!moved.is_breaking());
        }
    }

    #[test]
    fn retarget_keeps_each_usage_prefix_style() {
        let listings = listing(
            git_origin("mods"),
            &["v1.0.0", "1.0.0", "v1.1.0", "1.1.0", "v1.2.0"],
        );
        let dep = planned(
            vec![
                git_usage("mods", "a.tf", 1, "1.0.0"),
                git_usage("mods", "b.tf", 1, "v1.0.0"),
            ],
            &listings,
        );
        let moved = retarget(&dep, "v1.1.0", &listings).unwrap();
        let texts: Vec<_> = moved.usages.iter().map(|u| u.new_text.as_deref()).collect();
        assert_eq!(texts, [Some("1.1.0"), Some("v1.1.0")]);
        let only_prefixed = retarget(&dep, "1.2.0", &listings).unwrap();
        assert_eq!(only_prefixed.usages[0].new_text.as_deref(), Some("v1.2.0"));
        assert!(matches!(
            retarget(&dep, "main", &listings),
            Err(PlanError::VersionNotFound { .. })
        ));
    }

    #[test]
    fn retarget_marks_breaking_relative_to_each_usage() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v2.0.0", "v2.1.0"]);
        let dep = planned(
            vec![
                git_usage("mods", "a.tf", 1, "v1.0.0"),
                git_usage("mods", "b.tf", 1, "v2.0.0"),
            ],
            &listings,
        );
        let moved = retarget(&dep, "v2.1.0", &listings).unwrap();
        assert!(moved.usages[0].breaking);
        assert!(!moved.usages[1].breaking);
        assert_eq!(moved.usages[1].new_text.as_deref(), Some("v2.1.0"));
    }

    #[test]
    fn retarget_to_an_older_version_says_so() {
        let listings = listing(git_origin("mods"), &["v1.1.0", "v1.2.0"]);
        let dep = planned(vec![git_usage("mods", "a.tf", 1, "v1.2.0")], &listings);
        let moved = retarget(&dep, "v1.1.0", &listings).unwrap();
        assert_eq!(moved.usages[0].new_text.as_deref(), Some("v1.1.0"));
        assert_eq!(
            moved.usages[0].note.as_deref(),
            Some("moves back from 1.2.0")
        );
    }

    #[test]
    fn retarget_errors() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v1.1.0"]);
        let dep = planned(vec![git_usage("mods", "a.tf", 1, "v1.0.0")], &listings);
        match retarget(&dep, "v1.5.0", &listings) {
            Err(PlanError::VersionNotFound { id, version }) => {
                assert_eq!((id.as_str(), version.as_str()), ("acme/mods/vpc", "v1.5.0"));
            }
            other => panic!("expected VersionNotFound, got {other:?}"),
        }
        let mut failing = Listings::new();
        failing.insert(git_origin("mods"), Err("timed out".into()));
        assert!(matches!(
            retarget(&dep, "v1.1.0", &failing),
            Err(PlanError::Listing { message, .. }) if message == "timed out"
        ));
    }

    #[test]
    fn retarget_rewrites_registry_constraints_or_fails() {
        let listings = listing(registry_origin(), &["5.1.0", "5.4.0", "6.0.0"]);
        let pinned = planned(vec![registry_usage("a.tf", "= 5.1.0")], &listings);
        let moved = retarget(&pinned, "5.4.0", &listings).unwrap();
        assert_eq!(moved.usages[0].new_text.as_deref(), Some("= 5.4.0"));
        let ranged = planned(vec![registry_usage("a.tf", ">= 5.0, < 6.0")], &listings);
        assert!(matches!(
            retarget(&ranged, "6.0.0", &listings),
            Err(PlanError::Rewrite { line: 3, .. })
        ));
        let allowed = retarget(&ranged, "5.4.0", &listings).unwrap();
        assert!(!allowed.has_update());
    }
}
