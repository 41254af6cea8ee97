//! Publishing against real peers: a bare `origin` repository on disk driven by the git CLI, and
//! the GitHub REST fake of testkit on 127.0.0.1, which checks every request against GitHub's
//! OpenAPI description.

use crate::world::files_under;
use patcher::http::{Client, RetryPolicy};
use patcher::publish::git::{GitError, Repo};
use patcher::publish::github::{Forge, GitHubClient, GitHubError, NewPull};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use testkit::git::WorkingRepo;
use testkit::github::{Fault, GitHubServer};

const TOKEN: &str = "ghs_publishTestToken0123456789";
const REPO: &str = "acme/infrastructure-live";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Seeder",
            "-c",
            "user.email=seeder@example.com",
        ])
        .args(["-c", "init.defaultBranch=main", "-c", "safe.directory=*"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare origin with one commit on `main`, and a clone of it as the workspace.
struct Fixture {
    _tmp: tempfile::TempDir,
    origin: PathBuf,
    work: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        crate::world::process_git();
        let tmp = tempfile::tempdir().unwrap();
        let infra = WorkingRepo::create(
            tmp.path(),
            &[("dev/vpc/main.tf", MODULE_V1), ("README.md", "live\n")],
        );
        Fixture {
            _tmp: tmp,
            origin: infra.origin,
            work: infra.dir,
        }
    }

    fn repo(&self) -> Repo {
        Repo::open(&self.work, Some(TOKEN.to_string())).unwrap()
    }

    fn module_file(&self) -> PathBuf {
        self.work.join("dev/vpc/main.tf")
    }

    fn origin_sha(&self, branch: &str) -> String {
        git(
            &self.origin,
            &["rev-parse", &format!("refs/heads/{branch}")],
        )
    }

    /// Fails when the token appears in any file of the workspace, `.git` included.
    fn assert_token_on_no_disk_file(&self) {
        for dir in [&self.work, &self.origin] {
            for path in files_under(dir) {
                let bytes = std::fs::read(&path).unwrap();
                let found = bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes());
                assert!(!found, "token written to {}", path.display());
            }
        }
    }
}

const MODULE_V1: &str = "module \"vpc\" {\n  source = \"git::https://github.com/acme/modules.git//vpc?ref=v1.0.0\"\n}\n";
const MODULE_V2: &str = "module \"vpc\" {\n  source = \"git::https://github.com/acme/modules.git//vpc?ref=v1.2.0\"\n}\n";

const BRANCH: &str = "patcher/dev/acme-modules-vpc";
const BOT: &str = "Patch Bot <bot@example.com>";

/// Branches from origin's main, edits the module and commits; returns (base sha, commit sha).
fn commit_update(fx: &Fixture, repo: &Repo, content: &str) -> (String, String) {
    let base = repo.fetch_base("main").unwrap();
    repo.checkout_new_branch(BRANCH, &base).unwrap();
    std::fs::write(fx.module_file(), content).unwrap();
    let sha = repo
        .commit_all(
            &[fx.module_file()],
            "Update acme/modules/vpc to v1.2.0",
            Some(BOT),
        )
        .unwrap();
    (base, sha)
}

#[test]
fn branch_commit_push_and_read_back_the_remote_branch() {
    let fx = Fixture::new();
    let repo = fx.repo();
    assert_eq!(repo.root(), fx.work.canonicalize().unwrap());
    assert!(repo.is_clean().unwrap());
    assert_eq!(repo.current_ref().unwrap(), "main");
    assert_eq!(repo.remote_branch_tree(BRANCH).unwrap(), None);

    // Something the user staged must not ride along with the update.
    std::fs::write(fx.work.join("README.md"), "staged by hand\n").unwrap();
    git(&fx.work, &["add", "README.md"]);
    let (base, sha) = commit_update(&fx, &repo, MODULE_V2);
    assert_eq!(base, fx.origin_sha("main"));
    git(&fx.work, &["checkout", "HEAD", "--", "README.md"]);
    assert_eq!(repo.current_ref().unwrap(), BRANCH);
    assert!(repo.is_clean().unwrap());
    let who = git(&fx.work, &["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s"]);
    assert_eq!(
        who,
        format!("{BOT}|{BOT}|Update acme/modules/vpc to v1.2.0")
    );
    let changed = git(&fx.work, &["diff", "--name-only", &base, &sha]);
    assert_eq!(changed, "dev/vpc/main.tf");

    repo.push_branch(BRANCH, false).unwrap();
    assert_eq!(fx.origin_sha(BRANCH), sha);
    let (remote_sha, tree, parent) = repo.remote_branch_tree(BRANCH).unwrap().unwrap();
    assert_eq!((remote_sha, parent), (sha.clone(), base));
    assert_eq!(tree, repo.tree_of(&sha).unwrap());
    assert_ne!(tree, repo.tree_of("main").unwrap());

    repo.checkout("main").unwrap();
    assert_eq!(
        std::fs::read_to_string(fx.module_file()).unwrap(),
        MODULE_V1
    );
    fx.assert_token_on_no_disk_file();
}

