//! Picks the version every usage moves to, from the scan and the version listings.
//!
//! Targets are chosen per usage, not per dependency: two folders on different versions of one
//! module each get the step that is safe for them.

pub use crate::model::Listings;
use crate::model::{Listed, Origin, Source, Usage, VersionForm};
use crate::version::{
    family_of, is_breaking, parse_constraint, parse_tag, parse_version, rewrite, Version,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

/// The update strategy: which candidate a usage moves to when no exact version is asked of it.
/// A breaking change is a version whose major (for 0.x: minor) differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Highest version before the next breaking change, else the latest.
    #[default]
    NextSafe,
    /// The next breaking version itself, else the latest.
    NextBreaking,
}

/// What one usage moves to, and why it does not when it stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsagePlan {
    /// The usage this plan is for, as scanned.
    pub usage: Usage,
    /// Listed version the text stands for. For a constraint, the lowest listed version it
    /// allows: the floor the file promises, which an update raises (`~> 5.1` → `~> 5.4`).
    pub resolved_current: Option<String>,
    /// What `next-safe` picks: the highest version ahead before the next breaking change; None
    /// when none is ahead (or the usage could not be resolved).
    pub target_safe: Option<String>,
    /// What `next-breaking` picks: the next breaking version, else the highest ahead; None when
    /// none is ahead (or the usage could not be resolved).
    pub target_breaking: Option<String>,
    /// By strategy; None if no update.
    pub target: Option<String>,
    /// Whether moving to `target` crosses a breaking change; false when the usage stays.
    pub breaking: bool,
    /// Replacement for `usage.span`; None = no change.
    pub new_text: Option<String>,
    /// Replacement for the tag of the usage's pin comment (`# v1.2.3` after a commit id).
    pub comment_text: Option<String>,
    /// Shown with the usage in the spec: why its listing failed, why the target cannot be
    /// written into it, or that it moves back to a lower version; None otherwise.
    pub note: Option<String>,
    /// Why the usage is left alone although it was found and its listing read: a ref that is
    /// no version tag, an untagged commit, a constraint nothing published satisfies, a moving
    /// tag. Reported in the spec's `Skipped`, never as "up to date".
    pub skipped: Option<String>,
}

/// The plan of one dependency (one Dependency ID): each usage's target and what they share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyPlan {
    /// The source of the first usage by file and line (all usages share its Dependency ID).
    pub source: Source,
    /// The distinct version texts the usages write, ordered by the version they stand for.
    pub current_versions: Vec<String>,
    /// The highest candidate of any usage, whether its strategy picks it or not; None when no
    /// usage could be resolved or nothing is listed for it.
    pub latest: Option<String>,
    /// The lowest breaking version ahead of any usage; None when no breaking release is ahead.
    pub next_breaking: Option<String>,
    /// `https://github.com/{github_repo}/releases/tag/{tag}` of the target (the highest any
    /// usage moves to) when the module lives on GitHub.
    pub release_notes_url: Option<String>,
    /// The usages that were asked for, by file and line.
    pub usages: Vec<UsagePlan>,
    /// Why the versions could not be listed.
    pub error: Option<String>,
}

impl DependencyPlan {
    /// Whether any usage gets a new version text.
    pub fn has_update(&self) -> bool {
        self.usages.iter().any(|u| u.new_text.is_some())
    }

    /// Whether any usage that moves crosses a breaking change.
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
    /// Every dependency with at least one usage asked for.
    pub dependencies: Vec<DependencyPlan>,
}

/// Why a plan, or an update built on one, cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// An exact version was asked of a dependency whose listing does not have it.
    #[error("{id}: version {version} is not listed")]
    VersionNotFound {
        /// The Dependency ID the version was asked of.
        id: String,
        /// The exact version asked for, as given.
        version: String,
    },
    /// The dependency's versions could not be listed. `plan` records this in the dependency's
    /// `error` instead; an update, which cannot go on without them, raises it.
    #[error("{id}: cannot list versions: {message}")]
    Listing {
        /// The Dependency ID whose listing failed.
        id: String,
        /// Why the listing failed.
        message: String,
    },
    /// An exact version cannot be written into a usage, or the listing cannot place the
    /// usage's current text at all.
    #[error("{id}: {file}:{line}: {message}")]
    Rewrite {
        /// The Dependency ID of the usage.
        id: String,
        /// The usage's file, relative to the working dir.
        file: String,
        /// 1-based line of the usage's version text.
        line: usize,
        /// Why the version cannot be written into the usage, or why its text cannot be placed.
        message: String,
    },
}

/// What a usage is to move to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted<'w> {
    /// The version the strategy picks among the candidates.
    Strategy(Strategy),
    /// Exactly this version (a promotion, a spec's target), looked up in everything listed and
    /// an error when it is not there; a usage already on it is left alone.
    Exact(&'w str),
}

/// The listings a plan reads.
#[derive(Debug, Clone, Copy)]
pub struct Versions<'a> {
    /// Everything the origins list: exact versions are looked up here.
    pub listed: &'a Listings,
    /// What a strategy may pick from: the listings less what the cooldown holds back.
    pub candidates: &'a Listings,
}

