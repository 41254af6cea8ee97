//! The GitHub Actions runner contract, and nothing else: how a Docker action receives its inputs
//! (`INPUT_<NAME>` variables), hands back outputs (`$GITHUB_OUTPUT`), writes the job summary
//! (`$GITHUB_STEP_SUMMARY`) and talks to the log through workflow commands on stdout. The
//! report/update/promote logic lives elsewhere and only calls these primitives.

mod commands;
mod inputs;

mod output_limits;
mod runner;
pub mod step;
pub mod summary;

pub use commands::{
    add_mask, annotation, debug, endgroup, escape_data, escape_property, group, stop_commands,
    untrusted, Level, Printer, StopCommands,
};
pub use inputs::{input_env_name, InputError, Inputs};

pub use output_limits::{
    utf16_size, OutputTooLarge, Outputs, INPUT_VALUE_LIMIT, STEP_OUTPUTS_LIMIT,
};
pub use runner::{EventError, Runner, DEFAULT_API_URL, SUMMARY_LIMIT};

/// The process environment, lossily decoded (a non-UTF-8 value cannot be an input anyway).
fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().map(|(k, v)| {
        (
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        )
    })
}

/// The variables whose names start with one of `prefixes`.
fn with_prefix<I, K, V>(vars: I, prefixes: &[&str]) -> std::collections::BTreeMap<String, String>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    vars.into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)))
        .collect()
}

/// Lowercase hex of `len` bytes from the kernel's CSPRNG. Delimiters and stop tokens must be
/// unguessable: anyone who can put text into a value (a release note, a file name) could
/// otherwise close the heredoc early and forge outputs or commands.
pub(crate) fn random_hex(len: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = vec![0u8; len];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks of action.yml against this module: the runner turns its inputs into the variables
/// `Inputs` reads, so both must agree on names and on the values of defaults.
#[cfg(test)]
mod action_yml {
    use super::{input_env_name, Inputs};
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn metadata() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml");
        let text = std::fs::read_to_string(path).unwrap();
        serde_saphyr::from_str(&text).unwrap()
    }

    fn section(name: &str) -> serde_json::Map<String, Value> {
        metadata()[name].as_object().cloned().unwrap()
    }

    #[test]
    fn runs_the_dockerfile() {
        let meta = metadata();
        assert_eq!(meta["runs"]["using"], "docker");
        assert_eq!(meta["runs"]["image"], "Dockerfile");
        assert!(meta["branding"]["icon"].is_string() && meta["branding"]["color"].is_string());
    }

    #[test]
    fn every_input_and_output_is_described() {
        for kind in ["inputs", "outputs"] {
            for (name, spec) in section(kind) {
                let text = spec["description"].as_str().unwrap_or_default();
                assert!(text.trim().len() > 10, "{kind}.{name} needs a description");
            }
        }
    }

    #[test]
    fn seed_inputs_keep_their_names() {
        let inputs = section("inputs");
        for name in [
            "patcher_command",
            "github_token",
            "working_dir",
            "include_dirs",
            "exclude_dirs",
            "spec_file",
            "dependency",
            "update_strategy",
            "pull_request_title",
            "pull_request_branch",
            "commit_author",
            "dry_run",
            "no_color",
            "debug",
        ] {
            assert!(inputs.contains_key(name), "seed input {name} missing");
        }
    }

    #[test]
    fn input_variables_do_not_collide() {
        let inputs = section("inputs");
        let vars: BTreeSet<String> = inputs.keys().map(|k| input_env_name(k)).collect();
        assert_eq!(vars.len(), inputs.len());
    }

    #[test]
    fn boolean_defaults_are_flags_the_binary_accepts() {
        let mut flags = 0;
        for (name, spec) in section("inputs") {
            let default = match &spec["default"] {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            if ["true", "false"].contains(&default.to_lowercase().as_str()) {
                let inputs = Inputs::from_vars([(input_env_name(&name), default.clone())]);
                assert_eq!(inputs.flag(&name), Ok(default == "true"), "{name}");
                flags += 1;
            }
        }
        assert_eq!(flags, 5, "dry_run, no_color, debug, offline, dashboard");
    }
}
