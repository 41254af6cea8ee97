//! The files and variables the runner provides to a step: `$GITHUB_OUTPUT`,
//! `$GITHUB_STEP_SUMMARY`, the event payload and the repository context.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;

/// REST API base used when `GITHUB_API_URL` is unset (github.com).
pub const DEFAULT_API_URL: &str = "https://api.github.com";
const DEFAULT_SERVER_URL: &str = "https://github.com";
/// GitHub refuses to show a step summary larger than this (1 MiB).
pub const SUMMARY_LIMIT: u64 = 1024 * 1024;
const TRUNCATED_NOTE: &str =
    "\n\n> **Note**\n> The rest of this summary was cut: GitHub shows at most 1 MiB per step.\n";

/// The event payload at `$GITHUB_EVENT_PATH` could not be had.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The file could not be read.
    #[error("cannot read the event payload {path}: {source}")]
    Read {
        /// `$GITHUB_EVENT_PATH`.
        path: PathBuf,
        /// The read error.
        source: io::Error,
    },
    /// The file is not JSON.
    #[error("the event payload {path} is not JSON: {source}")]
    Parse {
        /// `$GITHUB_EVENT_PATH`.
        path: PathBuf,
        /// The JSON error, with its position.
        source: serde_json::Error,
    },
}

/// The runner's `GITHUB_*` and `RUNNER_*` variables for this step.
#[derive(Clone, Default)]
pub struct Runner {
    vars: BTreeMap<String, String>,
}

impl Runner {
    /// The runner variables of this process.
    pub fn from_env() -> Runner {
        Runner::from_vars(super::process_env())
    }

    /// Keeps only `GITHUB_*` and `RUNNER_*` variables, so the process environment can be passed
    /// whole.
    pub fn from_vars<I, K, V>(vars: I) -> Runner
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Runner {
            vars: super::with_prefix(vars, &["GITHUB_", "RUNNER_"]),
        }
    }

    /// A `GITHUB_*`/`RUNNER_*` variable (e.g. `GITHUB_SHA`, `GITHUB_REF`); blank is `None`.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// Appends `name<<DELIM`, the value and `DELIM` to `$GITHUB_OUTPUT`, DELIM being random and
    /// absent from the value, so the value may hold any text, newlines included.
    pub fn set_output(&self, name: &str, value: &str) -> io::Result<()> {
        let path = self.file_var("GITHUB_OUTPUT", "step outputs")?;
        let record = heredoc(name, value, || {
            Ok(format!("ghadelimiter_{}", super::random_hex(16)?))
        })?;
        append(&path, record.as_bytes())
    }

    /// Appends Markdown to `$GITHUB_STEP_SUMMARY`, ending it with a newline so later appends start
    /// on their own line. Past GitHub's 1 MiB limit the text is cut at a line with a note, since
    /// an oversized summary is dropped whole.
    pub fn append_summary(&self, markdown: &str) -> io::Result<()> {
        let path = self.file_var("GITHUB_STEP_SUMMARY", "job summaries")?;
        let used = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut text = markdown.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        append(
            &path,
            fit_summary(&text, SUMMARY_LIMIT.saturating_sub(used)).as_bytes(),
        )
    }

    /// `$GITHUB_WORKSPACE`, or the current directory outside the runner.
    pub fn workspace(&self) -> PathBuf {
        self.var("GITHUB_WORKSPACE")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// `$GITHUB_EVENT_NAME`, the event that started the workflow (`pull_request`, `schedule`…).
    pub fn event_name(&self) -> Option<String> {
        self.var("GITHUB_EVENT_NAME")
    }

    /// The webhook payload of the triggering event; `None` when `$GITHUB_EVENT_PATH` is unset.
    pub fn event(&self) -> Result<Option<serde_json::Value>, EventError> {
        let Some(path) = self.var("GITHUB_EVENT_PATH").map(PathBuf::from) else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(&path).map_err(|source| EventError::Read {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| EventError::Parse { path, source })
    }

    /// `owner/name` of the repository the workflow runs in.
    pub fn repository(&self) -> Option<String> {
        self.var("GITHUB_REPOSITORY")
    }

    /// REST API base without a trailing `/` (differs from the default on GitHub Enterprise).
    pub fn api_url(&self) -> String {
        base_url(self.var("GITHUB_API_URL"), DEFAULT_API_URL)
    }

    /// Web server base (`GITHUB_SERVER_URL`, default `https://github.com`) without a trailing `/`.
    pub fn server_url(&self) -> String {
        base_url(self.var("GITHUB_SERVER_URL"), DEFAULT_SERVER_URL)
    }

    /// The workflow was re-run with debug logging enabled.
    pub fn is_debug(&self) -> bool {
        self.var("RUNNER_DEBUG").as_deref() == Some("1")
    }

    fn file_var(&self, name: &str, what: &str) -> io::Result<PathBuf> {
        self.var(name).map(PathBuf::from).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("${name} is not set: this runner does not support {what}"),
            )
        })
    }
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

