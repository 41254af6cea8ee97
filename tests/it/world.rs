//! What the test modules share: one process-wide git setup, and the world most tests run the
//! binary in.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tempfile::TempDir;
use testkit::git::{GitConfig, ModuleRepo, WorkingRepo};
use testkit::github::GitHubServer;
use testkit::registry::Registry;
use testkit::runner::{Step, StepRun};

/// Declares a test module's `World`: the shared [`World`] under a type of the module's own, to
/// which the module adds the jobs it runs in an `impl World` block.
macro_rules! module_world {
    ($(#[$attr:meta])* pub) => {
        $(#[$attr])*
        pub struct World(crate::world::World);
        crate::world::module_world!(@deref);
    };
    ($(#[$attr:meta])*) => {
        $(#[$attr])*
        struct World(crate::world::World);
        crate::world::module_world!(@deref);
    };
    (@deref) => {
        impl std::ops::Deref for World {
            type Target = crate::world::World;

            fn deref(&self) -> &crate::world::World {
                &self.0
            }
        }
    };
}
pub(crate) use module_world;

/// Root of the fake github.com that git run inside this process reaches.
///
/// Tests that call the library (not the binary) run git as children of this process, so the
/// process environment is their only git configuration. Every module of the binary shares it,
/// hence one file set once: `insteadOf` rules to this root and nothing else. No identity and no
/// system file, so a commit falls back to patcher's own identity as on a bare runner, and the
/// machine running the tests changes nothing.
pub fn process_git() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir")
            .keep();
        let root = dir.join("github");
        std::fs::create_dir_all(&root).expect("mirror root");
        let base = format!("{}/", testkit::git::file_url(&root).trim_end_matches('/'));
        let config = dir.join("gitconfig");
        std::fs::write(
            &config,
            format!(
                "[url \"{base}\"]\n\
                 \tinsteadOf = https://github.com/\n\
                 \tinsteadOf = git@github.com:\n\
                 \tinsteadOf = ssh://git@github.com/\n"
            ),
        )
        .expect("process gitconfig");
        std::env::set_var("GIT_CONFIG_GLOBAL", &config);
        std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        root
    })
}

/// Every regular file under `dir`, recursively, sorted; symbolic links are neither followed
/// nor listed, so a link planted in a tree cannot lead a check outside it.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    files
}

/// The infrastructure repository every world's checkout belongs to on the GitHub server.
pub const REPO: &str = "acme/infrastructure-live";

/// A Terragrunt unit using the sqs module of `acme/terraform-aws-sqs` at `version`.
pub fn sqs_unit(version: &str) -> String {
    testkit::git::terragrunt_unit("terraform-aws-sqs", "sqs", version)
}

/// The number of the pull request an `update` step opened.
pub fn pr_number(run: &StepRun) -> u64 {
    run.output("pull_request_number")
        .parse()
        .unwrap_or_else(|_| panic!("no pull request: {}{}", run.stdout, run.stderr))
}

/// The binary under test.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_patcher"))
}

/// A finished run of the binary as a command-line tool.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(output: Output) -> Run {
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn text(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }

    pub fn ok(self) -> Run {
        assert!(self.success, "patcher failed\n{}", self.text());
        self
    }

    pub fn failed(self) -> Run {
        assert!(!self.success, "patcher succeeded\n{}", self.text());
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e})\n{}", self.text()))
    }
}

/// What a test's world is made of; [`Builder::build`] makes it.
pub struct Builder {
    root: TempDir,
    github: PathBuf,
    token: &'static str,
    modules: BTreeMap<String, ModuleRepo>,
    files: Vec<(String, String)>,
    plain: bool,
    registry: Option<Registry>,
}

impl Builder {
    /// The bare repository `acme/<name>` on the fake github.com, `tags` released in order.
    /// Returned so a test can read its commits before it writes the files that pin them.
    pub fn module(&mut self, name: &str, tags: &[&str]) -> ModuleRepo {
        let repo = ModuleRepo::with_tags(&self.github, "acme", name, tags);
        self.modules.insert(name.to_string(), repo.clone());
        repo
    }

    /// Root of the fake github.com, for repositories made another way.
    pub fn github(&self) -> &Path {
        &self.github
    }

    pub fn file(&mut self, path: impl Into<String>, text: impl Into<String>) -> &mut Builder {
        self.files.push((path.into(), text.into()));
        self
    }

    pub fn files<P: AsRef<str>, C: AsRef<str>>(&mut self, files: &[(P, C)]) -> &mut Builder {
        for (path, text) in files {
            self.file(path.as_ref(), text.as_ref());
        }
        self
    }

    /// The files are a plain folder: no git repository, no origin.
    pub fn plain(&mut self) -> &mut Builder {
        self.plain = true;
        self
    }

