//! Settings of the resolve stage, read once from the environment.

use super::ResolveError;
use std::collections::BTreeMap;

pub const DEFAULT_CONCURRENCY: usize = 16;
const BASE_URLS_VARIABLE: &str = "PATCHER_REGISTRY_BASE_URLS";
const CONCURRENCY_VARIABLE: &str = "PATCHER_CONCURRENCY";
const TOKEN_PREFIX: &str = "TF_TOKEN_";
const API_URL_VARIABLE: &str = "GITHUB_API_URL";
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";

/// How version listings are fetched: tokens, registry base URLs, concurrency, API URL.
#[derive(Debug, Clone)]
pub struct ResolveSettings {
    /// Sent to github.com by git as an HTTP header (see `gitcmd`), never in a URL.
    pub github_token: Option<String>,
    /// Registry host -> base URL replacing `https://{host}` (mirrors, private registries, tests).
    pub registry_base_urls: BTreeMap<String, String>,
    /// Most listings in flight at once.
    pub concurrency: usize,
    /// Registry host (lower case) -> API token, from `TF_TOKEN_<host>` as Terraform reads them.
    pub registry_tokens: BTreeMap<String, String>,
    /// GitHub's REST API base URL (`GITHUB_API_URL`); its GraphQL endpoint gives tag dates.
    pub github_api_url: String,
}

impl Default for ResolveSettings {
    fn default() -> Self {
        ResolveSettings {
            github_token: None,
            registry_base_urls: BTreeMap::new(),
            concurrency: DEFAULT_CONCURRENCY,
            registry_tokens: BTreeMap::new(),
            github_api_url: DEFAULT_GITHUB_API_URL.to_string(),
        }
    }
}

