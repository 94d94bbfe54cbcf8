//! Splitting typed or scripted text into SQL statements at `;`, outside quotes and comments.

/// Where the scanner is: in plain SQL, or inside something a `;` does not end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Sql,
    Single,
    Double,
    LineComment,
    BlockComment,
}

/// Byte offsets just past each `;` that ends a statement in `text`.
fn terminators(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut state = State::Sql;
    let mut ends = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let (c, next) = (bytes[i], bytes.get(i + 1).copied());
        match (state, c) {
            (State::Sql, b';') => ends.push(i + 1),
            (State::Sql, b'\'') => state = State::Single,
            (State::Sql, b'"') => state = State::Double,
            (State::Sql, b'-') if next == Some(b'-') => state = State::LineComment,
            (State::Sql, b'/') if next == Some(b'*') => {
                state = State::BlockComment;
                i += 1;
            }
            // A doubled quote inside a literal is an escaped quote: the scan stays inside.
            (State::Single, b'\'') if next == Some(b'\'') => i += 1,
            (State::Single, b'\'') | (State::Double, b'"') => state = State::Sql,
            (State::LineComment, b'\n') => state = State::Sql,
            (State::BlockComment, b'*') if next == Some(b'/') => {
                state = State::Sql;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    ends
}

/// True when `text` holds nothing but whitespace and comments.
pub fn is_blank(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            match after.split_once("*/") {
                Some((_, r)) => rest = r.trim_start(),
                None => return true,
            }
        } else {
            return false;
        }
    }
}

/// True when the typed text may be run: blank, a meta-command, or its last statement ended
/// by `;` (only comments and whitespace after it).
pub fn is_complete(text: &str) -> bool {
    if is_blank(text) || text.trim_start().starts_with('\\') {
        return true;
    }
    terminators(text)
        .last()
        .is_some_and(|&end| is_blank(&text[end..]))
}

/// Collects lines of a script and hands back the statements and meta-commands they form.
#[derive(Debug, Default)]
pub struct StatementBuffer {
    pending: String,
}

/// One thing to run: a SQL statement (without its `;`) or a meta-command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Sql(String),
    Meta(String),
}

impl StatementBuffer {
    /// Adds one line; returns what it completed. A line starting with `\` between statements
    /// is a meta-command.
    pub fn push_line(&mut self, line: &str) -> Vec<Input> {
        if is_blank(&self.pending) && line.trim_start().starts_with('\\') {
            self.pending.clear();
            return vec![Input::Meta(line.trim().to_string())];
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        let ends = terminators(&self.pending);
        let Some(&last) = ends.last() else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let mut start = 0;
        for end in ends {
            let statement = &self.pending[start..end - 1];
            if !is_blank(statement) {
                found.push(Input::Sql(statement.trim().to_string()));
            }
            start = end;
        }
        self.pending = self.pending[last..].to_string();
        if is_blank(&self.pending) {
            self.pending.clear();
        }
        found
    }

    /// What is left at the end of the input: a last statement without its `;`.
    pub fn finish(&mut self) -> Option<Input> {
        let rest = std::mem::take(&mut self.pending);
        (!is_blank(&rest)).then(|| Input::Sql(rest.trim().to_string()))
    }
}

/// Splits a whole text (typed in one go, or a file) into what it asks to run.
pub fn split(text: &str) -> Vec<Input> {
    let mut buffer = StatementBuffer::default();
    let mut inputs: Vec<Input> = text.lines().flat_map(|l| buffer.push_line(l)).collect();
    inputs.extend(buffer.finish());
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> Input {
        Input::Sql(s.to_string())
    }

    #[test]
    fn semicolons_in_strings_and_comments_do_not_end_a_statement() {
        let text = "SELECT 'a;''b' -- c;\n, \"x;\" /* ; */ FROM t;\nSELECT 2;";
        assert_eq!(
            split(text),
            [
                sql("SELECT 'a;''b' -- c;\n, \"x;\" /* ; */ FROM t"),
                sql("SELECT 2")
            ]
        );
    }

    #[test]
    fn statements_span_lines_and_meta_commands_sit_between_them() {
        let text = "\\timing\nSELECT 1\n  + 1;\n-- a comment only\n\\format csv\nSELECT 3";
        assert_eq!(
            split(text),
            [
                Input::Meta("\\timing".into()),
                sql("SELECT 1\n  + 1"),
                Input::Meta("\\format csv".into()),
                sql("SELECT 3"),
            ]
        );
    }

    #[test]
    fn completeness_needs_a_final_semicolon_outside_quotes() {
        assert!(is_complete("SELECT 1;"));
        assert!(is_complete("SELECT 1; -- done"));
        assert!(is_complete("  \\d"));
        assert!(is_complete(""));
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT ';"));
        assert!(!is_complete("SELECT 1; SELECT 2"));
        assert!(!is_complete("SELECT 1 /* ; */"));
    }
}
