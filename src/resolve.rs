//! Version listings: one per unique [`Origin`] of a run, fetched concurrently, cached for the
//! run, retried on transient failures. git origins are listed with `git ls-remote` (so the
//! user's `insteadOf`, credential helpers and ssh config apply exactly as git applies them);
//! registry origins through the module registry protocol.

mod git;
mod registry;
mod settings;

pub use settings::ResolveSettings;

use crate::cooldown::Dates;
use crate::model::{Listed, Listings, Origin, Usage};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use thiserror::Error;

/// Why the versions of one origin (or the configuration) could not be read. Messages name the
/// repository or module, never a token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResolveError {
    /// An environment variable of the resolve settings has a value that cannot be used.
    #[error("invalid {variable}: {message}")]
    Config {
        /// Name of the variable (`PATCHER_CONCURRENCY`, `PATCHER_REGISTRY_BASE_URLS`).
        variable: String,
        /// What is wrong with its value.
        message: String,
    },
    /// `git ls-remote` found no repository there, or was not allowed to read it.
    #[error("repository {url} not found or not accessible")]
    RepositoryNotFound {
        /// Repository URL, redacted.
        url: String,
    },
    /// Listing the tags (or reading their dates from GitHub) failed for another reason.
    #[error("listing tags of {url} failed: {message}")]
    Git {
        /// Repository URL, redacted.
        url: String,
        /// git's or the API's message.
        message: String,
    },
    /// The registry answered 404 for the module.
    #[error("module {module} not found in registry {host}")]
    ModuleNotFound {
        /// Registry host name.
        host: String,
        /// Module address `namespace/name/provider`.
        module: String,
    },
    /// The registry answered 401 or 403: a token is missing or not good enough.
    #[error("registry {host} refused access to {module} (HTTP {status}); set {token_variable}")]
    RegistryAccess {
        /// Registry host name.
        host: String,
        /// Module address `namespace/name/provider`.
        module: String,
        /// HTTP status of the refusal.
        status: u16,
        /// The `TF_TOKEN_…` variable Terraform would read this host's token from.
        token_variable: String,
    },
    /// Any other registry failure: discovery, unexpected status, a document that does not
    /// parse or lacks what is needed.
    #[error("registry {host}: {message}")]
    Registry {
        /// Registry host name.
        host: String,
        /// What went wrong, naming the URL or module.
        message: String,
    },
}

/// Lists the versions of one origin. `Sync` so one lister serves every worker thread.
pub trait VersionLister: Sync {
    /// Every tag (git) or version (registry) of `origin`, as listed.
    fn list(&self, origin: &Origin) -> Result<Vec<Listed>, ResolveError>;

    /// When `versions` of `origin` were published, for `minimum_release_age`; `github_repo` is
    /// the `owner/name` of a module on github.com. Err says why no dates can be had. Versions
    /// the answer lacks have no known date.
    fn release_dates(
        &self,
        origin: &Origin,
        github_repo: Option<&str>,
        versions: &[String],
    ) -> Result<Dates, String> {
        let _ = (origin, github_repo, versions);
        Err("the version source gives no publication dates".to_string())
    }
}

/// The listings of every origin the usages reference.
pub fn listings_for(usages: &[Usage], lister: &dyn VersionLister, concurrency: usize) -> Listings {
    let origins: BTreeSet<Origin> = usages.iter().map(|u| u.source.origin.clone()).collect();
    resolve_all(&origins, lister, concurrency)
}

/// Lists every repository once, with at most `concurrency` listings in flight. Spellings of
/// one repository (`https://`, `git@host:`, `ssh://`) share that listing: they are tried in
/// order until one answers, so a key or token that works for one spelling serves them all.
pub fn resolve_all(
    origins: &BTreeSet<Origin>,
    lister: &dyn VersionLister,
    concurrency: usize,
) -> Listings {
    let mut repositories: BTreeMap<String, Vec<&Origin>> = BTreeMap::new();
    for origin in origins {
        repositories
            .entry(repository_key(origin))
            .or_default()
            .push(origin);
    }
    let repositories: Vec<Vec<&Origin>> = repositories.into_values().collect();
    let listings = concurrently(&repositories, concurrency, |spellings| {
        list_any(spellings, lister)
    });
    repositories
        .into_iter()
        .zip(listings)
        .flat_map(|(spellings, listing)| {
            spellings
                .into_iter()
                .map(move |origin| (origin.clone(), listing.clone()))
        })
        .collect()
}

