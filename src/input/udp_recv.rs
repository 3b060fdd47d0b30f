//! `recvmmsg(2)` with preallocated slots, for the datagram inputs (imudp, imuxsock): up to
//! `vlen` datagrams per system call, with their senders' addresses and control messages
//! (imuxsock's `SCM_CREDENTIALS`) when asked for, into buffers allocated once per socket (no
//! allocation per call).
//!
//! Each slot is a small head (`HEAD` bytes, all heads side by side) followed, for longer
//! datagrams, by its own tail up to the slot's capacity in a second region that is reserved but
//! never written by us: a page there becomes resident only when a datagram that long arrives,
//! so short datagrams keep the resident memory at `vlen` × `HEAD` bytes whatever the capacity.

use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Head bytes of each slot: a datagram up to this long is read in place.
const HEAD: usize = 2048;

/// What the slots receive besides the datagram.
#[derive(Debug, Clone, Copy, Default)]
pub struct Want {
    /// The sender's address (`msg_name`).
    pub addr: bool,
    /// Room for this many bytes of control messages per slot (`msg_control`; 0: none).
    pub control: usize,
}

/// The receive slots of one socket.
pub struct Mmsg {
    /// Capacity of one slot (a longer datagram is truncated to it).
    cap: usize,
    head: usize,
    heads: Vec<u8>,
    /// `vlen` × (cap − head) bytes, reserved, written only by the kernel.
    tails: Vec<MaybeUninit<u8>>,
    /// A datagram longer than its head, made contiguous by `data`.
    joined: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    want: Want,
    /// Control buffers, `ctrl_words` u64s per slot (u64: the alignment `cmsghdr` needs).
    ctrl: Vec<u64>,
    ctrl_words: usize,
    iovs: Vec<[libc::iovec; 2]>,
    hdrs: Vec<libc::mmsghdr>,
}

// The raw pointers in `iovs`/`hdrs` only point into this struct's own heap buffers and are
// rewritten before every call; the struct moves between threads as a whole.
unsafe impl Send for Mmsg {}

impl Mmsg {
    /// `vlen` slots of `cap` bytes each (a longer datagram is truncated to `cap`).
    pub fn new(vlen: usize, cap: usize, want: Want) -> Mmsg {
        let vlen = vlen.max(1);
        let cap = cap.max(1);
        let head = cap.min(HEAD);
        let ctrl_words = want.control.div_ceil(8);
        Mmsg {
            cap,
            head,
            heads: vec![0u8; vlen * head],
            tails: Vec::with_capacity(vlen * (cap - head)),
            joined: Vec::new(),
            // SAFETY: all-zero is a valid value of these plain C structs.
            addrs: if want.addr {
                vec![unsafe { std::mem::zeroed() }; vlen]
            } else {
                Vec::new()
            },
            want,
            ctrl: vec![0u64; vlen * ctrl_words],
            ctrl_words,
            iovs: vec![
                [libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                }; 2];
                vlen
            ],
            // SAFETY: as above.
            hdrs: vec![unsafe { std::mem::zeroed() }; vlen],
        }
    }

    /// How many datagrams one call can return.
    pub fn vlen(&self) -> usize {
        self.hdrs.len()
    }

    /// One `recvmmsg` call with `flags` (e.g. `MSG_DONTWAIT`): the number of datagrams
    /// received, read back with `data`, `addr` and `control`.
    pub fn recv(&mut self, fd: RawFd, flags: libc::c_int) -> std::io::Result<usize> {
        let heads = self.heads.as_mut_ptr();
        let tails = self.tails.as_mut_ptr();
        let tail = self.cap - self.head;
        let ctrl = self.ctrl.as_mut_ptr();
        for i in 0..self.hdrs.len() {
            // SAFETY: i * head + head <= heads.len() and i * tail + tail <= the capacity of
            // `tails` (each holds vlen slots); pointers only, nothing is read here.
            self.iovs[i][0] = libc::iovec {
                iov_base: unsafe { heads.add(i * self.head) }.cast(),
                iov_len: self.head,
            };
            self.iovs[i][1] = libc::iovec {
                iov_base: unsafe { tails.add(i * tail) }.cast(),
                iov_len: tail,
            };
            let h = &mut self.hdrs[i].msg_hdr;
            if self.want.addr {
                h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
                h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            } else {
                h.msg_name = std::ptr::null_mut();
                h.msg_namelen = 0;
            }
            h.msg_iov = self.iovs[i].as_mut_ptr();
            h.msg_iovlen = if tail > 0 { 2 } else { 1 };
            if self.ctrl_words > 0 {
                // SAFETY: as above, within `ctrl`.
                h.msg_control = unsafe { ctrl.add(i * self.ctrl_words) }.cast();
                h.msg_controllen = (self.ctrl_words * 8) as _;
            } else {
                h.msg_control = std::ptr::null_mut();
                h.msg_controllen = 0;
            }
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points at live buffers of the sizes it states, owned by self
        // and not touched elsewhere during the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                self.hdrs.len() as libc::c_uint,
                flags,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Datagram `i` of the last call (at most the slot's capacity).
    pub fn data(&mut self, i: usize) -> &[u8] {
        let len = (self.hdrs[i].msg_len as usize).min(self.cap);
        let h = &self.heads[i * self.head..(i + 1) * self.head];
        if len <= self.head {
            return &h[..len];
        }
        let tail = self.cap - self.head;
        // SAFETY: the kernel wrote len - head bytes into slot i's tail in the last call
        // (msg_len counts the bytes written over both iovecs, head first), so they are
        // initialised; the range lies within the tail's share of the capacity.
        let t = unsafe {
            std::slice::from_raw_parts(
                self.tails.as_ptr().add(i * tail).cast::<u8>(),
                len - self.head,
            )
        };
        self.joined.clear();
        self.joined.extend_from_slice(h);
        self.joined.extend_from_slice(t);
        &self.joined
    }

    /// The sender of datagram `i` (`None`: not asked for, or not an IP sender).
    pub fn addr(&self, i: usize) -> Option<SocketAddr> {
        self.addrs.get(i).and_then(sockaddr)
    }

    /// The `SCM_CREDENTIALS` control message of datagram `i`, if the kernel passed one.
    pub fn cred(&self, i: usize) -> Option<super::creds::Cred> {
        if self.ctrl_words == 0 {
            return None;
        }
        let h = &self.hdrs[i].msg_hdr;
        let mut cred = None;
        // SAFETY: `h` is the header the kernel filled in the last call: msg_control points at
        // slot i's control buffer and msg_controllen says how much of it the kernel wrote;
        // the CMSG macros stay within that length.
        unsafe {
            let mut cm = libc::CMSG_FIRSTHDR(h);
            while !cm.is_null() {
                if (*cm).cmsg_level == libc::SOL_SOCKET && (*cm).cmsg_type == libc::SCM_CREDENTIALS
                {
                    let u: libc::ucred = std::ptr::read_unaligned(libc::CMSG_DATA(cm).cast());
                    cred = Some(super::creds::Cred {
                        pid: u.pid,
                        uid: u.uid,
                        gid: u.gid,
                    });
                }
                cm = libc::CMSG_NXTHDR(h, cm);
            }
        }
        cred
    }
}

/// Control bytes per slot for one `SCM_CREDENTIALS` message.
pub fn cred_space() -> usize {
    // SAFETY: CMSG_SPACE is arithmetic on its argument.
    unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::ucred>() as u32) as usize }
}

