//! `patcher update`: spec (+ dependency, + optional exact version) → re-scan → edit → publish.
//! What to touch is worked out in `changes`; how it is published in `publish`.

mod changes;
mod publish;

use changes::spec_says_up_to_date;
pub use changes::{apply, is_shared, plan_changes, Changes, SHARED_DIR};
pub use publish::{run_published, PublishError, PublishOptions};

use crate::breaking_readme::ReleaseNotes;
use crate::edit;
use crate::environment::Environment;
use crate::group::{Ask, Groups, Member};
use crate::plan::{self, Strategy};
use crate::resolve::VersionLister;
use crate::spec::Spec;
use std::collections::BTreeSet;
use std::path::PathBuf;
use thiserror::Error;

/// Why an update cannot be planned or its files changed.
#[derive(Debug, Error)]
pub enum UpdateError {
    /// The environment cannot be scanned (a bad folder glob or working dir).
    #[error(transparent)]
    Environment(#[from] crate::environment::EnvironmentError),
    /// A dependency's versions could not be listed, or an exact or spec target is not listed
    /// or cannot be written.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// The group asked for is unknown, or a dispatch names a dependency that is not its member.
    #[error(transparent)]
    Group(#[from] crate::group::GroupError),
    /// A file was refused after other files were written, a dry run's diff was refused, or a
    /// README could not be written.
    #[error("{file}: {reason}")]
    Edit {
        /// The file, relative to the working dir.
        file: PathBuf,
        /// Why it was refused or could not be written.
        reason: String,
    },
    /// A file failed its checks, so no file was written.
    #[error("{}: {reason}; no file was changed", .0.file.display(), reason = .0.reason)]
    Rejected(edit::Rejected),
}

/// What `update` is asked: the environment, what to move and to what, and the rules a plan
/// follows.
pub struct UpdateOptions {
    /// The working dir and the globs of the environment to scan again.
    pub env: Environment,
    /// The report's spec: only its dependencies are updated, and a full spec's targets are the
    /// versions moved to; None: every dependency, planned afresh.
    pub spec: Option<Spec>,
    /// Only this Dependency ID or group ID (a matrix entry); None: every dependency the spec
    /// lists, else all.
    pub dependency: Option<String>,
    /// Exact version to move to (promotion); otherwise the spec's or a fresh plan's target.
    pub version: Option<String>,
    /// With a group as `dependency`: its members at the exact versions of a promotion.
    pub members: Vec<Member>,
    /// The update strategy of a fresh plan, and which of a spec's targets (safe or breaking)
    /// to move to.
    pub strategy: Strategy,
    /// Also edit usages in shared files (under `_envcommon`, or outside the environment's
    /// folders), which other environments read too.
    pub allow_shared_files: bool,
    /// How many version listings (and cooldown date look-ups) run at once.
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
    /// The dependency or group this run moves, and the exact versions of a promotion.
    pub fn ask(&self) -> Ask<'_> {
        let (dependency, version) = (self.dependency.as_deref(), self.version.as_deref());
        Ask::new(dependency, version, &self.members, &self.groups)
    }
}

/// What an update did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Outcome {
    /// Whether any file was edited.
    pub changed: bool,
    /// The files edited, relative to the working dir.
    pub updated_files: Vec<PathBuf>,
    /// The `README-TO-COMPLETE-UPDATE.md` files written next to breaking updates, relative to
    /// the working dir.
    pub readmes: Vec<PathBuf>,
    /// The update branch; None for a local update.
    pub branch: Option<String>,
    /// Whether the branch was pushed: false when the remote already had the same content on the
    /// same base (a re-run), when nothing changed, or for a local update.
    pub pushed: bool,
    /// The pull request opened or refreshed; None when nothing changed or for a local update.
    pub pull_request_number: Option<u64>,
    /// The web address of that pull request; None likewise.
    pub pull_request_url: Option<String>,
    /// Shared files holding usages of what was asked for, left as they were.
    pub shared_files_not_changed: Vec<PathBuf>,
    /// What the user should read besides the lists above.
    pub notes: Vec<String>,
}

/// What `--dry-run` shows: the diff and the pull request body; nothing is written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Preview {
    /// The diff of every file the edits would change (`--- a/` / `+++ b/` per file); empty
    /// when nothing would change.
    pub diff: String,
    /// The pull request body the update would open, metadata block included.
    pub body: String,
    /// The files the edits would touch, sorted.
    pub files: Vec<PathBuf>,
    /// What the user should read: the cooldown's notes, why nothing would change, files that
    /// do not parse or are shared and would be left alone.
    pub notes: Vec<String>,
}

/// The update as a dry run: planned and checked as `update` would make it, nothing written.
/// `environment` is the name the pull request body gives.
pub fn preview(
    opts: &UpdateOptions,
    environment: Option<&str>,
    lister: &dyn VersionLister,
) -> Result<Preview, UpdateError> {
    let changes = plan_changes(opts, lister)?;
    let diff =
        edit::preview(&opts.env.working_dir, &changes.edits, &changes.scanned).map_err(|r| {
            UpdateError::Edit {
                file: r.file,
                reason: r.reason.to_string(),
            }
        })?;
    let readmes = crate::breaking_readme::readme_paths(&changes.dependencies);
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
pub(super) fn notes_of(opts: &UpdateOptions, changes: &Changes) -> Vec<String> {
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
        crate::breaking_readme::write_readmes(&opts.env.working_dir, &changes.dependencies, notes)
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

pub(super) fn shared_files(changes: &Changes) -> Vec<PathBuf> {
    let set: BTreeSet<&PathBuf> = changes.shared.iter().map(|u| &u.file).collect();
    set.into_iter().cloned().collect()
}
