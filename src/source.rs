//! Module source addresses (DESIGN.md "Source forms") and their Dependency IDs.
//!
//! `parse_source` takes the source string as Terraform sees it and says whether it is a versioned
//! git or registry source, a registry source whose version lives in a `version` attribute, or
//! something that is not managed (local path, archive, unversioned git) and why.

use crate::model::{Origin, Source, VersionForm};
use std::ops::Range;

/// Registry host that is left out of Dependency IDs.
pub const DEFAULT_REGISTRY: &str = "registry.terraform.io";

/// Where OpenTofu looks up a host-less registry address.
pub const OPENTOFU_REGISTRY: &str = "registry.opentofu.org";

/// The registry of host-less addresses in `file`: OpenTofu's for `.tofu` files, as OpenTofu
/// reads them; else the configured one, else registry.terraform.io.
pub fn default_registry_for<'a>(file: &std::path::Path, configured: Option<&'a str>) -> &'a str {
    let name = file.to_string_lossy();
    if name.ends_with(".tofu") || name.ends_with(".tofu.json") {
        OPENTOFU_REGISTRY
    } else {
        configured.unwrap_or(DEFAULT_REGISTRY)
    }
}

/// What a module source string is, as far as patcher is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The version is part of the source string (`?ref=` or `tfr://…?version=`).
    Versioned {
        /// The parsed address with its Dependency ID.
        source: Source,
        /// The version text as written (`v1.2.3`, a commit id).
        version: String,
        /// Byte range of `version` within the string given to [`parse_source`].
        version_range: Range<usize>,
        /// How the version is written: `GitRef`, `CommitPin` or `TfrQuery` (never a
        /// `RegistryAttribute`, which comes from the block).
        form: VersionForm,
    },
    /// A registry source: its version comes from the block's `version =` attribute.
    NeedsVersionAttribute(Source),
    /// Not managed; `reason` says why, for the report.
    Skipped {
        /// Short explanation such as `local path` or `unversioned git source (no ?ref=)`.
        reason: String,
    },
}

/// Classifies a module source string as Terraform evaluates it (templates already resolved), with
/// the Dependency ID rules of DESIGN.md.
pub fn parse_source(raw: &str) -> Parsed {
    parse_source_in(raw, DEFAULT_REGISTRY)
}

/// [`parse_source`] where host-less registry addresses live at `registry`.
pub fn parse_source_in(raw: &str, registry: &str) -> Parsed {
    let lead = raw.len() - raw.trim_start().len();
    let text = Text {
        s: raw.trim(),
        base: lead,
    };
    match classify(text.s) {
        Kind::Local => skipped("local path"),
        Kind::Tfr => parse_tfr(text.slice(6), registry),
        Kind::Git(prefix) => parse_git(text.slice(prefix)),
        Kind::GitHubShorthand => parse_git(text),
        Kind::Skip(reason) => skipped(reason),
        Kind::MaybeRegistry => parse_registry(text.s, registry),
    }
}

/// A part of the raw source string and where it starts in it.
#[derive(Debug, Clone, Copy)]
struct Text<'a> {
    s: &'a str,
    base: usize,
}

impl<'a> Text<'a> {
    fn slice(self, from: usize) -> Text<'a> {
        self.range(from, self.s.len())
    }

    fn range(self, from: usize, to: usize) -> Text<'a> {
        Text {
            s: &self.s[from..to],
            base: self.base + from,
        }
    }
}