#[test]
fn force_push_refreshes_the_branch_but_never_over_someone_elses_push() {
    let fx = Fixture::new();
    let repo = fx.repo();
    commit_update(&fx, &repo, MODULE_V2);
    repo.push_branch(BRANCH, false).unwrap();

    // A refresh rebuilds the branch from the base: not a fast-forward, so it needs the lease.
    repo.remote_branch_tree(BRANCH).unwrap();
    let (_, refreshed) = commit_update(&fx, &repo, &MODULE_V2.replace("v1.2.0", "v1.3.0"));
    assert!(matches!(
        repo.push_branch(BRANCH, false),
        Err(GitError::PushRejected { .. })
    ));
    repo.push_branch(BRANCH, true).unwrap();
    assert_eq!(fx.origin_sha(BRANCH), refreshed);

    // Someone pushes to the branch after we last looked: our lease is stale.
    let other = fx.work.parent().unwrap().join("other");
    git(
        fx.work.parent().unwrap(),
        &[
            "clone",
            "--quiet",
            "-b",
            BRANCH,
            fx.origin.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    std::fs::write(other.join("README.md"), "reviewer fix\n").unwrap();
    git(&other, &["commit", "--quiet", "-am", "fix"]);
    git(&other, &["push", "--quiet", "origin", BRANCH]);
    let theirs = fx.origin_sha(BRANCH);
    commit_update(&fx, &repo, MODULE_V2);
    let err = repo.push_branch(BRANCH, true).unwrap_err();
    assert!(
        matches!(err, GitError::PushRejected { ref branch, .. } if branch == BRANCH),
        "{err}"
    );
    assert_eq!(fx.origin_sha(BRANCH), theirs);
}

#[test]
fn rejected_push_is_reported_without_the_token_and_keeps_the_work() {
    let fx = Fixture::new();
    let hook = fx.origin.join("hooks/pre-receive");
    // A server that echoes credentials back, the worst case for our messages.
    let script = format!(
        "#!/bin/sh\necho \"denied: protected branch for https://x-access-token:{TOKEN}@github.com/{REPO}.git ({TOKEN})\" >&2\nexit 1\n"
    );
    std::fs::write(&hook, script).unwrap();
    make_executable(&hook);
    let repo = fx.repo();
    let (_, sha) = commit_update(&fx, &repo, MODULE_V2);

    let err = repo.push_branch(BRANCH, true).unwrap_err();
    let GitError::PushRejected { branch, stderr } = &err else {
        panic!("expected PushRejected, got {err:?}");
    };
    assert_eq!(branch, BRANCH);
    assert!(stderr.contains("denied: protected branch"), "{stderr}");
    assert!(!format!("{err} {err:?}").contains(TOKEN), "{err}");
    assert_eq!(
        std::fs::read_to_string(fx.module_file()).unwrap(),
        MODULE_V2
    );
    assert_eq!(git(&fx.work, &["rev-parse", "HEAD"]), sha);
    assert!(repo.remote_branch_tree(BRANCH).unwrap().is_none());
    std::fs::remove_file(&hook).unwrap();
    fx.assert_token_on_no_disk_file();
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn commits_fall_back_to_git_config_then_to_patchers_identity() {
    let fx = Fixture::new();
    let repo = fx.repo();
    let base = repo.fetch_base("main").unwrap();
    repo.checkout_new_branch(BRANCH, &base).unwrap();
    std::fs::write(fx.module_file(), MODULE_V2).unwrap();
    repo.commit_all(&[fx.module_file()], "default identity", None)
        .unwrap();
    let who = git(&fx.work, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]);
    let default = "patcher <patcher@users.noreply.github.com>";
    assert_eq!(who, format!("{default}|{default}"));

    git(&fx.work, &["config", "user.name", "Local Person"]);
    git(&fx.work, &["config", "user.email", "local@example.com"]);
    std::fs::write(fx.module_file(), MODULE_V1).unwrap();
    repo.commit_all(&[fx.module_file()], "configured identity", None)
        .unwrap();
    let who = git(&fx.work, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]);
    assert_eq!(
        who,
        "Local Person <local@example.com>|Local Person <local@example.com>"
    );
}

#[test]
fn errors_for_no_repository_nothing_to_commit_and_option_like_names() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    assert!(matches!(
        Repo::open(outside.path(), None),
        Err(GitError::NotARepository(_))
    ));
    let repo = fx.repo();
    let err = repo
        .commit_all(&[fx.module_file()], "nothing", Some(BOT))
        .unwrap_err();
    assert!(err.to_string().contains("nothing to commit"), "{err}");
    std::fs::write(fx.module_file(), MODULE_V2).unwrap();
    let err = repo
        .commit_all(&[fx.module_file()], "bad author", Some("bot@example.com"))
        .unwrap_err();
    assert!(err.to_string().contains("Name <email>"), "{err}");
    std::fs::write(fx.module_file(), MODULE_V1).unwrap();
    assert!(repo.fetch_base("--upload-pack=touch /tmp/pwned").is_err());
    assert!(matches!(
        repo.fetch_base("no-such-branch"),
        Err(GitError::Command { .. })
    ));
    std::fs::write(fx.module_file(), MODULE_V2).unwrap();
    assert!(!repo.is_clean().unwrap());
}

