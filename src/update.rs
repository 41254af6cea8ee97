//! `patcher update`: spec (+ dependency, + optional exact version) → re-scan → edit → publish.

use crate::breaking::ReleaseNotes;
use crate::edit::{self, Edit};
use crate::environment::Environment;
use crate::group::{Ask, Groups, Member};
use crate::model::{FileError, Usage};
use crate::plan::{self, DependencyPlan, Listings, Strategy};
use crate::publish::git::{GitError, Repo};
use crate::publish::github::{Forge, GitHubError, NewPull, PullRequest};
use crate::resolve::{self, VersionLister};
use crate::scan;
use crate::spec::Spec;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use thiserror::Error;

/// Files under a folder of this name are included by several environments (Terragrunt's
/// convention), so an environment's update leaves them alone unless told otherwise.
pub const SHARED_DIR: &str = "_envcommon";

#[derive(Debug, Error)]
pub enum UpdateError {
    #[error(transparent)]
    Environment(#[from] crate::environment::EnvironmentError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(transparent)]
    Group(#[from] crate::group::GroupError),
    #[error("{file}: {reason}")]
    Edit { file: PathBuf, reason: String },
}

pub struct UpdateOptions {
    pub env: Environment,
    pub spec: Option<Spec>,
    pub dependency: Option<String>,
    /// Exact version to move to (promotion); otherwise the spec's or a fresh plan's target.
    pub version: Option<String>,
    /// With a group as `dependency`: its members at the exact versions of a promotion.
    pub members: Vec<Member>,
    pub strategy: Strategy,
    pub allow_shared_files: bool,
    pub concurrency: usize,
    /// Ignore rules of the environments file.
    pub policy: crate::policy::Policy,
    /// Groups of the environments file, for a group asked for without its members.
    pub groups: Groups,
    /// `minimum_release_age` for fresh plans; a promotion's exact versions and a full spec's
    /// targets are not subject to it.
    pub cooldown: Option<crate::cooldown::Cooldown>,
}

impl UpdateOptions {
    pub fn ask(&self) -> Ask<'_> {
        let (dependency, version) = (self.dependency.as_deref(), self.version.as_deref());
        Ask::new(dependency, version, &self.members, &self.groups)
    }
}

/// What an update would do, computed without touching a file.
#[derive(Debug, Clone)]
pub struct Changes {
    pub dependencies: Vec<DependencyPlan>,
    pub edits: Vec<Edit>,
    /// Usages that live in shared files and were left unchanged.
    pub shared: Vec<Usage>,
    /// Files of the environment that do not parse: left untouched, whatever they use.
    pub unreadable: Vec<FileError>,
    /// What the cooldown held back, or could not apply to.
    pub cooldown_notes: Vec<String>,
}

impl Changes {
    pub fn files(&self) -> Vec<PathBuf> {
        let set: BTreeSet<&PathBuf> = self.edits.iter().map(|e| &e.file).collect();
        set.into_iter().cloned().collect()
    }
}

/// Scans the environment again and works out the edits for the selected dependencies.
pub fn plan_changes(
    opts: &UpdateOptions,
    lister: &dyn VersionLister,
) -> Result<Changes, UpdateError> {
    opts.ask().check()?;
    let mut scan = scan::scan(&opts.env)?;
    opts.policy.skip_ignored(&mut scan);
    // Dependencies the spec says are up to date are dropped before any listing is fetched.
    scan.usages
        .retain(|u| wanted(opts, &u.source.id) && !spec_says_up_to_date(opts, &u.source.id));
    let (shared, own): (Vec<Usage>, Vec<Usage>) = scan
        .usages
        .drain(..)
        .partition(|u| !opts.allow_shared_files && is_shared(u));
    scan.usages = own;
    let listings = resolve::listings_for(&scan.usages, lister, opts.concurrency);
    let cooldown = opts.cooldown.filter(|_| !opts.ask().is_promotion());
    // The fresh plan sees the cooldown's listings; exact and spec targets are checked
    // against everything listed.
    let filtered = crate::cooldown::apply(
        cooldown,
        &scan.usages,
        listings.clone(),
        lister,
        opts.concurrency,
    );
    let usages = std::mem::take(&mut scan.usages);
    let fresh = opts.policy.plan(usages, &filtered.listings, opts.strategy);
    let mut dependencies = Vec::new();
    for dep in fresh.dependencies {
        if let Some(err) = &dep.error {
            return Err(plan::PlanError::Listing {
                id: dep.source.id.clone(),
                message: err.clone(),
            }
            .into());
        }
        dependencies.push(choose_targets(opts, dep, &listings)?);
    }
    let edits = dependencies.iter().flat_map(edits_of).collect();
    Ok(Changes {
        dependencies,
        edits,
        shared,
        unreadable: scan.errors,
        cooldown_notes: filtered.notes,
    })
}

/// The dependency (or group) asked for, else every dependency of the spec, else all.
fn wanted(opts: &UpdateOptions, id: &str) -> bool {
    match (&opts.dependency, &opts.spec) {
        (Some(_), _) => opts.ask().selects(id),
        (None, Some(spec)) => spec.dependency(id).is_some(),
        (None, None) => true,
    }
}

/// A spec lists only dependencies with an update (a group only its members with one): one it
/// leaves out has nothing to do, unless exact versions are asked for.
fn spec_says_up_to_date(opts: &UpdateOptions, id: &str) -> bool {
    !opts.ask().is_promotion()
        && opts
            .spec
            .as_ref()
            .is_some_and(|spec| spec.dependency(id).is_none())
}

/// Whether the usage lives under a [`SHARED_DIR`] folder.
pub fn is_shared(usage: &Usage) -> bool {
    usage.file.components().any(|c| c.as_os_str() == SHARED_DIR)
}

/// The exact version wins; then the spec's target for each usage (matched by file and current
/// version), then the spec's target for the dependency; without a spec or with a compact one,
/// the fresh plan's.
fn choose_targets(
    opts: &UpdateOptions,
    dep: DependencyPlan,
    listings: &Listings,
) -> Result<DependencyPlan, UpdateError> {
    if let Some(version) = opts.ask().exact(&dep.source.id) {
        return Ok(plan::retarget(&dep, version, listings)?);
    }
    // A compact spec names the dependencies but not the usages: each usage keeps the fresh
    // plan's target, chosen by the same rules as the report's.
    let Some(spec_dep) = opts
        .spec
        .as_ref()
        .filter(|s| !s.compact)
        .and_then(|s| s.dependency(&dep.source.id))
    else {
        return Ok(dep);
    };
    let fallback = pick(
        opts.strategy,
        &spec_dep.target_safe_version,
        &spec_dep.target_breaking_version,
        &spec_dep.target_version,
    );
    let mut by_target: BTreeMap<String, Vec<plan::UsagePlan>> = BTreeMap::new();
    for usage in &dep.usages {
        if let Some(target) =
            spec_usage_target(spec_dep, &usage.usage, opts.strategy).or(fallback.clone())
        {
            by_target.entry(target).or_default().push(usage.clone());
        }
    }
    let mut usages = Vec::new();
    for (target, group) in by_target {
        let part = DependencyPlan {
            usages: group,
            ..dep.clone()
        };
        usages.extend(plan::retarget(&part, &target, listings)?.usages);
    }
    usages.sort_by(|a, b| (&a.usage.file, a.usage.line).cmp(&(&b.usage.file, b.usage.line)));
    Ok(DependencyPlan { usages, ..dep })
}

/// The spec may come from a report run in another working dir (the seed guide reports from the
/// repository root and updates from `dev/`), so a spec path matches when it ends with ours.
fn spec_usage_target(
    spec_dep: &crate::spec::SpecDependency,
    usage: &Usage,
    strategy: Strategy,
) -> Option<String> {
    let found = spec_dep
        .usages
        .iter()
        .find(|u| u.file.ends_with(&usage.file) && u.current_version == usage.current)?;
    pick(
        strategy,
        &found.target_safe_version,
        &found.target_breaking_version,
        &found.target_version,
    )
}

fn pick(
    strategy: Strategy,
    safe: &Option<String>,
    breaking: &Option<String>,
    chosen: &Option<String>,
) -> Option<String> {
    match strategy {
        Strategy::NextSafe => safe.clone(),
        Strategy::NextBreaking => breaking.clone(),
    }
    .or_else(|| chosen.clone())
}

fn edits_of(dep: &DependencyPlan) -> Vec<Edit> {
    dep.usages
        .iter()
        .filter_map(|u| {
            u.new_text.as_ref().map(|new| Edit {
                file: u.usage.file.clone(),
                span: u.usage.span.clone(),
                old: u.usage.current.clone(),
                new: new.clone(),
            })
        })
        .collect()
}

/// Applies the edits; a file that changed since the scan or would no longer parse is an error.
pub fn apply(opts: &UpdateOptions, changes: &Changes) -> Result<Vec<PathBuf>, UpdateError> {
    let outcome = edit::apply(&opts.env.working_dir, &changes.edits);
    if let Some(rejected) = outcome.rejected.first() {
        return Err(UpdateError::Edit {
            file: rejected.file.clone(),
            reason: rejected.reason.to_string(),
        });
    }
    Ok(outcome.changed)
}

/// Where and how an update is published.
pub struct PublishOptions {
    pub branch: String,
    pub title: String,
    pub labels: Vec<String>,
    pub base: String,
    pub author: Option<String>,
    pub environment: Option<String>,
}

/// What an update did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Outcome {
    pub changed: bool,
    pub updated_files: Vec<PathBuf>,
    pub readmes: Vec<PathBuf>,
    pub branch: Option<String>,
    pub pushed: bool,
    pub pull_request_number: Option<u64>,
    pub pull_request_url: Option<String>,
    pub shared_files_not_changed: Vec<PathBuf>,
    /// What the user should read besides the lists above.
    pub notes: Vec<String>,
}

