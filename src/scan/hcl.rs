//! Module sources of an HCL file: `module`, `terraform`, `unit` and `stack` blocks, with their
//! `source` strings evaluated as far as the file (and what it includes or reads) tells.

use super::files::{Files, Found};
use super::parse::{Loaded, Syntax};
use super::template::{Composed, Escapes, FileId};
use super::SOURCE_BLOCKS;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;
use hcl_edit::visit::Visit;
use hcl_edit::{Decorated, Span, Spanned};
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

/// How deep one value may refer to another (`local.a` to `local.b`, a file to the file it
/// reads …); also stops reference cycles.
pub(super) const MAX_DEPTH: usize = 8;

/// The usages of the scanned file (entry 0 of `files`), which must be HCL.
pub(super) fn extract(files: &Files, found: &mut Found) {
    let scanned = files.get(0);
    let Some(scan) = FileScan::new(files, 0, &scanned, scanned.dir(), 0) else {
        return;
    };
    for block in scan
        .body
        .blocks()
        .filter(|b| SOURCE_BLOCKS.iter().any(|ident| b.has_ident(ident)))
    {
        scan.block(block, found);
    }
}

/// One parsed HCL file of the scan: its locals and Terragrunt includes.
pub(super) struct FileScan<'a> {
    pub files: &'a Files<'a>,
    pub id: FileId,
    pub file: &'a Loaded,
    pub body: &'a Body,
    locals: HashMap<&'a str, &'a Expression>,
    /// `include "<label>" { path = … }`: label to path expression.
    pub includes: HashMap<&'a str, &'a Expression>,
    /// The folder Terragrunt's functions resolve from: the file's own, or for an included
    /// file the folder of the configuration that includes it.
    pub dir: Option<PathBuf>,
    /// How many files were followed to reach this one.
    pub hops: usize,
}

