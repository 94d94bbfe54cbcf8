//! Streaming split of CloudTrail log files into record texts: `{"Records":[...]}`, arrays, NDJSON.
//!
//! The scanner tracks only strings and brackets, never builds a document, and holds one
//! record at a time, so memory does not grow with the size of a file. A record whose
//! brackets balance but whose JSON is wrong is still cut out: the mapper reports it and the
//! records after it are read. Broken brackets end the file with an error and a position.

use std::io::Read;

const BUF_BYTES: usize = 1 << 20;

/// Where a record starts in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The record's number in the file, counting from 1.
    pub record: u64,
    /// The line its text starts on, counting from 1.
    pub line: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {} (line {})", self.record, self.line)
    }
}

/// Why the rest of a file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScanError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between top-level values (NDJSON, or before a document).
    Top,
    /// Inside an array whose elements are records; `wrapper` when it is `Records` of an object.
    Array { wrapper: bool },
    /// After the `Records` array: the rest of the wrapper object up to its closing brace.
    RestOfWrapper,
}

/// How a captured top-level object turned out.
enum Captured {
    Record,
    /// Its first key is `Records`: it is a log file wrapper, not a record.
    Wrapper,
}

/// Cuts record texts out of a byte stream.
pub struct RecordScanner<R> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    line: u64,
    records: u64,
    mode: Mode,
}

impl<R: Read> RecordScanner<R> {
    pub fn new(reader: R) -> RecordScanner<R> {
        RecordScanner::with_buffer(reader, Vec::new())
    }

    /// A scanner that reads through `buf`, the buffer of an earlier scanner (see
    /// [`RecordScanner::into_buffer`]), so that a file does not cost a new megabyte.
    pub fn with_buffer(reader: R, mut buf: Vec<u8>) -> RecordScanner<R> {
        buf.resize(BUF_BYTES, 0);
        RecordScanner {
            reader,
            buf,
            pos: 0,
            len: 0,
            line: 1,
            records: 0,
            mode: Mode::Top,
        }
    }

    /// The read buffer, for the scanner of the next file.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    fn error(&self, message: impl Into<String>) -> ScanError {
        ScanError {
            line: self.line,
            message: message.into(),
        }
    }

    /// Makes sure a byte is buffered; false at the end of the stream.
    fn fill(&mut self) -> Result<bool, ScanError> {
        if self.pos < self.len {
            return Ok(true);
        }
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(format!("cannot read: {e}"))),
            }
        }
    }

    /// The next byte that is not whitespace (nor a comma when `commas`), not consumed.
    fn peek_token(&mut self, commas: bool) -> Result<Option<u8>, ScanError> {
        while self.fill()? {
            let b = self.buf[self.pos];
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                b',' if commas => {}
                // A byte order mark before the first value.
                0xEF | 0xBB | 0xBF if self.mode == Mode::Top => {}
                _ => return Ok(Some(b)),
            }
            self.pos += 1;
        }
        Ok(None)
    }

    /// Fills `out` with the next record's text; `None` at the end of the stream.
    pub fn next_record(&mut self, out: &mut Vec<u8>) -> Result<Option<Position>, ScanError> {
        loop {
            match self.mode {
                Mode::Top => match self.peek_token(false)? {
                    None => return Ok(None),
                    Some(b'[') => {
                        self.pos += 1;
                        self.mode = Mode::Array { wrapper: false };
                    }
                    Some(b'{') => {
                        let at = self.position();
                        match self.capture(out, true)? {
                            Captured::Record => return Ok(Some(self.count(at))),
                            Captured::Wrapper => self.enter_records()?,
                        }
                    }
                    Some(b) => {
                        return Err(self.error(format!(
                            "expected a JSON object or array, found {:?}",
                            b as char
                        )));
                    }
                },
                Mode::Array { wrapper } => match self.peek_token(true)? {
                    None => return Err(self.error("the file ends inside the list of records")),
                    Some(b']') => {
                        self.pos += 1;
                        self.mode = if wrapper {
                            Mode::RestOfWrapper
                        } else {
                            Mode::Top
                        };
                    }
                    Some(b'{') => {
                        let at = self.position();
                        self.capture(out, false)?;
                        return Ok(Some(self.count(at)));
                    }
                    Some(b) => {
                        return Err(self.error(format!(
                            "expected a record (a JSON object), found {:?}",
                            b as char
                        )));
                    }
                },
                Mode::RestOfWrapper => {
                    // Skip other keys of the wrapper as if it were one object still open.
                    let mut rest = b"{".to_vec();
                    self.scan(&mut rest, 1, false)?;
                    self.mode = Mode::Top;
                }
            }
        }
    }

    fn position(&self) -> Position {
        Position {
            record: self.records + 1,
            line: self.line,
        }
    }

    fn count(&mut self, at: Position) -> Position {
        self.records += 1;
        at
    }

    /// After the key `Records` of a wrapper: `:` then `[`.
    fn enter_records(&mut self) -> Result<(), ScanError> {
        for expected in [b':', b'['] {
            match self.peek_token(false)? {
                Some(b) if b == expected => self.pos += 1,
                _ => {
                    return Err(
                        self.error(format!("expected {:?} after \"Records\"", expected as char))
                    );
                }
            }
        }
        self.mode = Mode::Array { wrapper: true };
        Ok(())
    }

    /// Copies one object, from its `{`, into `out`. With `probe`, stops early when the
    /// object's first key is `Records`.
    fn capture(&mut self, out: &mut Vec<u8>, probe: bool) -> Result<Captured, ScanError> {
        out.clear();
        if self.scan(out, 0, probe)? {
            Ok(Captured::Wrapper)
        } else {
            Ok(Captured::Record)
        }
    }

    /// Copies bytes into `out` until the brackets opened (`depth` already open) close.
    /// With `probe`, returns true as soon as the first key at depth 1 is `"Records"`.
    fn scan(
        &mut self,
        out: &mut Vec<u8>,
        mut depth: usize,
        probe: bool,
    ) -> Result<bool, ScanError> {
        // Some(()) while the first key of the object may still be `Records`.
        let mut probe = probe.then_some(());
        let mut in_string = false;
        let mut escaped = false;
        let start_line = self.line;
        loop {
            if !self.fill()? {
                return Err(ScanError {
                    line: start_line,
                    message: format!(
                        "the file ends inside record {} that starts here",
                        self.records + 1
                    ),
                });
            }
            let bytes = &self.buf[self.pos..self.len];
            let mut i = 0;
            let mut done = false;
            while i < bytes.len() {
                let b = bytes[i];
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if probe.take().is_some() {
                            out.extend_from_slice(&bytes[..=i]);
                            if out.ends_with(b"\"Records\"") {
                                self.pos += i + 1;
                                return Ok(true);
                            }
                            out.truncate(out.len() - (i + 1));
                        }
                    } else {
                        // Fast path to the next quote or backslash.
                        i += quote_or_escape(&bytes[i..]);
                        continue;
                    }
                } else {
                    match b {
                        b'"' => {
                            in_string = true;
                            if depth != 1 {
                                probe = None;
                            }
                        }
                        b'{' | b'[' => {
                            if depth >= 1 {
                                probe = None;
                            }
                            depth += 1;
                        }
                        b'}' | b']' => {
                            probe = None;
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                i += 1;
                                done = true;
                                break;
                            }
                        }
                        b'\n' => self.line += 1,
                        b' ' | b'\t' | b'\r' => {}
                        _ => probe = None,
                    }
                }
                i += 1;
            }
            out.extend_from_slice(&bytes[..i]);
            self.pos += i;
            if done {
                return Ok(false);
            }
        }
    }
}