/// What `--dry-run` shows: the diff and the pull request body; nothing is written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Preview {
    pub diff: String,
    pub body: String,
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

pub fn preview(
    opts: &UpdateOptions,
    environment: Option<&str>,
    lister: &dyn VersionLister,
) -> Result<Preview, UpdateError> {
    let changes = plan_changes(opts, lister)?;
    let diff =
        edit::preview(&opts.env.working_dir, &changes.edits).map_err(|r| UpdateError::Edit {
            file: r.file,
            reason: r.reason.to_string(),
        })?;
    let readmes = crate::breaking::readme_paths(&changes.dependencies);
    let body = crate::pull_request::render_body(
        &changes.dependencies,
        &crate::pull_request::BodyContext {
            environment,
            group: opts.ask().group(),
            shared: &changes.shared,
            unreadable: &changes.unreadable,
            readmes: &readmes,
            prefix: std::path::Path::new(""),
        },
    );
    Ok(Preview {
        diff,
        body,
        files: changes.files(),
        notes: notes_of(opts, &changes),
    })
}

/// Says why nothing changed when a dependency was asked for, and which shared files were left.
fn notes_of(opts: &UpdateOptions, changes: &Changes) -> Vec<String> {
    let mut notes = changes.cooldown_notes.clone();
    if let Some(id) = opts
        .dependency
        .as_ref()
        .filter(|id| spec_says_up_to_date(opts, id))
    {
        notes.push(format!(
            "`{id}` has no update in the spec: nothing to update"
        ));
    } else if let Some(id) = &opts.dependency {
        // Only what was asked for is planned, so any planned dependency is it (or a member).
        let used = !changes.dependencies.is_empty();
        match (used, changes.shared.is_empty()) {
            (false, true) => notes.push(format!(
                "`{id}` is not used in this environment: nothing to update"
            )),
            (false, false) => notes.push(format!(
                "`{id}` is set only in shared files here, so nothing was changed; change them \
                 with --allow-shared-files once every environment that includes them is ready"
            )),
            (true, _) => {}
        }
    }
    for e in &changes.unreadable {
        notes.push(format!(
            "{}:{}:{}: {}; the file does not parse and was not updated",
            e.file.display(),
            e.line,
            e.column,
            e.message
        ));
    }
    for file in shared_files(changes) {
        notes.push(format!(
            "{}: shared by several environments, not changed; update it on its own when every \
             environment is ready",
            file.display()
        ));
    }
    notes
}

