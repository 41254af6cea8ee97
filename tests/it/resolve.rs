//! The resolve stage against real peers: bare git repositories with real tags, reached from
//! real-world github.com addresses through the `insteadOf` rules of a global gitconfig, and
//! a module registry server on 127.0.0.1.
//!
//! git reads `GIT_CONFIG_GLOBAL` from the environment of the process that runs it, and the
//! resolver runs git the way the product does (no extra knobs). So the test binary points
//! `GIT_CONFIG_GLOBAL` at one mirror config, once ([`crate::world::process_git`]): every test
//! here goes through [`mirror`] first (also the registry-only ones), which blocks until the
//! variable is set. Repositories get unique
//! names per test so the shared mirror root is safe for parallel tests.

use crate::world::process_git as mirror;
use patcher::model::{Listed, Origin};
use patcher::resolve::{resolve_all, ResolveError, ResolveSettings, Resolver, VersionLister};
use std::collections::{BTreeMap, BTreeSet};
use testkit::git::ModuleRepo;
use testkit::registry::Registry;

/// The names of a listing, whose git commits the tests do not know in advance.
fn names<E>(listed: Result<Vec<Listed>, E>) -> Result<Vec<String>, E> {
    listed.map(|l| l.into_iter().map(|t| t.name).collect())
}

const REGISTRY_HOST: &str = "registry.example.test";

fn git(url: &str) -> Origin {
    Origin::Git { url: url.into() }
}

fn registry_module(host: &str, namespace: &str, name: &str) -> Origin {
    Origin::Registry {
        host: host.into(),
        namespace: namespace.into(),
        name: name.into(),
        provider: "aws".into(),
    }
}