#[test]
fn works_on_a_workspace_owned_by_another_uid() {
    let fx = Fixture::new();
    // Only root can hand the workspace to another uid (as a container runner does).
    let Ok(()) = std::os::unix::fs::chown(&fx.work, Some(4242), Some(4242)) else {
        eprintln!("skipped: not running as root");
        return;
    };
    for path in files_under(&fx.work) {
        std::os::unix::fs::chown(&path, Some(4242), Some(4242)).unwrap();
    }
    let plain = Command::new("git")
        .args(["status"])
        .current_dir(&fx.work)
        .output()
        .unwrap();
    assert!(
        !plain.status.success(),
        "git should refuse a repository of another uid"
    );
    let repo = fx.repo();
    let (_, sha) = commit_update(&fx, &repo, MODULE_V2);
    repo.push_branch(BRANCH, false).unwrap();
    assert_eq!(fx.origin_sha(BRANCH), sha);
}

// ---- GitHub REST API ----

fn client(server: &GitHubServer, token: &str) -> GitHubClient {
    let fast = RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(20),
        max_wait: Duration::from_secs(5),
    };
    GitHubClient::new(server.url(), REPO, Some(token.to_string())).with_http(Client::new(fast))
}

fn new_pull(head: &str) -> NewPull {
    NewPull {
        title: "Update acme/modules/vpc to v1.2.0 in dev".into(),
        body: "<!-- patcher: {\"dependency\":\"acme/modules/vpc\"} -->\nBody".into(),
        head: head.into(),
        base: "main".into(),
    }
}

fn assert_no_violations(server: &GitHubServer) {
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn creates_finds_and_updates_a_pull_request() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    assert_eq!(gh.find_open_pull(BRANCH).unwrap(), None);
    let created = gh.create_pull(&new_pull(BRANCH)).unwrap();
    assert_eq!(created.number, 1);
    assert_eq!(created.head_ref, BRANCH);
    assert_eq!(
        created.html_url,
        format!("https://github.com/{REPO}/pull/1")
    );
    assert_eq!(gh.find_open_pull(BRANCH).unwrap(), Some(created.clone()));
    assert_eq!(gh.find_open_pull("patcher/stage/other").unwrap(), None);

    let updated = gh.update_pull(1, "New title", "New body").unwrap();
    assert_eq!(
        (updated.title.as_str(), updated.body.as_str()),
        ("New title", "New body")
    );
    let stored = server.pull(REPO, 1).unwrap();
    assert_eq!(
        (stored.title.as_str(), stored.base.as_str()),
        ("New title", "main")
    );

    server.merge(REPO, 1).unwrap();
    assert_eq!(gh.find_open_pull(BRANCH).unwrap(), None);
    for request in server.requests() {
        assert_eq!(
            request.header("Accept"),
            Some("application/vnd.github+json")
        );
        assert_eq!(request.header("X-GitHub-Api-Version"), Some("2022-11-28"));
    }
    let list = server
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .unwrap();
    assert!(
        list.query
            .contains(&("head".into(), format!("acme:{BRANCH}"))),
        "{list:?}"
    );
    assert_no_violations(&server);
}