/// Edits the working tree in place (no git, no GitHub).
pub fn run_local(
    opts: &UpdateOptions,
    lister: &dyn VersionLister,
    notes: &dyn ReleaseNotes,
) -> Result<Outcome, UpdateError> {
    let changes = plan_changes(opts, lister)?;
    let updated_files = apply(opts, &changes)?;
    let readmes =
        crate::breaking::write_readmes(&opts.env.working_dir, &changes.dependencies, notes)
            .map_err(|e| UpdateError::Edit {
                file: e.0,
                reason: e.1,
            })?;
    let mut notes = notes_of(opts, &changes);
    notes.extend(readmes.skipped);
    Ok(Outcome {
        changed: !updated_files.is_empty(),
        updated_files,
        readmes: readmes.written,
        shared_files_not_changed: shared_files(&changes),
        notes,
        ..Outcome::default()
    })
}

fn shared_files(changes: &Changes) -> Vec<PathBuf> {
    let set: BTreeSet<&PathBuf> = changes.shared.iter().map(|u| &u.file).collect();
    set.into_iter().cloned().collect()
}

/// Branch from the base, edit, commit, push, open or refresh the pull request; the working
/// tree is returned to where it was whatever happens.
pub fn run_published(
    opts: &UpdateOptions,
    p: &PublishOptions,
    repo: &Repo,
    forge: &dyn Forge,
    lister: &dyn VersionLister,
) -> Result<Outcome, PublishError> {
    let _lock = repo.lock(lock_wait())?;
    check_branches(repo, p)?;
    if !repo.is_clean()? {
        return Err(PublishError::Git(GitError::Dirty));
    }
    let untracked = repo.untracked()?;
    let original = repo.current_ref()?;
    let base_sha = repo.fetch_base(&p.base)?;
    repo.checkout_new_branch(&p.branch, &base_sha)?;
    let result = publish_on_branch(opts, p, repo, forge, lister, &base_sha);
    // Edits or READMEs of a failed run would otherwise follow the checkout back.
    let cleaned = match &result {
        Err(_) => repo.discard_changes(&untracked),
        Ok(_) => Ok(()),
    };
    let restored = repo.checkout(&original);
    let outcome = result?;
    cleaned?;
    restored?;
    Ok(outcome)
}

