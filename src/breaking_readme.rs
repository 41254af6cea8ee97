//! `README-TO-COMPLETE-UPDATE.md`: what a breaking update leaves in each folder it touched,
//! one section per breaking dependency, so the reviewer knows what to do by hand.

use crate::plan::DependencyPlan;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// File name of the README, written next to the files whose usages cross a breaking change.
pub const README: &str = "README-TO-COMPLETE-UPDATE.md";

/// Release notes of a tag of a GitHub repository (`owner/name`), when they can be had.
pub trait ReleaseNotes {
    /// The notes' body for `tag` of `github_repo`; None when there are none or they cannot be
    /// fetched, and the section then falls back to the release notes URL.
    fn notes(&self, github_repo: &str, tag: &str) -> Option<String>;
}

/// For runs without GitHub access: the section links to the release instead.
pub struct NoReleaseNotes;

impl ReleaseNotes for NoReleaseNotes {
    fn notes(&self, _: &str, _: &str) -> Option<String> {
        None
    }
}

/// The READMEs written, relative to the working dir, and a warning per README left alone.
#[derive(Debug, Default)]
pub struct Readmes {
    /// READMEs written or refreshed, relative to the working dir.
    pub written: Vec<PathBuf>,
    /// One warning per README not written (a symbolic link on its path), naming the file.
    pub skipped: Vec<String>,
}

/// Writes or refreshes the README of every folder with a breaking usage. A README (or a folder
/// on its way) that is a symbolic link is neither read nor written: a link to
/// `/proc/self/environ` would otherwise put the token into the commit.
pub fn write_readmes(
    working_dir: &Path,
    deps: &[DependencyPlan],
    notes: &dyn ReleaseNotes,
) -> Result<Readmes, (PathBuf, String)> {
    let mut by_folder: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for dep in deps {
        for (folder, usages) in breaking_folders(dep) {
            by_folder
                .entry(folder)
                .or_default()
                .push(section(dep, &usages, notes));
        }
    }
    let mut readmes = Readmes::default();
    for (folder, sections) in by_folder {
        let rel = folder.join(README);
        let path = match crate::edit::regular_path(working_dir, &rel) {
            Ok(path) => path,
            Err(reason) => {
                readmes.skipped.push(format!(
                    "{}: {reason}; write its manual steps by hand",
                    rel.display()
                ));
                continue;
            }
        };
        let existing = match path.exists() {
            true => crate::edit::read_regular(&path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| (rel.clone(), e.to_string()))?,
            false => String::new(),
        };
        let text = sections
            .iter()
            .fold(existing, |text, s| merge_section(&text, s));
        crate::edit::write_atomic(&path, text.as_bytes())
            .map_err(|e| (rel.clone(), e.to_string()))?;
        readmes.written.push(rel);
    }
    Ok(readmes)
}

/// The READMEs [`write_readmes`] would write, relative to the working dir, without writing.
pub fn readme_paths(deps: &[DependencyPlan]) -> Vec<PathBuf> {
    let folders: std::collections::BTreeSet<PathBuf> = deps
        .iter()
        .flat_map(|dep| breaking_folders(dep).into_keys())
        .collect();
    folders.into_iter().map(|f| f.join(README)).collect()
}

/// The breaking usages of a dependency by folder.
fn breaking_folders(dep: &DependencyPlan) -> BTreeMap<PathBuf, Vec<&crate::plan::UsagePlan>> {
    let mut folders: BTreeMap<PathBuf, Vec<&crate::plan::UsagePlan>> = BTreeMap::new();
    for u in dep
        .usages
        .iter()
        .filter(|u| u.breaking && u.new_text.is_some())
    {
        let folder = u.usage.file.parent().unwrap_or(Path::new("")).to_path_buf();
        folders.entry(folder).or_default().push(u);
    }
    folders
}

fn section(
    dep: &DependencyPlan,
    usages: &[&crate::plan::UsagePlan],
    notes: &dyn ReleaseNotes,
) -> String {
    let id = &dep.source.id;
    let from = usages[0].usage.current.as_str();
    let to = usages[0].target.as_deref().unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(s, "<!-- patcher:begin {id} -->");
    let _ = writeln!(s, "## `{id}`: {from} → {to}\n");
    let _ = writeln!(
        s,
        "This update crosses a breaking change of `{id}`. **Manual steps are required**: \
         read the release notes below, make the changes they ask for in this folder, run a \
         plan, then delete this section (and the file once it is empty of sections).\n"
    );
    for u in usages {
        let _ = writeln!(s, "- `{}` line {}", u.usage.file.display(), u.usage.line);
    }
    let _ = writeln!(s, "\n### Release notes of {to}\n");
    let body = dep.source.github_repo.as_deref().and_then(|repo| {
        notes.notes(repo, to).map(|n| {
            format!(
                "{}\n\nhttps://github.com/{repo}/releases/tag/{to}",
                n.trim()
            )
        })
    });
    let body = body
        .or_else(|| dep.release_notes_url.clone())
        .unwrap_or_else(|| {
            format!("No release notes were found for {to}; check the module's changelog.")
        });
    let _ = writeln!(s, "{body}");
    let _ = writeln!(s, "<!-- patcher:end {id} -->");
    s
}

/// Replaces the dependency's section if the file has one, else appends it.
fn merge_section(text: &str, section: &str) -> String {
    let begin = section.lines().next().unwrap_or_default();
    let end = begin.replace("patcher:begin", "patcher:end");
    if let (Some(b), Some(e)) = (text.find(begin), text.find(&end)) {
        if b < e {
            let after = e + end.len();
            let after = after + usize::from(text[after..].starts_with('\n'));
            return format!("{}{}{}", &text[..b], section, &text[after..]);
        }
    }
    if text.is_empty() {
        return format!("# Complete these updates\n\n{section}");
    }
    format!("{}\n{section}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_not_repeated() {
        let a1 = "<!-- patcher:begin a/b -->\none\n<!-- patcher:end a/b -->\n";
        let a2 = "<!-- patcher:begin a/b -->\ntwo\n<!-- patcher:end a/b -->\n";
        let c = "<!-- patcher:begin c/d -->\nthree\n<!-- patcher:end c/d -->\n";
        let text = merge_section(&merge_section(&merge_section("", a1), c), a2);
        assert!(text.starts_with("# Complete these updates"));
        assert_eq!(text.matches("patcher:begin a/b").count(), 1);
        assert!(text.contains("two") && !text.contains("one") && text.contains("three"));
    }
}
