//! What the test modules share.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Root of the fake github.com that git run inside this process reaches.
///
/// Tests that call the library (not the binary) run git as children of this process, so the
/// process environment is their only git configuration. Every module of the binary shares it,
/// hence one file set once: `insteadOf` rules to this root and nothing else. No identity and no
/// system file, so a commit falls back to patcher's own identity as on a bare runner, and the
/// machine running the tests changes nothing.
pub fn process_git() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir")
            .keep();
        let root = dir.join("github");
        std::fs::create_dir_all(&root).expect("mirror root");
        let base = format!("{}/", testkit::git::file_url(&root).trim_end_matches('/'));
        let config = dir.join("gitconfig");
        std::fs::write(
            &config,
            format!(
                "[url \"{base}\"]\n\
                 \tinsteadOf = https://github.com/\n\
                 \tinsteadOf = git@github.com:\n\
                 \tinsteadOf = ssh://git@github.com/\n"
            ),
        )
        .expect("process gitconfig");
        std::env::set_var("GIT_CONFIG_GLOBAL", &config);
        std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        root
    })
}
