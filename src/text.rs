//! Text layouts the printers share: aligned terminal columns, and GitHub-flavoured Markdown
//! tables for the job summary, the pull request body and the dashboard. Cell text comes from
//! scanned files and remote listings, so Markdown cells are escaped: a `|` would split the cell
//! and a newline would end the table.

/// `|` becomes `\|` (GitHub applies this escape before anything else, even in code spans) and
/// each line break becomes `<br>`.
pub fn escape_cell(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('|', "\\|")
        .trim_matches('\n')
        .replace('\n', "<br>")
}

/// A GitHub-flavoured table; the const width makes a row with a missing cell a compile error.
pub fn markdown_table<const N: usize, S: AsRef<str>>(
    headers: [&str; N],
    rows: impl IntoIterator<Item = [S; N]>,
) -> String {
    let mut out = row(headers.iter().map(|h| escape_cell(h)));
    out.push_str(&row(headers.iter().map(|_| "---".to_owned())));
    for cells in rows {
        out.push_str(&row(cells.iter().map(|c| escape_cell(c.as_ref()))));
    }
    out
}

fn row(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells
        .map(|c| if c.is_empty() { " ".to_owned() } else { c })
        .collect();
    format!("| {} |\n", cells.join(" | "))
}

/// Rows as left-aligned columns two spaces apart, for the terminal tables of `report` and
/// `status`.
pub fn columns<R: AsRef<[String]>>(rows: &[R]) -> String {
    let count = rows.first().map_or(0, |r| r.as_ref().len());
    let widths: Vec<usize> = (0..count)
        .map(|c| {
            let width = |r: &R| r.as_ref()[c].chars().count();
            rows.iter().map(width).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_rule_and_rows() {
        let table = markdown_table(
            ["Dependency", "Current", "Target"],
            [["org/repo/sqs", "v0.8.0", "v0.9.1"], ["a/b/c", "", "v2"]],
        );
        assert_eq!(
            table,
            "| Dependency | Current | Target |\n| --- | --- | --- |\n\
             | org/repo/sqs | v0.8.0 | v0.9.1 |\n| a/b/c |   | v2 |\n"
        );
    }

    #[test]
    fn cells_cannot_break_the_table() {
        let table = markdown_table(
            ["a|b"],
            [[String::from("x | y\r\nz\n")], [String::from("`p|q`")]],
        );
        assert_eq!(table, "| a\\|b |\n| --- |\n| x \\| y<br>z |\n| `p\\|q` |\n");
        for line in table.lines() {
            let unescaped_pipes = line.replace("\\|", "").matches('|').count();
            assert_eq!(unescaped_pipes, 2, "{line}");
        }
    }

    #[test]
    fn header_only_when_no_rows() {
        let rows: Vec<[&str; 1]> = Vec::new();
        assert_eq!(markdown_table(["File"], rows), "| File |\n| --- |\n");
    }
}
