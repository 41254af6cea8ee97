//! GitHub's limits on step outputs, checked before anything is written: an output the runner
//! would drop, or a later step could not receive, is a clear error, never a cut value.

use super::Runner;

/// GitHub keeps at most 1 MB of outputs per job, sized as UTF-16. One step of patcher stays
/// under half of it, so the runner's own outputs and those of other steps still fit.
pub const STEP_OUTPUTS_LIMIT: usize = 512 * 1024;

/// An output that a later step takes as an input (the `spec` output) reaches that Docker step
/// as one environment variable, `INPUT_<NAME>=value`, which Linux caps at 128 KiB
/// (`MAX_ARG_STRLEN`, counted in bytes); patcher keeps 8 KiB of it as margin.
pub const INPUT_VALUE_LIMIT: usize = 120 * 1024;

/// Bytes of `text` encoded as UTF-16, as GitHub sizes outputs.
pub fn utf16_size(text: &str) -> usize {
    text.encode_utf16().count() * 2
}

/// An output (or all of them together) that would break one of GitHub's limits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OutputTooLarge {
    /// An output passed on as an input would not fit in one environment variable.
    #[error(
        "output `{name}` would be {size} bytes, over the {limit} bytes one action input can \
         carry (Linux limits an environment variable to 128 KiB): {fix}"
    )]
    Input {
        /// The output's name.
        name: String,
        /// Bytes of the `INPUT_<NAME>=value` variable it would become.
        size: usize,
        /// [`INPUT_VALUE_LIMIT`].
        limit: usize,
        /// What the user can change to make it fit.
        fix: String,
    },
    /// The outputs of the step together exceed [`STEP_OUTPUTS_LIMIT`].
    #[error(
        "the outputs of this step would be {size} bytes as UTF-16, over the {limit} bytes patcher \
         allows itself (GitHub keeps at most 1 MB of outputs per job): {fix}"
    )]
    Total {
        /// Size of every name and value, in bytes of UTF-16.
        size: usize,
        /// [`STEP_OUTPUTS_LIMIT`].
        limit: usize,
        /// What the user can change to make them fit.
        fix: String,
    },
}

/// The outputs of one step, written only once all of them are known to fit.
#[derive(Debug, Default)]
pub struct Outputs {
    values: Vec<(String, String)>,
    /// Outputs meant to be passed on as inputs.
    inputs: Vec<String>,
}

impl Outputs {
    /// No outputs yet.
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Adds output `name`; nothing is written before [`Outputs::write`].
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Outputs {
        self.values.push((name.to_owned(), value.into()));
        self
    }

    /// An output a workflow passes to another step's input, e.g. `spec`.
    pub fn set_input_value(&mut self, name: &str, value: impl Into<String>) -> &mut Outputs {
        self.inputs.push(name.to_owned());
        self.set(name, value)
    }

    /// Total size as GitHub counts it (names and values, UTF-16).
    pub fn size(&self) -> usize {
        self.values
            .iter()
            .map(|(name, value)| utf16_size(name) + utf16_size(value))
            .sum()
    }

    /// Every limit, with `fix` (what the user can change) in the error.
    pub fn check(&self, fix: &str) -> Result<(), OutputTooLarge> {
        for (name, value) in &self.values {
            let passed_on = self.inputs.contains(name);
            let size = name.len() + "INPUT_=".len() + value.len();
            if passed_on && size > INPUT_VALUE_LIMIT {
                return Err(OutputTooLarge::Input {
                    name: name.clone(),
                    size,
                    limit: INPUT_VALUE_LIMIT,
                    fix: fix.to_owned(),
                });
            }
        }
        let size = self.size();
        if size > STEP_OUTPUTS_LIMIT {
            return Err(OutputTooLarge::Total {
                size,
                limit: STEP_OUTPUTS_LIMIT,
                fix: fix.to_owned(),
            });
        }
        Ok(())
    }

    /// Checks, then writes every output; nothing is written when one does not fit.
    pub fn write(&self, runner: &Runner, fix: &str) -> anyhow::Result<()> {
        self.check(fix)?;
        for (name, value) in &self.values {
            runner.set_output(name, value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_counts_code_units_twice() {
        assert_eq!(utf16_size("ab"), 4);
        assert_eq!(utf16_size("é"), 2);
        assert_eq!(utf16_size("😀"), 4);
    }

    #[test]
    fn an_output_passed_on_as_an_input_stays_under_the_variable_limit() {
        let mut outputs = Outputs::new();
        outputs.set_input_value("spec", "x".repeat(INPUT_VALUE_LIMIT));
        let err = outputs.check("lower max_pull_requests").unwrap_err();
        assert!(matches!(err, OutputTooLarge::Input { ref name, .. } if name == "spec"));
        let text = err.to_string();
        assert!(
            text.contains("128 KiB") && text.contains("lower max_pull_requests"),
            "{text}"
        );
        let mut fits = Outputs::new();
        fits.set_input_value("spec", "x".repeat(INPUT_VALUE_LIMIT - 20));
        fits.check("").unwrap();
    }

    #[test]
    fn the_total_is_sized_as_utf16() {
        let mut outputs = Outputs::new();
        // 200,000 characters are 200 KB in UTF-8 but 400 KB as UTF-16: two of them do not fit.
        outputs
            .set("a", "é".repeat(100_000))
            .set("b", "x".repeat(200_000));
        assert_eq!(outputs.size(), 2 + 200_000 + 2 + 400_000);
        let err = outputs.check("use spec_file").unwrap_err();
        assert!(err.to_string().contains("UTF-16"), "{err}");
        assert!(err.to_string().contains("use spec_file"), "{err}");
    }

    #[test]
    fn nothing_is_written_when_an_output_does_not_fit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("output");
        let runner = Runner::from_vars([("GITHUB_OUTPUT", file.display().to_string())]);
        let mut outputs = Outputs::new();
        outputs
            .set("small", "1")
            .set("big", "x".repeat(STEP_OUTPUTS_LIMIT));
        assert!(outputs.write(&runner, "fix").is_err());
        assert!(!file.exists());
        let mut fits = Outputs::new();
        fits.set("small", "1");
        fits.write(&runner, "fix").unwrap();
        assert!(std::fs::read_to_string(&file).unwrap().contains("small<<"));
    }
}
