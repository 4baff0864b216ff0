//! Private folders and files: what popug writes beside its log and database (Maildir
//! messages, payout files, the saved session) is its owner's alone, whatever the umask.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Makes sure `dir` is a private directory of this user: creates it (0700) if missing;
/// refuses a symbolic link or something that is not a directory, or a directory another
/// user owns; tightens a loosened mode back to 0700. For folders popug writes people's
/// messages into, where a planted link would send them elsewhere.
pub fn own_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(dir)?;
            return fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        }
        Err(e) => return Err(e),
    };
    let refuse = |why: &str| Err(io::Error::other(format!("{} {why}", dir.display())));
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link");
    }
    if !meta.is_dir() {
        return refuse("is not a directory");
    }
    // SAFETY: geteuid has no preconditions and cannot fail
    if meta.uid() != unsafe { libc::geteuid() } {
        return refuse("belongs to another user");
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates `path` new, readable by its owner only, without following a symbolic link
/// (`O_EXCL | O_NOFOLLOW`); a file left there by an interrupted write is replaced.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let open = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    };
    match open() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(path)?;
            open()
        }
        r => r,
    }
}

/// Fails unless this process may create and rename files in `dir` (`access(2)` with
/// `W_OK | X_OK`): checked before a message is staged, so that a folder whose mode was
/// changed defers the message instead of failing the round when it is moved into place.
pub fn writable_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("cannot write into {}: {e}", dir.display()),
        ));
    }
    Ok(())
}
