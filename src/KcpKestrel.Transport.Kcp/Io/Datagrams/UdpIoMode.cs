namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>How an I/O loop waits and moves datagrams.</summary>
internal enum UdpIoMode
{
    /// <summary>Linux: epoll, eventfd, recvmmsg and sendmmsg through P/Invoke ("epoll", also "native").</summary>
    Native,

    /// <summary>Any OS: Socket.Select with a loopback wake socket, ReceiveFrom and SendTo one datagram at a time.</summary>
    Socket,

    /// <summary>Linux 6.1+: one io_uring per loop, multishot RECVMSG into provided buffers, batched SENDMSG ("iouring").</summary>
    IoUring,
}
