//! The one rustyline helper: completion, hints, validation (complete at `;`) and highlighting.

use std::borrow::Cow;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::command::COMMANDS;
use super::complete::{KEYWORDS, Vocabulary};
use super::statements::is_complete;

const BOLD_BLUE: &str = "\x1b[1;34m";
const GREEN: &str = "\x1b[32m";
const GREY: &str = "\x1b[90m";
const RESET: &str = "\x1b[0m";

/// Line editing for the REPL, over the session's vocabulary.
pub struct ReplHelper {
    vocabulary: Vocabulary,
    files: FilenameCompleter,
    history: HistoryHinter,
}

impl ReplHelper {
    pub fn new(vocabulary: Vocabulary) -> ReplHelper {
        ReplHelper {
            vocabulary,
            files: FilenameCompleter::new(),
            history: HistoryHinter::new(),
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line.trim_start();
        if start.starts_with("\\i ") || start.starts_with("\\o ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, words) = self.vocabulary.complete(line, pos);
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: w,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    /// A meta-command's arguments once its name is typed, else the rest of a history line.
    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        if pos == line.len() && line.starts_with('\\') && !line.contains(' ') {
            let spec = COMMANDS.iter().find(|c| c.name == line)?;
            return (!spec.args.is_empty()).then(|| format!(" {}", spec.args));
        }
        self.history.hint(line, pos, ctx)
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(match is_complete(ctx.input()) {
            true => ValidationResult::Valid(None),
            false => ValidationResult::Incomplete,
        })
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Owned(highlight_sql(line))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("{GREY}{hint}{RESET}"))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        true
    }
}

impl Helper for ReplHelper {}

/// Keywords in bold blue, string literals in green, comments in grey; the text is unchanged.
pub fn highlight_sql(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let (len, colour) = if c == '\'' {
            let end = rest[1..].find('\'').map_or(rest.len(), |i| i + 2);
            (end, Some(GREEN))
        } else if rest.starts_with("--") {
            (rest.find('\n').unwrap_or(rest.len()), Some(GREY))
        } else if c.is_alphanumeric() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let keyword = KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word));
            (end, keyword.then_some(BOLD_BLUE))
        } else {
            (c.len_utf8(), None)
        };
        match colour {
            Some(colour) => out.push_str(&format!("{colour}{}{RESET}", &rest[..len])),
            None => out.push_str(&rest[..len]),
        }
        rest = &rest[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlighting_colours_keywords_strings_and_comments_only() {
        let line = "select x from t where y = 'from' -- from";
        let coloured = highlight_sql(line);
        assert!(
            coloured.starts_with("\x1b[1;34mselect\x1b[0m x "),
            "{coloured}"
        );
        assert!(coloured.contains("\x1b[32m'from'\x1b[0m"), "{coloured}");
        assert!(coloured.ends_with("\x1b[90m-- from\x1b[0m"), "{coloured}");
        let plain = coloured
            .replace(BOLD_BLUE, "")
            .replace(GREEN, "")
            .replace(GREY, "");
        assert_eq!(plain.replace(RESET, ""), line);
    }
}