fn sockaddr(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match s.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in (smaller, same alignment).
            let a: &libc::sockaddr_in = unsafe { &*(s as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let a: &libc::sockaddr_in6 = unsafe { &*(s as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    const ADDR: Want = Want {
        addr: true,
        control: 0,
    };

    #[test]
    fn receives_several_datagrams_and_senders() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        for m in [&b"one"[..], b"two", b"a longer third datagram"] {
            tx.send_to(m, to).unwrap();
        }
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut mm = Mmsg::new(2, 8, ADDR);
        // blocking: waits for the first, takes what else is there (at most 2)
        let n = mm.recv(rx.as_raw_fd(), libc::MSG_WAITFORONE).unwrap();
        assert!((1..=2).contains(&n));
        let mut got: Vec<Vec<u8>> = Vec::new();
        for i in 0..n {
            assert_eq!(mm.addr(i), Some(tx.local_addr().unwrap()));
            got.push(mm.data(i).to_vec());
        }
        while got.len() < 3 {
            let n = mm.recv(rx.as_raw_fd(), libc::MSG_WAITFORONE).unwrap();
            for i in 0..n {
                got.push(mm.data(i).to_vec());
            }
        }
        // the third is truncated to the 8-byte slot
        assert_eq!(
            got,
            vec![b"one".to_vec(), b"two".to_vec(), b"a longer".to_vec()]
        );
    }

    #[test]
    fn empty_socket_would_block() {
        let rx = std::net::UdpSocket::bind("[::1]:0")
            .or_else(|_| std::net::UdpSocket::bind("127.0.0.1:0"))
            .unwrap();
        let mut mm = Mmsg::new(4, 64, ADDR);
        let e = mm.recv(rx.as_raw_fd(), libc::MSG_DONTWAIT).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    }

    /// Datagrams longer than a slot's head arrive whole (head and tail joined), up to the
    /// capacity, next to short ones in the same call; each slot keeps its own credentials.
    #[test]
    fn long_datagrams_and_credentials_per_slot() {
        use std::os::unix::net::UnixDatagram;
        let (rx, tx) = UnixDatagram::pair().unwrap();
        nix::sys::socket::setsockopt(&rx, nix::sys::socket::sockopt::PassCred, &true).unwrap();
        let cap = 3 * HEAD + 100;
        let long: Vec<u8> = (0..cap + 50).map(|i| b'a' + (i % 26) as u8).collect();
        let exact: Vec<u8> = long[..HEAD + 1].to_vec();
        let sent: Vec<&[u8]> = vec![b"short", &long, &exact, b"", &long[..HEAD]];
        for m in &sent {
            tx.send(m).unwrap();
        }
        let mut mm = Mmsg::new(
            8,
            cap,
            Want {
                addr: false,
                control: cred_space(),
            },
        );
        let n = mm.recv(rx.as_raw_fd(), libc::MSG_DONTWAIT).unwrap();
        assert_eq!(n, sent.len());
        let me = std::process::id() as i32;
        for (i, m) in sent.iter().enumerate() {
            let want = &m[..m.len().min(cap)];
            assert_eq!(mm.data(i), want, "datagram {i}");
            let c = mm.cred(i).expect("credentials");
            assert_eq!(c.pid, me);
            assert_eq!(c.uid, nix::unistd::getuid().as_raw());
            assert_eq!(mm.addr(i), None);
        }
    }
}