impl ResolveSettings {
    /// Reads `PATCHER_REGISTRY_BASE_URLS`, `PATCHER_CONCURRENCY` and every `TF_TOKEN_*`.
    pub fn from_env(github_token: Option<String>) -> Result<ResolveSettings, ResolveError> {
        ResolveSettings::from_vars(
            github_token,
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// [`ResolveSettings::from_env`] over any set of variables.
    pub fn from_vars(
        github_token: Option<String>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ResolveSettings, ResolveError> {
        let mut config = ResolveSettings {
            github_token: github_token.filter(|t| !t.is_empty()),
            ..ResolveSettings::default()
        };
        for (name, value) in vars {
            if name == BASE_URLS_VARIABLE {
                config.registry_base_urls = parse_base_urls(&value)?;
            } else if name == API_URL_VARIABLE && !value.trim().is_empty() {
                config.github_api_url = value.trim().to_string();
            } else if name == CONCURRENCY_VARIABLE {
                config.concurrency = parse_concurrency(&value)?;
            } else if let Some(encoded) = name.strip_prefix(TOKEN_PREFIX) {
                if !value.trim().is_empty() {
                    config
                        .registry_tokens
                        .insert(token_host(encoded), value.trim().to_string());
                }
            }
        }
        Ok(config)
    }

    /// The base URL of a registry host, without a trailing slash.
    pub fn registry_base_url(&self, host: &str) -> String {
        match self.registry_base_urls.get(&host.to_ascii_lowercase()) {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("https://{host}"),
        }
    }

    /// GitHub's GraphQL endpoint next to the REST API: `https://api.github.com/graphql`, or
    /// `https://HOST/api/graphql` for GitHub Enterprise Server (`https://HOST/api/v3`).
    pub fn github_graphql_url(&self) -> String {
        let api = self.github_api_url.trim_end_matches('/');
        match api.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{api}/graphql"),
        }
    }

    /// The API token for a registry host (case-insensitive), `None` when no `TF_TOKEN_*` set one.
    pub fn registry_token(&self, host: &str) -> Option<&str> {
        self.registry_tokens
            .get(&host.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The variable Terraform reads a host's token from: dots become `_`, hyphens `__`.
pub fn token_variable(host: &str) -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        host.replace('-', "__").replace('.', "_")
    )
}

fn token_host(encoded: &str) -> String {
    // Host names have no underscores, so the encoding is reversible: `__` first.
    encoded
        .replace("__", "\0")
        .replace('_', ".")
        .replace('\0', "-")
        .to_ascii_lowercase()
}

fn config_error(variable: &str, message: String) -> ResolveError {
    ResolveError::Config {
        variable: variable.to_string(),
        message,
    }
}

fn parse_base_urls(value: &str) -> Result<BTreeMap<String, String>, ResolveError> {
    let mut urls = BTreeMap::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = |why: &str| {
            config_error(
                BASE_URLS_VARIABLE,
                format!("entry `{entry}` {why}; expected host=url[,host=url]"),
            )
        };
        let (host, url) = entry.split_once('=').ok_or_else(|| bad("has no `=`"))?;
        let (host, url) = (host.trim(), url.trim());
        if host.is_empty() || host.contains('/') {
            return Err(bad("has no valid host"));
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(bad(
                "has a URL that does not start with http:// or https://",
            ));
        }
        urls.insert(host.to_ascii_lowercase(), url.to_string());
    }
    Ok(urls)
}

fn parse_concurrency(value: &str) -> Result<usize, ResolveError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(config_error(
            CONCURRENCY_VARIABLE,
            format!("`{value}` is not a positive whole number"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_base_urls_concurrency_and_tokens() {
        let config = ResolveSettings::from_vars(
            Some("gh".into()),
            vars(&[
                (
                    BASE_URLS_VARIABLE,
                    " Registry.Example.com=http://127.0.0.1:9/ , r2.io=https://m.io/x",
                ),
                (CONCURRENCY_VARIABLE, "3"),
                ("TF_TOKEN_app_terraform_io", "t1"),
                ("TF_TOKEN_my__registry_example_com", "t2"),
                ("TF_TOKEN_empty_io", ""),
                (API_URL_VARIABLE, "https://ghe.example.com/api/v3/"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.github_graphql_url(),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            config.registry_base_url("registry.example.com"),
            "http://127.0.0.1:9"
        );
        assert_eq!(config.registry_base_url("r2.io"), "https://m.io/x");
        assert_eq!(
            config.registry_base_url("registry.terraform.io"),
            "https://registry.terraform.io"
        );
        assert_eq!(config.concurrency, 3);
        assert_eq!(config.registry_token("app.terraform.io"), Some("t1"));
        assert_eq!(config.registry_token("My-Registry.example.com"), Some("t2"));
        assert_eq!(config.registry_token("empty.io"), None);
    }

    #[test]
    fn defaults_without_variables() {
        let config = ResolveSettings::from_vars(Some(String::new()), vec![]).unwrap();
        assert_eq!(config.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(config.github_token, None);
        assert_eq!(
            config.github_graphql_url(),
            "https://api.github.com/graphql"
        );
        assert!(config.registry_base_urls.is_empty());
    }

    #[test]
    fn token_variable_follows_terraform_encoding() {
        assert_eq!(
            token_variable("app.terraform.io"),
            "TF_TOKEN_app_terraform_io"
        );
        assert_eq!(token_variable("my-reg.io"), "TF_TOKEN_my__reg_io");
        assert_eq!(token_host("my__reg_io"), "my-reg.io");
    }

    #[test]
    fn malformed_settings_are_reported_clearly() {
        for bad in ["registry.io", "=http://x", "h=ftp://x", "a/b=http://x"] {
            let err =
                ResolveSettings::from_vars(None, vars(&[(BASE_URLS_VARIABLE, bad)])).unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with("invalid PATCHER_REGISTRY_BASE_URLS: entry"),
                "{text}"
            );
            assert!(text.contains(bad), "{text}");
        }
        for bad in ["0", "-1", "many"] {
            let err =
                ResolveSettings::from_vars(None, vars(&[(CONCURRENCY_VARIABLE, bad)])).unwrap_err();
            assert!(err.to_string().contains("PATCHER_CONCURRENCY"), "{err}");
        }
    }
}
