//! The git side of `update`, through the git CLI ([`crate::gitcmd::git`]): the token travels as
//! an HTTP header in git's environment config, never in `.git/config`, argv or a message, and
//! `safe.directory` lets a container work on a workspace owned by another uid.

use crate::gitcmd;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use thiserror::Error;

/// Identity used when neither the caller nor git's configuration names one (fresh CI images).
const DEFAULT_IDENTITY: (&str, &str) = ("patcher", "patcher@users.noreply.github.com");

/// Every `stderr` that git wrote has gone through [`crate::redact::redact`] with the token.
#[derive(Debug, Error)]
pub enum GitError {
    /// Tracked files differ from HEAD before the update began.
    #[error("the working tree has uncommitted changes; commit or stash them first")]
    Dirty,
    /// A git command (or the file work around one: lock, clean) failed.
    #[error("git {action} failed: {stderr}")]
    Command {
        /// What was being done, usually the git subcommand (`fetch`, `commit`, `lock`).
        action: String,
        /// git's error output, or the reason patcher refused to run it.
        stderr: String,
    },
    /// origin refused the push of the branch (e.g. the lease no longer holds).
    #[error("the push of branch {branch} was rejected: {stderr}")]
    PushRejected {
        /// The pull request branch that was pushed.
        branch: String,
        /// The rejected refs from git's porcelain output, then its error output.
        stderr: String,
    },
    /// No git repository contains this folder (or git could not be started).
    #[error("{} is not inside a git repository", .0.display())]
    NotARepository(PathBuf),
    /// A branch name that is not a plain branch name.
    #[error(transparent)]
    BadBranch(#[from] super::refs::BadBranch),
    /// The pull request branch is the base or the default branch, which patcher never pushes.
    #[error(
        "the pull request branch `{branch}` is the {role} branch: patcher pushes only to a \
         branch of its own; choose another pull_request_branch / --pr-branch"
    )]
    ProtectedBranch {
        /// The pull request branch asked for.
        branch: String,
        /// Which branch it collides with: `base` or `default`.
        role: &'static str,
    },
    /// Another run held the checkout's lock longer than this one would wait.
    #[error(
        "another patcher run is updating this checkout (lock {}); waited {waited_secs} s for it \
         (PATCHER_LOCK_WAIT_SECS)", path.display()
    )]
    Locked {
        /// The lock file, `<git dir>/patcher.lock`.
        path: PathBuf,
        /// How long this run waited before giving up, in seconds.
        waited_secs: u64,
    },
    /// A path to commit is not a regular file in the checkout; holds it relative to the root.
    #[error("{} is not a regular file (a symbolic link?): patcher commits only regular files it wrote", .0.display())]
    NotRegular(PathBuf),
}

/// Held while an update publishes from a checkout: a second run in the same checkout waits for
/// it, so edits, branches and pull requests of two dependencies never mix. The kernel drops
/// the lock when the process ends, however it ends.
pub struct CheckoutLock {
    _file: std::fs::File,
}

/// A checkout of the infrastructure repository, driven through the git CLI; the token, when
/// given, authenticates git's HTTPS requests to the GitHub server (fetch, push).
pub struct Repo {
    root: PathBuf,
    token: Option<String>,
}