/// `work` applied to every item, at most `concurrency` at once; results in the items' order.
pub fn concurrently<T: Sync, R: Send>(
    items: &[T],
    concurrency: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(items.len()));
    let workers = concurrency.max(1).min(items.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else { break };
                let result = work(item);
                lock(&results).push((index, result));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

fn repository_key(origin: &Origin) -> String {
    match origin {
        Origin::Git { url } => format!("git {}", crate::source::repository_key(url)),
        registry => format!("registry {}", crate::plan::origin_label(registry)),
    }
}

/// The first spelling that lists; else the first one's error.
fn list_any(spellings: &[&Origin], lister: &dyn VersionLister) -> Result<Vec<Listed>, String> {
    let mut first_error = None;
    for origin in spellings {
        match lister.list(origin) {
            Ok(listed) => return Ok(listed),
            Err(error) => {
                first_error.get_or_insert(error.to_string());
            }
        }
    }
    Err(first_error.unwrap_or_default())
}

/// A map whose values are computed once, even when several threads ask for the same key at the
/// same time: the later callers wait for the first one instead of repeating its request.
struct OnceMap<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceLock<V>>>>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> OnceMap<K, V> {
    fn new() -> Self {
        OnceMap {
            cells: Mutex::new(HashMap::new()),
        }
    }

    fn get_or_init(&self, key: &K, init: impl FnOnce() -> V) -> V {
        let cell = lock(&self.cells).entry(key.clone()).or_default().clone();
        cell.get_or_init(init).clone()
    }
}

/// A poisoned lock only means another listing panicked; the data is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The production lister: git tags and registry versions, cached per origin for the run.
pub struct Resolver {
    config: ResolveSettings,
    client: crate::http::Client,
    listings: OnceMap<Origin, Result<Vec<Listed>, ResolveError>>,
    registries: registry::Discovery,
}

impl Resolver {
    /// Configured as a run is: the token given, the rest from the environment.
    pub fn from_env(github_token: Option<String>) -> Result<Resolver, ResolveError> {
        Ok(Resolver::new(ResolveSettings::from_env(github_token)?))
    }

    /// A resolver with the default HTTP client and retry policy.
    pub fn new(config: ResolveSettings) -> Resolver {
        Resolver::with_client(config, crate::http::Client::default())
    }

    /// A resolver whose registry requests go through `client` (e.g. another retry policy).
    pub fn with_client(config: ResolveSettings, client: crate::http::Client) -> Resolver {
        Resolver {
            config,
            client,
            listings: OnceMap::new(),
            registries: registry::Discovery::default(),
        }
    }

    /// The settings it was made with (callers read `concurrency` from them).
    pub fn config(&self) -> &ResolveSettings {
        &self.config
    }

    /// [`resolve_all`] with the configured concurrency.
    pub fn resolve(&self, origins: &BTreeSet<Origin>) -> Listings {
        resolve_all(origins, self, self.config.concurrency)
    }

    fn list_uncached(&self, origin: &Origin) -> Result<Vec<Listed>, ResolveError> {
        match listed_at(origin) {
            ListedAt::Git(url) => git::list_tags(url, self.config.github_token.as_deref()),
            ListedAt::Registry(module) => {
                self.registries
                    .list_versions(&self.client, &self.config, &module)
            }
        }
    }
}

impl VersionLister for Resolver {
    fn list(&self, origin: &Origin) -> Result<Vec<Listed>, ResolveError> {
        self.listings
            .get_or_init(origin, || self.list_uncached(origin))
    }

    /// Registry: the per-version documents' `published_at` (OpenTofu's registry: its docs
    /// API). git: the tag dates of a github.com repository, one GraphQL query per repository.
    fn release_dates(
        &self,
        origin: &Origin,
        github_repo: Option<&str>,
        versions: &[String],
    ) -> Result<Dates, String> {
        let dates = match listed_at(origin) {
            ListedAt::Git(_) => {
                let Some(repo) = github_repo else {
                    return Err("tag dates are known only for repositories on github.com".into());
                };
                git::tag_dates(&self.client, &self.config, repo)
            }
            ListedAt::Registry(module) => {
                self.registries
                    .release_dates(&self.client, &self.config, &module, versions)
            }
        };
        dates.map_err(|e| e.to_string())
    }
}

/// Where an origin's versions are listed: a git URL or a registry module.
enum ListedAt<'a> {
    Git(&'a str),
    Registry(registry::Module<'a>),
}

fn listed_at(origin: &Origin) -> ListedAt<'_> {
    match origin {
        Origin::Git { url } => ListedAt::Git(url),
        Origin::Registry {
            host,
            namespace,
            name,
            provider,
        } => ListedAt::Registry(registry::Module {
            host,
            namespace,
            name,
            provider,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Counting {
        calls: AtomicUsize,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    impl VersionLister for Counting {
        fn list(&self, origin: &Origin) -> Result<Vec<Listed>, ResolveError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            match origin {
                Origin::Git { url } if url.contains("missing") => {
                    Err(ResolveError::RepositoryNotFound { url: url.clone() })
                }
                Origin::Git { url } => Ok(vec![Listed::name(format!("v1.0.0+{url}"))]),
                Origin::Registry { .. } => Ok(vec![]),
            }
        }
    }

    fn git(url: &str) -> Origin {
        Origin::Git { url: url.into() }
    }

    #[test]
    fn every_origin_is_listed_once_within_the_bound() {
        let origins: BTreeSet<Origin> = (0..20)
            .map(|i| git(&format!("u{i}")))
            .chain([git("missing")])
            .collect();
        let lister = Counting {
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        };
        let listings = resolve_all(&origins, &lister, 4);
        assert_eq!(lister.calls.load(Ordering::SeqCst), 21);
        assert!(lister.max_in_flight.load(Ordering::SeqCst) <= 4);
        assert!(
            lister.max_in_flight.load(Ordering::SeqCst) > 1,
            "ran sequentially"
        );
        assert_eq!(listings.len(), 21);
        assert_eq!(listings[&git("u3")], Ok(vec![Listed::name("v1.0.0+u3")]));
        assert_eq!(
            listings[&git("missing")],
            Err("repository missing not found or not accessible".to_string())
        );
    }

    #[test]
    fn spellings_of_one_repository_are_listed_once() {
        let lister = Counting {
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        };
        let spellings = [
            "https://git.example.com/acme/mods.git",
            "git@git.example.com:acme/mods.git",
            "ssh://git@git.example.com/acme/mods",
        ];
        let origins: BTreeSet<Origin> = spellings.iter().map(|u| git(u)).collect();
        let listings = resolve_all(&origins, &lister, 4);
        assert_eq!(lister.calls.load(Ordering::SeqCst), 1);
        let first = &listings[&git(spellings[1])];
        assert!(spellings.iter().all(|u| &listings[&git(u)] == first));
        let missing: BTreeSet<Origin> = [
            git("https://h.example/missing/a"),
            git("git@h.example:missing/a.git"),
        ]
        .into_iter()
        .collect();
        let listings = resolve_all(&missing, &lister, 4);
        assert_eq!(
            lister.calls.load(Ordering::SeqCst),
            3,
            "each spelling tried once"
        );
        assert!(listings
            .values()
            .all(|l| l.as_ref().is_err_and(|e| e.contains("not found"))));
    }

    #[test]
    fn concurrent_callers_share_one_computation() {
        let map: OnceMap<u8, usize> = OnceMap::new();
        let runs = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    map.get_or_init(&1, || {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        runs.fetch_add(1, Ordering::SeqCst)
                    })
                });
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
