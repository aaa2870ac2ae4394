//! CSV files people open in a spreadsheet. A cell that starts with `=`,
//! `+`, `-`, `@`, a tab or a carriage return is a formula to Excel, Calc and
//! Sheets: a client named `=HYPERLINK(…)` would run when staff open the
//! Users export. Every such cell is written with a leading `'`, as OWASP's
//! CSV-injection guidance advises, so it shows as the text it is.

use std::borrow::Cow;

use crate::{DomainError, DomainResult};

/// A cell as it can be opened safely.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A CSV document whose every cell is [`neutralise`]d.
pub struct SpreadsheetCsv {
    writer: csv::Writer<Vec<u8>>,
}

impl SpreadsheetCsv {
    /// A document with this header row.
    pub fn new<I: AsRef<str>>(header: impl IntoIterator<Item = I>) -> DomainResult<Self> {
        let mut document = Self { writer: csv::Writer::from_writer(Vec::new()) };
        document.row(header)?;
        Ok(document)
    }

    /// Adds a row.
    pub fn row<I: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = I>) -> DomainResult<()> {
        self.writer
            .write_record(cells.into_iter().map(|c| neutralise(c.as_ref()).into_owned()))
            .map_err(DomainError::unexpected)
    }

    /// The document's text.
    pub fn finish(self) -> DomainResult<String> {
        let bytes = self.writer.into_inner().map_err(|err| DomainError::Unexpected(err.to_string()))?;
        String::from_utf8(bytes).map_err(DomainError::unexpected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_text_and_others_stay() {
        for formula in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\",\"y\")"] {
            assert_eq!(neutralise(formula), format!("'{formula}"));
        }
        for plain in ["Bella", "", "o'neil", " =spaced", "1-2"] {
            assert_eq!(neutralise(plain), plain);
        }
        let Ok(mut csv) = SpreadsheetCsv::new(["name"]) else { panic!("csv") };
        assert!(csv.row(["=cmd"]).is_ok());
        assert_eq!(csv.finish().ok().as_deref(), Some("name\n'=cmd\n"));
    }
}
