//! `ccr logs [--follow] [--lines N]`: the newest `ccr.log.<date>` file in
//! `~/.claude-code-router/logs` (or the daemon's output when file logging is off).

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};

use super::RuntimePaths;
use crate::logging::LOG_FILE_PREFIX;

/// How often `--follow` looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// Prints the last `lines` lines of the newest log file, then with `follow` keeps printing
/// what is appended (switching to the next file at the daily rotation).
pub fn logs(lines: usize, follow: bool) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    let Some(mut file_path) = latest_log(&paths) else {
        bail!(
            "no log files in {} (the service has not run yet, or LOG is false in the config)",
            paths.log_dir.display()
        );
    };
    let mut file =
        File::open(&file_path).with_context(|| format!("opening {}", file_path.display()))?;
    let mut pos =
        print_tail(&mut file, lines).with_context(|| format!("reading {}", file_path.display()))?;
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("==> following {} (Ctrl-C stops)", file_path.display());
    loop {
        std::thread::sleep(FOLLOW_POLL);
        let len = std::fs::metadata(&file_path).map(|m| m.len()).unwrap_or(0);
        if len < pos {
            pos = 0; // truncated
        }
        if len > pos {
            file.seek(SeekFrom::Start(pos))?;
            let mut buf = Vec::with_capacity((len - pos) as usize);
            (&mut file).take(len - pos).read_to_end(&mut buf)?;
            pos += buf.len() as u64;
            if !write_out(&buf) {
                return Ok(ExitCode::SUCCESS);
            }
        }
        // Daily rotation: a newer file appeared; finish this one and move on.
        if let Some(newer) = latest_log(&paths).filter(|p| *p != file_path) {
            if is_rotated_log(&newer) {
                eprintln!("==> following {}", newer.display());
                file =
                    File::open(&newer).with_context(|| format!("opening {}", newer.display()))?;
                file_path = newer;
                pos = 0;
            }
        }
    }
}

fn is_rotated_log(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(&format!("{LOG_FILE_PREFIX}.")))
}

/// The newest `ccr.log.<date>` (names sort by date), else a non-empty daemon output file.
fn latest_log(paths: &RuntimePaths) -> Option<PathBuf> {
    let newest = std::fs::read_dir(&paths.log_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| is_rotated_log(p) && p.is_file())
        .max();
    newest.or_else(|| {
        std::fs::metadata(&paths.daemon_output)
            .is_ok_and(|m| m.len() > 0)
            .then(|| paths.daemon_output.clone())
    })
}

/// Prints the last `n` lines of `file`. Returns the file length (where following
/// continues).
fn print_tail(file: &mut File, n: usize) -> std::io::Result<u64> {
    let (start, len) = tail_start(file, n)?;
    file.seek(SeekFrom::Start(start))?;
    let mut out = Vec::with_capacity((len - start) as usize);
    (&mut *file).take(len - start).read_to_end(&mut out)?;
    write_out(&out);
    Ok(len)
}

/// (offset of the n-th line from the end, file length), reading backwards in blocks (log
/// files can be large). A trailing newline ends the last line rather than starting one.
fn tail_start(file: &mut File, n: usize) -> std::io::Result<(u64, u64)> {
    const BLOCK: u64 = 64 * 1024;
    let len = file.seek(SeekFrom::End(0))?;
    if n == 0 {
        return Ok((len, len));
    }
    let mut start = len;
    let mut newlines = 0usize;
    let mut buf = vec![0u8; BLOCK as usize];
    while start > 0 {
        let read = BLOCK.min(start);
        start -= read;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..read as usize])?;
        for i in (0..read as usize).rev() {
            if buf[i] == b'\n' && start + i as u64 != len - 1 {
                newlines += 1;
                if newlines == n {
                    return Ok((start + i as u64 + 1, len));
                }
            }
        }
    }
    Ok((0, len))
}

/// Writes to stdout; false when stdout is gone (`ccr logs -f | head`).
fn write_out(bytes: &[u8]) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(text: &str, n: usize) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, text).unwrap();
        let mut f = File::open(&p).unwrap();
        let (start, len) = tail_start(&mut f, n).unwrap();
        assert_eq!(len, text.len() as u64);
        text[start as usize..].to_owned()
    }

    #[test]
    fn tail_handles_short_and_long_files() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\nb\nc\n", 10), "a\nb\nc\n");
        assert_eq!(tail("", 3), "");
        assert_eq!(tail("a\nb", 1), "b");
        assert_eq!(tail("a\nb\n", 0), "");
        let big: String = (0..20000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(tail(&big, 1), "line 19999\n");
    }
}
