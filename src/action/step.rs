//! The action door, `patcher action`: one workflow step. Reads the step's inputs and event the
//! way the runner hands them over, fills the same request the CLI fills (`invocation`), runs
//! `report`, `update`, `promote` or `status`, and answers with outputs, a job summary
//! (`summary`) and annotations.

use crate::action::{self, summary, Inputs, Level, Outputs, Printer, Runner};
use crate::environments_file::EnvironmentsFile;
use crate::invocation::{Command, Door, Given, Request};
use crate::plan::Strategy;
use crate::promote;
use crate::publish::git::Repo;
use crate::publish::github::{Forge, GitHubClient, IssueTracker};
use crate::pull_limit::{self, Selection};
use crate::report;
use crate::resolve::{ResolveSettings, Resolver, VersionLister};
use crate::spec::{self, Spec};
use crate::status::{self, StatusOptions};
use crate::update::{self, Outcome};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Runs the step: inputs and event become one request, whose command runs and answers with
/// outputs, a job summary and annotations.
pub fn run() -> Result<()> {
    let inputs = Inputs::from_env();
    let runner = Runner::from_env();
    let out = Printer::action();
    if let Some(token) = inputs.get("github_token") {
        out.command(&action::add_mask(&token));
    }
    let step = Step::new(inputs, runner)?;
    if step.inputs.flag("debug")? || step.runner.is_debug() {
        step.log_debug();
    }
    match step.command.as_str() {
        "report" | "update" if step.request.finished.is_some() => {
            let reason = step.request.finished.as_deref().unwrap_or_default();
            step.out.line(reason);
            step.runner.set_output("has_updates", "false")?;
            step.runner.set_output("dependencies", "[]")?;
            Ok(())
        }
        "report" => step.report(),
        "update" => step.update(),
        "promote" => step.promote(),
        "status" => step.status(),
        other => bail!("patcher_command `{other}` is not one of report, update, promote, status"),
    }
}

struct Step {
    out: Printer,
    inputs: Inputs,
    runner: Runner,
    command: String,
    workspace: PathBuf,
    token: Option<String>,
    config: Option<EnvironmentsFile>,
    /// The `pull_request` event of a promotion, or the dispatch.
    event: Option<serde_json::Value>,
    request: Request,
}

impl Step {
    fn new(inputs: Inputs, runner: Runner) -> Result<Step> {
        let workspace = runner.workspace();
        let command = inputs
            .get("patcher_command")
            .unwrap_or_else(|| "report".into());
        let working_dir = in_workspace(
            &workspace,
            "working_dir",
            &inputs.get("working_dir").unwrap_or_else(|| ".".into()),
        )?;
        let config = load_config(&workspace, &working_dir, &inputs)?;
        let event = runner.event()?;
        let given = given(&inputs, &runner, &command, working_dir, event.as_ref())?;
        let request = Request::resolve(given, config.as_ref())?;
        Ok(Step {
            out: Printer::action(),
            token: inputs.get("github_token"),
            inputs,
            runner,
            command,
            workspace,
            config,
            event,
            request,
        })
    }

    fn log_debug(&self) {
        let (env, target) = (&self.request.env, &self.request.target);
        let facts = [
            format!("command: {}", self.command),
            format!("environment: {:?}", self.request.environment),
            format!("working_dir: {}", env.working_dir.display()),
            format!("include_dirs: {:?}", env.include_dirs),
            format!("exclude_dirs: {:?}", env.exclude_dirs),
            format!(
                "dependency: {:?}, version: {:?}",
                target.dependency, target.version
            ),
            format!("environments file: {}", self.config.is_some()),
        ];
        for fact in facts {
            self.out.command(&action::debug(&fact));
        }
    }

    /// Listings with the token; tag dates from the GraphQL API next to `github_api_url`.
    fn resolver(&self) -> Result<Resolver> {
        let mut config = ResolveSettings::from_env(self.token.clone())?;
        config.github_api_url = self.api_url();
        Ok(Resolver::new(config))
    }

    fn api_url(&self) -> String {
        self.inputs
            .get("github_api_url")
            .unwrap_or_else(|| self.runner.api_url())
    }

