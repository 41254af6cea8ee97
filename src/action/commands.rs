//! Workflow commands: lines on stdout that the runner reads as instructions. Each function
//! returns the line (without the final newline) so the caller decides where and when to print.

use std::path::Path;

/// Severity of an annotation, as the runner shows it on the run's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`.
    Error,
    /// `::warning`.
    Warning,
    /// `::notice`.
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// The toolkit's escaping of a command's message: without it a newline in the message would end
/// the command and let the rest of the text be read as a new command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values also escape `:` and `,`, which separate the properties from each other and
/// from the message.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,col=…::message`; properties that are `None` are left out.
pub fn annotation(
    level: Level,
    file: Option<&Path>,
    line: Option<usize>,
    col: Option<usize>,
    message: &str,
) -> String {
    let file = file.map(|f| f.to_string_lossy().into_owned());
    let properties: Vec<String> = [
        ("file", file),
        ("line", line.map(|l| l.to_string())),
        ("col", col.map(|c| c.to_string())),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some(format!("{key}={}", escape_property(&value?))))
    .collect();
    let mut command = format!("::{}", level.command());
    if !properties.is_empty() {
        command.push(' ');
        command.push_str(&properties.join(","));
    }
    format!("{command}::{}", escape_data(message))
}

/// Masks `value` in every later log line. The runner matches masks within single lines, so a
/// multi-line value is also masked line by line. Blank input yields an empty string.
pub fn add_mask(value: &str) -> String {
    let mut parts: Vec<&str> = vec![value];
    if value.contains(['\n', '\r']) {
        parts.extend(value.lines().map(|l| l.trim_end_matches('\r')));
    }
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("::add-mask::{}", escape_data(p)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Shown only when the workflow runs with debug logging (`ACTIONS_STEP_DEBUG`).
pub fn debug(message: &str) -> String {
    format!("::debug::{}", escape_data(message))
}

/// Starts a collapsible group of log lines titled `title`, until [`endgroup`].
pub fn group(title: &str) -> String {
    format!("::group::{}", escape_data(title))
}

/// Ends the group [`group`] started.
pub fn endgroup() -> String {
    "::endgroup::".to_owned()
}

/// The pair of lines that turns command processing off and back on, for printing text we do not
/// control (file contents, release notes) that could otherwise contain `::add-mask::` or
/// `::stop-commands::` lines of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopCommands {
    /// `::stop-commands::<token>`: the runner ignores commands from the next line on.
    pub stop: String,
    /// `::<token>::`: the runner reads commands again.
    pub resume: String,
}

/// A fresh pair with a random 16-byte token; fails only when no randomness can be read.
pub fn stop_commands() -> std::io::Result<StopCommands> {
    let token = super::random_hex(16)?;
    Ok(StopCommands {
        stop: format!("::stop-commands::{token}"),
        resume: format!("::{token}::"),
    })
}

/// Whether the runner could read a line of `text` as a workflow command: a `::command` at the
/// start of a line (after blanks) or an old-style `##[command]` anywhere. The runner splits
/// lines at `\r` too, so looking for the markers anywhere covers every way to start a line.
fn could_be_command(text: &str) -> bool {
    text.contains("::") || text.contains("##[")
}

/// `text` we do not control, made safe to print where the runner reads workflow commands:
/// unchanged when nothing in it could be a command, else between a `::stop-commands::` line
/// with a fresh random token and the line that resumes, the token being absent from the text.
pub fn untrusted(text: &str) -> std::io::Result<String> {
    if !could_be_command(text) {
        return Ok(text.to_owned());
    }
    let guard = loop {
        let guard = stop_commands()?;
        if !text.contains(guard.resume.trim_matches(':')) {
            break guard;
        }
    };
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    Ok(format!("{}\n{text}{newline}{}\n", guard.stop, guard.resume))
}

/// The one writer for everything patcher prints. Guarded (every action step, and the CLI when
/// `GITHUB_ACTIONS` is set), text goes through [`untrusted`] and only commands this module
/// built are printed as they are; unguarded (a terminal), text is printed as it is.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    guarded: bool,
}

impl Printer {
    /// The printer of an action step: always guarded.
    pub fn action() -> Printer {
        Printer { guarded: true }
    }

