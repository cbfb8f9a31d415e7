using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// One UDP socket owned by one I/O loop: drains it with recvmmsg, and queues outgoing datagrams in a
/// native batch that leaves in one sendmmsg per loop turn (or sooner, when the batch fills). Where
/// the kernel has them, runs of same-size datagrams to one peer leave as single UDP GSO messages,
/// and GRO-coalesced receives are split back into their datagrams.
/// </summary>
internal sealed unsafe class UdpChannel : IDatagramChannel
{
    private readonly MessageBatch _send;
    private readonly GsoMessageBatch? _gsoMessages;
    private readonly KcpTransportCounters _counters;
    private readonly int _datagramLimit;
    private KernelDropCount _kernelDrops;
    private bool _gso;
    private bool _disposed;

    /// <param name="socket">The UDP socket, bound or connected.</param>
    /// <param name="receiver">Gets every received datagram.</param>
    /// <param name="counters">The owning loop's counters.</param>
    /// <param name="slotSize">Largest datagram sent or received.</param>
    /// <param name="gso">Use UDP GSO if the kernel has it.</param>
    /// <param name="gro">Use UDP GRO if the kernel has it.</param>
    public UdpChannel(Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize, bool gso = false, bool gro = false)
    {
        Socket = socket;
        Fd = (int)socket.Handle;
        Receiver = receiver;
        _counters = counters;
        _datagramLimit = slotSize;
        _send = new MessageBatch(64, slotSize);
        _gso = UdpOffload.TryEnableGso(socket, gso);
        _gsoMessages = _gso ? new GsoMessageBatch(_send.Capacity) : null;
        GroEnabled = UdpOffload.TryEnableGro(socket, gro);
    }

    /// <summary>True while sends are grouped into UDP GSO messages (off for good after the kernel refused one).</summary>
    public bool GsoEnabled => _gso;

    /// <summary>True when the socket has UDP_GRO on: receives need the loop's large GRO batch.</summary>
    public bool GroEnabled { get; }

    public Socket Socket { get; }

    public int Fd { get; }

    public IDatagramReceiver Receiver { get; set; }

    /// <summary>Index in the owning loop's channel table (the epoll cookie).</summary>
    public int LoopIndex { get; set; } = -1;

    public bool FlushQueued { get; set; }

    public IDatagramLoop? Loop { get; set; }

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
        var count = _send.Count;
        var from = 0;
        if (_gso && count > 1)
        {
            from = FlushSegmented(count);
        }

        if (from < count)
        {
            FlushPlain(from, count);
        }

        _send.Count = 0;
    }

    /// <summary>Sends the batch as GSO messages; returns the first datagram still to send plainly (count when done).</summary>
    private int FlushSegmented(int count)
    {
        var messages = _gsoMessages!;
        messages.Build(_send);
        if (messages.SegmentedCount == 0)
        {
            // Nothing to coalesce: the plain path sends the very same messages.
            return 0;
        }

        var sent = 0;
        var waits = 0;
        while (sent < messages.Count && !_disposed)
        {
            var n = LinuxNative.sendmmsg(Fd, messages.Headers + sent, (uint)(messages.Count - sent), LinuxNative.MSG_DONTWAIT);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LinuxNative.EINTR)
                {
                    continue;
                }

                if (errno == LinuxNative.EAGAIN && waits < MaxSendWaits && WaitWritable())
                {
                    waits++;
                    continue;
                }

                // The kernel has UDP_SEGMENT but this route or device cannot segment (no checksum
                // offload, xfrm, a segment larger than the path MTU...): stop trying on this socket
                // and send these datagrams one by one, so nothing is lost to the attempt.
                if (messages.SlotCount(sent) > 1 && IsOffloadRefusal(errno))
                {
                    _gso = false;
                    _counters.GsoDisabled++;
                    return messages.FirstSlot(sent);
                }

                _counters.DatagramsDroppedOnSend += count - messages.FirstSlot(sent);
                return count;
            }

            for (var i = sent; i < sent + n; i++)
            {
                var segments = messages.SlotCount(i);
                _counters.BytesSent += (long)messages.Headers[i].Length;
                _counters.DatagramsSent += segments;
                if (segments > 1)
                {
                    _counters.GsoMessagesSent++;
                    _counters.GsoSegmentsSent += segments;
                }
            }

            _counters.SendCalls++;
            sent += n;
        }

        return count;
    }

    private static bool IsOffloadRefusal(int errno) => errno is LinuxNative.EIO or LinuxNative.EINVAL or LinuxNative.EOPNOTSUPP
        or LinuxNative.EMSGSIZE or LinuxNative.ENOPROTOOPT;

    private void FlushPlain(int from, int count)
    {
        var sent = from;
        var waits = 0;
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
    }

    private const int MaxSendWaits = 8;

    private bool WaitWritable()
    {
        var pfd = new LinuxNative.PollFd { Fd = Fd, Events = LinuxNative.POLLOUT };
        _counters.SendWaits++;
        return LinuxNative.poll(&pfd, 1, 5) > 0;
    }

    /// <summary>
    /// Drains the socket into <paramref name="batch"/> (or, with GRO on, the loop's GRO batch of
    /// fewer, 64 KiB slots) until it would block, a bounded number of rounds for fairness.
    /// </summary>
    public void DrainReceive(MessageBatch batch, uint now)
    {
        if (GroEnabled && Loop is not null)
        {
            batch = Loop.GroReceiveBatch;
        }

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
            if (round > 0)
            {
                // A round takes a while under load: acknowledgements read late must not look like short round trips.
                now = KcpIoLoop.NowMs;
            }

            for (var i = 0; i < n; i++)
            {
                var length = batch.ReceivedLength(i);
                _kernelDrops.Observe(batch.ReceivedControl(i), _counters);
                if (batch.IsTruncated(i) || length > batch.SlotSize)
                {
                    // A cut buffer cannot be split or parsed safely: drop it whole.
                    DatagramDelivery.DropTruncated(_counters, length);
                    continue;
                }

                var segmentSize = GroEnabled ? batch.GroSegmentSize(i) : 0;
                var address = batch.Address(i)[..batch.AddressLength(i)];
                if (!DatagramDelivery.Deliver(this, _counters, batch.Slot(i)[..length], segmentSize, address, _datagramLimit, now))
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
        _gsoMessages?.Dispose();
    }
}
