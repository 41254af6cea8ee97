//! Runs the patcher binary the way the GitHub Actions runner runs a Docker action step:
//! inputs as `INPUT_<NAME>`, fresh `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` / `GITHUB_ENV` files,
//! `GITHUB_WORKSPACE`, and the event payload in `GITHUB_EVENT_PATH`; then reads the output
//! file back with the runner's own rules.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One step: the action's `with:` inputs, the job's environment and the triggering event.
#[derive(Debug, Clone)]
pub struct Step {
    bin: PathBuf,
    workspace: PathBuf,
    inputs: Vec<(String, String)>,
    env: Vec<(String, String)>,
    event: Option<(String, Value)>,
}

/// What a step left behind.
#[derive(Debug)]
pub struct StepRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
}

impl StepRun {
    /// The first stdout line starting with `prefix` (e.g. `::error::`), or a panic showing stdout.
    pub fn line(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{}", self.stdout))
    }

    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output `{name}`; outputs: {:?}", self.outputs))
    }
}

impl Step {
    pub fn new(bin: &Path, workspace: &Path) -> Step {
        Step {
            bin: bin.to_path_buf(),
            workspace: workspace.to_path_buf(),
            inputs: Vec::new(),
            env: Vec::new(),
            event: None,
        }
    }

    pub fn input(mut self, name: &str, value: &str) -> Step {
        self.inputs.push((name.into(), value.into()));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Step {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn envs(mut self, vars: Vec<(String, String)>) -> Step {
        self.env.extend(vars);
        self
    }

    pub fn event(mut self, name: &str, payload: Value) -> Step {
        self.event = Some((name.into(), payload));
        self
    }

    /// Runs `patcher action` in a clean environment (only PATH and HOME are inherited).
    pub fn run(&self) -> StepRun {
        let files = tempfile::tempdir().expect("temp dir for runner files");
        let output = files.path().join("output");
        let summary = files.path().join("summary");
        let env_file = files.path().join("env");
        for f in [&output, &summary, &env_file] {
            std::fs::write(f, "").expect("runner file");
        }
        let mut cmd = Command::new(&self.bin);
        cmd.arg("action")
            .current_dir(&self.workspace)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", files.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_ENV", &env_file);
        if let Some((name, payload)) = &self.event {
            let path = files.path().join("event.json");
            std::fs::write(&path, payload.to_string()).expect("event file");
            cmd.env("GITHUB_EVENT_NAME", name)
                .env("GITHUB_EVENT_PATH", &path);
        }
        for (name, value) in &self.inputs {
            cmd.env(input_env_name(name), value);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().expect("run patcher action");
        let text = std::fs::read_to_string(&output).expect("read GITHUB_OUTPUT");
        StepRun {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: parse_output_file(&text),
            summary: std::fs::read_to_string(&summary).expect("read summary"),
        }
    }
}

/// The runner's naming rule: spaces become `_`, the name is upper-cased, hyphens stay.
pub fn input_env_name(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// `$GITHUB_OUTPUT` as the runner reads it: `name=value` lines, or `name<<DELIMITER`, the value's
/// lines, then a line that is exactly the delimiter. Panics on what the runner would reject.
pub fn parse_output_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        match (line.find("<<"), line.find('=')) {
            (Some(h), eq) if eq.is_none_or(|e| h < e) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                let mut value = Vec::new();
                loop {
                    let next = lines
                        .next()
                        .unwrap_or_else(|| panic!("output `{name}`: delimiter never closed"));
                    if next == delimiter {
                        break;
                    }
                    value.push(next);
                }
                out.insert(name.to_string(), value.join("\n"));
            }
            (_, Some(e)) => {
                out.insert(line[..e].to_string(), line[e + 1..].to_string());
            }
            _ => panic!("invalid GITHUB_OUTPUT line: {line:?}"),
        }
    }
    out
}

/// The workflow commands the runner would act on in a step's stdout or stderr, read with the
/// runner's rules: lines end at `\n` and at `\r`; a line is a command when, trimmed, it starts
/// with `::`, or when it holds an old-style `##[` anywhere; after `::stop-commands::<token>` every
/// line is plain text until the line `::<token>::`. Both of those lines are listed too.
pub fn workflow_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut stopped: Option<String> = None;
    for line in text.split(['\n', '\r']).map(str::trim) {
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                commands.push(line.to_string());
                stopped = None;
            }
            continue;
        }
        if line.starts_with("::") || line.contains("##[") {
            stopped = line.strip_prefix("::stop-commands::").map(str::to_string);
            commands.push(line.to_string());
        }
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_keeps_inner_newlines() {
        let text = "a=1\nspec<<EOF_x\n{\"k\":\n\"v\"}\nEOF_x\nb=x=y\n";
        let out = parse_output_file(text);
        assert_eq!(out["a"], "1");
        assert_eq!(out["spec"], "{\"k\":\n\"v\"}");
        assert_eq!(out["b"], "x=y");
    }

    #[test]
    fn commands_follow_the_runners_line_and_stop_rules() {
        let text = "plain\n  ::warning::a\rx ##[error]b\n::stop-commands::t0k\n::error::hidden\n::t0k::\n::debug::c";
        assert_eq!(
            workflow_commands(text),
            [
                "::warning::a",
                "x ##[error]b",
                "::stop-commands::t0k",
                "::t0k::",
                "::debug::c"
            ]
        );
    }
}
