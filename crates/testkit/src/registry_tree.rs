//! A generated infrastructure tree of registry modules, with the registry and GitHub servers
//! it talks to and the runner step that drives the action over it.

use crate::github::GitHubServer;
use crate::registry::Registry;
use crate::runner::{Step, StepRun};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const REPO: &str = "acme/infrastructure-live";
pub const TOKEN: &str = "ghs_registryTreeToken42";
/// Every generated module is released at these versions.
pub const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0"];

pub struct RegistryTree {
    _root: tempfile::TempDir,
    bin: PathBuf,
    pub workspace: PathBuf,
    pub registry: Registry,
    pub server: GitHubServer,
}

/// `mod007`-style module names.
pub fn module_name(i: usize) -> String {
    format!("mod{i:03}")
}

/// The dependency ID of `acme/<module_name(i)>/aws`.
pub fn module_id(i: usize) -> String {
    format!("acme/{}/aws", module_name(i))
}

/// One `module` block of registry module `acme/<name>/aws` at `version`.
pub fn module_block(label: &str, name: &str, version: &str) -> String {
    format!(
        "module \"{label}\" {{\n  source  = \"acme/{name}/aws\"\n  version = \"{version}\"\n}}\n\n"
    )
}

impl RegistryTree {
    /// `files` Terraform files `dev/unitNNNNN/main.tf`, each with `per_file` module blocks at
    /// 1.0.0, block `k` of the tree using module `name(k % modules)`.
    pub fn generate(
        bin: &Path,
        modules: usize,
        files: usize,
        per_file: usize,
        name: impl Fn(usize) -> String,
    ) -> RegistryTree {
        let root = tempfile::tempdir().expect("temp dir");
        let workspace = root.path().join("infra");
        std::fs::create_dir_all(&workspace).expect("workspace");
        let registry = Registry::start();
        for m in 0..modules {
            registry.add_module("acme", &name(m), "aws", &VERSIONS);
        }
        let tree = RegistryTree {
            _root: root,
            bin: bin.to_path_buf(),
            workspace,
            registry,
            server: GitHubServer::start(TOKEN),
        };
        for f in 0..files {
            let text: String = (0..per_file)
                .map(|j| {
                    module_block(
                        &format!("m{j}"),
                        &name((f * per_file + j) % modules),
                        "1.0.0",
                    )
                })
                .collect();
            tree.write(&format!("dev/unit{f:05}/main.tf"), &text);
        }
        tree
    }

    /// Writes a file of the tree, creating its folders.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.workspace.join(rel);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folders");
        std::fs::write(path, text).expect("file");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.workspace.join(rel)).expect("file")
    }

    /// Where the binary finds the registry: `PATCHER_REGISTRY_BASE_URLS`.
    pub fn registry_env(&self) -> (String, String) {
        self.registry.env()
    }

    /// An action step over the dev environment on a schedule, reaching both servers.
    pub fn step(&self) -> Step {
        Step::new(&self.bin, &self.workspace)
            .envs(vec![self.registry_env()])
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", self.server.url())
            .input("github_token", TOKEN)
            .input("working_dir", "./")
            .input("include_dirs", "{*dev*}/**")
            .input("environment", "dev")
            .event("schedule", json!({"schedule": "0 6 * * 1"}))
    }

    /// `report` with `spec_file: patcher-spec.json` and these inputs.
    pub fn report(&self, inputs: &[(&str, &str)]) -> StepRun {
        let mut step = self
            .step()
            .input("patcher_command", "report")
            .input("spec_file", "patcher-spec.json");
        for (name, value) in inputs {
            step = step.input(name, value);
        }
        step.run()
    }

    /// The full spec the last report wrote.
    pub fn spec_file(&self) -> Value {
        serde_json::from_str(&self.read("patcher-spec.json")).expect("spec JSON")
    }

    /// Opens a pull request from `head` with `label`, as an earlier run would have.
    pub fn open_pull(&self, head: &str, label: &str) {
        let number = self
            .server
            .open_pull(REPO, head, "main", head, "earlier run");
        self.server.label_pull(REPO, number, &[label]);
    }

    /// How often the open pull requests were listed.
    pub fn pull_listings(&self) -> usize {
        let path = format!("/repos/{REPO}/pulls");
        let requests = self.server.requests();
        requests
            .iter()
            .filter(|r| r.method == "GET" && r.path == path)
            .count()
    }
}