enum Kind {
    Local,
    Tfr,
    /// Git address after a prefix of this many bytes (`git::` or nothing).
    Git(usize),
    GitHubShorthand,
    Skip(&'static str),
    MaybeRegistry,
}

fn classify(s: &str) -> Kind {
    let lower = s.to_ascii_lowercase();
    if s.is_empty() {
        return Kind::Skip("empty source");
    }
    if [".", ".."].contains(&s)
        || ["./", "../", "/", ".\\", "..\\"]
            .iter()
            .any(|p| s.starts_with(p))
    {
        return Kind::Local;
    }
    if lower.starts_with("tfr://") {
        return Kind::Tfr;
    }
    if let Some(getter) = forced_getter(&lower) {
        return match getter {
            "git" => Kind::Git(5),
            "s3" | "gcs" => Kind::Skip("archive in a storage bucket (s3::/gcs::)"),
            "hg" => Kind::Skip("Mercurial sources are not supported"),
            "http" | "https" => Kind::Skip("archive or redirect over HTTP"),
            "file" => Kind::Local,
            _ => Kind::Skip("unsupported source type"),
        };
    }
    if lower.starts_with("github.com/") {
        return Kind::GitHubShorthand;
    }
    if is_scp_like(s) {
        return Kind::Git(0);
    }
    classify_other(&lower)
}

fn classify_other(lower: &str) -> Kind {
    if is_archive(lower) {
        return Kind::Skip("archive");
    }
    if lower.contains(".amazonaws.com/") || lower.contains("storage.googleapis.com/") {
        return Kind::Skip("archive in a storage bucket (s3::/gcs::)");
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Kind::Skip("HTTP URL that is neither git (git::) nor a registry address");
    }
    if lower.starts_with("bitbucket.org/") {
        return Kind::Skip("Bitbucket shorthand is not supported; use git::https://");
    }
    Kind::MaybeRegistry
}

/// `git` for `git::https://…`; only when `::` comes before any `/`.
fn forced_getter(lower: &str) -> Option<&str> {
    let (getter, _) = lower.split_once("::")?;
    let valid = !getter.is_empty() && getter.chars().all(|c| c.is_ascii_alphanumeric());
    valid.then_some(getter)
}

/// `git@github.com:org/repo.git`.
fn is_scp_like(s: &str) -> bool {
    let Some((user_host, _)) = s.split_once(':') else {
        return false;
    };
    let Some((user, host)) = user_host.split_once('@') else {
        return false;
    };
    let word = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    word(user) && word(host)
}

fn is_archive(lower: &str) -> bool {
    let path = lower.split('?').next().unwrap_or_default();
    const EXTENSIONS: [&str; 9] = [
        ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar", ".gz",
    ];
    EXTENSIONS.iter().any(|ext| path.ends_with(ext)) || lower.contains("archive=")
}

fn skipped(reason: &str) -> Parsed {
    Parsed::Skipped {
        reason: reason.to_string(),
    }
}

// ---- git ----------------------------------------------------------------------------------

/// The repository part of a git address.
struct GitRepo {
    url: String,
    host: String,
    path: String,
}

fn parse_git(text: Text) -> Parsed {
    let (addr, query) = match text.s.find('?') {
        Some(q) => (text.range(0, q), Some(text.slice(q + 1))),
        None => (text, None),
    };
    let (repo_part, subdir) = split_subdir(addr.s);
    let Some(repo) = git_repo(repo_part) else {
        return skipped("unrecognised git address");
    };
    let Some((org, name)) = org_and_repo(&repo.path) else {
        return skipped("git address without an owner and a repository name");
    };
    let Some(version) = query.and_then(|q| query_param(q, "ref")) else {
        return skipped("unversioned git source (no ?ref=)");
    };
    if !plausible_ref(version.s) {
        return Parsed::Skipped {
            reason: format!("ref `{}` is not a tag or a commit id", version.s),
        };
    }
    let module = module_path(subdir);
    let on_github = repo.host.eq_ignore_ascii_case("github.com");
    let github_repo = on_github.then(|| format!("{org}/{name}"));
    // github.com IDs stay `org/repo/path` as Patcher writes them; any other host is named,
    // as registry IDs name theirs, so one path on two hosts is two dependencies.
    let host = (!on_github).then(|| repo.host.to_ascii_lowercase());
    let id = [host.as_deref(), Some(&*org), Some(&*name), Some(&*module)]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    let form = if is_commit_id(version.s) {
        VersionForm::CommitPin
    } else {
        VersionForm::GitRef
    };
    Parsed::Versioned {
        source: Source {
            id,
            org,
            repo: name,
            module,
            origin: Origin::Git { url: repo.url },
            github_repo,
        },
        version: version.s.to_string(),
        version_range: version.base..version.base + version.s.len(),
        form,
    }
}

/// Splits `repo//subdir`, ignoring the `//` of a URL scheme.
fn split_subdir(addr: &str) -> (&str, &str) {
    let from = addr.find("://").map_or(0, |i| i + 3);
    match addr[from..].find("//") {
        Some(i) => (&addr[..from + i], &addr[from + i + 2..]),
        None => (addr, ""),
    }
}

fn git_repo(repo: &str) -> Option<GitRepo> {
    if let Some((scheme, rest)) = repo.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if !["https", "http", "ssh", "git"].contains(&scheme.as_str()) {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = host_port.split(':').next().unwrap_or_default();
        // Credentials written into an http(s) source would travel into listings, specs and
        // logs; the token is supplied to git separately.
        let url = match scheme.as_str() {
            "https" if host.eq_ignore_ascii_case("github.com") => github_https(path),
            "https" | "http" => format!("{scheme}://{host_port}/{path}"),
            _ => repo.to_string(),
        };
        return Some(GitRepo {
            url,
            host: host.to_string(),
            path: path.to_string(),
        });
    }
    if is_scp_like(repo) {
        let (user_host, path) = repo.split_once(':')?;
        let host = user_host.split_once('@').map_or(user_host, |(_, h)| h);
        return Some(GitRepo {
            url: repo.to_string(),
            host: host.to_string(),
            path: path.to_string(),
        });
    }
    let (host, path) = repo.split_once('/')?;
    host.eq_ignore_ascii_case("github.com").then(|| GitRepo {
        url: github_https(path),
        host: "github.com".to_string(),
        path: path.to_string(),
    })
}

/// `host/path` of a git URL as [`parse_source`] writes origins, the same for every spelling of
/// one repository: `https://`, `ssh://`, `git@host:`, with or without `.git` or a port.
pub fn repository_key(url: &str) -> String {
    let (authority, path) = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').unwrap_or((rest, "")),
        None => url.split_once(':').unwrap_or((url, "")),
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host_port
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    match host.as_str() {
        // GitHub paths are case-insensitive; other servers may not be.
        "github.com" => format!("{host}/{}", path.to_ascii_lowercase()),
        _ => format!("{host}/{path}"),
    }
}

/// One spelling per GitHub repository, so each is listed once.
fn github_https(path: &str) -> String {
    let path = path.trim_matches('/');
    format!(
        "https://github.com/{}.git",
        path.strip_suffix(".git").unwrap_or(path)
    )
}

/// `text` with the user info of every `scheme://user:secret@host` replaced by `***`, except the
/// plain user name of ssh URLs (`ssh://git@host`), which is not a secret.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(['/', '?', '"', ' ']).unwrap_or(tail.len());
        let authority = &tail[..end];
        let is_ssh = head.to_ascii_lowercase().ends_with("ssh://");
        match authority.rsplit_once('@') {
            Some((user, host)) if !is_ssh || user.contains(':') => {
                out.push_str("***@");
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn org_and_repo(path: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (repo, org) = segments.split_last()?;
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    (!org.is_empty() && !repo.is_empty()).then(|| (org.join("/"), repo.to_string()))
}

/// Path inside the repository without a leading `modules/`.
fn module_path(subdir: &str) -> String {
    let path = subdir.trim_matches('/');
    path.strip_prefix("modules/").unwrap_or(path).to_string()
}

/// The value of `name` in a query string, with its position.
fn query_param<'a>(query: Text<'a>, name: &str) -> Option<Text<'a>> {
    let mut at = 0;
    for pair in query.s.split('&') {
        if let Some(value) = pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
            let from = at + name.len() + 1;
            return (!value.is_empty()).then(|| query.range(from, from + value.len()));
        }
        at += pair.len() + 1;
    }
    None
}

