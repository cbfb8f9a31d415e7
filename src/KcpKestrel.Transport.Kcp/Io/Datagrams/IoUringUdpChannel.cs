using System.Net.Sockets;
using KcpKestrel.IoUring;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// One UDP socket on an io_uring loop. Receives come from the poller's multishot RECVMSG, one
/// provided buffer per completion (split when GRO coalesced several datagrams). Sends queue in a
/// native batch, as on the epoll path, and leave at the end of the loop's turn as one SENDMSG per
/// message, submitted with the loop's next wait; runs of same-size datagrams to one peer go as UDP GSO messages.
/// </summary>
internal sealed unsafe class IoUringUdpChannel : IDatagramChannel
{
    private const int MaxSendWaits = 8;

    private readonly IoUringLoopPoller _poller;
    private readonly MessageBatch _send;
    private readonly GsoMessageBatch? _gsoMessages;
    private readonly KcpTransportCounters _counters;
    private readonly int _datagramLimit;
    private readonly int[] _which;
    private readonly int[] _results;
    private KernelDropCount _kernelDrops;
    private bool _gso;
    private bool _deferred;
    private LinuxNative.MMsgHdr* _deferredHeaders;
    private GsoMessageBatch? _deferredGso;
    private int _deferredCount;
    private bool _disposed;

    public IoUringUdpChannel(IoUringLoopPoller poller, Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize, bool gso, bool gro)
    {
        _poller = poller;
        Socket = socket;
        Fd = (int)socket.Handle;
        Receiver = receiver;
        _counters = counters;
        _datagramLimit = slotSize;
        _send = new MessageBatch(64, slotSize);
        _which = new int[_send.Capacity];
        _results = new int[_send.Capacity];
        _gso = UdpOffload.TryEnableGso(socket, gso);
        _gsoMessages = _gso ? new GsoMessageBatch(_send.Capacity) : null;
        GroEnabled = UdpOffload.TryEnableGro(socket, gro);
    }

    public Socket Socket { get; }

    public int Fd { get; }

    /// <summary>True when the socket has UDP_GRO on: its receives use the poller's 64 KiB buffers.</summary>
    public bool GroEnabled { get; private set; }

    /// <summary>Turns UDP_GRO off on the socket (the poller has no 64 KiB buffers for it). Before the receive is armed.</summary>
    public void DisableGro()
    {
        UdpOffload.TryDisableGro(Socket);
        GroEnabled = false;
    }

    /// <summary>True while sends are grouped into UDP GSO messages.</summary>
    public bool GsoEnabled => _gso;

    /// <summary>Tells this channel's completions from those of a channel that had its loop slot before.</summary>
    public uint Generation { get; set; }

    /// <summary>True while the poller keeps a receive armed for this channel.</summary>
    public bool Armed { get; set; }

    public IDatagramReceiver Receiver { get; set; }

    public int LoopIndex { get; set; } = -1;

    public bool FlushQueued { get; set; }

    public IDatagramLoop? Loop { get; set; }

    public int PendingSends => _send.Count;

    public bool IsDisposed => _disposed;

    public Span<byte> BeginSend()
    {
        if (_deferred)
        {
            // The last batch is still in the ring (only a caller outside the loop's turn gets here).
            _poller.FlushDeferred();
        }

        if (_send.Count == _send.Capacity)
        {
            // The slots are needed now: this batch cannot wait for the loop's next enter.
            Flush(defer: false);
        }

        return _send.Slot(_send.Count);
    }

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

    /// <summary>
    /// Queues the batch's SENDMSGs in the ring; they leave with the loop's next enter, the one that
    /// also waits and receives, so a busy turn costs one system call. The slots stay untouched until
    /// the poller hands the results back (<see cref="FinishDeferred"/>), before anything else runs.
    /// </summary>
    public void FlushSends() => Flush(defer: true);

    private void Flush(bool defer)
    {
        var count = _send.Count;
        if (count == 0 || _disposed)
        {
            _send.Count = 0;
            return;
        }

        if (_deferred)
        {
            _poller.FlushDeferred();
        }

        // Build reads the queued lengths, so the count is reset only once the batch is on its way.
        var gso = _gso && count > 1 && BuildGsoMessages() ? _gsoMessages : null;
        var headers = gso is null ? _send.Headers : gso.Headers;
        var messages = gso is null ? count : gso.Count;
        for (var i = 0; i < messages; i++)
        {
            _which[i] = i;
        }

        if (defer)
        {
            _deferred = true;
            _deferredHeaders = headers;
            _deferredGso = gso;
            _deferredCount = messages;
            _poller.DeferSends(this, headers, _which.AsSpan(0, messages));
            _counters.SendCalls++;
        }
        else
        {
            Send(headers, gso, messages, submitted: false);
        }

        _send.Count = 0;
    }

    private bool BuildGsoMessages()
    {
        _gsoMessages!.Build(_send);
        return _gsoMessages.SegmentedCount > 0;
    }

    /// <summary>The result of deferred SENDMSG <paramref name="position"/> (bytes or -errno). Poller only.</summary>
    public void OnDeferredResult(int position, int result) => _results[position] = result;