impl Repo {
    /// Opens the repository containing `dir`.
    pub fn open(dir: &Path, token: Option<String>) -> Result<Repo, GitError> {
        let output = gitcmd::git(None)
            .args(["rev-parse", "--show-toplevel"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|_| GitError::NotARepository(dir.to_path_buf()))?;
        if !output.status.success() {
            return Err(GitError::NotARepository(dir.to_path_buf()));
        }
        let root = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(Repo {
            root: PathBuf::from(root),
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// The top folder of the checkout, as `git rev-parse --show-toplevel` gives it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `dir` relative to the repository root (empty for the root itself or a path outside it).
    pub fn path_of(&self, dir: &Path) -> PathBuf {
        let (Ok(dir), Ok(root)) = (dir.canonicalize(), self.root.canonicalize()) else {
            return PathBuf::new();
        };
        dir.strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Whether tracked files match HEAD. Untracked files do not count: checkouts keep them and
    /// [`Repo::commit_all`] only stages the paths it is given.
    pub fn is_clean(&self) -> Result<bool, GitError> {
        let status = self.run("status", &["status", "--porcelain", "--untracked-files=no"])?;
        Ok(status.is_empty())
    }

    /// The checked-out branch name, or the commit sha when HEAD is detached.
    pub fn current_ref(&self) -> Result<String, GitError> {
        match self.run(
            "symbolic-ref",
            &["symbolic-ref", "--quiet", "--short", "HEAD"],
        ) {
            Ok(branch) => Ok(branch),
            Err(_) => self.run("rev-parse", &["rev-parse", "--verify", "HEAD"]),
        }
    }

    /// The commit HEAD points to.
    pub fn head_sha(&self) -> Result<String, GitError> {
        self.run("rev-parse", &["rev-parse", "--verify", "HEAD^{commit}"])
    }

    /// Fetches origin's `refs/heads/<base>` and returns the commit it points to.
    pub fn fetch_base(&self, base: &str) -> Result<String, GitError> {
        super::refs::check_branch("the base branch", base)?;
        let head = format!("refs/heads/{base}");
        self.run("fetch", &["fetch", "--no-tags", "--quiet", "origin", &head])?;
        self.run(
            "rev-parse",
            &[
                "rev-parse",
                "--verify",
                "--end-of-options",
                "FETCH_HEAD^{commit}",
            ],
        )
    }

    /// The branch origin's `HEAD` points to (the repository's default branch), if it says.
    pub fn default_branch(&self) -> Result<Option<String>, GitError> {
        let listing = self.run("ls-remote", &["ls-remote", "--symref", "origin", "HEAD"])?;
        Ok(listing.lines().find_map(|line| {
            let target = line.strip_prefix("ref: ")?.strip_suffix("\tHEAD")?;
            target.strip_prefix("refs/heads/").map(str::to_string)
        }))
    }

    /// Takes the checkout's lock (`<git dir>/patcher.lock`), waiting up to `wait` for a run
    /// that holds it.
    pub fn lock(&self, wait: std::time::Duration) -> Result<CheckoutLock, GitError> {
        let git_dir = PathBuf::from(self.run("rev-parse", &["rev-parse", "--absolute-git-dir"])?);
        let path = git_dir.join("patcher.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| GitError::Command {
                action: "lock".into(),
                stderr: format!("cannot open {}: {e}", path.display()),
            })?;
        let start = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(CheckoutLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(GitError::Locked {
                        path,
                        waited_secs: wait.as_secs(),
                    })
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(GitError::Command {
                        action: "lock".into(),
                        stderr: format!("cannot lock {}: {e}", path.display()),
                    })
                }
            }
        }
    }

    /// Creates or resets `branch` at `start_sha` and checks it out; local edits to files the
    /// two commits share are carried over, as `git checkout` does.
    pub fn checkout_new_branch(&self, branch: &str, start_sha: &str) -> Result<(), GitError> {
        super::refs::check_branch("the pull request branch", branch)?;
        check_ref(start_sha)?;
        self.run(
            "checkout",
            &["checkout", "--quiet", "-B", branch, start_sha, "--"],
        )
        .map(drop)
    }

    /// Files git neither tracks nor ignores, relative to the root.
    pub fn untracked(&self) -> Result<BTreeSet<PathBuf>, GitError> {
        let listing = self.run(
            "ls-files",
            &["ls-files", "--others", "--exclude-standard", "-z"],
        )?;
        Ok(listing
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect())
    }

    /// Puts the index and tracked files back as HEAD has them and removes untracked files not
    /// in `keep`: what a failed update wrote must not follow a checkout to another branch.
    /// Only for a tree that was clean before the update began.
    pub fn discard_changes(&self, keep: &BTreeSet<PathBuf>) -> Result<(), GitError> {
        self.run("reset", &["reset", "--quiet", "--hard", "HEAD"])?;
        for path in self.untracked()?.difference(keep) {
            std::fs::remove_file(self.root.join(path)).map_err(|e| GitError::Command {
                action: "clean".into(),
                stderr: format!("cannot remove {}: {e}", path.display()),
            })?;
        }
        Ok(())
    }

    /// Checks out `rev` (a branch, tag or commit), as `git checkout` does.
    pub fn checkout(&self, rev: &str) -> Result<(), GitError> {
        check_ref(rev)?;
        self.run("checkout", &["checkout", "--quiet", rev, "--"])
            .map(drop)
    }

    /// Commits exactly `paths` (other staged changes stay out); returns the new sha. `author` is
    /// `Name <email>` and is also the committer; without it git's configured identity is used,
    /// or patcher's default identity when git has none.
    pub fn commit_all(
        &self,
        paths: &[PathBuf],
        message: &str,
        author: Option<&str>,
    ) -> Result<String, GitError> {
        let identity = match author {
            Some(text) => Some(parse_identity(text).ok_or_else(|| GitError::Command {
                action: "commit".into(),
                stderr: format!("the author {text:?} is not in the form `Name <email>`"),
            })?),
            None => None,
        };
        let paths: Vec<PathBuf> = paths.iter().map(|p| self.relative(p)).collect();
        for path in &paths {
            let meta = std::fs::symlink_metadata(self.root.join(path));
            if !meta.is_ok_and(|m| m.file_type().is_file()) {
                return Err(GitError::NotRegular(path.clone()));
            }
        }
        // New files must be known to git before `commit -- <paths>` accepts them.
        let mut add = self.git();
        add.args(["add", "--"]).args(&paths);
        self.output("add", add)?;
        let mut commit = self.git();
        commit.args(["commit", "--quiet", "--file=-"]);
        match identity {
            Some((name, email)) => {
                commit.arg(format!("--author={name} <{email}>"));
                set_identity_env(&mut commit, "COMMITTER", name, email);
            }
            None if !self.has_identity() => {
                let (name, email) = DEFAULT_IDENTITY;
                set_identity_env(&mut commit, "AUTHOR", name, email);
                set_identity_env(&mut commit, "COMMITTER", name, email);
            }
            None => {}
        }
        commit.arg("--").args(&paths);
        self.output_with_stdin("commit", commit, message)?;
        self.run("rev-parse", &["rev-parse", "--verify", "HEAD"])
    }

    /// The id of the tree `rev`'s commit records, to compare contents without comparing commits.
    pub fn tree_of(&self, rev: &str) -> Result<String, GitError> {
        check_ref(rev)?;
        let spec = format!("{rev}^{{tree}}");
        self.run(
            "rev-parse",
            &["rev-parse", "--verify", "--end-of-options", &spec],
        )
    }

    /// `(sha, tree, first parent)` of origin's `branch` after fetching it into
    /// `refs/remotes/origin/<branch>`, or `None` when origin has no such branch. The first
    /// parent is empty for a root commit.
    pub fn remote_branch_tree(
        &self,
        branch: &str,
    ) -> Result<Option<(String, String, String)>, GitError> {
        super::refs::check_branch("the pull request branch", branch)?;
        let head = format!("refs/heads/{branch}");
        let tracking = format!("refs/remotes/origin/{branch}");
        if self.remote_sha(&head)?.is_none() {
            // Forget a branch deleted on origin (merged PR), so the next lease expects none.
            if self.tracking_sha(branch).is_some() {
                self.run("update-ref", &["update-ref", "-d", &tracking])?;
            }
            return Ok(None);
        }
        let refspec = format!("+{head}:{tracking}");
        self.run(
            "fetch",
            &["fetch", "--no-tags", "--quiet", "origin", &refspec],
        )?;
        let parents = self.run(
            "rev-list",
            &[
                "rev-list",
                "--parents",
                "-n",
                "1",
                "--end-of-options",
                &tracking,
            ],
        )?;
        let mut ids = parents.split_whitespace();
        let sha = ids.next().unwrap_or_default().to_string();
        let parent = ids.next().unwrap_or_default().to_string();
        let tree = self.tree_of(&sha)?;
        Ok(Some((sha, tree, parent)))
    }

    /// Pushes `branch` to origin. With `force`, the remote branch is replaced only if it still
    /// is where we last saw it (`refs/remotes/origin/<branch>`, else what origin reports now),
    /// so a refresh never discards commits someone pushed meanwhile.
    pub fn push_branch(&self, branch: &str, force: bool) -> Result<(), GitError> {
        super::refs::check_branch("the pull request branch", branch)?;
        let head = format!("refs/heads/{branch}");
        let mut push = self.git();
        push.args(["push", "--porcelain"]);
        if force {
            let expected = match self.tracking_sha(branch) {
                Some(sha) => sha,
                None => self.remote_sha(&head)?.unwrap_or_default(),
            };
            push.arg(format!("--force-with-lease={head}:{expected}"));
        }
        push.args(["origin".to_string(), format!("{head}:{head}")]);
        let output = push.output().map_err(|e| self.spawn_error("push", &e))?;
        if output.status.success() {
            return Ok(());
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = self.redact(&String::from_utf8_lossy(&output.stderr));
        let rejected: Vec<String> = stdout
            .lines()
            .filter(|line| line.starts_with('!'))
            .map(|line| self.redact(line))
            .collect();
        if rejected.is_empty() {
            return Err(GitError::Command {
                action: "push".into(),
                stderr,
            });
        }
        Err(GitError::PushRejected {
            branch: branch.to_string(),
            stderr: format!("{}\n{}", rejected.join("\n"), stderr.trim_end()),
        })
    }

    /// `path` relative to the root, also when it was spelled through a symlink (`/tmp` on
    /// macOS), which `git add` would call outside the repository.
    fn relative(&self, path: &Path) -> PathBuf {
        if let Ok(rel) = path.strip_prefix(&self.root) {
            return rel.to_path_buf();
        }
        let resolved = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => dir.canonicalize().map(|d| d.join(name)),
            _ => path.canonicalize(),
        };
        match resolved {
            Ok(full) => full
                .strip_prefix(&self.root)
                .map_or_else(|_| path.to_path_buf(), Path::to_path_buf),
            Err(_) => path.to_path_buf(),
        }
    }

    /// The sha origin's `full_ref` points to, if it exists.
    fn remote_sha(&self, full_ref: &str) -> Result<Option<String>, GitError> {
        let listing = self.run("ls-remote", &["ls-remote", "origin", full_ref])?;
        Ok(listing
            .lines()
            .find_map(|line| line.split_once('\t').filter(|(_, r)| *r == full_ref))
            .map(|(sha, _)| sha.to_string()))
    }

    fn tracking_sha(&self, branch: &str) -> Option<String> {
        let tracking = format!("refs/remotes/origin/{branch}");
        self.run(
            "rev-parse",
            &["rev-parse", "--verify", "--quiet", &tracking],
        )
        .ok()
    }

    /// Whether git would find a committer identity of its own (config or environment).
    fn has_identity(&self) -> bool {
        let configured = |key: &str, env: &str| {
            std::env::var_os(env).is_some() || self.run("config", &["config", "--get", key]).is_ok()
        };
        configured("user.name", "GIT_COMMITTER_NAME")
            && configured("user.email", "GIT_COMMITTER_EMAIL")
    }

    fn git(&self) -> Command {
        let mut cmd = gitcmd::git(self.token.as_deref());
        cmd.current_dir(&self.root).stdin(Stdio::null());
        cmd
    }

    /// Runs git with `args`; trimmed stdout on success.
    fn run(&self, action: &str, args: &[&str]) -> Result<String, GitError> {
        let mut cmd = self.git();
        cmd.args(args);
        let output = self.output(action, cmd)?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    fn output(&self, action: &str, mut cmd: Command) -> Result<Output, GitError> {
        let output = cmd.output().map_err(|e| self.spawn_error(action, &e))?;
        self.checked(action, output)
    }

    fn output_with_stdin(
        &self,
        action: &str,
        mut cmd: Command,
        input: &str,
    ) -> Result<Output, GitError> {
        use std::io::Write;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(action, &e))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.as_bytes())
                .map_err(|e| self.spawn_error(action, &e))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| self.spawn_error(action, &e))?;
        self.checked(action, output)
    }