fn config_for(registry: &Registry, host: &str) -> ResolveSettings {
    ResolveSettings {
        registry_base_urls: BTreeMap::from([(host.to_string(), registry.url())]),
        ..ResolveSettings::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn tags_are_listed_from_https_scp_and_ssh_github_addresses() {
    let root = mirror();
    ModuleRepo::with_tags(
        root,
        "acme",
        "net-forms",
        &["v1.0.0", "v1.1.0", "v2.0.0", "latest"],
    );
    let expected = strings(&["latest", "v1.0.0", "v1.1.0", "v2.0.0"]);
    for token in [None, Some("ghs_secret")] {
        let resolver = Resolver::new(ResolveSettings {
            github_token: token.map(str::to_string),
            ..ResolveSettings::default()
        });
        for url in [
            "https://github.com/acme/net-forms.git",
            "https://github.com/acme/net-forms",
            "git@github.com:acme/net-forms.git",
            "ssh://git@github.com/acme/net-forms.git",
        ] {
            assert_eq!(
                names(resolver.list(&git(url))),
                Ok(expected.clone()),
                "{url} {token:?}"
            );
        }
    }
}

#[test]
fn a_listing_is_cached_for_the_run_and_a_new_run_sees_new_releases() {
    let root = mirror();
    let repo = ModuleRepo::with_tags(root, "acme", "net-cache", &["v1.0.0"]);
    let origin = git("https://github.com/acme/net-cache.git");
    let run = Resolver::new(ResolveSettings::default());
    assert_eq!(names(run.list(&origin)), Ok(strings(&["v1.0.0"])));

    repo.release("v1.1.0");
    assert_eq!(
        names(run.list(&origin)),
        Ok(strings(&["v1.0.0"])),
        "listed twice in one run"
    );
    let next_run = Resolver::new(ResolveSettings::default());
    assert_eq!(
        names(next_run.list(&origin)),
        Ok(strings(&["v1.0.0", "v1.1.0"]))
    );
}

#[test]
fn a_missing_repository_fails_only_its_own_origin() {
    let root = mirror();
    ModuleRepo::with_tags(root, "acme", "net-ok", &["v0.1.0", "v0.2.0"]);
    let registry = Registry::start();
    registry.add_module("acme", "vpc-ok", "aws", &["5.0.0", "5.1.0"]);
    let ok = git("git@github.com:acme/net-ok.git");
    let missing = git("https://github.com/acme/missing.git");
    let module = registry_module(REGISTRY_HOST, "acme", "vpc-ok");
    let origins = BTreeSet::from([ok.clone(), missing.clone(), module.clone()]);

    let token = "ghs_do_not_print";
    let resolver = Resolver::new(ResolveSettings {
        github_token: Some(token.into()),
        ..config_for(&registry, REGISTRY_HOST)
    });
    let listings = resolve_all(&origins, &resolver, 4);

    assert_eq!(listings.len(), 3);
    assert_eq!(
        names(listings[&ok].clone()),
        Ok(strings(&["v0.1.0", "v0.2.0"]))
    );
    assert_eq!(
        names(listings[&module].clone()),
        Ok(strings(&["5.0.0", "5.1.0"]))
    );
    let error = listings[&missing].clone().unwrap_err();
    assert_eq!(
        error,
        "repository https://github.com/acme/missing.git not found or not accessible"
    );
}

#[test]
fn registry_server_errors_are_retried() {
    mirror();
    let registry = Registry::start();
    registry.add_module("acme", "vpc-retry", "aws", &["1.0.0", "1.2.0"]);
    let path = Registry::versions_path("acme", "vpc-retry", "aws");
    registry.fail_next(&path, 1, 500, None);
    registry.fail_next("/.well-known/terraform.json", 1, 429, Some(0));
    let resolver = Resolver::new(config_for(&registry, REGISTRY_HOST));

    let origin = registry_module(REGISTRY_HOST, "acme", "vpc-retry");
    assert_eq!(
        names(resolver.list(&origin)),
        Ok(strings(&["1.0.0", "1.2.0"]))
    );
    assert_eq!(registry.request_count(&path), 2);
    assert_eq!(registry.request_count("/.well-known/terraform.json"), 2);
}

#[test]
fn discovery_and_listings_are_requested_once_per_run() {
    mirror();
    let registry = Registry::start();
    registry.add_module("acme", "vpc-a", "aws", &["1.0.0"]);
    registry.add_module("acme", "vpc-b", "aws", &["2.0.0"]);
    let a = registry_module("registry.terraform.io", "acme", "vpc-a");
    let b = registry_module("registry.terraform.io", "acme", "vpc-b");
    let resolver = Resolver::new(config_for(&registry, "registry.terraform.io"));

    let listings = resolve_all(&BTreeSet::from([a.clone(), b.clone()]), &resolver, 2);
    assert_eq!(names(listings[&a].clone()), Ok(strings(&["1.0.0"])));
    assert_eq!(names(listings[&b].clone()), Ok(strings(&["2.0.0"])));
    assert_eq!(names(resolver.list(&a)), Ok(strings(&["1.0.0"])));

    assert_eq!(registry.request_count("/.well-known/terraform.json"), 1);
    assert_eq!(
        registry.request_count(&Registry::versions_path("acme", "vpc-a", "aws")),
        1
    );
    assert_eq!(registry.requests().len(), 3);
}

#[test]
fn the_tf_token_of_the_host_is_sent_as_bearer() {
    mirror();
    let registry = Registry::start();
    registry.add_module("corp", "vpc-private", "aws", &["3.0.0"]);
    registry.require_token("tf-secret");
    let origin = registry_module(REGISTRY_HOST, "corp", "vpc-private");
    let base_urls = format!("{REGISTRY_HOST}={}", registry.url());

    let anonymous = ResolveSettings::from_vars(
        None,
        [("PATCHER_REGISTRY_BASE_URLS".to_string(), base_urls.clone())],
    )
    .unwrap();
    let refused = names(Resolver::new(anonymous).list(&origin)).unwrap_err();
    assert!(
        matches!(refused, ResolveError::RegistryAccess { status: 401, .. }),
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains("TF_TOKEN_registry_example_test"),
        "{refused}"
    );

    let with_token = ResolveSettings::from_vars(
        None,
        [
            ("PATCHER_REGISTRY_BASE_URLS".to_string(), base_urls),
            (
                "TF_TOKEN_registry_example_test".to_string(),
                "tf-secret".to_string(),
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        names(Resolver::new(with_token).list(&origin)),
        Ok(strings(&["3.0.0"]))
    );
    let last = registry.requests().pop().unwrap();
    assert_eq!(last.authorization.as_deref(), Some("Bearer tf-secret"));
}

#[test]
fn an_unknown_registry_module_is_reported_as_not_found() {
    mirror();
    let registry = Registry::start();
    let resolver = Resolver::new(config_for(&registry, REGISTRY_HOST));
    let error = resolver
        .list(&registry_module(REGISTRY_HOST, "acme", "nope"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "module acme/nope/aws not found in registry registry.example.test"
    );
}

#[test]
fn many_origins_resolve_concurrently_against_a_slow_registry() {
    let root = mirror();
    let registry = Registry::start();
    registry.set_latency(std::time::Duration::from_millis(50));
    let mut origins = BTreeSet::new();
    for i in 0..12 {
        registry.add_module("fleet", &format!("m{i}"), "aws", &["1.0.0", "1.1.0"]);
        origins.insert(registry_module(REGISTRY_HOST, "fleet", &format!("m{i}")));
    }
    for i in 0..4 {
        ModuleRepo::with_tags(root, "fleet", &format!("repo{i}"), &["v1.0.0"]);
        origins.insert(git(&format!("https://github.com/fleet/repo{i}.git")));
    }
    let resolver = Resolver::new(ResolveSettings {
        concurrency: 8,
        ..config_for(&registry, REGISTRY_HOST)
    });
    let listings = resolver.resolve(&origins);
    assert_eq!(listings.len(), 16);
    assert!(listings.values().all(Result::is_ok), "{listings:?}");
    assert_eq!(registry.request_count("/.well-known/terraform.json"), 1);
}

/// What a [`failing_git_host`] saw.
#[derive(Default)]
struct Seen {
    connections: usize,
    authorization_headers: usize,
}

/// A git host that answers every request with `status` (or closes the connection without a
/// reply when `status` is None).
fn failing_git_host(status: Option<u16>) -> (String, std::sync::Arc<std::sync::Mutex<Seen>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Seen::default()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            record.lock().unwrap().connections += 1;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if line.to_ascii_lowercase().starts_with("authorization:") {
                    record.lock().unwrap().authorization_headers += 1;
                }
                line.clear();
            }
            if let Some(status) = status {
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        }
    });
    (url, seen)
}

#[test]
fn transient_git_failures_are_retried_and_missing_repositories_are_not() {
    mirror();
    let token = "ghs_only_for_github";
    let resolver = Resolver::new(ResolveSettings {
        github_token: Some(token.into()),
        ..ResolveSettings::default()
    });
    for status in [Some(503), None] {
        let (base, seen) = failing_git_host(status);
        let url = format!("{base}/acme/flaky.git");
        let error = resolver.list(&git(&url)).unwrap_err();
        assert!(
            matches!(&error, ResolveError::Git { url: u, .. } if *u == url),
            "{error}"
        );
        assert!(!error.to_string().contains(token), "{error}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.connections, 3, "{error}");
        assert_eq!(seen.authorization_headers, 0, "token sent to another host");
    }
    let (base, seen) = failing_git_host(Some(404));
    let url = format!("{base}/acme/gone.git");
    let error = resolver.list(&git(&url)).unwrap_err();
    assert_eq!(error, ResolveError::RepositoryNotFound { url });
    assert_eq!(seen.lock().unwrap().connections, 1);
}
