//! Input files for bulk ingestion: discovery, gzip, format detection, and chunked reading.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use serde_json::value::RawValue;

use super::request::{AuditEvent, PutAuditEventsRequest};

/// Text handed to a worker at a time: large enough to amortise the hand-off.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Where an event's eventData text lives.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A byte range of the chunk's text (NDJSON lines).
    Span(usize, usize),
    /// Text decoded from a JSON string (request files) or cut from a JSON array.
    Owned(String),
}

/// One event read from a file, not yet validated.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// Line (NDJSON) or position in the file's event list, counting from 1.
    pub position: u64,
    /// The request's id, or one made from the position.
    pub id: Option<String>,
    pub payload: Payload,
    pub checksum: Option<String>,
}

/// Events of one file handed to a worker together.
#[derive(Debug)]
pub struct Chunk {
    pub file: Arc<Path>,
    /// `position` counts lines in NDJSON and events in other formats.
    pub by_line: bool,
    pub text: Vec<u8>,
    pub events: Vec<RawEvent>,
}

impl Chunk {
    fn new(file: &Arc<Path>, by_line: bool) -> Chunk {
        Chunk {
            file: Arc::clone(file),
            by_line,
            text: Vec::with_capacity(CHUNK_BYTES + 64 * 1024),
            events: Vec::new(),
        }
    }

    /// The payload text of one event; `Err` when an NDJSON line is not UTF-8.
    pub fn payload<'a>(&'a self, event: &'a RawEvent) -> Result<&'a str, std::str::Utf8Error> {
        match &event.payload {
            Payload::Span(start, end) => std::str::from_utf8(&self.text[*start..*end]),
            Payload::Owned(text) => Ok(text),
        }
    }

    /// Where an event came from, for messages: `file:line 12` or `file: event 3`.
    pub fn locate(&self, event: &RawEvent) -> String {
        let unit = if self.by_line { "line" } else { "event" };
        format!("{}: {unit} {}", self.file.display(), event.position)
    }
}

/// Every regular file under `paths` (directories walked recursively), in name order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files)?;
    }
    Ok(files)
}

fn walk(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), (PathBuf, std::io::Error)> {
    let meta = std::fs::metadata(path).map_err(|e| (path.to_path_buf(), e))?;
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| (path.to_path_buf(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        walk(&entry, files)?;
    }
    Ok(())
}

/// Counts the bytes read from the file itself (compressed bytes for .gz), for progress.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a file, decompressing it when its first bytes are the gzip magic number.
pub fn open(path: &Path, counter: Arc<AtomicU64>) -> std::io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    let mut reader = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: file,
            counter,
        },
    );
    let gz = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    })
}

/// Why a file could not be read as events (it is skipped; others go on).
pub type FileError = String;

/// Reads one file and hands its events to `emit` in chunks. Returns the number of events.
pub fn read_events(
    file: &Arc<Path>,
    mut reader: Box<dyn BufRead + Send>,
    emit: &mut dyn FnMut(Chunk),
) -> Result<u64, FileError> {
    let io = |e: std::io::Error| format!("cannot read: {e}");
    let first = loop {
        let buf = reader.fill_buf().map_err(io)?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                reader.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    match first {
        None => Ok(0),
        Some(b'[') => {
            let mut text = String::new();
            reader.read_to_string(&mut text).map_err(io)?;
            emit_document(file, &text, emit)
        }
        Some(b'{') => {
            let mut first_line = Vec::new();
            reader.read_until(b'\n', &mut first_line).map_err(io)?;
            if serde_json::from_slice::<&RawValue>(&first_line).is_ok() {
                if is_document(&first_line) {
                    let mut rest = String::new();
                    reader.read_to_string(&mut rest).map_err(io)?;
                    let text = String::from_utf8(first_line).map_err(|e| e.to_string())? + &rest;
                    return emit_document(file, &text, emit);
                }
                return read_ndjson(file, first_line, reader, emit);
            }
            // Not one object per line: a pretty-printed document, or NDJSON with a bad first line.
            let mut text = first_line;
            reader.read_to_end(&mut text).map_err(io)?;
            match std::str::from_utf8(&text) {
                Ok(t) if serde_json::from_str::<&RawValue>(t).is_ok() => {
                    emit_document(file, t, emit)
                }
                _ => {
                    let rest: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text));
                    read_ndjson(file, Vec::new(), rest, emit)
                }
            }
        }
        Some(other) => Err(format!(
            "not JSON: starts with {:?}; expected NDJSON, a JSON array or a PutAuditEvents request",
            other as char
        )),
    }
}

fn is_document(line: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Keys<'a> {
        #[serde(rename = "auditEvents", borrow, default)]
        audit_events: Option<&'a RawValue>,
        #[serde(rename = "Records", borrow, default)]
        records: Option<&'a RawValue>,
    }
    serde_json::from_slice::<Keys>(line)
        .map(|k| k.audit_events.is_some() || k.records.is_some())
        .unwrap_or(false)
}