/// A full commit id (SHA-1 or SHA-256), which a commit pin writes.
pub fn is_commit_id(reference: &str) -> bool {
    matches!(reference.len(), 40 | 64) && reference.chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether the tag listing should be asked about `reference`: git ref-name characters only
/// (whether it is a version tag, a moving tag, a branch or a commit only the listing tells).
fn plausible_ref(reference: &str) -> bool {
    reference.len() <= 200
        && !reference.starts_with(['/', '-', '.'])
        && !reference.contains("..")
        && !reference.contains("//")
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-/".contains(c))
}

// ---- registry -----------------------------------------------------------------------------

fn parse_tfr(text: Text, registry: &str) -> Parsed {
    let (addr, query) = match text.s.find('?') {
        Some(q) => (text.range(0, q), Some(text.slice(q + 1))),
        None => (text, None),
    };
    let Some((host, path)) = addr.s.split_once('/') else {
        return skipped("unrecognised tfr:// address");
    };
    let host = if host.is_empty() { registry } else { host };
    let (path, _subdir) = split_subdir(path);
    let Some(source) = registry_source(host, path) else {
        return skipped("unrecognised tfr:// address");
    };
    match query.and_then(|q| query_param(q, "version")) {
        Some(version) => Parsed::Versioned {
            source,
            version: version.s.to_string(),
            version_range: version.base..version.base + version.s.len(),
            form: VersionForm::TfrQuery,
        },
        None => skipped("no version constraint"),
    }
}

fn parse_registry(s: &str, registry: &str) -> Parsed {
    let (addr, _subdir) = split_subdir(s);
    let parts: Vec<&str> = addr.split('/').collect();
    let source = match parts.as_slice() {
        [_, _, _] => registry_source(registry, addr),
        [host, ..] if parts.len() == 4 && is_host(host) => {
            registry_source(host, &addr[host.len() + 1..])
        }
        _ => None,
    };
    match source {
        Some(source) => Parsed::NeedsVersionAttribute(source),
        None => skipped("unrecognised source address"),
    }
}

/// `ns/name/provider` at `host`.
fn registry_source(host: &str, path: &str) -> Option<Source> {
    let [namespace, name, provider] = path.split('/').collect::<Vec<_>>()[..] else {
        return None;
    };
    let word = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let provider_ok = !provider.is_empty()
        && provider
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(word(namespace) && word(name) && provider_ok) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let short = format!("{namespace}/{name}/{provider}");
    let id = if host == DEFAULT_REGISTRY {
        short
    } else {
        format!("{host}/{short}")
    };
    Some(Source {
        id,
        org: namespace.to_string(),
        repo: name.to_string(),
        module: provider.to_string(),
        origin: Origin::Registry {
            host,
            namespace: namespace.to_string(),
            name: name.to_string(),
            provider: provider.to_string(),
        },
        github_repo: None,
    })
}

/// A registry host name, with an optional port.
pub fn is_host(s: &str) -> bool {
    let (name, port) = s.split_once(':').unwrap_or((s, ""));
    (name.contains('.') || name == "localhost")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versioned(raw: &str) -> (Source, String, VersionForm) {
        match parse_source(raw) {
            Parsed::Versioned {
                source,
                version,
                version_range,
                form,
            } => {
                assert_eq!(&raw[version_range], version, "range of {raw}");
                (source, version, form)
            }
            other => panic!("{raw}: {other:?}"),
        }
    }

    fn reason(raw: &str) -> String {
        match parse_source(raw) {
            Parsed::Skipped { reason } => reason,
            other => panic!("{raw}: {other:?}"),
        }
    }

    fn git_url(source: &Source) -> &str {
        match &source.origin {
            Origin::Git { url } => url,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn git_https_with_subdir() {
        let (s, v, form) = versioned(
            "git::https://github.com/gruntwork-io/terraform-aws-messaging.git//modules/sqs?ref=v0.12.1",
        );
        assert_eq!(s.id, "gruntwork-io/terraform-aws-messaging/sqs");
        assert_eq!(
            (s.org.as_str(), s.repo.as_str(), s.module.as_str()),
            ("gruntwork-io", "terraform-aws-messaging", "sqs")
        );
        assert_eq!(
            git_url(&s),
            "https://github.com/gruntwork-io/terraform-aws-messaging.git"
        );
        assert_eq!(
            s.github_repo.as_deref(),
            Some("gruntwork-io/terraform-aws-messaging")
        );
        assert_eq!((v.as_str(), form), ("v0.12.1", VersionForm::GitRef));
    }

    #[test]
    fn git_ssh_and_scp_like_keep_their_url() {
        let (s, v, _) =
            versioned("git::ssh://git@github.com/acme/infra-modules.git//net/vpc?ref=v2.0.0");
        assert_eq!(git_url(&s), "ssh://git@github.com/acme/infra-modules.git");
        assert_eq!(s.id, "acme/infra-modules/net/vpc");
        assert_eq!(s.github_repo.as_deref(), Some("acme/infra-modules"));
        assert_eq!(v, "v2.0.0");

        let (s, _, _) = versioned("git::git@github.com:acme/mods.git//modules/a/b?ref=1.0.0");
        assert_eq!(git_url(&s), "git@github.com:acme/mods.git");
        assert_eq!(s.id, "acme/mods/a/b");
        assert_eq!(s.module, "a/b");

        let (s, _, _) = versioned("git@gitlab.example.com:grp/sub/mods.git?ref=v3.1.0");
        assert_eq!(git_url(&s), "git@gitlab.example.com:grp/sub/mods.git");
        assert_eq!(
            (s.org.as_str(), s.id.as_str()),
            ("grp/sub", "gitlab.example.com/grp/sub/mods")
        );
        assert_eq!(s.github_repo, None);
    }

    #[test]
    fn github_shorthand_becomes_https() {
        let (s, v, _) = versioned("github.com/acme/mods//modules/sqs?ref=v1.4.0");
        assert_eq!(git_url(&s), "https://github.com/acme/mods.git");
        assert_eq!(s.id, "acme/mods/sqs");
        assert_eq!(v, "v1.4.0");
        let (s, _, _) = versioned("github.com/acme/mods.git?ref=v1.4.0");
        assert_eq!(git_url(&s), "https://github.com/acme/mods.git");
        assert_eq!(s.id, "acme/mods");
    }

    #[test]
    fn ref_may_follow_other_query_parameters() {
        let raw = "git::https://git.example.com/acme/mods.git//x?depth=1&ref=v0.3.0&sshkey=abc";
        let (s, v, _) = versioned(raw);
        assert_eq!(v, "v0.3.0");
        assert_eq!(git_url(&s), "https://git.example.com/acme/mods.git");
        let (_, v, _) = versioned("git::https://h.example/a/b.git?ref=v1.0.0&depth=1");
        assert_eq!(v, "v1.0.0");
    }

    #[test]
    fn registry_sources_need_the_version_attribute() {
        let Parsed::NeedsVersionAttribute(s) = parse_source("terraform-aws-modules/vpc/aws") else {
            panic!()
        };
        assert_eq!(s.id, "terraform-aws-modules/vpc/aws");
        assert_eq!(s.module, "aws");
        let Parsed::NeedsVersionAttribute(s) =
            parse_source("app.terraform.io/acme/network/aws//modules/sub")
        else {
            panic!()
        };
        assert_eq!(s.id, "app.terraform.io/acme/network/aws");
        assert_eq!(
            s.origin,
            Origin::Registry {
                host: "app.terraform.io".into(),
                namespace: "acme".into(),
                name: "network".into(),
                provider: "aws".into()
            }
        );
        let Parsed::NeedsVersionAttribute(s) =
            parse_source("registry.terraform.io/hashicorp/consul/aws")
        else {
            panic!()
        };
        assert_eq!(s.id, "hashicorp/consul/aws");
    }

    #[test]
    fn host_less_addresses_use_the_registry_of_the_file() {
        use std::path::Path;
        let tofu = default_registry_for(Path::new("dev/main.tofu"), None);
        assert_eq!(tofu, OPENTOFU_REGISTRY);
        let Parsed::NeedsVersionAttribute(s) = parse_source_in("acme/vpc/aws", tofu) else {
            panic!()
        };
        assert_eq!(s.id, "registry.opentofu.org/acme/vpc/aws");
        assert!(matches!(s.origin, Origin::Registry { ref host, .. } if host == OPENTOFU_REGISTRY));
        let tf = default_registry_for(Path::new("dev/main.tf"), None);
        assert_eq!(tf, DEFAULT_REGISTRY);
        let chosen = default_registry_for(Path::new("dev/main.tf"), Some(OPENTOFU_REGISTRY));
        let (s, _, _) = match parse_source_in("tfr:///acme/vpc/aws?version=1.0.0", chosen) {
            Parsed::Versioned {
                source,
                version,
                form,
                ..
            } => (source, version, form),
            other => panic!("{other:?}"),
        };
        assert_eq!(s.id, "registry.opentofu.org/acme/vpc/aws");
        let Parsed::NeedsVersionAttribute(s) =
            parse_source_in("registry.terraform.io/acme/vpc/aws", OPENTOFU_REGISTRY)
        else {
            panic!()
        };
        assert_eq!(s.id, "acme/vpc/aws", "a written host wins");
    }

    #[test]
    fn tfr_sources_carry_the_version() {
        let (s, v, form) = versioned("tfr:///terraform-aws-modules/vpc/aws?version=5.1.0");
        assert_eq!(
            (s.id.as_str(), v.as_str()),
            ("terraform-aws-modules/vpc/aws", "5.1.0")
        );
        assert_eq!(form, VersionForm::TfrQuery);
        let (s, _, _) = versioned("tfr://registry.opentofu.org/acme/db/aws?version=1.0.0");
        assert_eq!(s.id, "registry.opentofu.org/acme/db/aws");
        assert_eq!(reason("tfr:///acme/db/aws"), "no version constraint");
    }

    #[test]
    fn ranges_account_for_surrounding_whitespace() {
        let raw = "  github.com/acme/mods?ref=v1.0.0 ";
        let Parsed::Versioned { version_range, .. } = parse_source(raw) else {
            panic!()
        };
        assert_eq!(&raw[version_range], "v1.0.0");
    }

    #[test]
    fn credentials_never_reach_the_origin() {
        let (s, _, _) =
            versioned("git::https://x-access-token:secret@github.com/acme/mods//m?ref=v1.0.0");
        assert_eq!(git_url(&s), "https://github.com/acme/mods.git");
        let (s, _, _) = versioned("git::https://bob:secret@git.example.com:8443/a/b.git?ref=v1.0");
        assert_eq!(git_url(&s), "https://git.example.com:8443/a/b.git");
        assert_eq!(
            redact_credentials("\"git::https://bob:pw@h/a.git?ref=x\" ssh://git@h/a ssh://u:p@h/b"),
            "\"git::https://***@h/a.git?ref=x\" ssh://git@h/a ssh://***@h/b"
        );
        assert_eq!(
            redact_credentials("https://tok@github.com/a/b"),
            "https://***@github.com/a/b"
        );
    }

    #[test]
    fn every_plausible_ref_is_left_to_the_listing() {
        for (raw, version) in [
            ("git::https://github.com/a/b.git?ref=main", "main"),
            ("github.com/a/b?ref=4f2a9c1d", "4f2a9c1d"),
            ("github.com/a/b?ref=release/1.2", "release/1.2"),
            (
                "github.com/a/b//vpc?ref=modules/vpc/v1.2.3",
                "modules/vpc/v1.2.3",
            ),
            ("github.com/a/b?ref=v1", "v1"),
        ] {
            let (_, v, form) = versioned(raw);
            assert_eq!((v.as_str(), form), (version, VersionForm::GitRef));
        }
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let (_, v, form) = versioned(&format!("github.com/a/b?ref={sha}"));
        assert_eq!((v.as_str(), form), (sha, VersionForm::CommitPin));
    }

    #[test]
    fn spellings_of_one_repository_share_a_key() {
        let key = |raw: &str| repository_key(git_url(&versioned(raw).0));
        let spellings = [
            "git::https://git.example.com/acme/mods.git//vpc?ref=v1.0.0",
            "git::https://git.example.com/acme/mods//vpc?ref=v1.0.0",
            "git::git@git.example.com:acme/mods.git//vpc?ref=v1.0.0",
            "git@git.example.com:acme/mods//vpc?ref=v1.0.0",
            "git::ssh://git@git.example.com:2222/acme/mods.git//vpc?ref=v1.0.0",
        ];
        for raw in spellings {
            assert_eq!(key(raw), "git.example.com/acme/mods", "{raw}");
            assert_eq!(
                versioned(raw).0.id,
                "git.example.com/acme/mods/vpc",
                "{raw}"
            );
        }
        assert_eq!(
            key("git::git@github.com:Acme/Mods.git?ref=v1.0.0"),
            key("github.com/acme/mods?ref=v1.0.0")
        );
        assert_ne!(
            key("git::https://git.example.com/acme/other.git?ref=v1.0.0"),
            key(spellings[0])
        );
    }

    #[test]
    fn ids_name_the_host_except_on_github() {
        let (s, _, _) = versioned("git::https://github.example.com/acme/mods.git//vpc?ref=v1.0.0");
        assert_eq!(s.id, "github.example.com/acme/mods/vpc");
        assert_eq!((s.org.as_str(), s.repo.as_str()), ("acme", "mods"));
        assert_eq!(s.github_repo, None);
        let (s, _, _) =
            versioned("git::ssh://git@GitHub.example.com:2222/acme/mods.git?ref=v1.0.0");
        assert_eq!(s.id, "github.example.com/acme/mods");
        let (s, _, _) = versioned("git::https://github.com/acme/mods.git//vpc?ref=v1.0.0");
        assert_eq!(s.id, "acme/mods/vpc");
    }

    #[test]
    fn unmanaged_sources_are_skipped_with_a_reason() {
        assert_eq!(reason("./modules/vpc"), "local path");
        assert_eq!(reason("../shared"), "local path");
        assert_eq!(
            reason("git::https://github.com/a/b.git//x"),
            "unversioned git source (no ?ref=)"
        );
        assert!(reason("github.com/a/b?ref=v1.0.0//modules/x").contains("not a tag or a commit"));
        assert!(reason("github.com/a/b?ref=$(id)").contains("not a tag or a commit"));
        assert!(reason("https://example.com/vpc-module.zip").contains("archive"));
        assert!(reason("https://example.com/m.tar.gz?sha=1").contains("archive"));
        assert!(reason("s3::https://s3.amazonaws.com/bucket/vpc.zip").contains("bucket"));
        assert!(reason("gcs::https://www.googleapis.com/storage/v1/b/m.zip").contains("bucket"));
        assert!(reason("bucket.s3.amazonaws.com/vpc.zip").contains("archive"));
        assert!(reason("hg::http://example.com/repo").contains("Mercurial"));
        assert_eq!(reason("not a source"), "unrecognised source address");
        assert_eq!(reason(""), "empty source");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Pieces that source addresses are made of, and pieces that break them.
        fn fragment() -> impl Strategy<Value = String> {
            let pieces = vec![
                "git::",
                "https://",
                "ssh://git@",
                "git@github.com:",
                "github.com/",
                "tfr://",
                "tfr:///",
                "registry.terraform.io/",
                "acme/",
                "mods",
                ".git",
                "//",
                "/",
                "?ref=",
                "?version=",
                "&depth=1",
                "&",
                "=",
                "v1.2.3",
                "1.0.0",
                "-rc.1",
                "+b",
                "..",
                "./",
                "@",
                ":",
                "x-access-token:s3cret@",
                " ",
                "\n",
                "%2F",
                "\u{e9}",
                "\u{fffd}",
            ];
            prop_oneof![
                3 => proptest::sample::select(pieces).prop_map(str::to_string),
                1 => "[ -~]{0,6}",
                1 => any::<String>(),
            ]
        }

        /// Addresses of every form DESIGN.md lists, with odd names, versions and blanks.
        fn well_formed() -> impl Strategy<Value = String> {
            let prefix = proptest::sample::select(vec![
                "git::https://github.com/",
                "git::ssh://git@github.com/",
                "git::git@github.com:",
                "github.com/",
                "git::https://git.example.com:8443/",
                "tfr:///",
                "tfr://registry.example.com/",
            ]);
            let name = "[a-z0-9][a-z0-9._-]{0,8}";
            let subdir = proptest::sample::select(vec!["", "//modules/sqs", "//x/y", "//"]);
            let version = prop_oneof![
                proptest::sample::select(vec!["v1.2.3", "1.0.0", "v0.1.0-rc.1", "2.0.0+b1"])
                    .prop_map(str::to_string),
                "[A-Za-z0-9.+-]{1,8}",
            ];
            let extra = proptest::sample::select(vec!["", "&depth=1", "&sshkey=k"]);
            let blank = proptest::sample::select(vec!["", " ", "\t", "\n"]);
            (
                prefix,
                name,
                name,
                subdir,
                version,
                extra,
                blank.clone(),
                blank,
            )
                .prop_map(|(prefix, org, repo, subdir, version, extra, lead, tail)| {
                    if prefix.starts_with("tfr") {
                        format!("{lead}{prefix}{org}/{repo}/aws?version={version}{tail}")
                    } else {
                        format!("{lead}{prefix}{org}/{repo}.git{subdir}?ref={version}{extra}{tail}")
                    }
                })
        }

        fn address() -> impl Strategy<Value = String> {
            prop_oneof![
                well_formed(),
                proptest::collection::vec(fragment(), 0..10).prop_map(|parts| parts.concat()),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: 1024,
                failure_persistence: None,
                ..ProptestConfig::default()
            })]

            /// Whatever it is given, parsing answers; what it accepts as versioned it reads back
            /// the same after the version is replaced, as `update` replaces it.
            #[test]
            fn never_panics_and_round_trips_what_it_accepts(raw in address()) {
                let Parsed::Versioned { source, version, version_range, form } = parse_source(&raw)
                else {
                    return Ok(());
                };
                prop_assert_eq!(&raw[version_range.clone()], version.as_str());
                let new = if version.starts_with('v') { "v9.8.7" } else { "9.8.7" };
                let mut edited = raw.clone();
                edited.replace_range(version_range.clone(), new);
                let Parsed::Versioned { source: again, version: v2, version_range: r2, form: f2 } =
                    parse_source(&edited)
                else {
                    return Err(TestCaseError::fail(format!("{edited:?} no longer parses")));
                };
                prop_assert_eq!(again, source);
                prop_assert_eq!(v2, new);
                prop_assert_eq!(f2, form);
                prop_assert_eq!(r2.start, version_range.start);
            }

            #[test]
            fn credentials_never_reach_the_dependency_or_the_origin(raw in address()) {
                let (Parsed::Versioned { source, .. } | Parsed::NeedsVersionAttribute(source)) =
                    parse_source(&raw)
                else {
                    return Ok(());
                };
                prop_assert!(!format!("{source:?}").contains("s3cret"), "{:?}", source);
            }
        }
    }
}
