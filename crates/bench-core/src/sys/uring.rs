//! io_uring for block I/O: a ring that owns one aligned buffer per slot, so
//! a buffer can never be freed or reused while the kernel still reads into
//! or writes from it. That ownership is the whole safety argument; the disk
//! engine on top only picks slots, offsets and directions.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::time::Duration;

use io_uring::{IoUring, opcode, types};

use super::aligned::AlignedBuf;

/// Whether an operation reads from the file into the slot's buffer or writes
/// the buffer to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// pread into the buffer.
    Read,
    /// pwrite from the buffer.
    Write,
}

/// One finished operation: its slot and the kernel's result (bytes
/// transferred, or a negated errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Completion {
    /// The slot given to [`BlockRing::queue`].
    pub slot: usize,
    /// Bytes transferred (≥ 0) or `-errno`.
    pub result: i32,
}

/// Why io_uring cannot be used here, or `Ok` when it can: the sysctl
/// `kernel.io_uring_disabled`, a failing `io_uring_setup` (ENOSYS on old or
/// stripped kernels, EPERM under seccomp or the sysctl) and the READ/WRITE
/// opcodes (Linux 5.6+).
pub(crate) fn support() -> Result<(), String> {
    if let Ok(text) = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        && text.trim() == "2"
    {
        return Err("io_uring is disabled (kernel.io_uring_disabled = 2)".to_owned());
    }
    let ring = IoUring::new(2).map_err(|e| format!("io_uring_setup failed: {e}"))?;
    let mut probe = io_uring::Probe::new();
    let supported = ring.submitter().register_probe(&mut probe).is_ok()
        && probe.is_supported(opcode::Read::CODE)
        && probe.is_supported(opcode::Write::CODE);
    if !supported {
        return Err(
            "this kernel's io_uring lacks IORING_OP_READ/WRITE (needs Linux 5.6+)".to_owned(),
        );
    }
    Ok(())
}

/// A ring set up as fio's io_uring engine does: completions are run when we
/// wait for them (`COOP_TASKRUN`, and `SINGLE_ISSUER|DEFER_TASKRUN` on 6.1+)
/// instead of interrupting the task with an IPI per completion, which in a
/// VM costs an exit each. Older kernels reject the flags (EINVAL): retry
/// without them, as fio does.
fn build_ring(entries: u32) -> io::Result<(IoUring, &'static str)> {
    type Configure = fn(&mut io_uring::Builder);
    let attempts: [(&'static str, Configure); 3] = [
        ("coop_taskrun+single_issuer+defer_taskrun", |b| {
            b.setup_coop_taskrun()
                .setup_single_issuer()
                .setup_defer_taskrun();
        }),
        ("coop_taskrun", |b| {
            b.setup_coop_taskrun();
        }),
        ("default", |_| {}),
    ];
    let mut last = None;
    for (name, configure) in attempts {
        let mut builder = IoUring::builder();
        builder.setup_cqsize(entries);
        configure(&mut builder);
        match builder.build(entries) {
            Ok(ring) => return Ok((ring, name)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EINVAL)))
}

/// An io_uring with `slots` owned buffers of `buffer_len` bytes, reading and
/// writing one file. At most one operation per slot is in flight; dropping
/// the ring waits for every operation still in flight before the buffers go.
pub(crate) struct BlockRing<'f> {
    ring: IoUring,
    fd: types::Fd,
    buffers: Vec<AlignedBuf>,
    busy: Vec<bool>,
    in_flight: usize,
    /// `IORING_FEAT_EXT_ARG` (Linux 5.11+): waits can time out.
    timed_waits: bool,
    setup: &'static str,
    /// The file must outlive the ring (it holds its fd number).
    _file: PhantomData<&'f File>,
}