impl<'a> Versions<'a> {
    /// One set of listings for both exact versions and strategies.
    pub fn all(listings: &'a Listings) -> Versions<'a> {
        Versions {
            listed: listings,
            candidates: listings,
        }
    }
}

/// Plans each usage toward what `wanted` asks for it; a usage it answers `None` for is left out.
/// A listing that failed is the dependency's `error`, not an error of the plan; an exact
/// version that is not listed or cannot be written into a usage is.
pub fn plan<'w>(
    usages: &[Usage],
    versions: Versions,
    wanted: &dyn Fn(&Usage) -> Option<Wanted<'w>>,
) -> Result<Plan, PlanError> {
    let mut catalogs = Catalogs {
        listed: Catalog::new(versions.listed),
        candidates: Catalog::new(versions.candidates),
    };
    let mut dependencies = Vec::new();
    for usages in group_by_id(usages.iter()).into_values() {
        let asked: Vec<(&Usage, Wanted)> = usages
            .into_iter()
            .filter_map(|usage| wanted(usage).map(|w| (usage, w)))
            .collect();
        if !asked.is_empty() {
            dependencies.push(plan_dependency(&asked, &mut catalogs)?);
        }
    }
    Ok(Plan { dependencies })
}

/// Parsed listings for exact versions and for strategies.
struct Catalogs<'a> {
    listed: Catalog<'a>,
    candidates: Catalog<'a>,
}

fn plan_dependency<'a>(
    usages: &[(&'a Usage, Wanted)],
    catalogs: &mut Catalogs<'a>,
) -> Result<DependencyPlan, PlanError> {
    let mut error = None;
    let mut planned = Vec::with_capacity(usages.len());
    for &(usage, wanted) in usages {
        let catalog = match wanted {
            Wanted::Exact(_) => &mut catalogs.listed,
            Wanted::Strategy(_) => &mut catalogs.candidates,
        };
        planned.push(match (resolve(usage, catalog), wanted) {
            (Err(Unresolved::Listing(message)), _) => {
                error.get_or_insert_with(|| message.clone());
                unresolved(usage, Some(message), None)
            }
            // A usage the listing cannot place is not a listing failure: it is skipped, unless
            // an exact version was asked of it.
            (Err(Unresolved::Skip(reason)), Wanted::Strategy(_)) => {
                unresolved(usage, None, Some(reason))
            }
            (Err(Unresolved::Skip(reason)), Wanted::Exact(_)) => {
                return Err(rewrite_error(usage, reason))
            }
            (Ok(resolved), Wanted::Strategy(strategy)) => by_strategy(usage, &resolved, strategy),
            (Ok(resolved), Wanted::Exact(version)) => exactly(usage, &resolved, version)?,
        });
    }
    Ok(assemble(Source::clone(&usages[0].0.source), planned, error))
}

fn by_strategy(usage: &Usage, resolved: &Resolved, strategy: Strategy) -> Planned {
    let target = match strategy {
        Strategy::NextSafe => resolved.steps.safe.as_ref(),
        Strategy::NextBreaking => resolved.steps.breaking.as_ref(),
    };
    let mut planned = planned_usage(usage, resolved, target);
    if planned.plan.new_text.is_none() && planned.rewrite_error.is_none() {
        planned.plan.skipped = idle_reason(usage, resolved, strategy);
    }
    planned
}

/// Moves the usage to exactly `version`, written the way the usage writes versions.
fn exactly(usage: &Usage, resolved: &Resolved, version: &str) -> Result<Planned, PlanError> {
    let target = parse_tag(version)
        .and_then(|wanted| {
            resolved
                .listed
                .iter()
                .find(|v| v.semver == wanted.semver && v.family() == wanted.family())
        })
        .ok_or_else(|| PlanError::VersionNotFound {
            id: usage.source.id.clone(),
            version: version.to_string(),
        })?;
    let mut planned = planned_usage(usage, resolved, Some(target));
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

/// Why a usage with nothing to do is not simply up to date: a moving tag, which follows its
/// releases by itself, or a version the listing does not have.
fn idle_reason(usage: &Usage, resolved: &Resolved, strategy: Strategy) -> Option<String> {
    if let Some(moving) = &resolved.moving {
        let next = match (strategy, &resolved.steps.breaking) {
            (Strategy::NextSafe, Some(next)) => {
                format!("; next-breaking moves it to `{}`", next.text)
            }
            (Strategy::NextSafe, None) | (Strategy::NextBreaking, _) => {
                "; no tag of the next breaking version exists yet".to_string()
            }
        };
        return Some(format!(
            "`{}` is a moving tag that follows the {} releases by itself{next}",
            usage.current, moving
        ));
    }
    resolved
        .resolved_current
        .is_none()
        .then(|| match usage.form {
            VersionForm::RegistryAttribute | VersionForm::TfrQuery => format!(
                "version {} is not published in {}",
                usage.current,
                origin_label(&usage.source.origin)
            ),
            VersionForm::GitRef | VersionForm::CommitPin => format!(
                "`{}` is not a tag of {}",
                usage.current,
                origin_label(&usage.source.origin)
            ),
        })
}

/// A usage's plan plus what the dependency-level summary needs.
struct Planned {
    plan: UsagePlan,
    latest: Option<Version>,
    next_breaking: Option<Version>,
    /// Set when the target cannot be written into the usage's constraint.
    rewrite_error: Option<String>,
}

fn unresolved(usage: &Usage, note: Option<String>, skipped: Option<String>) -> Planned {
    Planned {
        plan: UsagePlan {
            usage: usage.clone(),
            resolved_current: None,
            target_safe: None,
            target_breaking: None,
            target: None,
            breaking: false,
            new_text: None,
            comment_text: None,
            note,
            skipped,
        },
        latest: None,
        next_breaking: None,
        rewrite_error: None,
    }
}

/// What a usage currently stands for, and the versions it could move to.
struct Resolved<'a> {
    current: semver::Version,
    resolved_current: Option<String>,
    latest: Option<Version>,
    steps: Steps,
    /// Every candidate of the usage's family and kind, pre-releases included.
    listed: Rc<[Version]>,
    /// For a moving tag: the releases it covers (`1.x`), for messages.
    moving: Option<String>,
    /// The origin's listing, for the commit a target tag points at.
    tags: &'a [Listed],
}

struct Steps {
    safe: Option<Version>,
    breaking: Option<Version>,
    next_breaking: Option<Version>,
}

enum Unresolved {
    /// The origin's versions could not be listed.
    Listing(String),
    /// The listing cannot place the usage's text: why it is skipped.
    Skip(String),
}

/// Which tags of a listing a usage can move between: its family (`vpc-`), the prefix it
/// writes (`vpc-v`, preferred when a listing has both spellings), releases or moving tags of
/// one precision, and whether pre-releases count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Shelf {
    prefix: String,
    moving: Option<usize>,
    prereleases: bool,
}