#[test]
fn an_already_existing_pull_request_is_returned_instead_of_failing() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    let number = server.open_pull(REPO, BRANCH, "main", "Opened earlier", "old body");
    let pull = gh.create_pull(&new_pull(BRANCH)).unwrap();
    assert_eq!(
        (pull.number, pull.title.as_str()),
        (number, "Opened earlier")
    );

    // The same answer injected: GitHub can say so even when the list lags behind.
    server.inject(
        Fault::new("POST", &format!("/repos/{REPO}/pulls"), 422)
            .message(&format!("A pull request already exists for acme:{BRANCH}.")),
    );
    assert_eq!(gh.create_pull(&new_pull(BRANCH)).unwrap().number, number);
    assert_eq!(server.pulls(REPO).len(), 1);

    // Any other validation failure is an error carrying GitHub's message.
    server.inject(
        Fault::new("POST", &format!("/repos/{REPO}/pulls"), 422)
            .message("No commits between main and x"),
    );
    let err = gh.create_pull(&new_pull("x")).unwrap_err();
    assert!(
        err.to_string().contains("No commits between main and x"),
        "{err}"
    );
    assert_no_violations(&server);
}

#[test]
fn labels_are_created_when_missing_and_added_to_the_pull_request() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    let number = gh.create_pull(&new_pull(BRANCH)).unwrap().number;
    let labels = vec!["updates-dev".to_string(), "patcher".to_string()];
    gh.ensure_labels(&labels[..1]).unwrap();
    gh.ensure_labels(&labels).unwrap();
    let names: Vec<String> = server.labels(REPO).into_iter().map(|l| l.name).collect();
    assert_eq!(names, labels);
    let creations = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/labels") && !r.path.contains("issues"))
        .count();
    assert_eq!(creations, 2, "an existing label is not created again");

    gh.add_labels(number, &labels).unwrap();
    gh.add_labels(number, &[]).unwrap();
    assert_eq!(server.pull(REPO, number).unwrap().labels, labels);
    assert_eq!(gh.find_open_pull(BRANCH).unwrap().unwrap().labels, labels);
    assert_no_violations(&server);
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    let pulls = format!("/repos/{REPO}/pulls");
    server.inject(
        Fault::new("POST", &pulls, 403)
            .retry_after(1)
            .message("API rate limit exceeded"),
    );
    assert_eq!(gh.create_pull(&new_pull(BRANCH)).unwrap().number, 1);
    server.inject(Fault::new("GET", &pulls, 500).times(2));
    assert!(gh.find_open_pull(BRANCH).unwrap().is_some());
    let count = |method: &str| {
        server
            .requests()
            .iter()
            .filter(|r| r.method == method)
            .count()
    };
    assert_eq!((count("POST"), count("GET")), (2, 3));

    server.inject(Fault::new("GET", &pulls, 502).times(10));
    let err = gh.find_open_pull(BRANCH).unwrap_err();
    assert!(matches!(err, GitHubError::Api { status: 502, .. }), "{err}");

    // Still rate limited after every retry: not a permission problem.
    server.inject(
        Fault::new("POST", &pulls, 403)
            .times(10)
            .retry_after(0)
            .message("API rate limit exceeded"),
    );
    let err = gh.create_pull(&new_pull("other")).unwrap_err();
    assert!(
        matches!(err, GitHubError::Api { status: 403, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("API rate limit exceeded"), "{err}");
    assert_no_violations(&server);
}

#[test]
fn a_rejected_token_is_reported_without_echoing_it() {
    let server = GitHubServer::start(TOKEN);
    let wrong = "ghp_wrongTokenValue987654321";
    let err = client(&server, wrong)
        .create_pull(&new_pull(BRANCH))
        .unwrap_err();
    assert!(matches!(err, GitHubError::BadToken), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the token was rejected: check github_token"
    );
    let anonymous = GitHubClient::new(server.url(), REPO, None);
    assert!(matches!(
        anonymous.find_open_pull(BRANCH),
        Err(GitHubError::BadToken)
    ));
    assert!(server.pulls(REPO).is_empty());
    assert_no_violations(&server);
}

#[test]
fn missing_permissions_are_named() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    let number = gh.create_pull(&new_pull(BRANCH)).unwrap().number;
    server.deny_writes(true);
    let cases: Vec<(Result<(), GitHubError>, &str)> = vec![
        (
            gh.create_pull(&new_pull("other")).map(drop),
            "pull-requests: write",
        ),
        (
            gh.update_pull(number, "t", "b").map(drop),
            "pull-requests: write",
        ),
        (gh.ensure_labels(&["updates-dev".into()]), "issues: write"),
        (
            gh.add_labels(number, &["updates-dev".into()]),
            "issues: write",
        ),
        (
            gh.dispatch("dev_updates_merged", &json!({})),
            "contents: write",
        ),
    ];
    for (result, permission) in cases {
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, GitHubError::MissingPermission { .. }),
            "{err:?}"
        );
        assert!(text.contains(permission), "{text}");
        assert!(
            text.contains("Resource not accessible by integration"),
            "{text}"
        );
        assert!(!format!("{text} {err:?}").contains(TOKEN));
    }
    assert!(
        gh.find_open_pull(BRANCH).unwrap().is_some(),
        "reads still work"
    );
    server.deny_writes(false);
    let err = gh.update_pull(999, "t", "b").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, GitHubError::NotFound { .. }), "{err:?}");
    assert!(
        text.contains("pull request #999") && text.contains("Not Found"),
        "{text}"
    );
    assert_no_violations(&server);
}

