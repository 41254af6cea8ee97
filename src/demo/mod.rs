//! `patcher demo`: the whole promotion chain, offline, in a temporary folder. Module
//! repositories are bare git repositories with tags, reached from their `github.com` addresses
//! through git's `insteadOf` (as a mirror would be); pull requests live in an in-memory forge;
//! merging is a real `git merge` pushed to a real bare `origin`.

pub(crate) mod local_forge;

use crate::environments_file::EnvironmentsFile;
use crate::promote::{self, PromoteOptions};
use crate::publish::git::Repo;
use crate::publish::github::PullRequest;
use crate::report::{self, ReportOptions};
use crate::resolve::Resolver;
use crate::update::{self, PublishOptions, UpdateOptions};
use anyhow::{bail, Context, Result};
use local_forge::LocalForge;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const MODULES: [(&str, &str, &str); 2] = [
    ("terraform-aws-sqs", "sqs", "v1.0.0"),
    ("terraform-aws-vpc", "vpc", "v2.0.0"),
];

const CHAIN: &str = "environments:\n  - name: dev\n    include_dirs: ['dev/**']\n  - name: stage\n    include_dirs: ['stage/**']\n  - name: prod\n    include_dirs: ['prod/**']\n";

/// Builds the demo's repositories and walks the chain, printing each step. With `keep`, the
/// repositories are created in that folder (which must not exist yet) and left there; without
/// it, in a temporary folder removed at the end.
pub fn run(keep: Option<&Path>) -> Result<()> {
    let root = match keep {
        Some(dir) => dir.to_path_buf(),
        None => std::env::temp_dir().join(format!("patcher-demo-{}", std::process::id())),
    };
    if root.exists() {
        bail!(
            "{} already exists: pass an empty or new folder",
            root.display()
        );
    }
    std::fs::create_dir_all(&root)?;
    let result = walk_chain(&root);
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    } else {
        say(&format!(
            "\nThe demo's repositories are in {}",
            root.display()
        ));
    }
    result
}

fn walk_chain(root: &Path) -> Result<()> {
    let root = root.canonicalize()?;
    step(
        "1. Module repositories with tags, and an infrastructure repository with dev, stage, prod",
    );
    set_up_git_config(&root)?;
    for (repo, module, _) in MODULES {
        make_module_repo(
            &root,
            repo,
            module,
            &["v1.0.0", "v1.1.0", "v2.0.0", "v2.0.1"],
        )?;
    }
    let infra = make_infra_repo(&root)?;
    let config = EnvironmentsFile::parse(CHAIN, Path::new(crate::environments_file::DEFAULT_PATH))?;
    let forge = LocalForge::default();
    let resolver = Resolver::from_env(None)?;

    step("2. patcher report (dev)");
    let dev = config.get("dev")?.environment(&infra);
    let report = report::run(
        &ReportOptions {
            env: dev,
            strategy: Default::default(),
            dependency: None,
            version: None,
            members: Vec::new(),
            concurrency: 4,
            policy: Default::default(),
            groups: Default::default(),
            cooldown: None,
        },
        &resolver,
    )?;
    crate::action::Printer::cli().text(&crate::cli::report_table(&report.plan));
    let mut dispatches: Vec<Value> = report
        .spec
        .dependencies
        .iter()
        .map(|d| json!({"dependency": d.id}))
        .collect();

    for (i, name) in ["dev", "stage", "prod"].into_iter().enumerate() {
        if i == 1 {
            step("   A newer release appears before stage runs: v1.2.0 of terraform-aws-sqs");
            tag_module(&root, "terraform-aws-sqs", "sqs", "v1.2.0")?;
        }
        let mut next = Vec::new();
        for payload in &dispatches {
            let pr = update_environment(&infra, &config, name, payload, &forge, &resolver)?;
            let Some(pr) = pr else { continue };
            merge(&infra, &pr, &forge)?;
            let event = forge.closed_event(pr.number)?;
            let opts = PromoteOptions {
                environment: Some(name.to_string()),
                event_type: None,
                branch_prefix: None,
                chain: config.chain(),
                groups: Default::default(),
            };
            let env = config.get(name)?.environment(&infra);
            say(&format!(
                "   promote: {}",
                promote::run_in_checkout(&event, &opts, &env, Some(&forge))?
            ));
            next.extend(forge.take_dispatches().into_iter().map(|(_, p)| p));
        }
        dispatches = next;
    }
    step("Summary: versions on main after the chain");
    print_summary(&infra)
}