    fn checked(&self, action: &str, output: Output) -> Result<Output, GitError> {
        if output.status.success() {
            return Ok(output);
        }
        let mut text = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if text.is_empty() {
            // `git commit` explains "nothing to commit" on stdout.
            text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        }
        Err(GitError::Command {
            action: action.to_string(),
            stderr: self.redact(&text),
        })
    }

    fn spawn_error(&self, action: &str, error: &std::io::Error) -> GitError {
        GitError::Command {
            action: action.to_string(),
            stderr: format!("could not run git: {error}"),
        }
    }

    fn redact(&self, text: &str) -> String {
        crate::redact::redact(text, self.token.as_deref())
    }
}

/// Refuses names git would read as options; git itself checks the rest.
fn check_ref(name: &str) -> Result<(), GitError> {
    if name.is_empty() || name.starts_with('-') || name.chars().any(char::is_control) {
        return Err(GitError::Command {
            action: "ref check".into(),
            stderr: format!("{name:?} is not a valid branch, tag or commit name"),
        });
    }
    Ok(())
}

/// `"Name <email>"` -> `("Name", "email")`.
fn parse_identity(text: &str) -> Option<(&str, &str)> {
    let (name, rest) = text.split_once('<')?;
    let email = rest.strip_suffix('>')?.trim();
    let name = name.trim();
    (!name.is_empty() && !email.is_empty()).then_some((name, email))
}

fn set_identity_env(cmd: &mut Command, role: &str, name: &str, email: &str) {
    cmd.env(format!("GIT_{role}_NAME"), name)
        .env(format!("GIT_{role}_EMAIL"), email);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_parse_only_in_name_email_form() {
        assert_eq!(
            parse_identity("Pat Cher <pat@example.com>"),
            Some(("Pat Cher", "pat@example.com"))
        );
        assert_eq!(parse_identity("pat@example.com"), None);
        assert_eq!(parse_identity("<pat@example.com>"), None);
    }

    #[test]
    fn option_like_names_are_refused() {
        assert!(check_ref("--upload-pack=evil").is_err());
        assert!(check_ref("").is_err());
        assert!(check_ref("patcher/dev/aws-vpc-v1.2.3").is_ok());
    }
}