    fn report(&self) -> Result<()> {
        let resolver = self.resolver()?;
        let concurrency = resolver.config().concurrency;
        let opts = self.request.report_options(concurrency);
        self.out.command(&action::group("patcher report"));
        let mut report = report::run(&opts, &resolver)?;
        self.out.text(&crate::cli::report_table(&report.plan));
        self.out.command(&action::endgroup());
        self.annotate_problems(&report, &opts.env.working_dir);
        let selection = self.selection(&report.spec)?;
        report.spec.deferred = selection.deferred.clone();
        if let Some(file) = self.inputs.get("spec_file") {
            let path = in_workspace(&self.workspace, "spec_file", &file)?;
            crate::edit::write_atomic_with(&path, |out| spec::write_json(&report.spec, out))
                .with_context(|| format!("writing spec_file {file}"))?;
        }
        let compact = spec::compact(&report.spec, &selection.listed);
        let mut outputs = Outputs::new();
        outputs
            .set_input_value("spec", spec::to_compact_json(&compact))
            .set("dependencies", serde_json::to_string(&selection.listed)?)
            .set("has_updates", (!selection.listed.is_empty()).to_string());
        outputs.write(
            &self.runner,
            "lower max_pull_requests, or give the update job spec_file instead of spec",
        )?;
        self.runner
            .append_summary(&summary::report(&report.plan, &selection, &report.notes))?;
        match report::listing_failure(&report.plan) {
            Some(message) => bail!(message),
            None => Ok(()),
        }
    }

    /// The dependencies this run hands to the update matrix. A promotion (exact versions) is
    /// never deferred; otherwise the open pull requests of the environment are counted.
    fn selection(&self, spec: &Spec) -> Result<Selection> {
        if self.request.target.is_promotion() {
            return Ok(pull_limit::all(spec));
        }
        let forge = match &self.token {
            Some(_) => Some(self.forge()?),
            None => None,
        };
        Ok(pull_limit::count_and_select(
            spec,
            self.request.max_pull_requests,
            forge.as_ref(),
            &self.request.pull_scope,
        )?)
    }

    fn annotate_problems(&self, report: &report::Report, working_dir: &Path) {
        let files = [
            (
                &report.scan.errors,
                Level::Warning,
                "patcher could not parse this file",
            ),
            (
                &report.scan.lenient,
                Level::Notice,
                "patcher read this file leniently",
            ),
        ];
        for (errors, level, what) in files {
            for e in errors {
                let file = self.relative_to_workspace(&working_dir.join(&e.file));
                self.out.command(&action::annotation(
                    level,
                    Some(&file),
                    Some(e.line),
                    Some(e.column),
                    &format!("{what}: {}", e.message),
                ));
            }
        }
        for dep in &report.plan.dependencies {
            if let Some(err) = &dep.error {
                let msg = format!("{}: {err}", dep.source.id);
                self.out
                    .command(&action::annotation(Level::Warning, None, None, None, &msg));
            }
        }
        for note in &report.notes {
            self.out
                .command(&action::annotation(Level::Notice, None, None, None, note));
        }
    }

    fn relative_to_workspace(&self, path: &Path) -> PathBuf {
        let workspace = self.workspace.canonicalize();
        let workspace = workspace.as_deref().unwrap_or(&self.workspace);
        path.strip_prefix(workspace)
            .unwrap_or(path)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    }

    /// The spec from the `spec` input (no shell in between), else from `spec_file`.
    fn spec(&self) -> Result<Option<Spec>> {
        if let Some(text) = self.inputs.get("spec") {
            return Ok(Some(spec::from_json(&text, "input `spec`")?));
        }
        let Some(file) = self.inputs.get("spec_file") else {
            return Ok(None);
        };
        let path = in_workspace(&self.workspace, "spec_file", &file)?;
        Ok(Some(spec::read_file(&path)?))
    }

    fn update(&self) -> Result<()> {
        let resolver = self.resolver()?;
        let concurrency = resolver.config().concurrency;
        let opts = self
            .request
            .update_options(self.spec()?, false, concurrency);
        if self.inputs.flag("dry_run")? {
            let environment = self.request.environment.as_deref();
            let preview = update::preview(&opts, environment, &resolver)?;
            self.out.command(&action::group("patcher update --dry-run"));
            self.out.text(&preview.diff);
            self.out.line(&preview.body);
            self.out.command(&action::endgroup());
            return self.update_outputs(&Outcome {
                changed: !preview.files.is_empty(),
                updated_files: preview.files,
                notes: preview.notes,
                ..Outcome::default()
            });
        }
        let repo = Repo::open(&opts.env.working_dir, self.token.clone())?;
        let forge = self.forge()?;
        let publish = &self.request.pull_request;
        let outcome = update::run_published(&opts, publish, &repo, &forge, &resolver)?;
        self.update_outputs(&outcome)
    }

    fn forge(&self) -> Result<GitHubClient> {
        let repository = self
            .runner
            .repository()
            .context("GITHUB_REPOSITORY is not set: run inside a workflow or set it")?;
        Ok(GitHubClient::new(
            &self.api_url(),
            &repository,
            self.token.clone(),
        ))
    }