    /// <summary>Every deferred SENDMSG has its result: count them, retry what met a full buffer. Poller only.</summary>
    public void FinishDeferred()
    {
        if (!_deferred)
        {
            return;
        }

        _deferred = false;
        Send(_deferredHeaders, _deferredGso, _deferredCount, submitted: true);
    }

    /// <summary>
    /// Sends messages <c>_which[0..pending)</c> of <paramref name="headers"/> (GSO messages when
    /// <paramref name="gso"/> describes them), or only tallies them when <paramref name="submitted"/>
    /// (their results are in <c>_results</c>). Each SENDMSG stands alone, so unlike sendmmsg one failure
    /// does not stop the rest: a full buffer (EAGAIN) is retried after a brief wait for room, a GSO
    /// refusal turns GSO off and resends that message's datagrams plainly, anything else is a lost
    /// datagram, counted, that KCP retransmits.
    /// </summary>
    private void Send(LinuxNative.MMsgHdr* headers, GsoMessageBatch? gso, int pending, bool submitted)
    {
        var refusedFirst = -1;
        var refusedEnd = -1;
        for (var waits = 0; pending > 0 && !_disposed;)
        {
            if (!submitted)
            {
                _poller.SendBatch(Fd, headers, _which.AsSpan(0, pending), _results);
                _counters.SendCalls++;
            }

            submitted = false;
            var again = 0;
            for (var j = 0; j < pending; j++)
            {
                var message = _which[j];
                var segments = gso?.SlotCount(message) ?? 1;
                var result = _results[j];
                if (result >= 0)
                {
                    _counters.BytesSent += result;
                    _counters.DatagramsSent += segments;
                    if (segments > 1)
                    {
                        _counters.GsoMessagesSent++;
                        _counters.GsoSegmentsSent += segments;
                    }
                }
                else if (result == -IoUringConstants.EAGAIN)
                {
                    _which[again++] = message;
                }
                else if (segments > 1 && IsOffloadRefusal(-result))
                {
                    // This route or device cannot segment: stop trying on this socket, resend plainly.
                    if (_gso)
                    {
                        _gso = false;
                        _counters.GsoDisabled++;
                    }

                    var first = gso!.FirstSlot(message);
                    refusedFirst = refusedFirst < 0 ? first : Math.Min(refusedFirst, first);
                    refusedEnd = Math.Max(refusedEnd, first + segments);
                }
                else
                {
                    _counters.DatagramsDroppedOnSend += segments;
                }
            }

            pending = again;
            if (pending > 0 && !(waits++ < MaxSendWaits && WaitWritable()))
            {
                for (var j = 0; j < pending; j++)
                {
                    _counters.DatagramsDroppedOnSend += gso?.SlotCount(_which[j]) ?? 1;
                }

                pending = 0;
            }
        }

        if (refusedFirst >= 0)
        {
            // The refused runs' slots, and any sent ones between them again: duplicates KCP ignores,
            // and only ever once per socket.
            var plain = 0;
            for (var i = refusedFirst; i < refusedEnd; i++)
            {
                _which[plain++] = i;
            }

            Send(_send.Headers, null, plain, submitted: false);
        }
    }

    private static bool IsOffloadRefusal(int errno) => errno is LinuxNative.EIO or LinuxNative.EINVAL or LinuxNative.EOPNOTSUPP
        or LinuxNative.EMSGSIZE or LinuxNative.ENOPROTOOPT;

    private bool WaitWritable()
    {
        var pfd = new LinuxNative.PollFd { Fd = Fd, Events = LinuxNative.POLLOUT };
        _counters.SendWaits++;
        return LinuxNative.poll(&pfd, 1, 5) > 0;
    }

    /// <summary>
    /// One completed receive: <paramref name="buffer"/> holds io_uring_recvmsg_out, then
    /// <paramref name="nameSpace"/> bytes of sender address, <paramref name="controlSpace"/> bytes of
    /// control, then the payload. Loop thread only.
    /// </summary>
    public void OnReceive(byte* buffer, int bufferSize, int nameSpace, int controlSpace, uint now)
    {
        var header = (IoUringRecvMsgOut*)buffer;
        var headerSize = sizeof(IoUringRecvMsgOut);
        var room = bufferSize - headerSize - nameSpace - controlSpace;
        var length = (int)header->PayloadLength;
        if ((header->Flags & LinuxNative.MSG_TRUNC) != 0 || length > room)
        {
            DatagramDelivery.DropTruncated(_counters, length);
            return;
        }

        var address = new ReadOnlySpan<byte>(buffer + headerSize, (int)Math.Min(header->NameLength, (uint)nameSpace));
        var control = new ReadOnlySpan<byte>(buffer + headerSize + nameSpace, (int)Math.Min(header->ControlLength, (uint)controlSpace));
        _kernelDrops.Observe(control, _counters);
        var segmentSize = GroEnabled ? UdpSegmentation.ReadGroSegmentSize(control) : 0;
        var payload = new Span<byte>(buffer + headerSize + nameSpace + controlSpace, length);
        _ = DatagramDelivery.Deliver(this, _counters, payload, segmentSize, address, _datagramLimit, now);
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
