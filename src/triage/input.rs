//! Where the text comes from and how it is read: an argument, standard input or a file,
//! gzip-compressed or not (told by its first bytes), read ahead on a second thread.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::result::{ReadSummary, TriageResult};
use super::scan;

/// Undoes the escaping of JSON and Go-quoted strings, so that messages nested in event
/// bodies (`\"`, `\u0027`) match the same patterns as plain ones.
pub(super) fn normalize(text: &str) -> String {
    text.replace("\\\\\"", "\"")
        .replace("\\\"", "\"")
        .replace("\\u0027", "'")
        .replace("\\u0026", "&")
        .replace("\\u003c", "<")
        .replace("\\u003e", ">")
}

/// Where the text comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Text given on the command line.
    Text(String),
    /// Standard input, read to its end.
    Stdin,
    /// A file, read to its end.
    File(PathBuf),
}

/// Reads pasted text and names the causes its messages point to, most likely first.
pub fn triage(text: &str) -> TriageResult {
    scan::triage_reader(text.as_bytes(), ReadSummary::new("argument", None))
}

/// Reads any amount of text from `reader` (gzip-compressed or not, told by its first bytes).
pub fn triage_reader<R: Read>(reader: R) -> TriageResult {
    read_maybe_gzip(reader, ReadSummary::new("stdin", None))
}

/// Reads the input to its end and names the causes; an error only when it cannot be opened.
/// Standard input and files are read (and decompressed) by a second thread, ahead of the scan.
pub fn triage_input(input: Input) -> Result<TriageResult, String> {
    match input {
        Input::Text(text) => Ok(triage(&text)),
        Input::Stdin => Ok(read_ahead_maybe_gzip(
            std::io::stdin(),
            ReadSummary::new("stdin", None),
        )),
        Input::File(path) => {
            let shown = path.display().to_string();
            let file = std::fs::File::open(&path).map_err(|e| format!("{shown}: {e}"))?;
            if file.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(format!("{shown}: is a directory"));
            }
            Ok(read_ahead_maybe_gzip(
                file,
                ReadSummary::new("file", Some(shown)),
            ))
        }
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads the first two bytes: gzip when they are its magic number (1f 8b), whatever the file
/// is called. Returns them with the reader, and the error if reading them failed.
fn peek_gzip<R: Read>(
    mut reader: R,
) -> (
    bool,
    std::io::Chain<std::io::Cursor<Vec<u8>>, R>,
    Option<String>,
) {
    let mut head = [0u8; 2];
    let mut n = 0;
    let mut error = None;
    while n < head.len() {
        match reader.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let gzip = head[..n] == [0x1f, 0x8b];
    (
        gzip,
        std::io::Cursor::new(head[..n].to_vec()).chain(reader),
        error,
    )
}

fn finish_read(
    mut result: TriageResult,
    count: Option<&AtomicU64>,
    head_error: Option<String>,
) -> TriageResult {
    if let Some(count) = count {
        result.read.compressed_bytes = Some(count.load(Ordering::Relaxed));
    }
    if let Some(e) = head_error {
        result.read.complete = false;
        result.read.error.get_or_insert(e);
    }
    result
}

/// Concatenated gzip members (as `cat a.gz b.gz` makes) are read one after the other.
fn read_maybe_gzip<R: Read>(reader: R, mut read: ReadSummary) -> TriageResult {
    let (gzip, stream, head_error) = peek_gzip(reader);
    if gzip {
        read.gzip = true;
        let count = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: stream,
            count: count.clone(),
        };
        let result = scan::triage_reader(flate2::read::MultiGzDecoder::new(counted), read);
        finish_read(result, Some(&count), head_error)
    } else {
        finish_read(scan::triage_reader(stream, read), None, head_error)
    }
}

/// As [`read_maybe_gzip`], with reading and decompressing on a second thread.
fn read_ahead_maybe_gzip<R: Read + Send + 'static>(
    reader: R,
    mut read: ReadSummary,
) -> TriageResult {
    let (gzip, stream, head_error) = peek_gzip(reader);
    if gzip {
        read.gzip = true;
        let count = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: stream,
            count: count.clone(),
        };
        let decoder = flate2::read::MultiGzDecoder::new(counted);
        let result = scan::triage_reader(ReadAhead::spawn(decoder), read);
        finish_read(result, Some(&count), head_error)
    } else {
        let result = scan::triage_reader(ReadAhead::spawn(stream), read);
        finish_read(result, None, head_error)
    }
}

/// Reads on its own thread into a few blocks ahead of the consumer (at most
/// `READ_AHEAD_BLOCKS` × 256 KiB in flight), so that reading and decompressing overlap the scan.
struct ReadAhead {
    blocks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

const READ_AHEAD_BLOCKS: usize = 4;
const READ_AHEAD_BYTES: usize = 256 << 10;

impl ReadAhead {
    fn spawn<R: Read + Send + 'static>(mut reader: R) -> ReadAhead {
        let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD_BLOCKS);
        std::thread::spawn(move || loop {
            let mut block = vec![0u8; READ_AHEAD_BYTES];
            match reader.read(&mut block) {
                Ok(0) => break,
                Ok(n) => {
                    block.truncate(n);
                    if tx.send(Ok(block)).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        });
        ReadAhead {
            blocks: rx,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.current.len() {
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    self.current = block;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The reader finished (end of input): its sender is gone.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use crate::triage::codes;

    #[test]
    fn escaped_json_bodies_match() {
        let got = codes(
            r#"denied: {\"errors\":[{\"code\":\"DENIED\",\"message\":\"client with IP \u0027203.0.113.7\u0027 is not allowed access.\"}]}"#,
        );
        assert_eq!(
            got.first().map(String::as_str),
            Some("CONNECTIVITY_FORBIDDEN_ERROR")
        );
    }
}