impl Shelf {
    fn of(tag: &Version, moving: bool) -> Shelf {
        Shelf {
            prefix: tag.prefix().to_string(),
            moving: moving.then_some(tag.precision),
            prereleases: true,
        }
    }

    fn family(&self) -> &str {
        family_of(&self.prefix)
    }
}

/// Parsed listings per (origin, shelf): a module used in thousands of files has its tags
/// parsed once, not once per usage.
struct Catalog<'a> {
    listings: &'a Listings,
    parsed: HashMap<(&'a Origin, Shelf), Rc<[Version]>>,
}

impl<'a> Catalog<'a> {
    fn new(listings: &'a Listings) -> Self {
        Catalog {
            listings,
            parsed: HashMap::new(),
        }
    }

    fn listed(&self, origin: &Origin) -> Result<&'a [Listed], Unresolved> {
        match self.listings.get(origin) {
            Some(Ok(listed)) => Ok(listed),
            Some(Err(message)) => Err(Unresolved::Listing(message.clone())),
            None => Err(Unresolved::Listing(format!(
                "no version listing for {}",
                origin_label(origin)
            ))),
        }
    }

    fn versions(&mut self, origin: &'a Origin, shelf: Shelf) -> Result<Rc<[Version]>, Unresolved> {
        let listed = self.listed(origin)?;
        let versions = self
            .parsed
            .entry((origin, shelf))
            .or_insert_with_key(|(_, shelf)| candidates(listed, shelf).into());
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

fn resolve<'a>(usage: &'a Usage, catalog: &mut Catalog<'a>) -> Result<Resolved<'a>, Unresolved> {
    let origin = &usage.source.origin;
    let tags = catalog.listed(origin)?;
    let (current, shelf) = match usage.form {
        VersionForm::RegistryAttribute => (registry_floor(usage, catalog)?, None),
        VersionForm::CommitPin => (tag_of_commit(usage, tags)?, None),
        VersionForm::GitRef | VersionForm::TfrQuery => {
            let tag = parse_tag(&usage.current)
                .filter(|t| usage.form == VersionForm::GitRef || t.precision >= 2)
                .ok_or_else(|| Unresolved::Skip(not_a_version(usage, tags)))?;
            let moving = Shelf::of(&tag, true);
            let is_moving = tag.precision == 1
                || (tag.precision == 2 && catalog.versions(origin, moving.clone())?.contains(&tag));
            (tag, is_moving.then_some(moving))
        }
    };
    let moving = shelf.as_ref().map(|_| covered_releases(&current));
    let shelf = shelf.unwrap_or_else(|| Shelf::of(&current, false));
    let listed = catalog.versions(origin, shelf.clone())?;
    let candidates = match current.semver.pre.is_empty() {
        true => catalog.versions(
            origin,
            Shelf {
                prereleases: false,
                ..shelf
            },
        )?,
        false => Rc::clone(&listed),
    };
    let resolved_current = listed
        .iter()
        .find(|v| v.semver == current.semver)
        .map(|v| v.text.clone());
    Ok(Resolved {
        steps: steps(&current.semver, &candidates),
        latest: candidates.last().cloned(),
        current: current.semver,
        resolved_current,
        listed,
        moving,
        tags,
    })
}

fn covered_releases(tag: &Version) -> String {
    match tag.precision {
        1 => format!("{}.x", tag.semver.major),
        _ => format!("{}.{}.x", tag.semver.major, tag.semver.minor),
    }
}

/// Why a ref that is not a version is left alone, as precisely as the listing tells.
fn not_a_version(usage: &Usage, tags: &[Listed]) -> String {
    let text = &usage.current;
    if usage.form == VersionForm::TfrQuery {
        return format!("`{text}` is not a version");
    }
    let where_ = origin_label(&usage.source.origin);
    if tags.iter().any(|t| t.name == *text) {
        format!("tag `{text}` of {where_} is not a version")
    } else {
        format!(
            "`{text}` is not a tag of {where_} (a branch or an abbreviated commit id); \
             patcher moves version tags and full commit ids"
        )
    }
}

/// For a constraint, the lowest listed version it allows: the floor the file promises, which
/// an update raises (`~> 5.1` → `~> 5.4`). An exact pin that is not listed stands for itself.
fn registry_floor<'a>(usage: &'a Usage, catalog: &mut Catalog<'a>) -> Result<Version, Unresolved> {
    let constraint = parse_constraint(&usage.current).ok_or_else(|| {
        Unresolved::Skip(format!("`{}` is not a version constraint", usage.current))
    })?;
    let all = catalog.versions(
        &usage.source.origin,
        Shelf {
            prefix: String::new(),
            moving: None,
            prereleases: true,
        },
    )?;
    if let Some(floor) = all.iter().find(|v| constraint.matches(&v.semver)) {
        return Ok(floor.clone());
    }
    let pinned = constraint
        .exact()
        .and_then(|pinned| parse_version(&pinned.to_string()));
    pinned.ok_or_else(|| {
        let latest = all
            .iter()
            .rev()
            .find(|v| v.semver.pre.is_empty())
            .map_or(String::new(), |v| format!(" (latest is {})", v.text));
        Unresolved::Skip(format!(
            "no published version satisfies `{}`{latest}",
            usage.current
        ))
    })
}