    fn update_outputs(&self, outcome: &Outcome) -> Result<()> {
        for note in &outcome.notes {
            self.out
                .command(&action::annotation(Level::Notice, None, None, None, note));
        }
        let files: Vec<String> = outcome
            .updated_files
            .iter()
            .chain(&outcome.readmes)
            .map(|f| f.to_string_lossy().replace('\\', "/"))
            .collect();
        let mut outputs = Outputs::new();
        outputs
            .set("has_updates", outcome.changed.to_string())
            .set("updated_files", serde_json::to_string(&files)?)
            .set(
                "pull_request_number",
                outcome
                    .pull_request_number
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            )
            .set(
                "pull_request_url",
                outcome.pull_request_url.clone().unwrap_or_default(),
            );
        // The summary lists every file, so it is written even when the outputs cannot be.
        self.runner.append_summary(&summary::update(outcome))?;
        let fix = format!(
            "`updated_files` lists {} files (all of them are in the job summary{}); narrow \
             include_dirs so that one update changes fewer files",
            files.len(),
            match &outcome.pull_request_url {
                Some(url) => format!(" and in the pull request {url}"),
                None => String::new(),
            }
        );
        outputs.write(&self.runner, &fix)
    }

    fn promote(&self) -> Result<()> {
        let Some(event) = &self.event else {
            bail!("GITHUB_EVENT_PATH is not set: promote runs on a pull_request closed event");
        };
        let opts = self
            .request
            .promote_options(self.inputs.get("dispatch_event_type"));
        let forge = if self.inputs.flag("dry_run")? {
            None
        } else {
            Some(self.forge()?)
        };
        let forge = forge.as_ref().map(|f| f as &dyn Forge);
        let line = promote::run_in_checkout(event, &opts, &self.request.env, forge)?;
        self.out.line(&line);
        self.runner.append_summary(&summary::promote(&line))?;
        Ok(())
    }
}

impl Step {
    /// `status`: the chain from the environments file, else from `NAME=GLOB` items of
    /// `include_dirs`; versions listed and pull requests looked up unless `offline`.
    fn status(&self) -> Result<()> {
        let working_dir = &self.request.env.working_dir;
        let chain = match &self.config {
            Some(config) => status::chain_from_config(config, working_dir),
            None => status::chain_from_globs(&self.inputs.list("include_dirs"), working_dir)?,
        };
        let offline = self.inputs.flag("offline")?;
        let dashboard = self.inputs.flag("dashboard")?;
        if offline && dashboard {
            bail!("`dashboard: true` needs the GitHub API: set `offline: false`");
        }
        let resolver = match offline {
            true => None,
            false => Some(Resolver::from_env(self.token.clone())?),
        };
        let forge = match offline {
            true => None,
            false => Some(self.forge()?),
        };
        let opts = StatusOptions {
            chain,
            strategy: self.request.strategy,
            concurrency: resolver.as_ref().map_or(1, |r| r.config().concurrency),
            lister: resolver.as_ref().map(|r| r as &dyn VersionLister),
            pulls: forge.as_ref().map(|f| f as &dyn IssueTracker),
            now: status::now(),
        };
        let found = status::collect(&opts)?;
        self.print_untrusted("patcher status", &status::render::table(&found))?;
        self.runner.set_output("status", &status_output(&found)?)?;
        let mut summary = status::render::markdown(&found, "patcher status", SUMMARY_CHARS);
        if let (true, Some(forge)) = (dashboard, &forge) {
            let markdown = status::render::markdown(
                &found,
                status::dashboard::TITLE,
                status::render::DASHBOARD_LIMIT,
            );
            let published = status::dashboard::publish(forge, &markdown)?;
            self.runner
                .set_output("dashboard_issue", &published.number.to_string())?;
            summary.push_str(&format!("\nDashboard: {}\n", published.describe()));
        }
        self.runner.append_summary(&summary)?;
        Ok(())
    }

    /// Text from the tree or from pull requests, in a log group with workflow commands off, so
    /// no line of it can act as a command.
    fn print_untrusted(&self, title: &str, text: &str) -> Result<()> {
        let stop = action::stop_commands()?;
        println!("{}", action::group(title));
        println!("{}", stop.stop);
        print!("{text}");
        println!("{}", stop.resume);
        println!("{}", action::endgroup());
        Ok(())
    }
}

/// The job summary's share for `status`; the runner cuts at 1 MiB anyway, this keeps the cut
/// between dependencies.
const SUMMARY_CHARS: usize = 400_000;
/// Outputs count against 1 MB per job: past this, the per-version file lists are left out.
const OUTPUT_BYTES: usize = 512 * 1024;

