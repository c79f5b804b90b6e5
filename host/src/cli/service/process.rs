//! The service's process: is it alive (and ours), and stopping it with SIGTERM, then
//! SIGKILL.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// How long `stop` waits after SIGTERM before sending SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL. Returns a note for the user.
pub(super) fn terminate(pid: u32) -> anyhow::Result<&'static str> {
    send_signal(pid, libc::SIGTERM)?;
    if wait_exit(pid, STOP_TIMEOUT) {
        return Ok("");
    }
    send_signal(pid, libc::SIGKILL)?;
    if wait_exit(pid, Duration::from_secs(2)) {
        return Ok(" after SIGKILL (it did not exit within 5 s of SIGTERM)");
    }
    bail!("process {pid} did not exit even after SIGKILL")
}

fn send_signal(pid: u32, signal: libc::c_int) -> anyhow::Result<()> {
    let pid_t = libc::pid_t::try_from(pid).context("pid out of range")?;
    // SAFETY: kill has no memory effects; pid_t is > 0 (checked when the pid file was read),
    // so this never signals a process group.
    let rc = unsafe { libc::kill(pid_t, signal) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        return Ok(()); // already gone
    }
    Err(err).with_context(|| format!("sending a signal to process {pid}"))
}

fn wait_exit(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !process_alive(pid)
}

/// True if `pid` is a live process (not a zombie) that looks like a ccr or CCR service.
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid_t <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission.
    let rc = unsafe { libc::kill(pid_t, 0) };
    if rc != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
        return false;
    }
    linux_process_check(pid)
}

/// On Linux, rule out zombies and pids reused by unrelated programs (the pid file outlived
/// a reboot): the command line must mention `ccr` or `claude-code-router` (CCR's own
/// service, which writes the same pid file). Elsewhere, existence is all we know.
fn linux_process_check(pid: u32) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !Path::new("/proc/self").exists() {
        return true;
    }
    if let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) {
        // Format: pid (comm) S ...; comm may contain spaces and parentheses.
        if let Some(state) = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
        {
            if state == "Z" || state == "X" {
                return false;
            }
        }
    }
    match fs::read(proc_dir.join("cmdline")) {
        Ok(cmdline) if !cmdline.is_empty() => {
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let argv0 = Path::new(&args[0])
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            argv0.contains("ccr") || args.iter().any(|a| a.contains("claude-code-router"))
        }
        Ok(_) => false, // kernel thread or exiting process
        Err(_) => true, // not readable (hidepid): trust kill(0)
    }
}