impl<'f> BlockRing<'f> {
    /// A ring of `slots` entries on `file`, with a zeroed buffer of
    /// `buffer_len` bytes aligned to `align` per slot.
    pub(crate) fn new(
        file: &'f File,
        slots: usize,
        buffer_len: usize,
        align: usize,
    ) -> io::Result<Self> {
        let entries = u32::try_from(slots)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "slots out of range"))?;
        let (ring, setup) = build_ring(entries)?;
        let buffers = (0..slots)
            .map(|_| AlignedBuf::zeroed(buffer_len, align))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    "cannot allocate the I/O buffers",
                )
            })?;
        let timed_waits = ring.params().is_feature_ext_arg();
        Ok(BlockRing {
            ring,
            fd: types::Fd(file.as_raw_fd()),
            buffers,
            busy: vec![false; slots],
            in_flight: 0,
            timed_waits,
            setup,
            _file: PhantomData,
        })
    }

    /// The ring's setup flags, for facts (`coop_taskrun+defer_taskrun`, …).
    pub(crate) fn setup(&self) -> &'static str {
        self.setup
    }

    /// Number of slots.
    pub(crate) fn slots(&self) -> usize {
        self.buffers.len()
    }

    /// Operations queued or in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The buffer of an idle slot (to fill with data to write); `None` while
    /// the slot is in flight.
    pub(crate) fn buffer_mut(&mut self, slot: usize) -> Option<&mut [u8]> {
        match self.busy.get(slot) {
            Some(false) => Some(self.buffers[slot].as_mut_slice()),
            _ => None,
        }
    }

    /// Queues one operation on an idle slot: `bytes` of its buffer to or from
    /// the file at `offset`. It reaches the kernel at the next
    /// [`submit_and_wait`](Self::submit_and_wait).
    pub(crate) fn queue(
        &mut self,
        slot: usize,
        direction: Direction,
        offset: u64,
        bytes: Range<usize>,
    ) -> io::Result<()> {
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_owned());
        match self.busy.get(slot) {
            None => return Err(invalid("no such slot")),
            Some(true) => return Err(invalid("slot already in flight")),
            Some(false) => {}
        }
        let len = bytes.len();
        let len32 = u32::try_from(len).map_err(|_| invalid("transfer too large"))?;
        let region = self.buffers[slot]
            .as_mut_slice()
            .get_mut(bytes)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| invalid("range outside the slot's buffer"))?;
        let ptr = region.as_mut_ptr();
        let entry = match direction {
            Direction::Read => opcode::Read::new(self.fd, ptr, len32)
                .offset(offset)
                .build(),
            Direction::Write => opcode::Write::new(self.fd, ptr.cast_const(), len32)
                .offset(offset)
                .build(),
        }
        .user_data(slot as u64);
        // SAFETY: the entry points into the buffer of `slot`, which this ring
        // owns and which stays allocated and untouched (the slot is marked
        // busy, so `buffer_mut` refuses it) until its completion is reaped;
        // Drop waits for every in-flight operation before freeing buffers.
        // The fd belongs to a `File` that outlives the ring (`'f`).
        let pushed = unsafe { self.ring.submission().push(&entry) };
        pushed.map_err(|_| io::Error::other("io_uring submission queue full"))?;
        self.busy[slot] = true;
        self.in_flight += 1;
        Ok(())
    }

    /// Submits what is queued without waiting, and lets the kernel post the
    /// completions that are ready (`IORING_ENTER_GETEVENTS` with no minimum:
    /// with deferred task work, completions only reach the ring this way).
    /// This is fio's commit step, once per I/O by default.
    pub(crate) fn submit(&mut self) -> io::Result<()> {
        let pending = u32::try_from(self.ring.submission().len()).unwrap_or(u32::MAX);
        // SAFETY: every queued SQE points into a buffer this ring owns and
        // keeps until the completion is reaped (see `queue`); no extra
        // argument is passed (null, size of a sigset that is not read).
        let result = unsafe {
            self.ring.submitter().enter::<libc::sigset_t>(
                pending,
                0,
                io_uring::EnterFlags::GETEVENTS.bits(),
                None,
            )
        };
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EINTR | libc::EAGAIN | libc::EBUSY)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Submits what is queued and waits until at least `want` completions
    /// are ready or `timeout` passes (when the kernel supports timed waits).
    /// A wait cut short by a signal (EINTR) or the timeout is not an error:
    /// the caller looks at the completions and its interrupt flag.
    pub(crate) fn submit_and_wait(
        &mut self,
        want: usize,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let result = match timeout {
            Some(t) if self.timed_waits => {
                let ts = types::Timespec::from(t);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(want, &args)
            }
            _ => self.ring.submit_and_wait(want),
        };
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EINTR | libc::ETIME | libc::EAGAIN | libc::EBUSY)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Moves every ready completion into `out` (appending) and frees their
    /// slots.
    pub(crate) fn reap(&mut self, out: &mut Vec<Completion>) {
        for cqe in self.ring.completion() {
            let slot = cqe.user_data() as usize;
            if let Some(busy) = self.busy.get_mut(slot)
                && *busy
            {
                *busy = false;
                self.in_flight -= 1;
            }
            out.push(Completion {
                slot,
                result: cqe.result(),
            });
        }
    }

    /// Waits for everything in flight (completions are discarded).
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        let mut scratch = Vec::with_capacity(self.slots());
        while self.in_flight > 0 {
            self.submit_and_wait(1, Some(Duration::from_millis(100)))?;
            scratch.clear();
            self.reap(&mut scratch);
        }
        Ok(())
    }
}