fn update_environment(
    infra: &Path,
    config: &EnvironmentsFile,
    name: &str,
    payload: &Value,
    forge: &LocalForge,
    resolver: &Resolver,
) -> Result<Option<PullRequest>> {
    let env_config = config.get(name)?;
    let dependency = payload["dependency"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let version = payload["version"].as_str().map(str::to_string);
    step(&format!(
        "patcher update ({name}) {dependency} {}",
        version.as_deref().unwrap_or("(target from the report)")
    ));
    let opts = UpdateOptions {
        env: env_config.environment(infra),
        spec: None,
        dependency: Some(dependency.clone()),
        version,
        members: Vec::new(),
        strategy: Default::default(),
        allow_shared_files: false,
        concurrency: 4,
        policy: Default::default(),
        groups: Default::default(),
        cooldown: None,
    };
    let publish = PublishOptions {
        branch: format!("{}{dependency}", env_config.branch_prefix()),
        title: format!("[Patcher] [{name}] Update {dependency}"),
        labels: env_config.labels(),
        base: "main".into(),
        author: Some("patcher demo <demo@example.invalid>".into()),
        environment: Some(name.to_string()),
    };
    let repo = Repo::open(infra, None)?;
    let outcome = update::run_published(&opts, &publish, &repo, forge, resolver)?;
    for file in &outcome.updated_files {
        say(&format!("   changed {}", file.display()));
    }
    let Some(number) = outcome.pull_request_number else {
        say("   nothing to update");
        return Ok(None);
    };
    say(&format!(
        "   pull request #{number} on branch {}",
        publish.branch
    ));
    forge.get(number).map(Some)
}

/// Through the one writer, like everything patcher prints.
fn say(text: &str) {
    crate::action::Printer::cli().line(text);
}

fn step(text: &str) {
    say(&format!("\n== {text}"));
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = crate::gitcmd::git(None)
        .current_dir(dir)
        .args(args)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "git {} in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The demo's own global git config: an identity for its commits and the mirror of github.com.
fn set_up_git_config(root: &Path) -> Result<()> {
    let file = root.join("gitconfig");
    let mirror = format!("file://{}/github/", root.display());
    std::fs::write(
        &file,
        format!(
            "[user]\n\tname = patcher demo\n\temail = demo@example.invalid\n[init]\n\tdefaultBranch = main\n[url \"{mirror}\"]\n\tinsteadOf = https://github.com/\n"
        ),
    )?;
    // Set before any thread starts; every git the demo runs (and patcher's own) reads it.
    std::env::set_var("GIT_CONFIG_GLOBAL", &file);
    std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
    Ok(())
}

fn make_module_repo(root: &Path, repo: &str, module: &str, tags: &[&str]) -> Result<()> {
    let bare = root.join("github/acme").join(format!("{repo}.git"));
    std::fs::create_dir_all(&bare)?;
    git(&bare, &["init", "-q", "--bare"])?;
    let work = root.join("work").join(repo);
    std::fs::create_dir_all(&work)?;
    git(&work, &["init", "-q"])?;
    git(&work, &["remote", "add", "origin", &bare.to_string_lossy()])?;
    for tag in tags {
        tag_module(root, repo, module, tag)?;
    }
    Ok(())
}

fn tag_module(root: &Path, repo: &str, module: &str, tag: &str) -> Result<()> {
    let work = root.join("work").join(repo);
    let dir = work.join("modules").join(module);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("main.tf"), format!("# {module} {tag}\n"))?;
    git(&work, &["add", "-A"])?;
    git(&work, &["commit", "-q", "-m", &format!("release {tag}")])?;
    git(&work, &["tag", tag])?;
    git(
        &work,
        &["push", "-q", "origin", "HEAD:refs/heads/main", "--tags"],
    )?;
    Ok(())
}

fn make_infra_repo(root: &Path) -> Result<PathBuf> {
    let origin = root.join("infrastructure-live.git");
    std::fs::create_dir_all(&origin)?;
    git(&origin, &["init", "-q", "--bare"])?;
    let infra = root.join("infrastructure-live");
    std::fs::create_dir_all(&infra)?;
    git(&infra, &["init", "-q"])?;
    for env in ["dev", "stage", "prod"] {
        for (repo, module, version) in MODULES {
            let dir = infra.join(env).join(module);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(
                dir.join("terragrunt.hcl"),
                format!(
                    "terraform {{\n  source = \"git::https://github.com/acme/{repo}.git//modules/{module}?ref={version}\"\n}}\n\ninputs = {{\n  name = \"{env}-{module}\"\n}}\n"
                ),
            )?;
        }
    }
    std::fs::create_dir_all(infra.join(".github"))?;
    std::fs::write(infra.join(crate::environments_file::DEFAULT_PATH), CHAIN)?;
    git(&infra, &["add", "-A"])?;
    git(&infra, &["commit", "-q", "-m", "infrastructure"])?;
    git(&infra, &["branch", "-M", "main"])?;
    git(
        &infra,
        &["remote", "add", "origin", &origin.to_string_lossy()],
    )?;
    git(&infra, &["push", "-q", "origin", "main"])?;
    Ok(infra)
}

/// What clicking "Merge" does: a merge commit on main, pushed to origin.
fn merge(infra: &Path, pr: &PullRequest, forge: &LocalForge) -> Result<()> {
    git(infra, &["checkout", "-q", "main"])?;
    git(infra, &["pull", "-q", "origin", "main"])?;
    git(infra, &["fetch", "-q", "origin", &pr.head_ref])?;
    git(
        infra,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("Merge #{}", pr.number),
            "FETCH_HEAD",
        ],
    )?;
    git(infra, &["push", "-q", "origin", "main"])?;
    let sha = git(infra, &["rev-parse", "HEAD"])?;
    forge.mark_merged(pr.number, &sha);
    say(&format!("   merged #{} into main", pr.number));
    Ok(())
}

fn print_summary(infra: &Path) -> Result<()> {
    for env in ["dev", "stage", "prod"] {
        for (_, module, _) in MODULES {
            let text =
                std::fs::read_to_string(infra.join(env).join(module).join("terragrunt.hcl"))?;
            let version = text
                .split("?ref=")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or("?");
            say(&format!("   {env:<6} {module:<4} {version}"));
        }
    }
    say("\nstage and prod got the versions dev was tested with, not the newer v1.2.0.");
    Ok(())
}