#[test]
fn repository_dispatch_is_sent_with_its_payload() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    let payload = json!({"dependency": "acme/modules/vpc", "version": "v1.2.0", "environment": "dev",
                         "ref": "refs/heads/main", "sha": "abc123", "branch": BRANCH});
    gh.dispatch("dev_updates_merged", &payload).unwrap();
    let sent = server.dispatches(REPO);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].event_type, "dev_updates_merged");
    assert_eq!(sent[0].client_payload, payload);
    let event = server.dispatch_event(REPO, 0).unwrap();
    assert_eq!(event["action"], "dev_updates_merged");
    assert_eq!(event["client_payload"], payload);
    assert!(server.dispatch_event(REPO, 1).is_none());
    assert_no_violations(&server);
}

#[test]
fn release_notes_are_read_by_tag() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    server.add_release(
        "acme/modules",
        "v2.0.0",
        "## Breaking\nRename `cidr` to `cidr_block`.",
    );
    let notes = gh.release_notes("acme/modules", "v2.0.0").unwrap();
    assert_eq!(
        notes.as_deref(),
        Some("## Breaking\nRename `cidr` to `cidr_block`.")
    );
    assert_eq!(gh.release_notes("acme/modules", "v9.9.9").unwrap(), None);
    assert_eq!(gh.release_notes("acme/elsewhere", "v2.0.0").unwrap(), None);
    assert_no_violations(&server);
}

// ---- the fake itself holds to the contract ----

