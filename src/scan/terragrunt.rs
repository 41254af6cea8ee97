//! Terragrunt's ways of reaching other files and folders: `include` blocks,
//! `read_terragrunt_config(…)`, the path functions and `try(…)`.

use super::hcl::FileScan;
use super::template::Composed;
use hcl_edit::expr::FuncCall;
use std::path::Path;

/// How many files may be followed from the scanned one (an include that reads a file …).
const MAX_FILE_HOPS: usize = 3;

/// Where the path functions of a file that is followed resolve from, as Terragrunt does it.
enum Functions {
    /// An included file: from the including configuration's folder.
    FromThisFolder,
    /// A file read with `read_terragrunt_config`: from its own folder.
    FromItsOwnFolder,
}

impl FileScan<'_> {
    /// `include.<label>.locals.x…` / `include.<label>.inputs…`: read from the included file,
    /// whose path functions still resolve from this file's folder (as Terragrunt does).
    pub(super) fn included(
        &self,
        label: &str,
        path: &[&str],
        depth: usize,
    ) -> Result<Composed, Option<String>> {
        let include = self.includes.get(label).ok_or(None)?;
        // An include that cannot be located is reported as the reference that needs it.
        let target = self.compose(include, depth + 1).map_err(|_| None)?;
        self.with_file(&target.text, Functions::FromThisFolder, |file| {
            file.config_value(path, depth + 1)
        })
    }

    /// A function whose value is a string: `try(…)` and the path functions.
    pub(super) fn call(&self, call: &FuncCall, depth: usize) -> Option<Result<Composed, String>> {
        if !call.name.namespace.is_empty() {
            return None;
        }
        if call.name.name.as_str() == "try" {
            return call
                .args
                .iter()
                .map(|arg| self.compose(arg, depth))
                .find(Result::is_ok);
        }
        let dir = self.dir.as_deref()?;
        let arg = |i: usize| {
            let expr = call.args.get(i)?;
            self.compose(expr, depth).ok().map(|c| c.text)
        };
        let found = match call.name.name.as_str() {
            "find_in_parent_folders" => {
                let name = arg(0).unwrap_or_else(|| "terragrunt.hcl".to_string());
                dir.ancestors()
                    .skip(1)
                    .map(|folder| folder.join(&name))
                    .find(|candidate| self.files.tree.is_file(candidate))
            }
            "dirname" => Path::new(&arg(0)?).parent().map(Path::to_path_buf),
            "get_terragrunt_dir" => Some(dir.to_path_buf()),
            "get_repo_root" => dir
                .ancestors()
                .find(|folder| self.files.tree.exists(&folder.join(".git")))
                .map(Path::to_path_buf),
            _ => None,
        };
        found.map(|path| Ok(Composed::unmapped(&path.to_string_lossy())))
    }

    /// `path` inside the value of a function: `read_terragrunt_config(…).locals.x…`, or the
    /// first argument of `try(…)` that has it.
    pub(super) fn call_value(
        &self,
        call: &FuncCall,
        path: &[&str],
        depth: usize,
    ) -> Option<Result<Composed, String>> {
        if !call.name.namespace.is_empty() {
            return None;
        }
        match call.name.name.as_str() {
            "read_terragrunt_config" => {
                let target = self.compose(call.args.get(0)?, depth).ok()?;
                let value = self.with_file(&target.text, Functions::FromItsOwnFolder, |file| {
                    file.config_value(path, depth)
                });
                Some(value.map_err(|reason| {
                    reason.unwrap_or_else(|| {
                        format!("`{}` is not set in {}", path.join("."), target.text)
                    })
                }))
            }
            "try" => {
                let mut values = call.args.iter().map(|arg| self.value(arg, path, depth));
                values.find(Result::is_ok)
            }
            _ => None,
        }
    }

    /// Runs `read` on the file at `target` (relative to this file's folder, or absolute).
    fn with_file(
        &self,
        target: &str,
        functions: Functions,
        read: impl FnOnce(&FileScan) -> Result<Composed, Option<String>>,
    ) -> Result<Composed, Option<String>> {
        let base = self.dir.as_deref().ok_or(None)?;
        if self.hops >= MAX_FILE_HOPS {
            return Err(Some("files include or read each other too deeply".into()));
        }
        let (id, loaded) = self.files.load(&base.join(target)).map_err(Some)?;
        let dir = match functions {
            Functions::FromThisFolder => self.dir.clone(),
            Functions::FromItsOwnFolder => loaded.dir(),
        };
        let file = FileScan::new(self.files, id, &loaded, dir, self.hops + 1).ok_or(None)?;
        read(&file)
    }
}
