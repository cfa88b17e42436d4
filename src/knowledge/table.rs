//! CSV tables with a header row: the one place CSV is read (FAQ files, labelled
//! query sets, labelled complaint sets). UTF-8 with an optional BOM; every problem
//! is reported with file, line and column.

use std::path::Path;

use super::Problem;

/// A parsed table: named columns, rows with their line numbers.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<Option<usize>>,
    names: Vec<&'static str>,
    /// Variable columns: header and position.
    variable: Vec<(String, usize)>,
    /// Rows (1-based line of each), blank rows skipped.
    pub rows: Vec<(usize, ::csv::StringRecord)>,
}

/// Which columns a table has.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// The columns read.
    pub known: &'static [&'static str],
    /// Whether columns outside `known` are problems.
    pub strict: bool,
    /// Columns that must be there.
    pub required: &'static [&'static str],
    /// Columns whose header starts with this are read too, however many
    /// (`answer[…]`); see [`Table::variable_cells`].
    pub variable: Option<&'static str>,
}

impl Table {
    /// The trimmed cell of `row` in column `name` ("" when the column is absent).
    pub fn cell<'r>(&self, row: &'r ::csv::StringRecord, name: &str) -> &'r str {
        let col = self.names.iter().position(|n| *n == name).and_then(|i| self.columns[i]);
        col.and_then(|i| row.get(i)).unwrap_or("").trim()
    }

    /// The variable columns' headers with the trimmed cells of `row`.
    pub fn variable_cells<'t, 'r>(&'t self, row: &'r ::csv::StringRecord) -> Vec<(&'t str, &'r str)> {
        self.variable.iter().map(|(h, i)| (h.as_str(), row.get(*i).unwrap_or("").trim())).collect()
    }

    /// Whether the file has column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().position(|n| *n == name).is_some_and(|i| self.columns[i].is_some())
    }
}

/// Read and parse the table at `path`; every problem is returned.
pub fn load(path: &Path, columns: Columns) -> Result<Table, Vec<Problem>> {
    let mut problems = Vec::new();
    let table =
        super::source::read_utf8(path, &mut problems).and_then(|text| parse(path, &text, columns, &mut problems));
    match table {
        Some(t) if problems.is_empty() => Ok(t),
        _ => Err(problems),
    }
}

/// Parse `text` (the contents of `path`); problems are pushed. `None` when the
/// header makes the rows unreadable (a required column is missing).
pub fn parse(path: &Path, text: &str, columns: Columns, problems: &mut Vec<Problem>) -> Option<Table> {
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(Problem::new(path, 1, "header", format!("cannot read the header row: {e}")));
            return None;
        }
    };
    let mut index = vec![None; columns.known.len()];
    let mut variable: Vec<(String, usize)> = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        if columns.variable.is_some_and(|prefix| name.starts_with(prefix)) {
            if variable.iter().any(|(h, _)| h == name) {
                problems.push(Problem::new(path, 1, name, "column appears twice; the first one is used"));
            } else {
                variable.push((name.to_owned(), i));
            }
            continue;
        }
        match columns.known.iter().position(|c| *c == name) {
            Some(col) if index[col].is_some() => {
                problems.push(Problem::new(path, 1, name, "column appears twice; the first one is used"));
            }
            Some(col) => index[col] = Some(i),
            // Keep going: the rows still get checked, so every problem is listed.
            None if columns.strict => problems.push(Problem::new(
                path,
                1,
                name,
                format!("unknown column {name:?}; known columns: {}", columns.known.join(",")),
            )),
            None => {}
        }
    }
    let mut header_ok = true;
    for required in columns.required {
        if columns.known.iter().position(|c| c == required).and_then(|i| index[i]).is_none() {
            problems.push(Problem::new(path, 1, required, "required column is missing"));
            header_ok = false;
        }
    }
    if !header_ok {
        return None;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) if r.iter().all(|c| c.trim().is_empty()) => {}
            Ok(r) => rows.push((r.position().map_or(0, |p| p.line() as usize), r)),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problems.push(Problem::new(path, line, "row", error_message(&e)));
            }
        }
    }
    Some(Table { columns: index, names: columns.known.to_vec(), variable, rows })
}

/// The csv crate's message without its position (the problem carries the line).
fn error_message(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields, the header has {expected_len} (a cell with a comma must be quoted)")
        }
        ::csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".into(),
        _ => e.to_string(),
    }
}
