//! Module versions from a Terraform/OpenTofu registry, through the documented protocol:
//! service discovery (`/.well-known/terraform.json`, `modules.v1`), then
//! `GET {modules.v1}{namespace}/{name}/{provider}/versions`. Publication dates, for
//! `minimum_release_age`, from the per-version document of the registry API
//! (`GET {modules.v1}{namespace}/{name}/{provider}/{version}`, `published_at`), and for
//! OpenTofu's registry from its documentation API (one document per module).

use super::settings::token_variable;
use super::{OnceMap, ResolveError, ResolveSettings};
use crate::cooldown::{parse_time, Dates};
use crate::http::{Client, Response};
use crate::model::Listed;
use serde::Deserialize;

/// OpenTofu's registry has no per-version documents; its documentation API lists every
/// version of a module with its publication date.
const OPENTOFU_HOST: &str = "registry.opentofu.org";
const OPENTOFU_API_HOST: &str = "api.opentofu.org";

pub struct Module<'a> {
    pub host: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub provider: &'a str,
}

impl Module<'_> {
    fn address(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.name, self.provider)
    }
}

/// The `modules.v1` URL of each host, discovered once per run.
pub struct Discovery {
    hosts: OnceMap<String, Result<String, ResolveError>>,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            hosts: OnceMap::new(),
        }
    }
}

#[derive(Deserialize)]
struct ServiceDocument {
    #[serde(rename = "modules.v1")]
    modules_v1: Option<String>,
}

#[derive(Deserialize)]
struct VersionsDocument {
    modules: Vec<ModuleVersions>,
}

#[derive(Deserialize)]
struct ModuleVersions {
    versions: Vec<ModuleVersion>,
}

#[derive(Deserialize)]
struct ModuleVersion {
    version: String,
}

#[derive(Deserialize)]
struct VersionDocument {
    published_at: Option<String>,
}

#[derive(Deserialize)]
struct OpenTofuModule {
    versions: Vec<OpenTofuVersion>,
}

#[derive(Deserialize)]
struct OpenTofuVersion {
    id: String,
    published: Option<String>,
}

impl Discovery {
    pub fn list_versions(
        &self,
        client: &Client,
        config: &ResolveSettings,
        module: &Module,
    ) -> Result<Vec<Listed>, ResolveError> {
        let url = format!("{}versions", self.module_url(client, config, module)?);
        let resp = get(client, config, module.host, &url)?;
        match resp.status {
            200 => parse_versions(module.host, &resp.body),
            status => Err(failure(module, &url, status)),
        }
    }

    /// `{modules.v1}{namespace}/{name}/{provider}/`.
    fn module_url(
        &self,
        client: &Client,
        config: &ResolveSettings,
        module: &Module,
    ) -> Result<String, ResolveError> {
        let host = module.host;
        let modules_url = self.hosts.get_or_init(&host.to_ascii_lowercase(), || {
            discover(client, config, host)
        })?;
        Ok(format!(
            "{modules_url}{}/{}/{}/",
            segment(module.namespace),
            segment(module.name),
            segment(module.provider)
        ))
    }

    /// When each of `versions` was published: one request per version, stopping at the first
    /// answer without a date (a registry that implements only the module registry protocol).
    pub fn release_dates(
        &self,
        client: &Client,
        config: &ResolveSettings,
        module: &Module,
        versions: &[String],
    ) -> Result<Dates, ResolveError> {
        if module.host.eq_ignore_ascii_case(OPENTOFU_HOST) {
            return opentofu_dates(client, config, module);
        }
        let base = self.module_url(client, config, module)?;
        let mut dates = Dates::new();
        for version in versions {
            let url = format!("{base}{}", segment(version));
            let resp = get(client, config, module.host, &url)?;
            match resp.status {
                200 => {}
                404 => {
                    return Err(ResolveError::Registry {
                        host: module.host.to_string(),
                        message: format!("no per-version document ({url} answered HTTP 404)"),
                    })
                }
                status => return Err(failure(module, &url, status)),
            }
            let document: VersionDocument =
                serde_json::from_str(&resp.body).map_err(|e| registry_error(module, e))?;
            let Some(published) = document.published_at.as_deref().and_then(parse_time) else {
                return Err(ResolveError::Registry {
                    host: module.host.to_string(),
                    message: format!("{url} has no published_at"),
                });
            };
            dates.insert(version.clone(), published);
        }
        Ok(dates)
    }
}

/// `GET https://api.opentofu.org/registry/docs/modules/{namespace}/{name}/{target}/index.json`,
/// whose `versions` carry `published`; its ids have a `v` the registry's versions may lack.
fn opentofu_dates(
    client: &Client,
    config: &ResolveSettings,
    module: &Module,
) -> Result<Dates, ResolveError> {
    let url = format!(
        "{}/registry/docs/modules/{}/{}/{}/index.json",
        config.registry_base_url(OPENTOFU_API_HOST),
        segment(&module.namespace.to_ascii_lowercase()),
        segment(&module.name.to_ascii_lowercase()),
        segment(&module.provider.to_ascii_lowercase())
    );
    let resp = get(client, config, OPENTOFU_API_HOST, &url)?;
    if resp.status != 200 {
        return Err(failure(module, &url, resp.status));
    }
    let document: OpenTofuModule =
        serde_json::from_str(&resp.body).map_err(|e| registry_error(module, e))?;
    let mut dates = Dates::new();
    for version in document.versions {
        if let Some(published) = version.published.as_deref().and_then(parse_time) {
            let bare = version.id.trim_start_matches('v').to_string();
            dates.insert(format!("v{bare}"), published);
            dates.insert(bare, published);
        }
    }
    Ok(dates)
}