    /// The registry the binary reaches as registry.terraform.io.
    pub fn registry(&mut self, registry: Registry) -> &mut Builder {
        self.registry = Some(registry);
        self
    }

    /// The gitconfig sending github.com to the modules, the infrastructure files (committed and
    /// pushed to a bare origin that the GitHub server serves as [`REPO`], unless plain), and
    /// the GitHub server checking `token`.
    pub fn build(self) -> World {
        let gitconfig = GitConfig::github_mirror(self.root.path(), &self.github);
        let server = GitHubServer::start(self.token);
        let dir = self.root.path().join("infra");
        let infra = if self.plain {
            for (path, text) in &self.files {
                let file = dir.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, text).unwrap();
            }
            None
        } else {
            let infra = WorkingRepo::create(&dir, &self.files);
            server.attach_origin(REPO, &infra.origin);
            Some(infra)
        };
        World {
            dir: infra.as_ref().map_or(dir, |i| i.dir.clone()),
            root: self.root,
            gitconfig,
            server,
            registry: self.registry,
            token: self.token,
            infra,
            modules: self.modules,
        }
    }
}

/// A temp root holding a fake github.com of bare module repositories with real tags, the
/// gitconfig whose `insteadOf` rules send github.com addresses there, the infrastructure
/// checkout, the GitHub API server and optionally a module registry, both on 127.0.0.1.
pub struct World {
    pub root: TempDir,
    pub gitconfig: GitConfig,
    pub server: GitHubServer,
    pub token: &'static str,
    registry: Option<Registry>,
    dir: PathBuf,
    infra: Option<WorkingRepo>,
    modules: BTreeMap<String, ModuleRepo>,
}

impl World {
    /// An empty world whose GitHub server accepts `token`.
    pub fn builder(token: &'static str) -> Builder {
        let root = tempfile::tempdir().unwrap();
        Builder {
            github: root.path().join("github"),
            root,
            token,
            modules: BTreeMap::new(),
            files: Vec::new(),
            plain: false,
            registry: None,
        }
    }

    /// The checkout, or the plain folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkout and its bare origin; a plain world has none.
    pub fn infra(&self) -> &WorkingRepo {
        self.infra
            .as_ref()
            .expect("a plain world has no repository")
    }

    pub fn module(&self, name: &str) -> &ModuleRepo {
        &self.modules[name]
    }

    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    /// `PATCHER_REGISTRY_BASE_URLS` pointing registry.terraform.io at the world's registry.
    pub fn registry_env(&self) -> Vec<(String, String)> {
        self.registry.iter().map(Registry::env).collect()
    }

    pub fn read(&self, rel: &str) -> String {
        String::from_utf8(self.read_bytes(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// The binary as a command-line tool in `cwd`, with nothing of the environment running the
    /// tests (no `GITHUB_*`, no token) but `PATH`: the world's gitconfig and registry, `HOME`
    /// in the temp root.
    pub fn command_in(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.root.path())
            .envs(self.gitconfig.env())
            .envs(self.registry_env());
        cmd
    }

    /// [`World::command_in`] the checkout.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_in(&self.dir, args)
    }

    pub fn cli_in(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::of(self.command_in(cwd, args).output().expect("run patcher"))
    }

    /// `patcher action` in `workspace` as the runner runs a step of this repository: the
    /// gitconfig, the registry, `GITHUB_REPOSITORY`, the API server, the token as the
    /// `github_token` input. Inputs and the event follow.
    pub fn step(&self, workspace: &Path) -> Step {
        Step::new(bin(), workspace)
            .envs(self.gitconfig.env())
            .envs(self.registry_env())
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", self.server.url())
            .input("github_token", self.token)
    }

    /// A fresh clone of origin's main, as `actions/checkout` gives each job.
    pub fn checkout(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join("checkouts").join(name);
        self.infra().fresh_clone(&dir, &self.gitconfig)
    }

    /// The promote job's checkout: the merge commit of the event's pull request (`ref:
    /// github.event.pull_request.merge_commit_sha`), else main for an unmerged one.
    pub fn merge_checkout(&self, name: &str, event: &Value) -> PathBuf {
        let dir = self.checkout(name);
        if let Some(sha) = event["pull_request"]["merge_commit_sha"].as_str() {
            testkit::git::run(&dir, &["checkout", "--quiet", "--detach", sha]);
        }
        dir
    }

    /// `path` on origin's `main`.
    pub fn file_on_main(&self, path: &str) -> String {
        self.infra()
            .origin_file("main", path)
            .unwrap_or_else(|| panic!("{path} is not on main"))
    }

    /// The GitHub server saw no request that breaks GitHub's API description.
    pub fn assert_no_violations(&self) {
        assert_eq!(self.server.violations(), Vec::<String>::new());
    }
}