fn read_ndjson(
    file: &Arc<Path>,
    first_line: Vec<u8>,
    mut reader: Box<dyn BufRead + Send>,
    emit: &mut dyn FnMut(Chunk),
) -> Result<u64, FileError> {
    let mut chunk = Chunk::new(file, true);
    chunk.text = first_line;
    let mut line_no = 0u64;
    let mut start = 0usize;
    let mut count = 0u64;
    loop {
        // chunk.text[start..] holds at most one complete line here.
        if chunk.text.len() == start {
            let n = reader
                .read_until(b'\n', &mut chunk.text)
                .map_err(|e| format!("cannot read after line {line_no}: {e}"))?;
            if n == 0 {
                break;
            }
        }
        line_no += 1;
        let end = chunk.text.len();
        let mut trimmed = end;
        while trimmed > start && chunk.text[trimmed - 1].is_ascii_whitespace() {
            trimmed -= 1;
        }
        let mut first = start;
        while first < trimmed && chunk.text[first].is_ascii_whitespace() {
            first += 1;
        }
        if first < trimmed {
            chunk.events.push(RawEvent {
                position: line_no,
                id: None,
                payload: Payload::Span(first, trimmed),
                checksum: None,
            });
            count += 1;
        }
        start = end;
        if chunk.text.len() >= CHUNK_BYTES {
            emit(std::mem::replace(&mut chunk, Chunk::new(file, true)));
            start = 0;
        }
    }
    if !chunk.events.is_empty() {
        emit(chunk);
    }
    Ok(count)
}

/// A whole JSON document: a PutAuditEvents request, an array of audit events or of
/// eventData objects, or one eventData object.
fn emit_document(
    file: &Arc<Path>,
    text: &str,
    emit: &mut dyn FnMut(Chunk),
) -> Result<u64, FileError> {
    let value: &RawValue =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let events: Vec<RawEvent> = if value.get().starts_with('[') {
        let items: Vec<&RawValue> =
            serde_json::from_str(value.get()).map_err(|e| format!("not valid JSON: {e}"))?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| event_from_item(i as u64 + 1, item))
            .collect()
    } else if is_document(value.get().as_bytes()) {
        if text.contains("\"Records\"") && !text.contains("\"auditEvents\"") {
            return Err("this is a CloudTrail log file ({\"Records\": [...]}); load it with `auditlake import`, not `ingest`".to_string());
        }
        let request: PutAuditEventsRequest = serde_json::from_str(value.get())
            .map_err(|e| format!("not a PutAuditEvents request: {e}"))?;
        request
            .audit_events
            .into_iter()
            .enumerate()
            .map(|(i, e)| audit_event(i as u64 + 1, e))
            .collect()
    } else {
        vec![event_from_item(1, value)]
    };
    let count = events.len() as u64;
    for part in events.chunks(4096) {
        let mut chunk = Chunk::new(file, false);
        chunk.events = part.to_vec();
        emit(chunk);
    }
    Ok(count)
}

fn audit_event(position: u64, e: AuditEvent) -> RawEvent {
    RawEvent {
        position,
        id: Some(e.id),
        payload: Payload::Owned(e.event_data),
        checksum: e.event_data_checksum,
    }
}

fn event_from_item(position: u64, item: &RawValue) -> RawEvent {
    if let Ok(e) = serde_json::from_str::<AuditEvent>(item.get()) {
        return audit_event(position, e);
    }
    RawEvent {
        position,
        id: None,
        payload: Payload::Owned(item.get().to_string()),
        checksum: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<(u64, String)>, FileError> {
        let file: Arc<Path> = Arc::from(Path::new("t.json"));
        let reader: Box<dyn BufRead + Send> =
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut out = Vec::new();
        read_events(&file, reader, &mut |chunk| {
            for e in &chunk.events {
                out.push((e.position, chunk.payload(e).unwrap().to_string()));
            }
        })?;
        Ok(out)
    }

    #[test]
    fn ndjson_lines_keep_their_numbers() {
        let got = read("{\"a\":1}\n\n  {\"b\":2}\r\nnot json\n").unwrap();
        assert_eq!(
            got,
            vec![
                (1, "{\"a\":1}".into()),
                (3, "{\"b\":2}".into()),
                (4, "not json".into())
            ]
        );
    }

    #[test]
    fn arrays_and_requests() {
        let got = read("[{\"a\": 1}, {\"b\":2}]").unwrap();
        assert_eq!(got, vec![(1, "{\"a\": 1}".into()), (2, "{\"b\":2}".into())]);
        let got = read("{\n \"auditEvents\": [{\"id\":\"x\",\"eventData\":\"{\\\"a\\\":1}\"}]\n}")
            .unwrap();
        assert_eq!(got, vec![(1, "{\"a\":1}".into())]);
        let got = read("{\n \"a\": 1\n}").unwrap();
        assert_eq!(got, vec![(1, "{\n \"a\": 1\n}".into())]);
    }

    #[test]
    fn cloudtrail_logs_and_garbage_are_file_errors() {
        assert!(
            read("{\"Records\":[]}")
                .unwrap_err()
                .contains("auditlake import")
        );
        assert!(read("hello").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn a_bad_first_line_does_not_hide_the_rest() {
        let got = read("{oops\n{\"b\":2}\n").unwrap();
        assert_eq!(got.len(), 2);
    }
}