/// Where the first `"` or `\` of `bytes` is, or its length when there is none. Looks at
/// eight bytes at a time (the zero-byte test of "Bit Twiddling Hacks" on the word XORed
/// with each mark): strings are most of a record's text.
fn quote_or_escape(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut at = 0;
    while let Some(word) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("a slice of eight bytes"));
        // Bytes above a match may be flagged too; the lowest flag is always a match.
        let found = zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map_or(bytes.len(), |k| at + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> (Vec<(u64, u64, String)>, Option<ScanError>) {
        let mut scanner = RecordScanner::new(text.as_bytes());
        let mut out = Vec::new();
        let mut got = Vec::new();
        loop {
            match scanner.next_record(&mut out) {
                Ok(Some(p)) => {
                    got.push((p.record, p.line, String::from_utf8(out.clone()).unwrap()))
                }
                Ok(None) => return (got, None),
                Err(e) => return (got, Some(e)),
            }
        }
    }

    #[test]
    fn wrappers_arrays_and_ndjson() {
        let (got, err) = split(r#"{"Records":[{"a":"}"},{"b":[1,{"c":"\"{"}]}]}"#);
        assert!(err.is_none());
        let texts: Vec<_> = got.iter().map(|g| g.2.as_str()).collect();
        assert_eq!(texts, [r#"{"a":"}"}"#, r#"{"b":[1,{"c":"\"{"}]}"#]);

        let (got, _) =
            split("{ \"Records\" : [\n {\"x\":1},\n {\"y\":2}\n ], \"z\": {\"q\": []}}\n");
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].0, got[1].1), (2, 3));

        let (got, _) = split("[{\"a\":1}, {\"a\":2}]");
        assert_eq!(got.len(), 2);

        let (got, err) = split("{\"eventID\":\"1\"}\n{\"eventID\":\"2\"}\n\n{\"Recordsx\":3}\n");
        assert!(err.is_none());
        assert_eq!(got.len(), 3);
        assert_eq!((got[2].0, got[2].1), (3, 4));
        assert_eq!(got[2].2, "{\"Recordsx\":3}");
    }

    #[test]
    fn several_wrappers_in_one_stream() {
        let (got, err) =
            split("{\"Records\":[{\"a\":1}]}{\"Records\":[]}\n{\"Records\":[{\"b\":2}]}");
        assert!(err.is_none());
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn truncation_and_garbage_are_errors_after_the_good_records() {
        let (got, err) = split("{\"Records\":[{\"a\":1},{\"b\":");
        assert_eq!(got.len(), 1);
        assert!(err.unwrap().message.contains("ends inside record 2"));
        let (got, err) = split("{\"a\":1}\nhello");
        assert_eq!(got.len(), 1);
        assert_eq!(err.unwrap().line, 2);
    }

    #[test]
    fn quotes_and_escapes_are_found_in_long_and_short_texts() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 64, 100] {
            let text = "x".repeat(len);
            assert_eq!(quote_or_escape(text.as_bytes()), len);
            for (at, mark) in [(0, '"'), (len / 2, '\\'), (len, '"')] {
                let marked = format!("{}{mark}{}", &text[..at], &text[at..]);
                assert_eq!(quote_or_escape(marked.as_bytes()), at, "{len} {at} {mark}");
            }
        }
        // Bytes next to the marks' values, and UTF-8, are not marks.
        let text = "#!]\u{e9}[\u{1}\u{a2}ab\"";
        assert_eq!(quote_or_escape(text.as_bytes()), text.len() - 1);
    }

    #[test]
    fn records_split_across_buffer_refills() {
        let record = format!("{{\"k\":\"{}\\\"\"}}", "x".repeat(BUF_BYTES + 10));
        let text = format!("{{\"Records\":[{record},{record}]}}");
        let (got, err) = split(&text);
        assert!(err.is_none());
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].2, record);
    }
}
