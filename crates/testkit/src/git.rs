//! Real git repositories for tests, made with the git CLI.
//!
//! * [`ModuleRepo`]: a bare module repository with commits and tags, laid out as
//!   `<root>/<org>/<name>.git` so one [`GitConfig`] can serve a whole fake "github.com".
//! * [`GitConfig`]: a global gitconfig file whose `insteadOf` rules send
//!   `https://github.com/`, `git@github.com:` and `ssh://git@github.com/` to that root; give
//!   it to the process under test with [`GitConfig::env`] (`GIT_CONFIG_GLOBAL`,
//!   `GIT_CONFIG_NOSYSTEM`).
//! * [`WorkingRepo`]: an infrastructure repository checked out from a bare `origin`.
//!
//! The helpers' own git commands ignore the user's and the system's config and use a fixed
//! author and date, so repositories are the same on every machine. Every helper panics with
//! git's stderr on failure: they are for tests.

use std::path::{Path, PathBuf};
use std::process::Command;

const AUTHOR_NAME: &str = "Testkit";
const AUTHOR_EMAIL: &str = "testkit@example.com";
const DATE: &str = "2024-01-01T00:00:00Z";

/// A git command isolated from any user, system or test-wide configuration.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "0")
        .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
        .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
        .env("GIT_AUTHOR_DATE", DATE)
        .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
        .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
        .env("GIT_COMMITTER_DATE", DATE)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}

