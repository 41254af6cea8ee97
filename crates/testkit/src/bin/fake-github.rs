//! A long-running "github.com" for driving the example workflows with act: the GitHub REST API
//! server on 127.0.0.1, module repositories and the infrastructure repository as bare git
//! repositories, and a gitconfig whose `insteadOf` rules send github.com addresses to them.
//!
//! ```text
//! FAKE_GITHUB_TOKEN=… fake-github --root DIR --fixtures tests/act --repo acme/infrastructure-live
//! ```
//!
//! The token comes from the environment so that it never shows in argv. The fixtures folder
//! holds `modules.txt` (`owner/name tag tag …` per line) and `infrastructure-live/` (the tree
//! committed on the repository's `main`). Once ready, one JSON line goes to stdout:
//! `{"api_url", "gitconfig", "github_root", "origin"}`. Then every stdin line is a command
//! answered by one JSON line (`{"error": …}` when it fails):
//!
//! * `state`: pull requests, labels and dispatches of the repository, and API violations;
//! * `merge N`: merges pull request N (a real merge commit on `main` of the bare origin) and
//!   answers the `pull_request` webhook payload of the merged pull request;
//! * `dispatch-event I`: the `repository_dispatch` webhook payload of the I-th dispatch;
//! * `release OWNER/NAME TAG`: publishes a new tag in a module repository (a release that
//!   appears while an update travels the chain).
//!
//! At end of input the state is also written to `DIR/state.json`.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use testkit::git::{GitConfig, ModuleRepo, WorkingRepo};
use testkit::github::GitHubServer;

const TOKEN_VAR: &str = "FAKE_GITHUB_TOKEN";

struct Args {
    root: PathBuf,
    fixtures: PathBuf,
    repo: String,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut root = None;
    let mut fixtures = None;
    let mut repo = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--root" => root = Some(PathBuf::from(value)),
            "--fixtures" => fixtures = Some(PathBuf::from(value)),
            "--repo" => repo = Some(value),
            _ => anyhow::bail!("unknown argument {flag}"),
        }
    }
    Ok(Args {
        root: root.ok_or_else(|| anyhow::anyhow!("--root is required"))?,
        fixtures: fixtures.ok_or_else(|| anyhow::anyhow!("--fixtures is required"))?,
        repo: repo.ok_or_else(|| anyhow::anyhow!("--repo is required"))?,
    })
}

/// Files under `dir` as (path relative to `dir` with `/`, content), sorted.
fn read_tree(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
                files.push((relative, std::fs::read_to_string(&path)?));
            }
        }
    }
    files.sort();
    Ok(files)
}

type Modules = BTreeMap<String, ModuleRepo>;

fn create_modules(github_root: &Path, list: &Path) -> anyhow::Result<Modules> {
    let text = std::fs::read_to_string(list)?;
    let mut modules = Modules::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let full_name = words.next().unwrap_or_default();
        let (org, name) = full_name
            .split_once('/')
            .ok_or_else(|| anyhow::anyhow!("{}: bad repository {full_name}", list.display()))?;
        let tags: Vec<&str> = words.collect();
        let repo = ModuleRepo::with_tags(github_root, org, name, &tags);
        modules.insert(full_name.to_string(), repo);
    }
    Ok(modules)
}

/// The infrastructure repository, reachable as `<github_root>/<repo>.git` like any module.
fn create_infrastructure(root: &Path, github_root: &Path, args: &Args) -> anyhow::Result<PathBuf> {
    let files = read_tree(&args.fixtures.join("infrastructure-live"))?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let infra = WorkingRepo::create(&root.join("infra"), &refs);
    let link = github_root.join(format!("{}.git", args.repo));
    std::fs::create_dir_all(link.parent().expect("repo has an owner"))?;
    std::os::unix::fs::symlink(&infra.origin, &link)?;
    Ok(infra.origin)
}

fn pull_json(pull: &testkit::github::Pull) -> Value {
    json!({
        "number": pull.number,
        "title": pull.title,
        "body": pull.body,
        "head": pull.head,
        "head_sha": pull.head_sha,
        "base": pull.base,
        "state": pull.state,
        "merged": pull.merged,
        "merge_commit_sha": pull.merge_commit_sha,
        "labels": pull.labels,
    })
}

fn state_json(server: &GitHubServer, repo: &str) -> Value {
    let pulls: Vec<Value> = server.pulls(repo).iter().map(pull_json).collect();
    let labels: Vec<String> = server.labels(repo).into_iter().map(|l| l.name).collect();
    let dispatches: Vec<Value> = server
        .dispatches(repo)
        .into_iter()
        .map(|d| json!({"event_type": d.event_type, "client_payload": d.client_payload}))
        .collect();
    json!({
        "pulls": pulls,
        "labels": labels,
        "dispatches": dispatches,
        "violations": server.violations(),
    })
}

fn number(word: Option<&str>) -> anyhow::Result<u64> {
    let word = word.ok_or_else(|| anyhow::anyhow!("missing number"))?;
    Ok(word.parse()?)
}

struct World {
    server: GitHubServer,
    repo: String,
    modules: Modules,
}

fn command(world: &World, line: &str) -> anyhow::Result<Value> {
    let (server, repo) = (&world.server, world.repo.as_str());
    let mut words = line.split_whitespace();
    match words.next() {
        Some("state") => Ok(state_json(server, repo)),
        Some("release") => {
            let (name, tag) = (words.next().unwrap_or_default(), words.next());
            let module = world
                .modules
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("no module repository {name:?}"))?;
            let tag = tag.ok_or_else(|| anyhow::anyhow!("missing tag"))?;
            Ok(json!({"repository": name, "tag": tag, "sha": module.release(tag)}))
        }
        Some("merge") => {
            let n = number(words.next())?;
            server
                .merge(repo, n)
                .ok_or_else(|| anyhow::anyhow!("pull request {n} cannot be merged"))?;
            server
                .pull_request_event(repo, n)
                .ok_or_else(|| anyhow::anyhow!("no pull request {n}"))
        }
        Some("dispatch-event") => {
            let i = usize::try_from(number(words.next())?)?;
            server
                .dispatch_event(repo, i)
                .ok_or_else(|| anyhow::anyhow!("no dispatch {i}"))
        }
        _ => anyhow::bail!("unknown command {line:?}"),
    }
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let token = std::env::var(TOKEN_VAR).map_err(|_| anyhow::anyhow!("{TOKEN_VAR} is not set"))?;
    let root = std::fs::canonicalize(&args.root)?;
    let github_root = root.join("github");
    let modules = create_modules(&github_root, &args.fixtures.join("modules.txt"))?;
    let origin = create_infrastructure(&root, &github_root, &args)?;
    let gitconfig = GitConfig::github_mirror(&root, &github_root);
    let server = GitHubServer::start(&token);
    server.attach_origin(&args.repo, &origin);

    let world = World {
        server,
        repo: args.repo,
        modules,
    };
    let mut out = std::io::stdout().lock();
    let ready = json!({
        "api_url": world.server.url(),
        "gitconfig": gitconfig.path(),
        "github_root": github_root,
        "origin": origin,
    });
    writeln!(out, "{ready}")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let answer = command(&world, &line?).unwrap_or_else(|e| json!({"error": format!("{e:#}")}));
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    let state = serde_json::to_string_pretty(&state_json(&world.server, &world.repo))?;
    std::fs::write(root.join("state.json"), state)?;
    Ok(())
}