/// The version tag a commit pin stands for: the tag its comment names when that tag points at
/// the commit, else the highest version tag of the commit (of the comment's family).
fn tag_of_commit(usage: &Usage, tags: &[Listed]) -> Result<Version, Unresolved> {
    let commit = &usage.current;
    let short = &commit[..commit.len().min(12)];
    let on_commit: Vec<Version> = tags
        .iter()
        .filter(|t| {
            t.commit
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(commit))
        })
        .filter_map(|t| parse_version(&t.name))
        .collect();
    let comment = usage
        .pin_comment
        .as_ref()
        .and_then(|c| parse_version(&c.tag));
    if let Some(named) = comment
        .as_ref()
        .and_then(|c| on_commit.iter().find(|t| t.text == c.text))
    {
        return Ok(named.clone());
    }
    let family = comment.as_ref().map(|c| c.family().to_string());
    let chosen: Vec<&Version> = on_commit
        .iter()
        .filter(|t| family.as_deref().is_none_or(|f| t.family() == f))
        .collect();
    let families: BTreeSet<&str> = chosen.iter().map(|t| t.family()).collect();
    match families.len() {
        0 => Err(Unresolved::Skip(format!(
            "commit {short} is not tagged with a version in {}",
            origin_label(&usage.source.origin)
        ))),
        1 => Ok(chosen.into_iter().max().cloned().expect("one family")),
        _ => Err(Unresolved::Skip(format!(
            "commit {short} carries tags of several families ({}); write `# <tag>` after the \
             ref to say which one it follows",
            families.into_iter().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The shelf's tags, sorted, one per semver (the one in the shelf's prefix when the listing
/// has both `v1.2.3` and `1.2.3`).
fn candidates(listed: &[Listed], shelf: &Shelf) -> Vec<Version> {
    let family = shelf.family();
    let tags: Vec<Version> = listed
        .iter()
        .filter_map(|l| parse_tag(&l.name))
        .filter(|v| v.family() == family)
        .collect();
    let releases: HashSet<(u64, u64)> = tags
        .iter()
        .filter(|v| v.precision == 3)
        .map(|v| (v.semver.major, v.semver.minor))
        .collect();
    let covers_releases =
        |v: &Version| v.precision == 1 || releases.contains(&(v.semver.major, v.semver.minor));
    let mut versions: Vec<Version> = tags
        .into_iter()
        .filter(|v| shelf.prereleases || v.semver.pre.is_empty())
        .filter(|v| match shelf.moving {
            Some(precision) => v.precision == precision && covers_releases(v),
            None => v.precision >= 2 && !(v.precision == 2 && covers_releases(v)),
        })
        .collect();
    versions.sort();
    let mut unique: Vec<Version> = Vec::with_capacity(versions.len());
    for version in versions {
        match unique.last_mut() {
            Some(last) if last.semver == version.semver => {
                if last.prefix() != shelf.prefix && version.prefix() == shelf.prefix {
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
        comment_text: None,
        note: None,
        skipped: None,
    };
    let mut rewrite_error = None;
    if let Some(target) = target.filter(|t| t.semver != resolved.current) {
        match new_text(usage, resolved, target) {
            Ok(Some(text)) if text != usage.current => {
                plan.breaking = is_breaking(&resolved.current, &target.semver);
                plan.target = Some(target.text.clone());
                plan.new_text = Some(text);
                plan.comment_text = usage
                    .pin_comment
                    .as_ref()
                    .filter(|c| c.tag != target.text)
                    .map(|_| target.text.clone());
                if target.semver < resolved.current {
                    plan.note = Some(format!("moves back from {}", resolved.current));
                }
            }
            Ok(_) => {}
            Err(error) => {
                plan.note = Some(error.clone());
                rewrite_error = Some(error);
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

/// The text that replaces the usage's version: for a commit pin the commit the target tag
/// points at, else the target written the way the usage writes versions.
fn new_text(
    usage: &Usage,
    resolved: &Resolved,
    target: &Version,
) -> Result<Option<String>, String> {
    let text = rewrite(&usage.current, usage.form, target).map_err(|e| e.to_string())?;
    if usage.form != VersionForm::CommitPin {
        return Ok(text);
    }
    resolved
        .tags
        .iter()
        .find(|t| t.name == target.text)
        .and_then(|t| t.commit.clone())
        .map(Some)
        .ok_or_else(|| format!("the commit of tag {} is not known", target.text))
}

fn assemble(source: Source, planned: Vec<Planned>, error: Option<String>) -> DependencyPlan {
    let latest = planned.iter().filter_map(|p| p.latest.clone()).max();
    let next_breaking = planned.iter().filter_map(|p| p.next_breaking.clone()).min();
    let usages: Vec<UsagePlan> = planned.into_iter().map(|p| p.plan).collect();
    let notes_tag = highest(usages.iter().map(|u| u.target.as_deref())).map(str::to_string);
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
        .filter_map(|text| parse_tag(text).map(|v| (v, text)))
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
                parse_tag(meaning).map(|v| v.semver),
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
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    fn git_origin(repo: &str) -> Origin {
        Origin::Git {
            url: format!("https://github.com/acme/{repo}.git"),
        }
    }

    /// A usage of `acme/{repo}/vpc` at `current`, written at byte 100 of `file`.
    pub(crate) fn git_usage(repo: &str, file: &str, line: usize, current: &str) -> Usage {
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
            pin_comment: None,
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
            pin_comment: None,
        }
    }

    fn listing(origin: Origin, versions: &[&str]) -> Listings {
        let mut listings = Listings::new();
        listings.insert(
            origin,
            Ok(versions.iter().map(|v| Listed::name(*v)).collect()),
        );
        listings
    }

    fn plan_one(usages: Vec<Usage>, listings: &Listings, strategy: Strategy) -> DependencyPlan {
        let mut plan = plan(&usages, Versions::all(listings), &|_| {
            Some(Wanted::Strategy(strategy))
        })
        .unwrap();
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
            dep.usages[0].skipped.as_deref(),
            Some(
                "`main` is not a tag of https://github.com/acme/mods.git (a branch or an \
                 abbreviated commit id); patcher moves version tags and full commit ids"
            )
        );
        assert!(!dep.has_update());
    }

    #[test]
    fn plan_sorts_dependencies_by_id() {
        let mut listings = listing(git_origin("zeta"), &["v1.0.0", "v1.0.1"]);
        listings.extend(listing(git_origin("alpha"), &["v1.0.0", "v1.0.1"]));
        let usages = [
            git_usage("zeta", "a.tf", 1, "v1.0.0"),
            git_usage("alpha", "a.tf", 5, "v1.0.0"),
        ];
        let plan = plan(&usages, Versions::all(&listings), &|_| {
            Some(Wanted::Strategy(Strategy::NextSafe))
        })
        .unwrap();
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
    fn registry_one_step_range_moves_only_under_next_breaking() {
        let listings = listing(registry_origin(), &["1.0.0", "1.5.0", "2.0.0"]);
        let usage = registry_usage("dev/main.tf", ">= 1.0, < 2.0");
        let safe = plan_one(vec![usage.clone()], &listings, Strategy::NextSafe);
        assert_eq!(safe.usages[0].resolved_current.as_deref(), Some("1.0.0"));
        assert!(!safe.has_update(), "the range already allows 1.5.0");
        assert_eq!(
            safe.usages[0].skipped, None,
            "up to date: the range allows 1.5.0"
        );
        let breaking = plan_one(vec![usage], &listings, Strategy::NextBreaking);
        let u = &breaking.usages[0];
        assert_eq!(u.target.as_deref(), Some("2.0.0"));
        assert_eq!(u.new_text.as_deref(), Some(">= 2.0, < 3.0"));
        let odd = registry_usage("dev/main.tf", ">= 1.0, < 1.8");
        let breaking = plan_one(vec![odd], &listings, Strategy::NextBreaking);
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
            dep.usages[0].skipped.as_deref(),
            Some("no published version satisfies `~> 3.0` (latest is 1.0.0)")
        );
        let between = listing(registry_origin(), &["5.0.0", "5.0.3", "6.0.0", "6.1.0"]);
        let dep = plan_one(
            vec![registry_usage("a.tf", "~> 5.1.0")],
            &between,
            Strategy::NextBreaking,
        );
        assert!(!dep.has_update());
        assert_eq!(
            dep.usages[0].skipped.as_deref(),
            Some("no published version satisfies `~> 5.1.0` (latest is 6.1.0)")
        );
    }

    fn planned(usages: Vec<Usage>, listings: &Listings) -> DependencyPlan {
        plan_one(usages, listings, Strategy::NextSafe)
    }

    /// The usages of `dep` planned to exactly `version`.
    fn plan_exact(
        dep: &DependencyPlan,
        version: &str,
        listings: &Listings,
    ) -> Result<DependencyPlan, PlanError> {
        let usages: Vec<Usage> = dep.usages.iter().map(|u| u.usage.clone()).collect();
        let mut plan = plan(&usages, Versions::all(listings), &|_| {
            Some(Wanted::Exact(version))
        })?;
        Ok(plan.dependencies.remove(0))
    }

    #[test]
    fn exact_moves_to_exactly_the_promoted_version() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v1.1.0", "v1.2.0"]);
        let dep = planned(
            vec![
                git_usage("mods", "prod/a.tf", 1, "v1.0.0"),
                git_usage("mods", "prod/b.tf", 1, "v1.1.0"),
            ],
            &listings,
        );
        for wanted in ["v1.1.0", "1.1.0"] {
            let moved = plan_exact(&dep, wanted, &listings).unwrap();
            assert_eq!(moved.usages[0].target.as_deref(), Some("v1.1.0"));
            assert_eq!(moved.usages[0].new_text.as_deref(), Some("v1.1.0"));
            assert_eq!(moved.usages[1].new_text, None, "already there");
            assert!(!moved.is_breaking());
        }
    }

    #[test]
    fn exact_keeps_each_usage_prefix_style() {
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
        let moved = plan_exact(&dep, "v1.1.0", &listings).unwrap();
        let texts: Vec<_> = moved.usages.iter().map(|u| u.new_text.as_deref()).collect();
        assert_eq!(texts, [Some("1.1.0"), Some("v1.1.0")]);
        let only_prefixed = plan_exact(&dep, "1.2.0", &listings).unwrap();
        assert_eq!(only_prefixed.usages[0].new_text.as_deref(), Some("v1.2.0"));
        assert!(matches!(
            plan_exact(&dep, "main", &listings),
            Err(PlanError::VersionNotFound { .. })
        ));
    }

    #[test]
    fn exact_marks_breaking_relative_to_each_usage() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v2.0.0", "v2.1.0"]);
        let dep = planned(
            vec![
                git_usage("mods", "a.tf", 1, "v1.0.0"),
                git_usage("mods", "b.tf", 1, "v2.0.0"),
            ],
            &listings,
        );
        let moved = plan_exact(&dep, "v2.1.0", &listings).unwrap();
        assert!(moved.usages[0].breaking);
        assert!(!moved.usages[1].breaking);
        assert_eq!(moved.usages[1].new_text.as_deref(), Some("v2.1.0"));
    }

    #[test]
    fn exact_to_an_older_version_says_so() {
        let listings = listing(git_origin("mods"), &["v1.1.0", "v1.2.0"]);
        let dep = planned(vec![git_usage("mods", "a.tf", 1, "v1.2.0")], &listings);
        let moved = plan_exact(&dep, "v1.1.0", &listings).unwrap();
        assert_eq!(moved.usages[0].new_text.as_deref(), Some("v1.1.0"));
        assert_eq!(
            moved.usages[0].note.as_deref(),
            Some("moves back from 1.2.0")
        );
    }

    #[test]
    fn exact_errors() {
        let listings = listing(git_origin("mods"), &["v1.0.0", "v1.1.0"]);
        let dep = planned(vec![git_usage("mods", "a.tf", 1, "v1.0.0")], &listings);
        match plan_exact(&dep, "v1.5.0", &listings) {
            Err(PlanError::VersionNotFound { id, version }) => {
                assert_eq!((id.as_str(), version.as_str()), ("acme/mods/vpc", "v1.5.0"));
            }
            other => panic!("expected VersionNotFound, got {other:?}"),
        }
        let mut failing = Listings::new();
        failing.insert(git_origin("mods"), Err("timed out".into()));
        let unlisted = plan_exact(&dep, "v1.1.0", &failing).unwrap();
        assert_eq!(unlisted.error.as_deref(), Some("timed out"));
        assert!(!unlisted.has_update());
    }

    #[test]
    fn exact_rewrites_registry_constraints_or_fails() {
        let listings = listing(registry_origin(), &["5.1.0", "5.4.0", "6.0.0"]);
        let pinned = planned(vec![registry_usage("a.tf", "= 5.1.0")], &listings);
        let moved = plan_exact(&pinned, "5.4.0", &listings).unwrap();
        assert_eq!(moved.usages[0].new_text.as_deref(), Some("= 5.4.0"));
        let ranged = planned(vec![registry_usage("a.tf", ">= 5.0, < 6.0")], &listings);
        let shifted = plan_exact(&ranged, "6.0.0", &listings).unwrap();
        assert_eq!(shifted.usages[0].new_text.as_deref(), Some(">= 6.0, < 7.0"));
        let fenced = planned(vec![registry_usage("a.tf", ">= 5.0, < 5.9")], &listings);
        assert!(matches!(
            plan_exact(&fenced, "6.0.0", &listings),
            Err(PlanError::Rewrite { line: 3, .. })
        ));
        let allowed = plan_exact(&ranged, "5.4.0", &listings).unwrap();
        assert!(!allowed.has_update());
    }

    #[test]
    fn each_usage_gets_what_is_wanted_of_it() {
        let listed = listing(git_origin("mods"), &["v1.0.0", "v1.1.0", "v1.2.0"]);
        let candidates = listing(git_origin("mods"), &["v1.0.0", "v1.1.0"]);
        let usages = [
            git_usage("mods", "a.tf", 1, "v1.0.0"),
            git_usage("mods", "b.tf", 1, "v1.0.0"),
            git_usage("mods", "c.tf", 1, "v1.0.0"),
            git_usage("other", "a.tf", 9, "v1.0.0"),
        ];
        let versions = Versions {
            listed: &listed,
            candidates: &candidates,
        };
        let plan = plan(&usages, versions, &|usage| match (
            usage.source.repo.as_str(),
            usage.file.to_str(),
        ) {
            ("mods", Some("a.tf")) => Some(Wanted::Strategy(Strategy::NextBreaking)),
            ("mods", Some("b.tf")) => Some(Wanted::Exact("v1.2.0")),
            _ => None,
        })
        .unwrap();
        assert_eq!(plan.dependencies.len(), 1, "nothing was asked of `other`");
        let dep = &plan.dependencies[0];
        let moved: Vec<_> = dep
            .usages
            .iter()
            .map(|u| (u.usage.file.to_str(), u.new_text.as_deref()))
            .collect();
        assert_eq!(
            moved,
            [
                (Some("a.tf"), Some("v1.1.0")),
                (Some("b.tf"), Some("v1.2.0"))
            ],
            "the strategy picks among the candidates, the exact version among everything listed"
        );
        assert_eq!(dep.target(), Some("v1.2.0"));
    }

    fn targets(dep: &DependencyPlan) -> Vec<(Option<&str>, Option<&str>)> {
        dep.usages
            .iter()
            .map(|u| (u.target.as_deref(), u.skipped.as_deref()))
            .collect()
    }

    #[test]
    fn only_tags_of_the_current_family_are_candidates() {
        let listings = listing(
            git_origin("mods"),
            &[
                "vpc-v1.2.3",
                "vpc-v1.3.0",
                "vpc-v2.0.0",
                "eks-v1.0.0",
                "eks-v9.0.0",
                "v5.0.0",
                "modules/vpc/1.2.3",
                "modules/vpc/1.4.0",
                "vpc_1.2.3",
                "vpc_1.2.4",
                "vpc/v1.2.3",
                "vpc/v1.9.0",
            ],
        );
        for (current, safe, breaking) in [
            ("vpc-v1.2.3", Some("vpc-v1.3.0"), Some("vpc-v2.0.0")),
            (
                "modules/vpc/1.2.3",
                Some("modules/vpc/1.4.0"),
                Some("modules/vpc/1.4.0"),
            ),
            ("vpc_1.2.3", Some("vpc_1.2.4"), Some("vpc_1.2.4")),
            ("vpc/v1.2.3", Some("vpc/v1.9.0"), Some("vpc/v1.9.0")),
            ("eks-v1.0.0", None, Some("eks-v9.0.0")),
        ] {
            let dep = plan_one(
                vec![git_usage("mods", "a.tf", 1, current)],
                &listings,
                Strategy::NextSafe,
            );
            let u = &dep.usages[0];
            assert_eq!(u.target_safe.as_deref(), safe, "{current}");
            assert_eq!(u.target_breaking.as_deref(), breaking, "{current}");
            assert_eq!(u.resolved_current.as_deref(), Some(current));
        }
    }

    #[test]
    fn moving_major_tags_float_under_next_safe_and_move_under_next_breaking() {
        let listings = listing(
            git_origin("mods"),
            &[
                "v1", "v1.0.0", "v1.4.0", "v2", "v2.0.0", "v1.4", "v1.5", "v1.5.0",
            ],
        );
        let usage = git_usage("mods", "a.tf", 1, "v1");
        let safe = plan_one(vec![usage.clone()], &listings, Strategy::NextSafe);
        assert_eq!(
            targets(&safe),
            [(
                None,
                Some(
                    "`v1` is a moving tag that follows the 1.x releases by itself; \
                     next-breaking moves it to `v2`"
                )
            )]
        );
        let breaking = plan_one(vec![usage], &listings, Strategy::NextBreaking);
        assert_eq!(targets(&breaking), [(Some("v2"), None)]);
        assert_eq!(breaking.usages[0].new_text.as_deref(), Some("v2"));
        let minor = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.4")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(targets(&minor), [(Some("v1.5"), None)], "moving minor tags");
        let release = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.0.0")],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(
            targets(&release),
            [(Some("v1.5.0"), None)],
            "never a moving tag"
        );
        let alone = listing(git_origin("mods"), &["v1", "v1.0.0"]);
        let dep = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1")],
            &alone,
            Strategy::NextBreaking,
        );
        assert!(dep.usages[0]
            .skipped
            .as_deref()
            .unwrap()
            .ends_with("no tag of the next breaking version exists yet"));
    }

    #[test]
    fn tags_that_are_not_versions_are_skipped_with_the_reason() {
        let listings = listing(git_origin("mods"), &["latest", "v1.0.0"]);
        let dep = plan_one(
            vec![
                git_usage("mods", "a.tf", 1, "latest"),
                git_usage("mods", "b.tf", 1, "v0.9.0"),
            ],
            &listings,
            Strategy::NextBreaking,
        );
        assert_eq!(
            dep.usages[0].skipped.as_deref(),
            Some("tag `latest` of https://github.com/acme/mods.git is not a version")
        );
        assert_eq!(
            dep.usages[1].target.as_deref(),
            Some("v1.0.0"),
            "a missing tag still moves"
        );
        let settled = plan_one(
            vec![git_usage("mods", "a.tf", 1, "v1.1.0")],
            &listings,
            Strategy::NextBreaking,
        );
        assert_eq!(
            settled.usages[0].skipped.as_deref(),
            Some("`v1.1.0` is not a tag of https://github.com/acme/mods.git")
        );
    }

    fn tagged(name: &str, commit: char) -> Listed {
        Listed {
            name: name.into(),
            commit: Some(commit.to_string().repeat(40)),
        }
    }

    fn pin(commit: char, comment: Option<&str>) -> Usage {
        let mut usage = git_usage("mods", "a.tf", 1, &commit.to_string().repeat(40));
        usage.form = VersionForm::CommitPin;
        usage.pin_comment = comment.map(|tag| crate::model::PinComment {
            span: 200..200 + tag.len(),
            tag: tag.into(),
        });
        usage
    }

    fn commit_listing() -> Listings {
        let mut listings = Listings::new();
        let tags = vec![
            tagged("v1.0.0", 'a'),
            tagged("vpc-v3.0.0", 'a'),
            tagged("v1.1.0", 'b'),
            tagged("v2.0.0", 'c'),
            Listed::name("v1.2.0"),
        ];
        listings.insert(git_origin("mods"), Ok(tags));
        listings
    }

    #[test]
    fn commit_pins_move_to_the_commit_of_the_target_tag() {
        let listings = commit_listing();
        let dep = plan_one(
            vec![pin('a', Some("v1.0.0"))],
            &listings,
            Strategy::NextBreaking,
        );
        let u = &dep.usages[0];
        assert_eq!(u.resolved_current.as_deref(), Some("v1.0.0"));
        assert_eq!(u.target.as_deref(), Some("v2.0.0"));
        assert_eq!(u.new_text.as_deref(), Some("c".repeat(40).as_str()));
        assert_eq!(u.comment_text.as_deref(), Some("v2.0.0"));
        let safe = plan_one(vec![pin('b', None)], &listings, Strategy::NextSafe);
        assert_eq!(
            safe.usages[0].note.as_deref(),
            Some("the commit of tag v1.2.0 is not known")
        );
        let moved = plan_exact(&dep, "v1.1.0", &listings).unwrap();
        assert_eq!(
            moved.usages[0].new_text.as_deref(),
            Some("b".repeat(40).as_str())
        );
        assert_eq!(moved.usages[0].comment_text.as_deref(), Some("v1.1.0"));
    }

    #[test]
    fn commit_pins_without_a_version_tag_are_skipped() {
        let listings = commit_listing();
        let untagged = plan_one(vec![pin('d', None)], &listings, Strategy::NextSafe);
        assert_eq!(
            untagged.usages[0].skipped.as_deref(),
            Some("commit dddddddddddd is not tagged with a version in https://github.com/acme/mods.git")
        );
        let ambiguous = plan_one(vec![pin('a', None)], &listings, Strategy::NextSafe);
        assert!(ambiguous.usages[0]
            .skipped
            .as_deref()
            .unwrap()
            .contains("several families (, vpc-)"));
        let family = plan_one(
            vec![pin('a', Some("vpc-v2.9.0"))],
            &listings,
            Strategy::NextSafe,
        );
        assert_eq!(
            family.usages[0].resolved_current.as_deref(),
            Some("vpc-v3.0.0")
        );
    }
}