/// Runs `git args` in `dir` and returns its trimmed stdout; panics with stderr on failure.
pub fn run(dir: &Path, args: &[&str]) -> String {
    let output = command(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run git {args:?}: {e}"));
    assert!(
        output.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn create_dir(path: &Path) {
    std::fs::create_dir_all(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
}

fn write_file(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        create_dir(parent);
    }
    std::fs::write(path, content)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A Terragrunt unit using `module` of `github.com/acme/<repo>` at `version`.
pub fn terragrunt_unit(repo: &str, module: &str, version: &str) -> String {
    format!(
        "# {module}\nterraform {{\n  source = \"git::https://github.com/acme/{repo}.git//modules/{module}?ref={version}\"\n}}\n"
    )
}

/// `file://` URL of a local path.
pub fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A bare module repository `<root>/<org>/<name>.git` with a scratch clone used to commit.
#[derive(Debug, Clone)]
pub struct ModuleRepo {
    bare: PathBuf,
    work: PathBuf,
}

impl ModuleRepo {
    /// Creates the bare repository with one commit on `main` holding `main.tf`, no tags.
    pub fn create(root: &Path, org: &str, name: &str) -> ModuleRepo {
        let bare = root.join(org).join(format!("{name}.git"));
        let work = root.join(".work").join(org).join(name);
        create_dir(&bare);
        create_dir(&work);
        run(
            &bare,
            &["init", "--quiet", "--bare", "--initial-branch=main"],
        );
        run(&work, &["init", "--quiet", "--initial-branch=main"]);
        run(&work, &["remote", "add", "origin", &file_url(&bare)]);
        let repo = ModuleRepo { bare, work };
        repo.commit(
            &[("main.tf", &format!("# module {org}/{name}\n"))],
            "Initial module",
        );
        repo
    }

    /// [`ModuleRepo::create`] followed by one [`ModuleRepo::release`] per tag, in order.
    pub fn with_tags(root: &Path, org: &str, name: &str, tags: &[&str]) -> ModuleRepo {
        let repo = ModuleRepo::create(root, org, name);
        for tag in tags {
            repo.release(tag);
        }
        repo
    }

    /// Path of the bare repository.
    pub fn path(&self) -> &Path {
        &self.bare
    }

    /// `file://` URL of the bare repository.
    pub fn url(&self) -> String {
        file_url(&self.bare)
    }

    /// Commits `files` (path relative to the repository root, content) on `main` and pushes.
    /// Returns the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            write_file(&self.work.join(path), content);
        }
        run(&self.work, &["add", "--all"]);
        run(
            &self.work,
            &["commit", "--quiet", "--allow-empty", "-m", message],
        );
        run(&self.work, &["push", "--quiet", "origin", "main"]);
        run(&self.work, &["rev-parse", "HEAD"])
    }

    /// Publishes a release: a commit recording `tag` in `CHANGELOG.md`, tagged (annotated)
    /// and pushed, as a maintainer would do for a new version.
    pub fn release(&self, tag: &str) -> String {
        let changelog = self.work.join("CHANGELOG.md");
        let mut text = std::fs::read_to_string(&changelog).unwrap_or_default();
        text.push_str(&format!("## {tag}\n"));
        let sha = self.commit(&[("CHANGELOG.md", &text)], &format!("Release {tag}"));
        self.tag(tag, &sha);
        sha
    }

    /// [`ModuleRepo::release`] at `date` (`2026-01-01T00:00:00Z`, or git's `@<seconds> +0000`):
    /// commit and tagger dates both, as if published then. `annotated: false` makes a
    /// lightweight tag, whose only date is the commit's.
    pub fn release_at(&self, tag: &str, date: &str, annotated: bool) -> String {
        let dated = |args: &[&str]| {
            let output = command(&self.work)
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date)
                .args(args)
                .output()
                .expect("run git");
            assert!(output.status.success(), "git {args:?} failed");
        };
        let changelog = self.work.join("CHANGELOG.md");
        let mut text = std::fs::read_to_string(&changelog).unwrap_or_default();
        text.push_str(&format!("## {tag}\n"));
        write_file(&changelog, &text);
        run(&self.work, &["add", "--all"]);
        dated(&["commit", "--quiet", "-m", &format!("Release {tag}")]);
        match annotated {
            true => dated(&["tag", "-a", "-m", tag, "--", tag]),
            false => dated(&["tag", "--", tag]),
        }
        run(&self.work, &["push", "--quiet", "origin", "main"]);
        run(
            &self.work,
            &["push", "--quiet", "origin", &format!("refs/tags/{tag}")],
        );
        run(&self.work, &["rev-parse", "HEAD"])
    }

    /// Tags an existing commit (annotated) and pushes the tag.
    pub fn tag(&self, tag: &str, commit: &str) {
        run(&self.work, &["tag", "-a", "-m", tag, "--", tag, commit]);
        run(
            &self.work,
            &["push", "--quiet", "origin", &format!("refs/tags/{tag}")],
        );
    }

    /// Tag names in the bare repository, sorted by name.
    pub fn tags(&self) -> Vec<String> {
        run(&self.bare, &["tag", "--list"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Creates `count` repositories `<root>/<org>/module-<i>.git`, each with the releases
/// `v1.0.0 .. v1.{tags_per_repo-1}.0`: a fleet for resolve benchmarks.
pub fn generate_module_repos(
    root: &Path,
    org: &str,
    count: usize,
    tags_per_repo: usize,
) -> Vec<ModuleRepo> {
    (0..count)
        .map(|i| {
            let repo = ModuleRepo::create(root, org, &format!("module-{i}"));
            let head = run(&repo.work, &["rev-parse", "HEAD"]);
            for minor in 0..tags_per_repo {
                // Tags on one commit: the benchmark measures listing, not history size.
                run(&repo.work, &["tag", &format!("v1.{minor}.0"), &head]);
            }
            run(&repo.work, &["push", "--quiet", "--tags", "origin"]);
            repo
        })
        .collect()
}

/// A global gitconfig file making github.com addresses point into a local root.
#[derive(Debug, Clone)]
pub struct GitConfig {
    path: PathBuf,
}

impl GitConfig {
    /// Writes `<dir>/gitconfig` whose `insteadOf` rules rewrite `https://github.com/`,
    /// `git@github.com:` and `ssh://git@github.com/` to `file://<github_root>/`, so
    /// `https://github.com/acme/net.git` reaches `<github_root>/acme/net.git`. It also sets a
    /// committer identity and `init.defaultBranch=main` for processes that commit.
    pub fn github_mirror(dir: &Path, github_root: &Path) -> GitConfig {
        let base = format!("{}/", file_url(github_root).trim_end_matches('/'));
        let text = format!(
            "[url \"{base}\"]\n\
             \tinsteadOf = https://github.com/\n\
             \tinsteadOf = git@github.com:\n\
             \tinsteadOf = ssh://git@github.com/\n\
             [user]\n\tname = Patcher Test\n\temail = patcher-test@example.com\n\
             [init]\n\tdefaultBranch = main\n"
        );
        let path = dir.join("gitconfig");
        write_file(&path, &text);
        GitConfig { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Variables that make a git process read only this file as its configuration.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GIT_CONFIG_GLOBAL".into(), self.path.display().to_string()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
        ]
    }

    /// Sets [`GitConfig::env`] on `cmd`.
    pub fn apply<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.envs(self.env())
    }
}

/// An infrastructure repository: a checkout at `dir` whose `origin` is the bare `origin`.
#[derive(Debug, Clone)]
pub struct WorkingRepo {
    pub dir: PathBuf,
    pub origin: PathBuf,
}

impl WorkingRepo {
    /// Creates `<root>/origin.git` and a clone at `<root>/work` with `files` committed and
    /// pushed on `main`.
    pub fn create<P: AsRef<str>, C: AsRef<str>>(root: &Path, files: &[(P, C)]) -> WorkingRepo {
        let origin = root.join("origin.git");
        let dir = root.join("work");
        create_dir(&origin);
        create_dir(&dir);
        run(
            &origin,
            &["init", "--quiet", "--bare", "--initial-branch=main"],
        );
        run(&dir, &["init", "--quiet", "--initial-branch=main"]);
        run(&dir, &["remote", "add", "origin", &file_url(&origin)]);
        let repo = WorkingRepo { dir, origin };
        repo.write(files);
        repo.commit_all("Initial infrastructure");
        run(
            &repo.dir,
            &["push", "--quiet", "--set-upstream", "origin", "main"],
        );
        repo
    }

    /// Writes files (path relative to the checkout) without committing.
    pub fn write<P: AsRef<str>, C: AsRef<str>>(&self, files: &[(P, C)]) {
        for (path, content) in files {
            write_file(&self.dir.join(path.as_ref()), content.as_ref());
        }
    }

    /// Commits everything in the checkout; returns the commit id.
    pub fn commit_all(&self, message: &str) -> String {
        run(&self.dir, &["add", "--all"]);
        run(
            &self.dir,
            &["commit", "--quiet", "--allow-empty", "-m", message],
        );
        run(&self.dir, &["rev-parse", "HEAD"])
    }

    /// A fresh clone of origin at `dir`, replacing whatever is there, as `actions/checkout`
    /// gives each job.
    pub fn fresh_clone(&self, dir: &Path, gitconfig: &GitConfig) -> PathBuf {
        let _ = std::fs::remove_dir_all(dir);
        let mut clone = Command::new("git");
        clone.args(["clone", "--quiet"]).arg(&self.origin).arg(dir);
        let status = gitconfig.apply(&mut clone).status().unwrap();
        assert!(status.success(), "git clone {}", self.origin.display());
        dir.to_path_buf()
    }

    /// Runs git in the checkout (see [`run`]).
    pub fn git(&self, args: &[&str]) -> String {
        run(&self.dir, args)
    }

    /// Branch names on `origin`, sorted.
    pub fn origin_branches(&self) -> Vec<String> {
        run(
            &self.origin,
            &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// A fresh clone of origin at `dir`, as `actions/checkout` gives each job.
    pub fn clone_origin(&self, dir: &Path, config: &GitConfig) {
        let _ = std::fs::remove_dir_all(dir);
        let status = config
            .apply(&mut Command::new("git"))
            .args(["clone", "--quiet"])
            .arg(&self.origin)
            .arg(dir)
            .status()
            .expect("cannot run git clone");
        assert!(status.success(), "git clone of {}", self.origin.display());
    }

    /// Content of `path` at `rev` in `origin` (e.g. a pushed branch), if it exists.
    pub fn origin_file(&self, rev: &str, path: &str) -> Option<String> {
        let output = command(&self.origin)
            .args(["show", &format!("{rev}:{path}")])
            .output()
            .expect("cannot run git show");
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_repo_releases_are_visible_through_the_mirror_config() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("github");
        let repo = ModuleRepo::with_tags(&root, "acme", "net", &["v1.0.0", "v1.1.0"]);
        repo.release("v2.0.0");
        assert_eq!(repo.tags(), ["v1.0.0", "v1.1.0", "v2.0.0"]);

        let config = GitConfig::github_mirror(tmp.path(), &root);
        for url in [
            "https://github.com/acme/net.git",
            "git@github.com:acme/net.git",
            "ssh://git@github.com/acme/net.git",
        ] {
            let mut cmd = Command::new("git");
            config
                .apply(&mut cmd)
                .args(["ls-remote", "--tags", "--refs", url]);
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{url}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(text.lines().count(), 3, "{url}: {text}");
        }
    }

    #[test]
    fn working_repo_pushes_to_its_origin() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = WorkingRepo::create(tmp.path(), &[("dev/main.tf", "# dev\n")]);
        assert_eq!(repo.origin_branches(), ["main"]);
        assert_eq!(
            repo.origin_file("main", "dev/main.tf").as_deref(),
            Some("# dev\n")
        );
        assert_eq!(repo.origin_file("main", "nope.tf"), None);
    }

    #[test]
    fn generated_fleet_has_the_requested_tags() {
        let tmp = tempfile::tempdir().unwrap();
        let repos = generate_module_repos(tmp.path(), "fleet", 2, 3);
        assert_eq!(repos.len(), 2);
        assert_eq!(repos[1].tags(), ["v1.0.0", "v1.1.0", "v1.2.0"]);
    }
}