/// The `status` output: the JSON of `--output json`, compact, without file lists when large.
fn status_output(found: &status::Status) -> Result<String> {
    let json = serde_json::to_string(found)?;
    if json.len() <= OUTPUT_BYTES {
        return Ok(json);
    }
    let mut slim = found.clone();
    for version in slim
        .dependencies
        .iter_mut()
        .flat_map(|d| d.environments.iter_mut())
        .flat_map(|e| e.versions.iter_mut())
    {
        version.files.clear();
    }
    Ok(serde_json::to_string(&slim)?)
}

/// `value` of a path input, resolved (symbolic links included) inside the workspace; a path
/// that does not exist yet (a spec_file to write) must have its folder there.
fn in_workspace(workspace: &Path, input: &str, value: &str) -> Result<PathBuf> {
    let root = workspace
        .canonicalize()
        .with_context(|| format!("GITHUB_WORKSPACE {} does not exist", workspace.display()))?;
    let joined = root.join(value);
    let resolved = match joined.canonicalize() {
        Ok(path) => path,
        Err(_) => match (joined.parent().map(Path::canonicalize), joined.file_name()) {
            (Some(Ok(dir)), Some(name)) => dir.join(name),
            _ => bail!(
                "input `{input}` ({value:?}) names a folder that does not exist in the workspace"
            ),
        },
    };
    if !resolved.starts_with(&root) {
        bail!(
            "input `{input}` ({value:?}) resolves to {} outside GITHUB_WORKSPACE ({}): give a \
             path inside the workspace",
            resolved.display(),
            root.display()
        );
    }
    Ok(resolved)
}

/// The environments file, when there is one.
fn load_config(
    workspace: &Path,
    working_dir: &Path,
    inputs: &Inputs,
) -> Result<Option<EnvironmentsFile>> {
    let name = inputs
        .get("config_file")
        .unwrap_or_else(|| crate::environments_file::DEFAULT_PATH.into());
    if !workspace.join(&name).exists() {
        return Ok(None);
    }
    let file = in_workspace(workspace, "config_file", &name)?;
    let config = EnvironmentsFile::load(&file)?;
    config.check_globs(working_dir)?;
    Ok(Some(config))
}

/// What the step was given: its inputs, and for a `repository_dispatch` the payload (checked
/// when parsed); for `promote`, the merged pull request's branch.
fn given(
    inputs: &Inputs,
    runner: &Runner,
    command: &str,
    working_dir: PathBuf,
    event: Option<&serde_json::Value>,
) -> Result<Given> {
    let payload = match event {
        Some(event) if runner.event_name().as_deref() == Some("repository_dispatch") => {
            promote::payload_of(event)?
        }
        _ => None,
    };
    let merged_branch = event
        .and_then(|e| e["pull_request"]["head"]["ref"].as_str())
        .map(str::to_string);
    let max_pull_requests = match inputs.get("max_pull_requests") {
        Some(text) => Some(text.parse().map_err(|_| {
            anyhow::anyhow!("max_pull_requests `{text}` is not a whole number (0 for no limit)")
        })?),
        None => None,
    };
    Ok(Given {
        door: Door::Action,
        command: match command {
            "update" => Command::Update,
            "promote" => Command::Promote,
            "status" => Command::Status,
            _ => Command::Report,
        },
        working_dir,
        environment: inputs.get("environment"),
        include_dirs: inputs.list("include_dirs"),
        exclude_dirs: inputs.list("exclude_dirs"),
        default_registry: inputs.get("default_registry"),
        strategy: strategy(inputs)?,
        dependency: inputs.get("dependency"),
        version: inputs.get("version"),
        members: Vec::new(),
        payload,
        merged_branch,
        // For `update` the branch itself; for `promote` the seed guide's prefix of it.
        pr_branch: inputs.get("pull_request_branch"),
        pr_title: inputs.get("pull_request_title"),
        pr_labels: inputs.list("pull_request_labels"),
        base: inputs.get("base_branch"),
        author: inputs.get("commit_author"),
        branch_prefix: inputs
            .get("pull_request_branch")
            .or_else(|| runner.var("PR_BRANCH_PREFIX")),
        minimum_release_age: inputs.get("minimum_release_age"),
        max_pull_requests,
    })
}

fn strategy(inputs: &Inputs) -> Result<Option<Strategy>> {
    match inputs.get("update_strategy").as_deref() {
        None | Some("next-safe") => Ok(Some(Strategy::NextSafe)),
        Some("next-breaking") => Ok(Some(Strategy::NextBreaking)),
        Some(other) => bail!("update_strategy `{other}` is not next-safe or next-breaking"),
    }
}
