//! Inputs as the runner passes them to a Docker action: one `INPUT_<NAME>` variable each.

use std::collections::BTreeMap;
use std::fmt;

/// The variable the runner sets for input `name`: spaces become `_`, the rest is uppercased,
/// hyphens stay (`pull-request-title` -> `INPUT_PULL-REQUEST-TITLE`).
pub fn input_env_name(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// An input that is missing or has a value the action cannot take.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    /// A required input is unset or blank.
    #[error("input `{name}` is required but was not given")]
    Missing {
        /// The input's name as in action.yml.
        name: String,
    },
    /// A flag input holds something other than a YAML 1.2 core schema boolean.
    #[error(
        "input `{name}` is `{value}`, which is not a YAML 1.2 core schema boolean: \
         use true, True, TRUE, false, False or FALSE"
    )]
    NotBoolean {
        /// The input's name as in action.yml.
        name: String,
        /// The value given, trimmed.
        value: String,
    },
}

/// The `INPUT_*` variables of one step. Values may hold secrets (`github_token`), so `Debug`
/// lists names only.
#[derive(Clone, Default)]
pub struct Inputs {
    vars: BTreeMap<String, String>,
}

impl Inputs {
    /// The `INPUT_*` variables of this process.
    pub fn from_env() -> Inputs {
        Inputs::from_vars(super::process_env())
    }

    /// Keeps only `INPUT_*` variables, so the process environment can be passed whole.
    pub fn from_vars<I, K, V>(vars: I) -> Inputs
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Inputs {
            vars: super::with_prefix(vars, &["INPUT_"]),
        }
    }

    /// The trimmed value; `None` when unset or blank, as the toolkit's `getInput` treats `''`.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = self.vars.get(&input_env_name(name))?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// [`Inputs::get`], with unset or blank an error.
    pub fn required(&self, name: &str) -> Result<String, InputError> {
        self.get(name).ok_or_else(|| InputError::Missing {
            name: name.to_owned(),
        })
    }

    /// Items separated by newlines or commas, trimmed, blanks dropped. Commas inside `{…}` or
    /// `[…]` do not separate, so a glob such as `{dev,stage}/**` stays one item.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(|v| split_list(&v)).unwrap_or_default()
    }

    /// `true`/`false` as the toolkit's `getBooleanInput` accepts them; unset or blank is `false`
    /// because every flag of this action is off by default.
    pub fn flag(&self, name: &str) -> Result<bool, InputError> {
        match self.get(name).as_deref() {
            None | Some("false" | "False" | "FALSE") => Ok(false),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some(other) => Err(InputError::NotBoolean {
                name: name.to_owned(),
                value: other.to_owned(),
            }),
        }
    }
}

impl fmt::Debug for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

fn split_list(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c == '\n' || (c == ',' && depth == 0) {
            // An unclosed brace must not swallow the separators of the following lines.
            depth = 0;
            items.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    items.push(current);
    items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, &str)]) -> Inputs {
        Inputs::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn env_name_follows_the_runner() {
        assert_eq!(input_env_name("working_dir"), "INPUT_WORKING_DIR");
        assert_eq!(
            input_env_name("pull-request title"),
            "INPUT_PULL-REQUEST_TITLE"
        );
        assert_eq!(input_env_name("Spec File"), "INPUT_SPEC_FILE");
    }

    #[test]
    fn get_trims_and_treats_blank_as_absent() {
        let i = inputs(&[
            ("INPUT_WORKING_DIR", "  ./infra \n"),
            ("INPUT_DEPENDENCY", "   "),
            ("INPUT_PULL-REQUEST-TITLE", "t"),
            ("WORKING_DIR", "not an input"),
        ]);
        assert_eq!(i.get("working_dir").as_deref(), Some("./infra"));
        assert_eq!(i.get("WORKING_DIR").as_deref(), Some("./infra"));
        assert_eq!(i.get("dependency"), None);
        assert_eq!(i.get("spec"), None);
        assert_eq!(i.get("pull-request-title").as_deref(), Some("t"));
        assert_eq!(i.get("pull_request_title"), None);
        assert_eq!(
            i.required("dependency"),
            Err(InputError::Missing {
                name: "dependency".into()
            })
        );
    }

    #[test]
    fn list_splits_on_newlines_and_top_level_commas() {
        let i = inputs(&[
            (
                "INPUT_INCLUDE_DIRS",
                "{*dev*}/**, {a,b}/**\n\n  [ab,c]x/** ,,",
            ),
            ("INPUT_EXCLUDE_DIRS", ""),
        ]);
        assert_eq!(
            i.list("include_dirs"),
            vec!["{*dev*}/**", "{a,b}/**", "[ab,c]x/**"]
        );
        assert!(i.list("exclude_dirs").is_empty());
        let unclosed = inputs(&[("INPUT_INCLUDE_DIRS", "{dev/**\na,b")]);
        assert_eq!(unclosed.list("include_dirs"), vec!["{dev/**", "a", "b"]);
        assert!(i.list("labels").is_empty());
    }

    #[test]
    fn flag_accepts_yaml_core_booleans_only() {
        let i = inputs(&[
            ("INPUT_A", "true"),
            ("INPUT_B", " TRUE "),
            ("INPUT_C", "False"),
            ("INPUT_D", "yes"),
            ("INPUT_E", ""),
        ]);
        assert_eq!(i.flag("a"), Ok(true));
        assert_eq!(i.flag("b"), Ok(true));
        assert_eq!(i.flag("c"), Ok(false));
        assert_eq!(i.flag("e"), Ok(false));
        assert_eq!(i.flag("missing"), Ok(false));
        let err = i.flag("d").unwrap_err();
        assert!(err.to_string().contains("`d` is `yes`"), "{err}");
    }

    #[test]
    fn debug_never_shows_values() {
        let i = inputs(&[("INPUT_GITHUB_TOKEN", "ghs_secret")]);
        let shown = format!("{i:?}");
        assert!(shown.contains("INPUT_GITHUB_TOKEN"));
        assert!(!shown.contains("ghs_secret"));
    }
}
