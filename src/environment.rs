//! Which folders of the working dir belong to an environment (dev, stage, prod …).
//!
//! Globs are matched against folder paths relative to the working dir, `/`-separated and with a
//! trailing `/`, so `{*dev*}/**` selects `dev/`, `dev2/`, `gruntwork-dev-account1/` and every
//! folder below them, but not `stage/`. `*` never crosses a `/`.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::PathBuf;

/// A working dir and the globs that pick the environment's folders inside it.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Root of the tree to scan; globs and reported paths are relative to it.
    pub working_dir: PathBuf,
    /// Folders to scan; empty means every folder.
    pub include_dirs: Vec<String>,
    /// Folders to leave out, even when included.
    pub exclude_dirs: Vec<String>,
    /// Registry host of host-less module addresses in `.tf` and `.hcl` files
    /// (`registry.opentofu.org` for OpenTofu users); None: registry.terraform.io. `.tofu`
    /// files always use registry.opentofu.org, as OpenTofu does.
    pub default_registry: Option<String>,
}

/// Why an environment cannot be scanned.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// An include or exclude glob does not compile.
    #[error("invalid folder glob `{glob}`: {message}")]
    InvalidGlob {
        /// The glob as given (trimmed).
        glob: String,
        /// What globset found wrong with it.
        message: String,
    },
    /// The working dir cannot be resolved to a readable folder.
    #[error("working dir {}: {message}", path.display())]
    WorkingDir {
        /// The working dir as given.
        path: PathBuf,
        /// Why it was refused (the I/O error, or that it is not a folder).
        message: String,
    },
}

/// Compiled include/exclude globs of an [`Environment`].
#[derive(Debug, Clone)]
pub struct DirMatcher {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Environment {
    /// Compiles the globs; the error names the first glob that does not compile.
    pub fn matcher(&self) -> Result<DirMatcher, EnvironmentError> {
        Ok(DirMatcher {
            include: compile(&self.include_dirs)?,
            exclude: compile(&self.exclude_dirs)?,
        })
    }
}

impl DirMatcher {
    /// Whether the folder `rel_dir` (relative to the working dir, `/`-separated, `""` for the
    /// working dir itself) is part of the environment.
    pub fn selects(&self, rel_dir: &str) -> bool {
        let candidate = match rel_dir.trim_matches('/') {
            "" => String::new(),
            dir => format!("{dir}/"),
        };
        let included = self
            .include
            .as_ref()
            .is_none_or(|set| set.is_match(&candidate));
        let excluded = self
            .exclude
            .as_ref()
            .is_some_and(|set| set.is_match(&candidate));
        included && !excluded
    }

    /// Whether the file `rel_file` (relative, `/`-separated) lies in a selected folder.
    pub fn selects_file(&self, rel_file: &str) -> bool {
        let dir = rel_file.rsplit_once('/').map_or("", |(dir, _)| dir);
        self.selects(dir)
    }
}

/// `None` when no glob is given, so "no include" can mean "everything".
fn compile(globs: &[String]) -> Result<Option<GlobSet>, EnvironmentError> {
    let globs: Vec<&str> = globs
        .iter()
        .map(|glob| glob.trim())
        .filter(|glob| !glob.is_empty())
        .collect();
    if globs.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        let compiled = GlobBuilder::new(glob.trim_start_matches("./"))
            .literal_separator(true)
            .empty_alternates(true)
            .build()
            .map_err(|err| invalid(glob, &err))?;
        set.add(compiled);
    }
    set.build()
        .map(Some)
        .map_err(|err| EnvironmentError::InvalidGlob {
            glob: err.glob().unwrap_or_default().to_string(),
            message: err.kind().to_string(),
        })
}

fn invalid(glob: &str, err: &globset::Error) -> EnvironmentError {
    EnvironmentError::InvalidGlob {
        glob: glob.to_string(),
        message: err.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(include: &[&str], exclude: &[&str]) -> DirMatcher {
        Environment {
            working_dir: PathBuf::from("."),
            include_dirs: include.iter().map(|s| s.to_string()).collect(),
            exclude_dirs: exclude.iter().map(|s| s.to_string()).collect(),
            default_registry: None,
        }
        .matcher()
        .unwrap()
    }

    #[test]
    fn dev_glob_selects_every_folder_with_dev_in_its_top_name() {
        let m = env(&["{*dev*}/**"], &[]);
        for dir in ["dev", "dev2", "gruntwork-dev-account1", "dev/us-east-1/vpc"] {
            assert!(m.selects(dir), "{dir}");
        }
        for dir in ["", "stage", "prod/dev", "stage/dev-like"] {
            assert!(!m.selects(dir), "{dir}");
        }
    }

    #[test]
    fn no_include_selects_everything_but_the_excluded() {
        let m = env(&[], &["prod/**"]);
        assert!(m.selects(""));
        assert!(m.selects("stage/app"));
        assert!(!m.selects("prod"));
        assert!(!m.selects("prod/app"));
        assert!(m.selects("production"));
    }

    #[test]
    fn star_does_not_cross_folders() {
        let m = env(&["*/"], &[]);
        assert!(m.selects("dev"));
        assert!(!m.selects("dev/app"));
        assert!(!m.selects(""));
    }

    #[test]
    fn file_selection_uses_its_folder() {
        let m = env(&["{*dev*}/**"], &["dev/legacy/**"]);
        assert!(m.selects_file("dev/app/main.tf"));
        assert!(!m.selects_file("main.tf"));
        assert!(!m.selects_file("dev/legacy/main.tf"));
    }

    #[test]
    fn invalid_glob_is_named() {
        let err = Environment {
            include_dirs: vec!["dev/**".into(), "{*dev*/**".into()],
            ..Environment::default()
        }
        .matcher()
        .unwrap_err();
        match err {
            EnvironmentError::InvalidGlob { glob, .. } => assert_eq!(glob, "{*dev*/**"),
            other => panic!("{other:?}"),
        }
    }
}