impl<'a> FileScan<'a> {
    pub fn new(
        files: &'a Files<'a>,
        id: FileId,
        file: &'a Loaded,
        dir: Option<PathBuf>,
        hops: usize,
    ) -> Option<FileScan<'a>> {
        let Syntax::Hcl(body) = &file.syntax else {
            return None;
        };
        let locals = body
            .get_blocks("locals")
            .flat_map(|block| block.body.attributes())
            .map(|attr| (attr.key.as_str(), &attr.value))
            .collect();
        let includes = body
            .get_blocks("include")
            .filter_map(|block| {
                let label = block.labels.first().map_or("", |l| l.as_str());
                Some((label, &block.body.get_attribute("path")?.value))
            })
            .collect();
        Some(FileScan {
            files,
            id,
            file,
            body,
            locals,
            includes,
            dir,
            hops,
        })
    }

    fn block(&self, block: &Block, found: &mut Found) {
        let Some(attr) = block.body.get_attribute("source") else {
            return;
        };
        let mut shown = self.snippet(&attr.value);
        let usage = self.compose(&attr.value, 0).and_then(|composed| {
            shown.clone_from(&composed.text);
            self.files.usage_of(&composed, || {
                let attr = block.body.get_attribute("version")?;
                Some(self.compose(&attr.value, 0))
            })
        });
        self.files
            .record(self.line_of(&attr.value), shown, usage, found);
    }

    /// Evaluates a string expression as far as it can be known.
    pub fn compose(&self, expr: &Expression, depth: usize) -> Result<Composed, String> {
        if depth >= MAX_DEPTH {
            return Err("values refer to each other too deeply (or in a cycle)".into());
        }
        match expr {
            Expression::String(s) => Ok(self.literal(s.as_str(), s.span(), 1)),
            Expression::StringTemplate(template) => {
                let mut composed = Composed::default();
                for element in template.iter() {
                    composed.append(self.element(element, depth)?);
                }
                Ok(composed)
            }
            Expression::Parenthesis(inner) => self.compose(inner.inner(), depth),
            Expression::HeredocTemplate(_) => Err("heredoc sources are not supported".into()),
            Expression::Traversal(_) => self.traversed(expr, &[], depth + 1),
            Expression::FuncCall(call) => self
                .call(call, depth + 1)
                .unwrap_or_else(|| Err(self.unresolved(expr))),
            _ => Err(self.unresolved(expr)),
        }
    }

    fn element(&self, element: &Element, depth: usize) -> Result<Composed, String> {
        match element {
            Element::Literal(literal) => Ok(self.literal(literal.as_str(), literal.span(), 0)),
            Element::Interpolation(interpolation) => self.compose(&interpolation.expr, depth),
            Element::Directive(_) => Err("template directives (%{…}) are not supported".into()),
        }
    }

    /// The value at `names` (`local.x.y`, `include.<label>.locals.x`, …); `Err(None)` when
    /// it cannot be known, `Err(Some(reason))` when a more precise reason exists.
    pub fn reference(&self, names: &[&str], depth: usize) -> Result<Composed, Option<String>> {
        match names {
            ["local", name, rest @ ..] => {
                let value = self.locals.get(name).ok_or(None)?;
                self.value(value, rest, depth).map_err(Some)
            }
            ["include", label, rest @ ..] => self.included(label, rest, depth),
            _ => Err(None),
        }
    }

    /// The value of `path` inside this file as Terragrunt exposes a configuration:
    /// `locals.<name>…` or `inputs…`.
    pub fn config_value(&self, path: &[&str], depth: usize) -> Result<Composed, Option<String>> {
        match path {
            ["locals", name, rest @ ..] => {
                let value = self.locals.get(name).ok_or(None)?;
                self.value(value, rest, depth).map_err(Some)
            }
            ["inputs", rest @ ..] => {
                let inputs = self.body.get_attribute("inputs").ok_or(None)?;
                self.value(&inputs.value, rest, depth).map_err(Some)
            }
            _ => Err(None),
        }
    }

    /// The string at `path` inside the value `expr`: object keys, references and
    /// `read_terragrunt_config(…)` are followed.
    pub fn value(
        &self,
        expr: &Expression,
        path: &[&str],
        depth: usize,
    ) -> Result<Composed, String> {
        let Some((key, rest)) = path.split_first() else {
            return self.compose(expr, depth);
        };
        if depth >= MAX_DEPTH {
            return Err("values refer to each other too deeply (or in a cycle)".into());
        }
        let unresolved = || {
            format!(
                "cannot resolve `.{}` of `{}`",
                path.join("."),
                self.snippet(expr).trim()
            )
        };
        match expr {
            Expression::Object(object) => {
                let item = object
                    .iter()
                    .filter(|(k, _)| object_key(k) == Some(*key))
                    .last()
                    .ok_or_else(unresolved)?;
                self.value(item.1.expr(), rest, depth + 1)
            }
            Expression::Parenthesis(inner) => self.value(inner.inner(), path, depth + 1),
            Expression::Traversal(_) => self.traversed(expr, path, depth + 1),
            Expression::FuncCall(call) => self
                .call_value(call, path, depth + 1)
                .unwrap_or_else(|| Err(unresolved())),
            _ => Err(unresolved()),
        }
    }

    /// The value at `path` below the traversal `expr` (`local.x.y`, `include.a.locals.b`,
    /// `read_terragrunt_config(…).inputs.c` …).
    fn traversed(
        &self,
        expr: &Expression,
        path: &[&str],
        depth: usize,
    ) -> Result<Composed, String> {
        let unresolved = || {
            let shown = self.snippet(expr);
            match path {
                [] => self.unresolved(expr),
                _ => format!(
                    "cannot resolve `{}.{}` from this file",
                    shown.trim(),
                    path.join(".")
                ),
            }
        };
        let Some((root, mut names)) = traversal_parts(expr) else {
            return Err(unresolved());
        };
        names.extend_from_slice(path);
        match root.as_variable() {
            Some(variable) => {
                names.insert(0, variable.as_str());
                self.reference(&names, depth)
                    .map_err(|reason| reason.unwrap_or_else(unresolved))
            }
            None => self.value(root, &names, depth),
        }
    }

    /// A literal whose `span` (in the text) has `quote` bytes of delimiter on either side;
    /// `value` is what the parser decoded it to.
    pub fn literal(&self, value: &str, span: Option<Range<usize>>, quote: usize) -> Composed {
        let text = &self.file.text;
        let raw = span
            .as_ref()
            .and_then(|s| text.get(s.start + quote..s.end.saturating_sub(quote)));
        let at = |span: &Range<usize>| self.file.shift + span.start + quote;
        match (raw, span) {
            (Some(raw), Some(span)) if raw == value => {
                Composed::verbatim(value, self.id, at(&span))
            }
            (Some(raw), Some(span)) => {
                let decoded = Composed::decode(raw, self.id, at(&span), Escapes::Hcl);
                // Trust the mapping only where it agrees with the parser.
                if decoded.text == value {
                    decoded
                } else {
                    Composed::unmapped(value)
                }
            }
            _ => Composed::unmapped(value),
        }
    }

    pub fn unresolved(&self, expr: &Expression) -> String {
        format!(
            "cannot resolve `{}` from this file",
            self.snippet(expr).trim()
        )
    }

    pub fn snippet(&self, expr: &Expression) -> String {
        self.file.snippet(expr.span())
    }

    fn line_of(&self, expr: &Expression) -> usize {
        expr.span().map_or(0, |span| {
            self.file.line_column(self.file.shift + span.start).0
        })
    }
}

/// Spans of the string literals of `body` that are written without escapes.
pub(super) fn plain_literals(body: &Body, text: &str) -> Vec<Range<usize>> {
    struct Literals<'t> {
        text: &'t str,
        found: Vec<Range<usize>>,
    }
    impl Literals<'_> {
        fn add(&mut self, value: &str, span: Option<Range<usize>>, quote: usize) {
            let Some(span) = span else { return };
            let inner = span.start + quote..span.end.saturating_sub(quote);
            if self.text.get(inner.clone()) == Some(value) {
                self.found.push(inner);
            }
        }
    }
    impl Visit for Literals<'_> {
        fn visit_string(&mut self, string: &Decorated<String>) {
            self.add(string.as_str(), string.span(), 1);
        }
        fn visit_literal(&mut self, literal: &Spanned<String>) {
            self.add(literal.as_str(), literal.span(), 0);
        }
    }
    let mut literals = Literals {
        text,
        found: Vec::new(),
    };
    literals.visit_body(body);
    literals.found
}

fn object_key(key: &ObjectKey) -> Option<&str> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.as_str()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.as_str()),
        ObjectKey::Expression(_) => None,
    }
}

/// The expression a traversal starts from and the attribute names after it:
/// `(include, ["envcommon", "locals", "x"])` for `include.envcommon.locals.x`.
fn traversal_parts(expr: &Expression) -> Option<(&Expression, Vec<&str>)> {
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    let mut names = Vec::new();
    for op in &traversal.operators {
        match op.value() {
            TraversalOperator::GetAttr(name) => names.push(name.as_str()),
            _ => return None,
        }
    }
    Some((&traversal.expr, names))
}