/// How long a run waits for another run's lock on the same checkout.
fn lock_wait() -> std::time::Duration {
    let secs = std::env::var("PATCHER_LOCK_WAIT_SECS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(300);
    std::time::Duration::from_secs(secs)
}

/// The update branch is a branch of patcher's own: a valid name, neither the base nor the
/// repository's default branch, which a force-push would otherwise overwrite.
fn check_branches(repo: &Repo, p: &PublishOptions) -> Result<(), GitError> {
    use crate::publish::refs::check_branch;
    check_branch("the pull request branch", &p.branch)?;
    check_branch("the base branch", &p.base)?;
    let protected = |role| GitError::ProtectedBranch {
        branch: p.branch.clone(),
        role,
    };
    if p.branch == p.base {
        return Err(protected("base"));
    }
    if repo.default_branch()?.as_deref() == Some(p.branch.as_str()) {
        return Err(protected("default"));
    }
    Ok(())
}

fn publish_on_branch(
    opts: &UpdateOptions,
    p: &PublishOptions,
    repo: &Repo,
    forge: &dyn Forge,
    lister: &dyn VersionLister,
    base_sha: &str,
) -> Result<Outcome, PublishError> {
    let changes = plan_changes(opts, lister)?;
    let mut outcome = Outcome {
        branch: Some(p.branch.clone()),
        shared_files_not_changed: shared_files(&changes),
        notes: notes_of(opts, &changes),
        ..Outcome::default()
    };
    if changes.edits.is_empty() {
        return Ok(outcome);
    }
    outcome.updated_files = apply(opts, &changes)?;
    let notes = ForgeNotes(forge);
    let readmes =
        crate::breaking::write_readmes(&opts.env.working_dir, &changes.dependencies, &notes)
            .map_err(|(file, reason)| UpdateError::Edit { file, reason })?;
    outcome.readmes = readmes.written;
    outcome.notes.extend(readmes.skipped);
    outcome.changed = true;
    let paths: Vec<PathBuf> = outcome
        .updated_files
        .iter()
        .chain(&outcome.readmes)
        .map(|f| opts.env.working_dir.join(f))
        .collect();
    repo.commit_all(&paths, &commit_message(&changes, p), p.author.as_deref())?;
    outcome.pushed = push_if_new(repo, &p.branch, base_sha)?;
    let body = crate::pull_request::render_body(
        &changes.dependencies,
        &crate::pull_request::BodyContext {
            environment: p.environment.as_deref(),
            group: opts.ask().group(),
            shared: &changes.shared,
            unreadable: &changes.unreadable,
            readmes: &outcome.readmes,
            prefix: &repo.path_of(&opts.env.working_dir),
        },
    );
    let pr = open_or_refresh(forge, p, &body)?;
    outcome.pull_request_number = Some(pr.number);
    outcome.pull_request_url = Some(pr.html_url);
    Ok(outcome)
}

/// The branch is pushed only when its content or its base moved: a re-run with nothing new
/// pushes nothing.
fn push_if_new(repo: &Repo, branch: &str, base_sha: &str) -> Result<bool, PublishError> {
    let local_tree = repo.tree_of("HEAD")?;
    if let Some((_, tree, parent)) = repo.remote_branch_tree(branch)? {
        if tree == local_tree && parent == base_sha {
            return Ok(false);
        }
    }
    repo.push_branch(branch, true)?;
    Ok(true)
}

fn open_or_refresh(
    forge: &dyn Forge,
    p: &PublishOptions,
    body: &str,
) -> Result<PullRequest, PublishError> {
    forge.ensure_labels(&p.labels)?;
    let pr = match forge.find_open_pull(&p.branch)? {
        Some(pr) => pr,
        None => forge.create_pull(&NewPull {
            title: p.title.clone(),
            body: body.to_string(),
            head: p.branch.clone(),
            base: p.base.clone(),
        })?,
    };
    // `create_pull` hands back the pull request someone opened for the branch meanwhile (422
    // "already exists"): it gets our title and body like any pull request found.
    let pr = if pr.title == p.title && pr.body == body {
        pr
    } else {
        forge.update_pull(pr.number, &p.title, body)?
    };
    let missing: Vec<String> = p
        .labels
        .iter()
        .filter(|l| !pr.labels.contains(l))
        .cloned()
        .collect();
    if !missing.is_empty() {
        forge.add_labels(pr.number, &missing)?;
    }
    Ok(pr)
}

fn commit_message(changes: &Changes, p: &PublishOptions) -> String {
    let lines: Vec<String> = changes
        .dependencies
        .iter()
        .filter_map(|d| crate::pull_request::Metadata::of(d, p.environment.as_deref()))
        .map(|m| {
            format!(
                "- {} {} → {}",
                m.dependency,
                m.previous.join(", "),
                m.version
            )
        })
        .collect();
    format!("{}\n\n{}\n", p.title, lines.join("\n"))
}

struct ForgeNotes<'a>(&'a dyn Forge);

