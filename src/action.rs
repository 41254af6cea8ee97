//! The GitHub Actions runner contract, and nothing else: how a Docker action receives its inputs
//! (`INPUT_<NAME>` variables), hands back outputs (`$GITHUB_OUTPUT`), writes the job summary
//! (`$GITHUB_STEP_SUMMARY`) and talks to the log through workflow commands on stdout. The
//! report/update/promote logic lives elsewhere and only calls these primitives.

mod commands;
mod inputs;
mod markdown;
mod runner;

pub use commands::{
    add_mask, annotation, debug, endgroup, escape_data, escape_property, group, stop_commands,
    Level, StopCommands,
};
pub use inputs::{input_env_name, InputError, Inputs};
pub use markdown::{escape_cell, markdown_table};
pub use runner::{EventError, Runner, DEFAULT_API_URL, SUMMARY_LIMIT};

/// Lowercase hex of `len` bytes from the kernel's CSPRNG. Delimiters and stop tokens must be
/// unguessable: anyone who can put text into a value (a release note, a file name) could
/// otherwise close the heredoc early and forge outputs or commands.
pub(crate) fn random_hex(len: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = vec![0u8; len];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