    /// The printer of the CLI: guarded when `GITHUB_ACTIONS` is set (a CLI run inside a
    /// workflow), else plain.
    pub fn cli() -> Printer {
        Printer {
            guarded: std::env::var_os("GITHUB_ACTIONS").is_some(),
        }
    }

    /// Whether untrusted text is fenced off from the runner's command processing.
    pub fn is_guarded(&self) -> bool {
        self.guarded
    }

    /// A workflow command built by this module (its data already escaped).
    pub fn command(&self, line: &str) {
        println!("{line}");
    }

    /// Text on stdout, as `print!` would (no newline added).
    pub fn text(&self, text: &str) {
        print!("{}", self.safe(text));
    }

    /// A line on stdout.
    pub fn line(&self, text: &str) {
        self.text(&format!("{text}\n"));
    }

    /// A line on stderr, which the runner reads for commands too.
    pub fn error_line(&self, text: &str) {
        eprint!("{}", self.safe(&format!("{text}\n")));
    }

    fn safe(&self, text: &str) -> String {
        if !self.guarded {
            return text.to_owned();
        }
        // Ending every print at a line end makes sure a `::stop-commands::` line printed next
        // starts its line, which the runner needs to see it.
        let text = match text.ends_with('\n') || text.is_empty() {
            true => text.to_owned(),
            false => format!("{text}\n"),
        };
        // Without randomness no token is safe: then no marker survives instead.
        untrusted(&text).unwrap_or_else(|_| text.replace(':', "%3A").replace('#', "%23"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_with_all_properties() {
        let line = annotation(
            Level::Error,
            Some(Path::new("dev/main.tf")),
            Some(12),
            Some(5),
            "bad ref",
        );
        assert_eq!(line, "::error file=dev/main.tf,line=12,col=5::bad ref");
    }

    #[test]
    fn annotation_without_properties() {
        assert_eq!(
            annotation(Level::Warning, None, None, None, "careful"),
            "::warning::careful"
        );
        assert_eq!(
            annotation(Level::Notice, None, Some(3), None, "n"),
            "::notice line=3::n"
        );
    }

    #[test]
    fn annotation_escapes_message_and_properties() {
        let line = annotation(
            Level::Error,
            Some(Path::new("a,b:c%\n.tf")),
            Some(1),
            None,
            "50% done\r\nnext: x, y",
        );
        assert_eq!(
            line,
            "::error file=a%2Cb%3Ac%25%0A.tf,line=1::50%25 done%0D%0Anext: x, y"
        );
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn escaping_is_reversible_in_the_runner_order() {
        let text = "%0A stays literal %, then\r\na newline";
        let back = escape_data(text)
            .replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%25", "%");
        assert_eq!(back, text);
    }

    #[test]
    fn masks_whole_value_and_each_line() {
        assert_eq!(add_mask("s3cr%t"), "::add-mask::s3cr%25t");
        assert_eq!(
            add_mask("line one\r\nline two\n"),
            "::add-mask::line one%0D%0Aline two%0A\n::add-mask::line one\n::add-mask::line two"
        );
        assert_eq!(add_mask("  "), "");
    }

    #[test]
    fn groups_and_debug() {
        assert_eq!(group("Scan dev\nnow"), "::group::Scan dev%0Anow");
        assert_eq!(endgroup(), "::endgroup::");
        assert_eq!(debug("a\nb"), "::debug::a%0Ab");
    }

    use proptest::prelude::*;
    use testkit::runner::workflow_commands;

    /// Every way text can hand the runner a command, per its parsing rules.
    const VERBS: [&str; 13] = [
        "::set-output name=x::",
        "::add-mask::",
        "::stop-commands::",
        "::warning::",
        "::error file=a,line=1::",
        "::group::",
        "::endgroup::",
        "::notice::",
        "::debug::",
        "::save-state name=x::",
        "::set-env name=x::",
        "::add-path::",
        "##[set-output name=x;]",
    ];
    const LINE_STARTS: [&str; 6] = ["", "\n", "\r", "\r\n", "\n \t ", "x "];

    /// `printed` holds no command but the stop-commands pair around the text, with a token of
    /// 32 random hex digits that the text does not contain; or no command at all.
    fn assert_inert(text: &str, printed: &str) {
        let commands = workflow_commands(printed);
        if commands.is_empty() {
            return;
        }
        let [stop, resume] = commands.as_slice() else {
            panic!("{text:?} printed as commands: {commands:?}");
        };
        let token = stop.strip_prefix("::stop-commands::").expect("stop first");
        assert_eq!(token.len(), 32, "{stop}");
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{stop}");
        assert_eq!(resume, &format!("::{token}::"));
        assert!(!text.contains(token), "{text:?} holds the token");
        assert!(printed.contains(text.trim_end_matches('\n')), "text kept");
    }

    #[test]
    fn every_verb_at_every_line_start_is_inert() {
        let printer = Printer::action();
        for verb in VERBS {
            for start in LINE_STARTS {
                let text = format!("patcher{start}{verb}PWNED");
                let printed = printer.safe(&text);
                assert_eq!(workflow_commands(&printed).len(), 2, "{printed:?}");
                assert_inert(&text, &printed);
            }
        }
    }

    #[test]
    fn percent_encodings_stay_literal_in_annotations() {
        let message = "x%0A::error::y%0D%25";
        let line = annotation(
            Level::Warning,
            Some(Path::new("a%0A.tf")),
            None,
            None,
            message,
        );
        assert_eq!(workflow_commands(&line), vec![line.clone()]);
        assert_eq!(line, "::warning file=a%250A.tf::x%250A::error::y%250D%2525");
        assert_inert(message, &Printer::action().safe(message));
    }

    #[test]
    fn invalid_utf8_cannot_hide_a_line_start() {
        let bytes = b"\xff\xfe\n::warning::PWNED\r\xc3::add-mask::x\xe2\x80";
        let text = String::from_utf8_lossy(bytes);
        assert_inert(&text, &Printer::action().safe(&text));
        assert_eq!(workflow_commands(&Printer::action().safe(&text)).len(), 2);
    }

    #[test]
    fn a_text_that_does_not_end_its_line_cannot_swallow_the_next_stop_line() {
        let printer = Printer::action();
        let first = printer.safe("no newline");
        let second = printer.safe("::warning::PWNED");
        let both = format!("{first}{second}");
        assert_inert("::warning::PWNED", &both);
        assert_eq!(workflow_commands(&both).len(), 2);
    }

    #[test]
    fn the_terminal_gets_text_as_it_is() {
        let printer = Printer { guarded: false };
        assert_eq!(printer.safe("::warning::x\n"), "::warning::x\n");
    }

    #[test]
    fn stop_tokens_are_not_repeated() {
        let tokens: std::collections::BTreeSet<String> =
            (0..200).map(|_| stop_commands().unwrap().stop).collect();
        assert_eq!(tokens.len(), 200);
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(VERBS.to_vec()).prop_map(str::to_string),
            proptest::sample::select(LINE_STARTS.to_vec()).prop_map(str::to_string),
            proptest::sample::select(vec![
                ":", "#", "[", "%0A", "%0D", "%25", "\u{fffd}", "\u{85}"
            ])
            .prop_map(str::to_string),
            "[ -~]{0,12}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn no_printed_line_is_a_command_patcher_did_not_make(
            parts in proptest::collection::vec(fragment(), 0..12)
        ) {
            let text = parts.concat();
            assert_inert(&text, &Printer::action().safe(&text));
        }

        #[test]
        fn annotations_are_one_command_whatever_they_carry(
            file in proptest::collection::vec(fragment(), 0..4),
            message in proptest::collection::vec(fragment(), 0..8),
        ) {
            let (file, message) = (file.concat(), message.concat());
            let line = annotation(Level::Error, Some(Path::new(&file)), Some(3), None, &message);
            prop_assert_eq!(workflow_commands(&line), vec![line.trim().to_string()]);
        }
    }

    #[test]
    fn stop_commands_use_a_fresh_token() {
        let a = stop_commands().unwrap();
        let b = stop_commands().unwrap();
        let token = a.stop.strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.resume, format!("::{token}::"));
        assert_ne!(a.stop, b.stop);
    }
}