impl ReleaseNotes for ForgeNotes<'_> {
    fn notes(&self, github_repo: &str, tag: &str) -> Option<String> {
        self.0.release_notes(github_repo, tag).ok().flatten()
    }
}

#[derive(Debug, Error)]
pub enum PublishError {
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    GitHub(#[from] GitHubError),
}

/// The job summary of an update: the pull request, or why there is none.
pub fn render_summary(outcome: &Outcome) -> String {
    let mut out = String::from("### patcher update\n\n");
    match (&outcome.pull_request_url, outcome.changed) {
        (Some(url), _) => out.push_str(&format!(
            "Pull request #{}: {url}\n\n",
            outcome.pull_request_number.unwrap_or_default()
        )),
        (None, true) => out.push_str("Files changed (no pull request opened).\n\n"),
        (None, false) => out.push_str("Nothing to update.\n\n"),
    }
    for file in outcome.updated_files.iter().chain(&outcome.readmes) {
        out.push_str(&format!("- `{}`\n", file.display()));
    }
    for note in &outcome.notes {
        out.push_str(&format!("\n> {}\n", crate::action::escape_cell(note)));
    }
    out
}

/// What the CLI prints after an update.
pub fn render_text(outcome: &Outcome) -> String {
    let mut out = String::new();
    for file in outcome.updated_files.iter().chain(&outcome.readmes) {
        out.push_str(&format!("updated {}\n", file.display()));
    }
    if let (Some(n), Some(url)) = (outcome.pull_request_number, &outcome.pull_request_url) {
        out.push_str(&format!("pull request #{n}: {url}\n"));
    }
    if !outcome.changed {
        out.push_str("nothing to update\n");
    }
    out
}