#[test]
fn the_fake_rejects_requests_that_break_githubs_description() {
    let server = GitHubServer::start(TOKEN);
    let http = Client::new(RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    });
    let auth = [("Authorization", format!("token {TOKEN}"))];
    let url = format!("{}/repos/{REPO}/pulls", server.url());
    let bad = http
        .send(
            "POST",
            &url,
            &auth,
            Some(r#"{"title":"t","head":"b","bsae":"main"}"#),
        )
        .unwrap();
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("`base`"), "{}", bad.body);
    let labels = format!("{}/repos/{REPO}/issues/1/labels", server.url());
    http.send("POST", &labels, &auth, Some(r#"{"labels":[]}"#))
        .unwrap();
    let typo = format!("{url}?stat=open");
    http.send("GET", &typo, &auth, None).unwrap();
    let violations = server.violations();
    assert_eq!(violations.len(), 3, "{violations:?}");
    assert!(
        violations[2].contains("unknown parameter `stat`"),
        "{violations:?}"
    );
    assert!(server.pulls(REPO).is_empty());
}

#[test]
fn the_fake_paginates_lists_with_link_headers() {
    let server = GitHubServer::start(TOKEN);
    for i in 0..3 {
        server.open_pull(REPO, &format!("b{i}"), "main", "t", "b");
    }
    let http = Client::new(RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    });
    let auth = [("Authorization", format!("Bearer {TOKEN}"))];
    let url = format!("{}/repos/{REPO}/pulls?state=all&per_page=2", server.url());
    let first = http.send("GET", &url, &auth, None).unwrap();
    let link = first.header("link").unwrap().to_string();
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    let next = link.split(['<', '>']).nth(1).unwrap();
    let second = http.send("GET", next, &auth, None).unwrap();
    assert!(second.header("link").is_none());
    let count = |body: &str| {
        serde_json::from_str::<serde_json::Value>(body)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((count(&first.body), count(&second.body)), (2, 1));
    assert_no_violations(&server);
}

#[test]
fn a_label_created_meanwhile_by_someone_else_is_fine() {
    let server = GitHubServer::start(TOKEN);
    let gh = client(&server, TOKEN);
    server.inject(
        Fault::new("POST", &format!("/repos/{REPO}/labels"), 422)
            .error("Label", "already_exists")
            .message(""),
    );
    gh.ensure_labels(&["updates-stage".into()]).unwrap();
    server.inject(
        Fault::new("POST", &format!("/repos/{REPO}/labels"), 422).error("Label", "invalid"),
    );
    let err = gh.ensure_labels(&["updates-prod".into()]).unwrap_err();
    assert!(matches!(err, GitHubError::Validation { .. }), "{err:?}");
    assert_no_violations(&server);
}

#[test]
fn pull_requests_follow_the_pushed_branch_and_merge_into_the_base() {
    let fx = Fixture::new();
    let server = GitHubServer::start(TOKEN);
    server.attach_origin(REPO, &fx.origin);
    let gh = client(&server, TOKEN);
    let err = gh.create_pull(&new_pull(BRANCH)).unwrap_err();
    assert!(
        err.to_string().contains("head"),
        "no branch pushed yet: {err}"
    );

    let repo = fx.repo();
    let (base, first) = commit_update(&fx, &repo, MODULE_V2);
    repo.push_branch(BRANCH, false).unwrap();
    let number = gh.create_pull(&new_pull(BRANCH)).unwrap().number;
    assert_eq!(server.pull(REPO, number).unwrap().head_sha, first);

    repo.remote_branch_tree(BRANCH).unwrap();
    let (_, second) = commit_update(&fx, &repo, &MODULE_V2.replace("v1.2.0", "v1.3.0"));
    assert_ne!(first, second);
    repo.push_branch(BRANCH, true).unwrap();
    assert_eq!(server.pull(REPO, number).unwrap().head_sha, second);

    let merge = server.merge(REPO, number).unwrap();
    assert_eq!(fx.origin_sha("main"), merge);
    let parents = git(&fx.origin, &["rev-list", "--parents", "-n", "1", &merge]);
    assert_eq!(parents, format!("{merge} {base} {second}"));
    let merged = server.pull(REPO, number).unwrap();
    assert!(merged.merged && merged.state == "closed");
    assert_eq!(merged.merge_commit_sha.as_deref(), Some(merge.as_str()));
    let event = server.pull_request_event(REPO, number).unwrap();
    assert_eq!(event["action"], "closed");
    assert_eq!(event["pull_request"]["merged"], true);
    assert_eq!(event["pull_request"]["merge_commit_sha"], merge.as_str());
    assert_eq!(event["pull_request"]["head"]["ref"], BRANCH);
    assert_eq!(event["repository"]["full_name"], REPO);

    // The merged branch is deleted on origin; a later run recreates it under a fresh lease.
    git(
        &fx.origin,
        &["update-ref", "-d", &format!("refs/heads/{BRANCH}")],
    );
    assert_eq!(repo.remote_branch_tree(BRANCH).unwrap(), None);
    let (_, third) = commit_update(&fx, &repo, &MODULE_V2.replace("v1.2.0", "v1.4.0"));
    repo.push_branch(BRANCH, true).unwrap();
    assert_eq!(fx.origin_sha(BRANCH), third);
    assert_no_violations(&server);
}