fn failure(module: &Module, url: &str, status: u16) -> ResolveError {
    let host = module.host;
    match status {
        404 => ResolveError::ModuleNotFound {
            host: host.to_string(),
            module: module.address(),
        },
        401 | 403 => ResolveError::RegistryAccess {
            host: host.to_string(),
            module: module.address(),
            status,
            token_variable: token_variable(host),
        },
        status => unexpected(host, url, status),
    }
}

fn registry_error(module: &Module, error: serde_json::Error) -> ResolveError {
    ResolveError::Registry {
        host: module.host.to_string(),
        message: format!("invalid document for {}: {error}", module.address()),
    }
}

fn discover(client: &Client, config: &ResolveSettings, host: &str) -> Result<String, ResolveError> {
    let document_url = format!(
        "{}/.well-known/terraform.json",
        config.registry_base_url(host)
    );
    let resp = get(client, config, host, &document_url)?;
    if resp.status != 200 {
        return Err(unexpected(host, &document_url, resp.status));
    }
    let document: ServiceDocument =
        serde_json::from_str(&resp.body).map_err(|e| ResolveError::Registry {
            host: host.to_string(),
            message: format!("invalid service discovery document at {document_url}: {e}"),
        })?;
    let modules = document.modules_v1.ok_or_else(|| ResolveError::Registry {
        host: host.to_string(),
        message: "the host offers no module registry (no modules.v1 in service discovery)"
            .to_string(),
    })?;
    let mut url = join(&document_url, &modules);
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

fn get(
    client: &Client,
    config: &ResolveSettings,
    host: &str,
    url: &str,
) -> Result<Response, ResolveError> {
    let mut headers = vec![("Accept", "application/json".to_string())];
    if let Some(token) = config.registry_token(host) {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    client
        .send("GET", url, &headers, None)
        .map_err(|e| ResolveError::Registry {
            host: host.to_string(),
            message: e.to_string(),
        })
}

fn parse_versions(host: &str, body: &str) -> Result<Vec<Listed>, ResolveError> {
    let document: VersionsDocument =
        serde_json::from_str(body).map_err(|e| ResolveError::Registry {
            host: host.to_string(),
            message: format!("invalid versions document: {e}"),
        })?;
    Ok(document
        .modules
        .into_iter()
        .next()
        .map(|m| {
            m.versions
                .into_iter()
                .map(|v| Listed::name(v.version))
                .collect()
        })
        .unwrap_or_default())
}

fn unexpected(host: &str, url: &str, status: u16) -> ResolveError {
    ResolveError::Registry {
        host: host.to_string(),
        message: format!("GET {url} answered HTTP {status}"),
    }
}

/// Percent-encodes what is not safe inside one path segment; registry names are normally
/// plain, so this only guards against an address smuggling `/`, `?` or `#`.
fn segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Resolves a service URL from the discovery document against the document's own URL
/// (RFC 3986 reference resolution for the forms registries use).
fn join(document_url: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_string();
    }
    let scheme_end = document_url.find("://").map_or(0, |i| i + 3);
    if let Some(rest) = reference.strip_prefix("//") {
        return format!("{}{rest}", &document_url[..scheme_end]);
    }
    if reference.starts_with('/') {
        let authority_end = document_url[scheme_end..]
            .find('/')
            .map_or(document_url.len(), |i| scheme_end + i);
        return format!("{}{reference}", &document_url[..authority_end]);
    }
    let directory_end = document_url
        .rfind('/')
        .map_or(document_url.len(), |i| i + 1);
    format!("{}{reference}", &document_url[..directory_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_urls_resolve_against_the_discovery_document() {
        let doc = "http://127.0.0.1:8/mirror/.well-known/terraform.json";
        assert_eq!(join(doc, "/v1/modules/"), "http://127.0.0.1:8/v1/modules/");
        assert_eq!(
            join(doc, "v1/modules/"),
            "http://127.0.0.1:8/mirror/.well-known/v1/modules/"
        );
        assert_eq!(
            join(doc, "https://api.example.com/m/"),
            "https://api.example.com/m/"
        );
        assert_eq!(
            join(doc, "//cdn.example.com/m/"),
            "http://cdn.example.com/m/"
        );
    }

    #[test]
    fn versions_are_taken_from_the_first_module() {
        let body = r#"{"modules":[{"source":"hashicorp/consul/aws","versions":[{"version":"0.1.0","submodules":[]},{"version":"v0.2.0"}]}]}"#;
        assert_eq!(
            parse_versions("h", body).unwrap(),
            [Listed::name("0.1.0"), Listed::name("v0.2.0")]
        );
        assert_eq!(
            parse_versions("h", r#"{"modules":[]}"#).unwrap(),
            Vec::<Listed>::new()
        );
        assert!(parse_versions("h", "<html>").is_err());
    }

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(segment("terraform-aws-modules"), "terraform-aws-modules");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
    }
}