fn base_url(value: Option<String>, default: &str) -> String {
    value
        .unwrap_or_else(|| default.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// One output record. `delimiter` is asked again while its answer occurs in the value, because
/// the runner would end the value at the first line equal to the delimiter.
fn heredoc(
    name: &str,
    value: &str,
    mut delimiter: impl FnMut() -> io::Result<String>,
) -> io::Result<String> {
    if name.is_empty() || name.contains(['\n', '\r', '=']) || name.contains("<<") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid output name {name:?}"),
        ));
    }
    loop {
        let delim = delimiter()?;
        if !delim.is_empty() && !value.contains(&delim) {
            return Ok(format!("{name}<<{delim}\n{value}\n{delim}\n"));
        }
    }
}

/// `text` if it fits in `room` bytes, else its longest prefix ending at a line break that fits
/// together with the truncation note (nothing when not even the note fits).
fn fit_summary(text: &str, room: u64) -> String {
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    if text.len() <= room {
        return text.to_owned();
    }
    let Some(budget) = room.checked_sub(TRUNCATED_NOTE.len()) else {
        return String::new();
    };
    let cut = text[..text.floor_char_boundary(budget)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    format!("{}{TRUNCATED_NOTE}", &text[..cut])
}

fn append(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    /// The runner's reading of `$GITHUB_OUTPUT`: `name=value` lines, or `name<<DELIM` followed by
    /// value lines up to a line equal to DELIM. Written from the runner's documented format, so
    /// that a record this module writes wrongly fails here.
    fn parse_outputs(text: &str) -> Result<HashMap<String, String>, String> {
        let mut out = HashMap::new();
        let mut lines = text.split('\n');
        while let Some(line) = lines.next() {
            if line.is_empty() {
                continue;
            }
            let eq = line.find('=');
            let here = line.find("<<");
            match (eq, here) {
                (Some(e), h) if h.is_none_or(|h| e < h) => {
                    out.insert(line[..e].to_owned(), line[e + 1..].to_owned());
                }
                (_, Some(h)) => {
                    let (name, delim) = (&line[..h], &line[h + 2..]);
                    let mut value: Vec<&str> = Vec::new();
                    loop {
                        match lines.next() {
                            Some(l) if l == delim => break,
                            Some(l) => value.push(l),
                            None => return Err(format!("no closing {delim} for {name}")),
                        }
                    }
                    out.insert(name.to_owned(), value.join("\n"));
                }
                _ => return Err(format!("invalid line {line:?}")),
            }
        }
        Ok(out)
    }

    fn runner_in(dir: &Path) -> Runner {
        Runner::from_vars([
            ("GITHUB_OUTPUT", dir.join("output").display().to_string()),
            (
                "GITHUB_STEP_SUMMARY",
                dir.join("summary").display().to_string(),
            ),
            ("GITHUB_WORKSPACE", "/github/workspace".to_owned()),
            ("GITHUB_EVENT_NAME", "pull_request".to_owned()),
            (
                "GITHUB_EVENT_PATH",
                dir.join("event.json").display().to_string(),
            ),
            ("GITHUB_REPOSITORY", "acme/infra".to_owned()),
            ("GITHUB_API_URL", "http://127.0.0.1:9/api/v3/".to_owned()),
            ("HOME", "/root".to_owned()),
        ])
    }

    #[test]
    fn outputs_round_trip_through_the_runner_format() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_in(dir.path());
        let spec = "{\n  \"Dependencies\": [\"a=b<<c\"]\n}\n";
        let values = [
            ("spec", spec),
            ("empty", ""),
            ("has_updates", "true"),
            ("tricky", "ghadelimiter_\nEOF\n\n=\n<<"),
        ];
        for (name, value) in values {
            runner.set_output(name, value).unwrap();
        }
        let text = std::fs::read_to_string(dir.path().join("output")).unwrap();
        let parsed = parse_outputs(&text).unwrap();
        assert_eq!(parsed.len(), values.len());
        for (name, value) in values {
            assert_eq!(parsed[name], value, "{name}");
        }
    }

    #[test]
    fn delimiters_are_random() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_in(dir.path());
        runner.set_output("a", "1").unwrap();
        runner.set_output("b", "1").unwrap();
        let text = std::fs::read_to_string(dir.path().join("output")).unwrap();
        let delims: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once("<<"))
            .map(|(_, d)| d)
            .collect();
        assert_eq!(delims.len(), 2);
        assert_ne!(delims[0], delims[1]);
        assert!(delims[0].starts_with("ghadelimiter_") && delims[0].len() == 13 + 32);
    }

    #[test]
    fn delimiter_found_in_value_is_replaced() {
        let mut candidates = vec!["", "EOF", "X"].into_iter();
        let record = heredoc("v", "a\nEOF\nb", || {
            Ok(candidates.next().unwrap().to_owned())
        })
        .unwrap();
        assert_eq!(record, "v<<X\na\nEOF\nb\nX\n");
        assert_eq!(parse_outputs(&record).unwrap()["v"], "a\nEOF\nb");
    }

    #[test]
    fn output_names_that_would_corrupt_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_in(dir.path());
        for name in ["", "a\nb", "a=b", "a<<b"] {
            let err = runner.set_output(name, "v").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        }
        assert!(!dir.path().join("output").exists());
    }

    #[test]
    fn missing_file_variables_are_reported() {
        let runner = Runner::from_vars([("GITHUB_OUTPUT", "")]);
        let err = runner.set_output("a", "b").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("$GITHUB_OUTPUT"));
        let err = runner.append_summary("x").unwrap_err();
        assert!(err.to_string().contains("$GITHUB_STEP_SUMMARY"));
    }

    #[test]
    fn summary_appends_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_in(dir.path());
        std::fs::write(dir.path().join("summary"), "# Earlier step\n").unwrap();
        runner.append_summary("## Patcher").unwrap();
        runner.append_summary("| a |\n| --- |\n").unwrap();
        let text = std::fs::read_to_string(dir.path().join("summary")).unwrap();
        assert_eq!(text, "# Earlier step\n## Patcher\n| a |\n| --- |\n");
    }

    #[test]
    fn summary_is_cut_at_a_line_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_in(dir.path());
        let line = "| dependency | é | x |\n";
        let big = line.repeat(SUMMARY_LIMIT as usize / line.len() + 10);
        runner.append_summary("start\n").unwrap();
        runner.append_summary(&big).unwrap();
        let text = std::fs::read_to_string(dir.path().join("summary")).unwrap();
        assert!(text.len() as u64 <= SUMMARY_LIMIT, "{}", text.len());
        assert!(text.ends_with(TRUNCATED_NOTE));
        let body = text
            .strip_prefix("start\n")
            .unwrap()
            .strip_suffix(TRUNCATED_NOTE)
            .unwrap();
        assert!(!body.is_empty() && body.len().is_multiple_of(line.len()));
        runner.append_summary(&big).unwrap();
        let after = std::fs::metadata(dir.path().join("summary")).unwrap().len();
        assert!(after <= SUMMARY_LIMIT, "{after}");
    }

    #[test]
    fn context_variables() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_in(dir.path());
        assert_eq!(runner.workspace(), PathBuf::from("/github/workspace"));
        assert_eq!(runner.event_name().as_deref(), Some("pull_request"));
        assert_eq!(runner.repository().as_deref(), Some("acme/infra"));
        assert_eq!(runner.api_url(), "http://127.0.0.1:9/api/v3");
        assert_eq!(runner.server_url(), DEFAULT_SERVER_URL);
        assert_eq!(runner.var("HOME"), None);
        assert!(!runner.is_debug());
        let bare = Runner::from_vars([("RUNNER_DEBUG", "1")]);
        assert_eq!(bare.api_url(), DEFAULT_API_URL);
        assert!(bare.is_debug());
        assert_eq!(bare.event().unwrap(), None);
    }

    #[test]
    fn event_payload_is_read_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_in(dir.path());
        let path = dir.path().join("event.json");
        assert!(matches!(runner.event(), Err(EventError::Read { .. })));
        std::fs::write(
            &path,
            r#"{"pull_request": {"merged": true, "head": {"ref": "x"}}}"#,
        )
        .unwrap();
        let event = runner.event().unwrap().unwrap();
        assert_eq!(event["pull_request"]["merged"], true);
        std::fs::write(&path, "{\n  \"action\": ").unwrap();
        let err = runner.event().unwrap_err();
        assert!(matches!(err, EventError::Parse { .. }));
        assert!(err.to_string().contains("event.json"), "{err}");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn debug_never_shows_values() {
        let runner = Runner::from_vars([("GITHUB_TOKEN", "ghs_secret")]);
        let shown = format!("{runner:?}");
        assert!(shown.contains("GITHUB_TOKEN") && !shown.contains("ghs_secret"));
    }
}
