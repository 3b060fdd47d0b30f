//! `recvmmsg(2)` with preallocated slots: up to `vlen` datagrams and their senders per system
//! call, into buffers allocated once per socket (no allocation per call).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// The receive slots of one socket.
pub struct Mmsg {
    bufs: Vec<u8>,
    slot: usize,
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

// The raw pointers in `iovs`/`hdrs` only point into this struct's own heap buffers and are
// rewritten before every call; the struct moves between threads as a whole.
unsafe impl Send for Mmsg {}

impl Mmsg {
    /// `vlen` slots of `slot` bytes each (a longer datagram is truncated to `slot`).
    pub fn new(vlen: usize, slot: usize) -> Mmsg {
        let vlen = vlen.max(1);
        Mmsg {
            bufs: vec![0u8; vlen * slot],
            slot,
            // SAFETY: all-zero is a valid value of these plain C structs.
            addrs: vec![unsafe { std::mem::zeroed() }; vlen],
            iovs: vec![
                libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                };
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
    /// received, read back with `get`.
    pub fn recv(&mut self, fd: RawFd, flags: libc::c_int) -> std::io::Result<usize> {
        let base = self.bufs.as_mut_ptr();
        for i in 0..self.hdrs.len() {
            // SAFETY: i * slot + slot <= bufs.len() (bufs holds vlen slots).
            self.iovs[i].iov_base = unsafe { base.add(i * self.slot) }.cast();
            self.iovs[i].iov_len = self.slot;
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
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

    /// Datagram `i` of the last call and its sender (`None`: not an IP sender).
    pub fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let len = (self.hdrs[i].msg_len as usize).min(self.slot);
        let data = &self.bufs[i * self.slot..i * self.slot + len];
        (data, sockaddr(&self.addrs[i]))
    }
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
        let mut mm = Mmsg::new(2, 8);
        // blocking: waits for the first, takes what else is there (at most 2)
        let n = mm.recv(rx.as_raw_fd(), libc::MSG_WAITFORONE).unwrap();
        assert!((1..=2).contains(&n));
        let mut got: Vec<Vec<u8>> = Vec::new();
        for i in 0..n {
            let (d, from) = mm.get(i);
            assert_eq!(from, Some(tx.local_addr().unwrap()));
            got.push(d.to_vec());
        }
        while got.len() < 3 {
            let n = mm.recv(rx.as_raw_fd(), libc::MSG_WAITFORONE).unwrap();
            for i in 0..n {
                got.push(mm.get(i).0.to_vec());
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
        let mut mm = Mmsg::new(4, 64);
        let e = mm.recv(rx.as_raw_fd(), libc::MSG_DONTWAIT).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    }
}