impl Drop for BlockRing<'_> {
    fn drop(&mut self) {
        if self.drain().is_err() {
            // The kernel may still use the buffers: leaking them is the only
            // sound choice left (this does not happen with a working ring).
            std::mem::forget(std::mem::take(&mut self.buffers));
        }
    }
}

impl std::fmt::Debug for BlockRing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockRing")
            .field("slots", &self.buffers.len())
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    #[test]
    fn reads_and_writes_through_owned_buffers() {
        if let Err(reason) = support() {
            eprintln!("skipped: {reason}");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("f"))
            .unwrap();
        file.write_all_at(&[0u8; 8192], 0).unwrap();
        let mut ring = BlockRing::new(&file, 2, 4096, 4096).unwrap();
        ring.buffer_mut(0).unwrap().fill(0xAB);
        ring.queue(0, Direction::Write, 4096, 0..4096).unwrap();
        assert!(ring.buffer_mut(0).is_none(), "busy slot is not writable");
        assert!(
            ring.queue(0, Direction::Read, 0, 0..4096).is_err(),
            "slot busy"
        );
        assert!(
            ring.queue(1, Direction::Read, 0, 0..5000).is_err(),
            "past the buffer"
        );
        assert!(
            ring.queue(9, Direction::Read, 0, 0..1).is_err(),
            "no slot 9"
        );
        let mut done = Vec::new();
        while ring.in_flight() > 0 {
            ring.submit_and_wait(1, Some(Duration::from_millis(100)))
                .unwrap();
            ring.reap(&mut done);
        }
        assert_eq!(
            done,
            vec![Completion {
                slot: 0,
                result: 4096
            }]
        );
        ring.queue(1, Direction::Read, 4096, 0..4096).unwrap();
        ring.drain().unwrap();
        assert!(ring.buffer_mut(1).unwrap().iter().all(|&b| b == 0xAB));
        let mut check = [0u8; 4096];
        file.read_exact_at(&mut check, 4096).unwrap();
        assert!(check.iter().all(|&b| b == 0xAB));
        // An error comes back as a negative errno, not a panic.
        ring.queue(0, Direction::Read, u64::MAX - 10, 0..4096)
            .unwrap();
        done.clear();
        while ring.in_flight() > 0 {
            ring.submit_and_wait(1, None).unwrap();
            ring.reap(&mut done);
        }
        assert!(done[0].result < 0, "{done:?}");
    }
}
