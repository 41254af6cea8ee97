//! How an update is published: a branch of patcher's own from the base, one commit, a push
//! only when something moved, and the pull request opened or refreshed with its labels.

use super::changes::{apply, plan_changes, Changes};
use super::{notes_of, shared_files, Outcome, UpdateError, UpdateOptions};
use crate::breaking_readme::ReleaseNotes;
use crate::publish::git::{GitError, Repo};
use crate::publish::github::{Forge, GitHubError, NewPull, PullRequest};
use crate::resolve::VersionLister;
use std::path::PathBuf;
use thiserror::Error;

/// Where and how an update is published.
pub struct PublishOptions {
    /// The update branch, patcher's own: force-pushed, so never the base or the default branch.
    pub branch: String,
    /// Title of the pull request, and first line of the commit message.
    pub title: String,
    /// Labels the pull request must carry (`updates-<env>`); created in the repository when
    /// missing, added to the pull request when it lacks them.
    pub labels: Vec<String>,
    /// The branch the update branch starts from (fetched fresh) and the pull request targets.
    pub base: String,
    /// `Name <email>` of the commit's author and committer; None: git's configured identity,
    /// else patcher's default one.
    pub author: Option<String>,
    /// The environment named in the pull request's metadata, headings and commit message;
    /// None when the run has no environment name.
    pub environment: Option<String>,
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
    // Edits or READMEs of a failed run would otherwise follow the checkout back; a rejected
    // edit wrote nothing, and what someone else wrote meanwhile is theirs to keep.
    let cleaned = match &result {
        Err(PublishError::Update(UpdateError::Rejected(_))) | Ok(_) => Ok(()),
        Err(_) => repo.discard_changes(&untracked),
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
        crate::breaking_readme::write_readmes(&opts.env.working_dir, &changes.dependencies, &notes)
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

/// Why a published update failed.
#[derive(Debug, Error)]
pub enum PublishError {
    /// Planning or editing failed (as for a local update).
    #[error(transparent)]
    Update(#[from] UpdateError),
    /// The checkout is dirty or locked by another run, a branch is refused, or git failed (a
    /// push rejected included).
    #[error(transparent)]
    Git(#[from] GitError),
    /// A GitHub API call for the labels or the pull request failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::local_forge::LocalForge;

    fn options(labels: &[&str]) -> PublishOptions {
        PublishOptions {
            branch: "patcher/dev/vpc".into(),
            title: "Update acme/mods/vpc in dev".into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            base: "main".into(),
            author: None,
            environment: Some("dev".into()),
        }
    }

    #[test]
    fn a_pull_request_is_opened_once_and_refreshed_after() {
        let forge = LocalForge::default();
        let first = open_or_refresh(&forge, &options(&["updates-dev"]), "body 1").unwrap();
        assert_eq!(first.number, 1);
        assert_eq!(forge.get(1).unwrap().labels, ["updates-dev"]);

        let again = open_or_refresh(&forge, &options(&["updates-dev"]), "body 1").unwrap();
        assert_eq!(again.number, 1, "a re-run finds the open pull request");
        let refreshed =
            open_or_refresh(&forge, &options(&["updates-dev", "team"]), "body 2").unwrap();
        assert_eq!(refreshed.number, 1);
        let pr = forge.get(1).unwrap();
        assert_eq!(pr.body, "body 2");
        assert_eq!(
            pr.labels,
            ["updates-dev", "team"],
            "only missing labels are added"
        );
        assert!(forge.get(2).is_err(), "no second pull request");
    }

    #[test]
    fn a_merged_pull_request_is_not_refreshed() {
        let forge = LocalForge::default();
        open_or_refresh(&forge, &options(&[]), "body").unwrap();
        forge.mark_merged(1, "abc");
        let next = open_or_refresh(&forge, &options(&[]), "body").unwrap();
        assert_eq!(next.number, 2);
    }
}
