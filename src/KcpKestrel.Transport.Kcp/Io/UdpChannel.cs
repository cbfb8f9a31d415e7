using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.Kcp.Io;

/// <summary>
/// One UDP socket owned by one I/O loop: drains it with recvmmsg, and queues outgoing datagrams in a
/// native batch that leaves in one sendmmsg per loop turn (or sooner, when the batch fills).
/// </summary>
internal sealed unsafe class UdpChannel : IDatagramChannel
{
    private readonly MessageBatch _send;
    private readonly KcpTransportCounters _counters;
    private bool _disposed;

    public UdpChannel(Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize)
    {
        Socket = socket;
        Fd = (int)socket.Handle;
        Receiver = receiver;
        _counters = counters;
        _send = new MessageBatch(64, slotSize);
    }

    public Socket Socket { get; }

    public int Fd { get; }

    public IDatagramReceiver Receiver { get; set; }

    /// <summary>Index in the owning loop's channel table (the epoll cookie).</summary>
    public int LoopIndex { get; set; } = -1;

    public bool FlushQueued { get; set; }

    public KcpIoLoop? Loop { get; set; }

    public int PendingSends => _send.Count;

    /// <summary>True once the socket and its native batch are gone: nothing may be queued any more.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The next free send slot; commit it with <see cref="CommitSend"/>. Loop thread only.</summary>
    public Span<byte> BeginSend()
    {
        if (_send.Count == _send.Capacity)
        {
            FlushSends();
        }

        return _send.Slot(_send.Count);
    }

    /// <summary>Queues the slot from <see cref="BeginSend"/>; an empty address sends on a connected socket.</summary>
    public void CommitSend(int length, ReadOnlySpan<byte> sockaddr)
    {
        _send.PrepareSend(_send.Count, length, sockaddr);
        _send.Count++;
        if (!FlushQueued)
        {
            FlushQueued = true;
            Loop?.QueueFlush(this);
        }
    }

    /// <summary>Sends everything queued. A full socket buffer drops the rest, counted: KCP retransmits.</summary>
    public void FlushSends()
    {
        var sent = 0;
        var waits = 0;
        var count = _send.Count;
        while (sent < count && !_disposed)
        {
            var n = LinuxNative.sendmmsg(Fd, _send.Headers + sent, (uint)(count - sent), LinuxNative.MSG_DONTWAIT);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LinuxNative.EINTR)
                {
                    continue;
                }

                // EAGAIN: the socket's buffer is full, which on loopback means the receiver has not
                // read yet. Wait briefly for room, as a blocking write would, rather than turn local
                // back-pressure into loss that KCP then has to retransmit.
                if (errno == LinuxNative.EAGAIN && waits < MaxSendWaits && WaitWritable())
                {
                    waits++;
                    continue;
                }

                // Still full, or another error (ECONNREFUSED on a connected socket whose peer is
                // gone, ENETUNREACH...): to UDP these are lost datagrams, and KCP retransmits.
                _counters.DatagramsDroppedOnSend += count - sent;
                break;
            }

            for (var i = sent; i < sent + n; i++)
            {
                _counters.BytesSent += (long)_send.Headers[i].Length;
            }

            _counters.DatagramsSent += n;
            _counters.SendCalls++;
            sent += n;
        }

        _send.Count = 0;
    }

    private const int MaxSendWaits = 8;

    private bool WaitWritable()
    {
        var pfd = new LinuxNative.PollFd { Fd = Fd, Events = LinuxNative.POLLOUT };
        _counters.SendWaits++;
        return LinuxNative.poll(&pfd, 1, 5) > 0;
    }

    /// <summary>Drains the socket into <paramref name="batch"/> until it would block, a bounded number of rounds for fairness.</summary>
    public void DrainReceive(MessageBatch batch, uint now)
    {
        for (var round = 0; round < 16 && !_disposed; round++)
        {
            batch.PrepareReceive();
            var n = LinuxNative.recvmmsg(Fd, batch.Headers, (uint)batch.Capacity, LinuxNative.MSG_DONTWAIT, null);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LinuxNative.EINTR)
                {
                    continue;
                }

                // EAGAIN ends the drain; ECONNREFUSED (an ICMP error on a connected socket) is not data.
                return;
            }

            _counters.ReceiveCalls++;
            for (var i = 0; i < n; i++)
            {
                var length = batch.ReceivedLength(i);
                _counters.DatagramsReceived++;
                _counters.BytesReceived += length;
                if (batch.IsTruncated(i) || length > batch.SlotSize)
                {
                    _counters.DroppedOversize++;
                    continue;
                }

                Receiver.OnDatagram(this, batch.Slot(i)[..length], batch.Address(i)[..batch.AddressLength(i)], now);
                if (_disposed)
                {
                    return;
                }
            }

            if (n < batch.Capacity)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Socket.Dispose();
        _send.Dispose();
    }
}
